//! Graceful shutdown: one signal, observed by the live streams (they end), the workers (they stop
//! claiming and hand back what they claimed but did not start) and the server (it finishes in-flight
//! requests).

use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown { tx: Arc::new(watch::channel(false).0) }
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the shutdown is triggered (at once when it already was).
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Shutdown;

    #[actix_web::test]
    async fn waiters_wake_on_trigger_and_late_waiters_do_not_wait() {
        let s = Shutdown::default();
        assert!(!s.is_triggered());
        let waiter = {
            let s = s.clone();
            actix_web::rt::spawn(async move { s.wait().await })
        };
        s.trigger();
        waiter.await.unwrap();
        assert!(s.is_triggered());
        s.wait().await;
    }
}
