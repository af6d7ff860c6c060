//! The HTTP server around the router: how connections are accepted, limited, timed out and
//! closed when the process stops.
//!
//! A client must send its request's headers within [`Limits::header_read_timeout`] (an idle
//! keep-alive connection too), so connections that send slowly or not at all cannot pile up.
//! At most [`Limits::max_connections`] are open at once, set below the process's file limit:
//! above it a new connection is answered 503 and closed, and those already accepted go on
//! being served. On shutdown the listener closes, requests in flight finish, idle and
//! half-sent connections are closed, and after [`Limits::shutdown_timeout`] whatever is left is
//! dropped so the process exits.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send a request's headers, and an idle connection to send the next.
    pub header_read_timeout: Duration,
    /// Connections open at once; more are refused with a 503.
    pub max_connections: usize,
    /// Time requests in flight get to finish once the server is told to stop.
    pub shutdown_timeout: Duration,
}

/// File descriptors kept back from connections: the database's connections and files, the
/// listener, logs, and a refused connection's own while it is answered.
pub const RESERVED_FILES: u64 = 128;

impl Limits {
    /// Longest a client may take to send its headers.
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

    /// The limits for a process that may hold `open_files` files at once.
    #[must_use]
    pub fn for_open_files(open_files: u64, shutdown_timeout: Duration) -> Self {
        let max = open_files.saturating_sub(RESERVED_FILES).max(16);
        Limits {
            header_read_timeout: Self::HEADER_READ_TIMEOUT,
            max_connections: usize::try_from(max).unwrap_or(usize::MAX),
            shutdown_timeout,
        }
    }
}

/// How many files this process may have open, after raising its soft limit as far as its hard
/// limit allows (a server needs more than the 1,024 many systems start a process with).
#[must_use]
pub fn open_file_limit() -> u64 {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(hard)) = (limit.current, limit.maximum)
            && current < hard
            && setrlimit(Resource::Nofile, Rlimit { current: Some(hard), maximum: Some(hard) }).is_ok()
        {
            return hard;
        }
        // No limit at all is taken as a generous one.
        limit.current.unwrap_or(1 << 20)
    }
    #[cfg(not(unix))]
    {
        1_024
    }
}

/// What a client over the connection limit is told before its connection is closed.
const BUSY: &str = "The service is busy. Try again in a few seconds, please.\n";

/// Serves `app` on `listener` until `shutdown` completes, then closes as [`Limits`] says.
///
/// # Errors
/// Never for a single connection's failure; only if the runtime cannot run the server.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of files or a connection reset before it was taken: keep going, but
                    // give the system a moment rather than spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is not the server's error.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(connections = open, "stopping: finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection closed"),
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(seconds = limits.shutdown_timeout.as_secs(), "requests still running when the shutdown deadline passed; closing them");
        }
    }
    Ok(())
}

/// Answers a connection over the limit with a 503 and closes it, without waiting on a client
/// that does not read.
async fn refuse(mut stream: TcpStream) {
    tracing::warn!("connection limit reached; refusing a connection");
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\n\
         Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{BUSY}",
        BUSY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}
