//! The country data service without any cloud or HTTP framework: identifiers, the stored document in the
//! v3.1 shape, fetch operations, rate limiting, the ports the adapters implement, the use cases, and
//! in-memory adapters.

pub mod budget;
pub mod catalogue;
pub mod config;
pub mod country;
pub mod dataset;
pub mod fnv;
pub mod ident;
pub mod memory;
pub mod metrics;
pub mod normalize;
pub mod operation;
pub mod ports;
pub mod ratelimit;
pub mod secret;
pub mod sync_record;
pub mod usecases;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use country::{CountryCode, CountryRecord};
pub use ident::{CountryIndex, IdentError};
pub use operation::{Job, Operation, OperationState};
pub use usecases::ServiceError;
