//! The local server's listener. It is what self-hosters expose, so it bounds what one client can hold:
//! a connection must send a request's headers within `header_read` (which also ends a kept-alive
//! connection idle that long), and at most `max_connections` are open at once; the next waits in the
//! listen queue until one closes. On shutdown it stops accepting and lets open requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;
use tracing::{debug, warn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `HEADER_READ_TIMEOUT`: how long a connection may take to send a request's headers.
    pub header_read: Duration,
    /// `MAX_CONNECTIONS`: connections open at once.
    pub max_connections: usize,
}

pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or the peer left: wait a moment rather than spin.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        // hyper times a request's headers from their first byte; the read timeout also ends a
        // connection that sends nothing at all, fresh or kept alive. It may also end an answer that
        // takes longer while the client is silent, so it stays above the slowest route's bound
        // (`/health?deep=true`'s probes).
        let mut stream = TimeoutStream::new(stream);
        stream.set_read_timeout(Some(limits.header_read));
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(
                TokioIo::new(Box::pin(stream)),
                TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(client = %peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    graceful.shutdown().await;
}
