//! The catalogue item (countries table, key `~catalogue`); its encoding is in `items.rs`.

use async_trait::async_trait;
use countries_core::catalogue::StoredCatalogue;
use countries_core::ports::{CatalogueStore, StoreError};

use super::items::{self, CATALOGUE_KEY, keys, n, s};
use super::{DynamoStore, condition_failed, err};

#[async_trait]
impl CatalogueStore for DynamoStore {
    async fn catalogue_revision(&self) -> Result<Option<u64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.countries_table)
            .key(keys::CODE, s(CATALOGUE_KEY))
            .projection_expression("revision")
            .send()
            .await
            .map_err(|e| err("get the catalogue's revision", e))?;
        Ok(out
            .item
            .and_then(|i| i.get("revision")?.as_n().ok()?.parse().ok()))
    }

    async fn get_catalogue(&self) -> Result<Option<StoredCatalogue>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.countries_table)
            .key(keys::CODE, s(CATALOGUE_KEY))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get the catalogue", e))?;
        out.item.as_ref().map(items::catalogue_from).transpose()
    }

    async fn put_catalogue(
        &self,
        catalogue: &StoredCatalogue,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.countries_table)
            .set_item(Some(items::catalogue(catalogue)?));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(code)"),
            Some(r) => put
                .condition_expression("revision = :r")
                .expression_attribute_values(":r", n(r)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(err("put the catalogue", e)),
        }
    }
}
