//! The server's connection handling, with raw sockets on loopback: headers sent slowly or not
//! at all, more connections than the limit, a body that stops arriving, and shutdown with
//! requests in flight, idle and half-sent connections. Every wait here is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::routing::{get, post};
use marac_web::server::{Limits, serve};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

const LIMIT: Duration = Duration::from_secs(10);

fn app() -> Router {
    Router::new()
        .route("/fast", get(|| async { "fast" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(700)).await;
                "slow"
            }),
        )
        .route(
            "/forever",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3_600)).await;
                "never"
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_millis(500)))
}

struct Running {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: Limits) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, app(), limits, async {
        let _ = stopped.await;
    }));
    Running { address, stop: Some(stop), done }
}

fn limits(max_connections: usize) -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(800),
        max_connections,
        shutdown_timeout: Duration::from_secs(3),
    }
}

/// Everything the server sends until it closes the connection (or `LIMIT` passes).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(LIMIT, stream.read_to_end(&mut out)).await.expect("the server closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

async fn request(stream: &mut TcpStream, path: &str) -> String {
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(LIMIT, stream.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn headers_sent_slowly_or_not_at_all_lose_their_connection() {
    let server = start(limits(100)).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.address).await.unwrap();
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"GET /fast HTTP/1.1\r\nHost: t\r\n").await.unwrap();
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    assert!(request(&mut idle, "/fast").await.starts_with("HTTP/1.1 200"));
    // A keep-alive connection that sends nothing more is closed too.
    for stream in [&mut silent, &mut slow, &mut idle] {
        let rest = read_to_close(stream).await;
        assert!(rest.is_empty() || rest.starts_with("HTTP/1.1 408"), "{rest}");
    }
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn over_the_connection_limit_new_clients_are_refused_politely_and_the_others_served() {
    let server = start(limits(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.address).await.unwrap();
        assert!(request(&mut s, "/fast").await.starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    let mut extra = TcpStream::connect(server.address).await.unwrap();
    let refused = read_to_close(&mut extra).await;
    assert!(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{refused}");
    assert!(refused.contains("Retry-After: 5\r\n") && refused.contains("The service is busy"), "{refused}");
    // Those already accepted go on being served.
    for s in &mut held {
        assert!(request(s, "/fast").await.starts_with("HTTP/1.1 200"));
    }
    // Once one closes, a new client gets its place.
    drop(held.pop());
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut s = TcpStream::connect(server.address).await.unwrap();
        if request(&mut s, "/fast").await.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no place freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_given_up() {
    let server = start(limits(100)).await;
    let mut s = TcpStream::connect(server.address).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part").await.unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(LIMIT, s.read(&mut buf)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_and_closes_idle_and_half_sent_connections() {
    // Clients given all the time they may take to send headers: only shutdown closes them.
    let mut server = start(Limits { header_read_timeout: Duration::from_secs(10), ..limits(100) }).await;
    let mut idle = TcpStream::connect(server.address).await.unwrap();
    assert!(request(&mut idle, "/fast").await.starts_with("HTTP/1.1 200"));
    let mut half = TcpStream::connect(server.address).await.unwrap();
    half.write_all(b"GET /fast HTTP/1.1\r\nHos").await.unwrap();
    let mut busy = TcpStream::connect(server.address).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    server.stop.take().unwrap().send(()).unwrap();
    let answer = read_to_close(&mut busy).await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("slow"), "{answer}");
    read_to_close(&mut idle).await;
    read_to_close(&mut half).await;
    tokio::time::timeout(LIMIT, server.done).await.unwrap().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // And nothing listens any more.
    assert!(TcpStream::connect(server.address).await.is_err());
}

#[tokio::test]
async fn a_request_that_outlasts_the_shutdown_deadline_does_not_keep_the_server_up() {
    let mut server = start(limits(100)).await;
    let mut stuck = TcpStream::connect(server.address).await.unwrap();
    stuck.write_all(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(LIMIT, server.done).await.unwrap().unwrap().unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn the_connection_limit_leaves_room_below_the_file_limit() {
    let l = Limits::for_open_files(1_024, Duration::from_secs(20));
    assert_eq!(l.max_connections, 1_024 - marac_web::server::RESERVED_FILES as usize);
    assert_eq!(l.header_read_timeout, Duration::from_secs(10));
    assert!(marac_web::server::open_file_limit() >= 256);
}
