//! SDK clients built on first use. Building one is a tenth of a millisecond or two of a cold start (its
//! configuration, runtime plugins, and the first run of that code), and many instances never need some of
//! them: an api instance that only answers catalogue reads never sends to SQS.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

pub struct Lazy<C> {
    cell: OnceLock<C>,
    make: Option<Arc<dyn Fn() -> C + Send + Sync>>,
}

impl<C> Lazy<C> {
    /// A client `make` builds when it is first used.
    pub fn new(make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Lazy {
            cell: OnceLock::new(),
            make: Some(Arc::new(make)),
        }
    }
}

/// A client built already (the tests', the provisioning's).
impl<C> From<C> for Lazy<C> {
    fn from(client: C) -> Self {
        Lazy {
            cell: OnceLock::from(client),
            make: None,
        }
    }
}

impl<C: Clone> Clone for Lazy<C> {
    fn clone(&self) -> Self {
        Lazy {
            cell: self.cell.clone(),
            make: self.make.clone(),
        }
    }
}

impl<C> Deref for Lazy<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.cell.get_or_init(|| {
            let make = self
                .make
                .as_ref()
                .expect("a lazy client without a value has a maker");
            make()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn built_once_on_first_use() {
        let built = Arc::new(AtomicU32::new(0));
        let counter = built.clone();
        let lazy = Lazy::new(move || counter.fetch_add(1, Ordering::SeqCst) + 7);
        assert_eq!(built.load(Ordering::SeqCst), 0);
        assert_eq!((*lazy, *lazy), (7, 7));
        assert_eq!(built.load(Ordering::SeqCst), 1);
        assert_eq!(*Lazy::from(3), 3);
    }
}
