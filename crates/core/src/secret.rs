//! A secret that may be put after the process started: read when first needed, read again on each
//! use while it has no value (reads cost $0.05 per 10,000; each use is a rate-limited
//! request or job), and kept once found. A warm Lambda instance that started before the key was put
//! therefore finds it on its next use, without a redeploy.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::ports::{Secret, Unanswered};

pub struct AwaitedSecret {
    source: Arc<dyn Secret>,
    found: OnceCell<String>,
}

impl AwaitedSecret {
    pub fn new(source: Arc<dyn Secret>) -> Self {
        AwaitedSecret {
            source,
            found: OnceCell::new(),
        }
    }

    /// The value, or `None` while the secret has none; the error is the read's.
    pub async fn value(&self) -> Result<Option<&str>, Unanswered> {
        if let Some(v) = self.found.get() {
            return Ok(Some(v));
        }
        match self.source.read().await? {
            Some(v) => Ok(Some(self.found.get_or_init(|| async { v }).await)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;

    /// Answers what `values` holds, one read at a time, and counts the reads.
    struct Scripted {
        values: Mutex<Vec<Result<Option<String>, Unanswered>>>,
        reads: Mutex<u32>,
    }

    #[async_trait]
    impl Secret for Scripted {
        async fn read(&self) -> Result<Option<String>, Unanswered> {
            *self.reads.lock().unwrap() += 1;
            self.values.lock().unwrap().remove(0)
        }
    }

    #[tokio::test]
    async fn read_again_while_missing_then_kept() {
        let source = Arc::new(Scripted {
            values: Mutex::new(vec![
                Ok(None),
                Err(Unanswered("throttled".into())),
                Ok(Some("the-key".into())),
            ]),
            reads: Mutex::new(0),
        });
        let secret = AwaitedSecret::new(source.clone());
        assert_eq!(secret.value().await, Ok(None));
        assert_eq!(secret.value().await, Err(Unanswered("throttled".into())));
        assert_eq!(secret.value().await, Ok(Some("the-key")));
        assert_eq!(secret.value().await, Ok(Some("the-key")));
        assert_eq!(*source.reads.lock().unwrap(), 3, "kept once found");
    }
}
