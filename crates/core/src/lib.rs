//! The country data service without any cloud or HTTP framework: identifiers, the stored document, fetch
//! operations, the ports the adapters implement, the use cases, and in-memory adapters.

pub mod config;
pub mod country;
pub mod dataset;
pub mod ident;
pub mod memory;
pub mod normalize;
pub mod ops;
pub mod ports;
pub mod service;

pub use country::{CountryCode, CountryRecord};
pub use ident::{CountryIndex, IdentError};
pub use ops::{Job, OpState, Operation};
pub use service::{Service, ServiceError, Settings};
