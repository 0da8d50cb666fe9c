//! Stopping: SIGTERM (what the kubelet sends) or Ctrl-C fires one signal that every task
//! waits on. The planner's pass sees it too, and stops starting writes at once (see
//! `plan_loop`); the HTTP server drains.

use tokio_util::sync::CancellationToken;

/// Cloneable "stop" signal.
#[derive(Clone, Debug)]
pub struct Shutdown(CancellationToken);

/// Fires the signal.
#[derive(Debug)]
pub struct Trigger(CancellationToken);

pub fn channel() -> (Trigger, Shutdown) {
    let token = CancellationToken::new();
    (Trigger(token.clone()), Shutdown(token))
}

impl Trigger {
    pub fn fire(&self) {
        self.0.cancel();
    }
}

impl Shutdown {
    pub async fn wait(self) {
        self.0.cancelled_owned().await;
    }

    /// The signal as the reconciler takes it: cancelled when the stop fires.
    pub fn token(&self) -> CancellationToken {
        self.0.clone()
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn on_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
