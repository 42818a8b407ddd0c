//! Reading what is stored: a country's document and its fetch operations.

use std::sync::Arc;

use super::ServiceError;
use crate::country::{CountryCode, CountryRecord};
use crate::ident;
use crate::operation::Operation;
use crate::ports::{CountryStore, OperationStore};

pub struct CountryReads {
    countries: Arc<dyn CountryStore>,
    operations: Arc<dyn OperationStore>,
}

impl CountryReads {
    pub fn new(countries: Arc<dyn CountryStore>, operations: Arc<dyn OperationStore>) -> Self {
        CountryReads {
            countries,
            operations,
        }
    }

    /// The stored document of the country `input` names.
    pub async fn country(&self, input: &str) -> Result<CountryRecord, ServiceError> {
        let code = ident::index().resolve(input)?;
        self.countries
            .get_country(code)
            .await?
            .ok_or(ServiceError::NotFetched { code })
    }

    /// The country's operations, newest first, at most `limit`.
    pub async fn status(
        &self,
        input: &str,
        limit: usize,
    ) -> Result<(CountryCode, Vec<Operation>), ServiceError> {
        let code = ident::index().resolve(input)?;
        Ok((code, self.operations.list_operations(code, limit).await?))
    }
}
