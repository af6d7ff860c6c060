//! The HTTP server around the router: how connections are accepted, limited, timed out and
//! closed when the process stops.
//!
//! A client must send its request's headers within [`Limits::header_read_timeout`] (an idle
//! keep-alive connection too), so connections that send slowly or not at all cannot pile up.
//! At most [`Limits::max_connections`] are open at once, set below the process's file limit:
//! above it a new connection is answered 503 and closed, and those already accepted go on
//! being served. On shutdown the listener closes, requests in flight finish (their responses
//! sent whole), idle and half-sent connections are closed at once, and after
//! [`Limits::shutdown_timeout`] whatever is left is dropped so the process exits.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    // Told to every connection when the server stops: one with no request being served (idle,
    // or still sending its headers) is closed then, rather than when its client gives up.
    let (closing, closing_seen) = tokio::sync::watch::channel(false);
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
        let serving = Arc::new(AtomicUsize::new(0));
        let counted = serving.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            let in_service = Serving::enter(&counted);
            let response = app.clone().oneshot(req.map(axum::body::Body::new));
            async move {
                let response = response.await?;
                // Counted until the body has been sent whole, not just until the handler returns.
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| axum::body::Body::new(ServedBody { body, _serving: in_service })),
                )
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        let mut closing = closing_seen.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                ended = &mut connection => {
                    // A client that goes away or times out is not the server's error.
                    if let Err(e) = ended {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                () = idle_when_closing(&mut closing, &serving) => {
                    // A response just finished gets time to reach its client; a client still
                    // sending its headers is cut off when that time is up.
                    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_millis(300), &mut connection).await {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(connections = open, "stopping: finishing requests in flight");
    let _ = closing.send(true);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection closed"),
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(seconds = limits.shutdown_timeout.as_secs(), "requests still running when the shutdown deadline passed; closing them");
        }
    }
    Ok(())
}

/// Returns once the server is stopping and the connection has no request being served.
async fn idle_when_closing(closing: &mut tokio::sync::watch::Receiver<bool>, serving: &AtomicUsize) {
    while !*closing.borrow_and_update() {
        if closing.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
    while serving.load(Ordering::Acquire) > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One request being served on a connection, from its handler's start to its body's end.
struct Serving(Arc<AtomicUsize>);

impl Serving {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Serving(count.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as served until it is sent (or dropped).
struct ServedBody {
    body: axum::body::Body,
    _serving: Serving,
}

impl http_body::Body for ServedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
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
