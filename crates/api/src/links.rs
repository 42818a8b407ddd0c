//! The URLs the API hands out (`Location`, `status_url`, `country_url`, `FetchUrl`), all under the public
//! base path (`PUBLIC_BASE_PATH`: `/prod` behind a named API Gateway stage, empty otherwise).

use countries_core::CountryCode;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    base_path: String,
}

impl Links {
    pub fn new(base_path: &str) -> Self {
        Links {
            base_path: base_path.trim_end_matches('/').to_string(),
        }
    }

    pub fn fetch(&self, code: CountryCode) -> String {
        format!("{}/fetch/{code}", self.base_path)
    }

    pub fn status(&self, code: CountryCode) -> String {
        format!("{}/status/{code}", self.base_path)
    }

    pub fn country(&self, code: CountryCode) -> String {
        format!("{}/country/{code}", self.base_path)
    }

    pub fn sync(&self, id: uuid::Uuid) -> String {
        format!("{}/sync/{id}", self.base_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_is_under_the_base_path() {
        let py: CountryCode = "PY".parse().unwrap();
        let links = Links::new("/prod/");
        assert_eq!(links.fetch(py), "/prod/fetch/PY");
        assert_eq!(links.status(py), "/prod/status/PY");
        assert_eq!(links.country(py), "/prod/country/PY");
        assert_eq!(Links::default().country(py), "/country/PY");
    }
}
