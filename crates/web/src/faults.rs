//! What the application does when the database fails under a request.
//!
//! A failure of the database is never the user's fault and never a 500: it is a 503 with
//! `Retry-After`, and the response carries a [`DatabaseFault`] so the layers around the
//! routes can react. [`guard`] tries a read once more when its connection broke (a restarted
//! server, a connection the administrator ended) and keeps [`WriteHealth`], which `/readyz`
//! reports: writes that fail for want of space make the service not ready until a write
//! succeeds again.

use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use marac_app::store::StoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What failed in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseFault {
    /// No connection in time: the server down, refusing, or every connection busy.
    Unavailable,
    /// The connection broke while in use.
    ConnectionLost,
    /// The disk is full or failing.
    Storage,
}

impl DatabaseFault {
    /// The fault a store error is, if it is one.
    #[must_use]
    pub fn of(e: &StoreError) -> Option<Self> {
        match e {
            StoreError::Unavailable(_) => Some(DatabaseFault::Unavailable),
            StoreError::ConnectionLost(_) => Some(DatabaseFault::ConnectionLost),
            StoreError::StorageFault(_) => Some(DatabaseFault::Storage),
            _ => None,
        }
    }

    /// How long clients are asked to wait before trying again: a restart takes seconds, space
    /// on a disk longer.
    #[must_use]
    pub fn retry_after_seconds(self) -> u32 {
        match self {
            DatabaseFault::Storage => 30,
            DatabaseFault::Unavailable | DatabaseFault::ConnectionLost => 5,
        }
    }
}

/// Whether writes are failing for want of space, as this server last saw.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: AtomicBool,
}

impl WriteHealth {
    /// Whether the last write this server saw failed for want of space.
    #[must_use]
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    fn set_failing(&self, failing: bool) {
        if self.failing.swap(failing, Ordering::Relaxed) != failing {
            if failing {
                tracing::error!(
                    "writes are failing: the database's disk is full or failing; not ready until one succeeds"
                );
            } else {
                tracing::info!("writes succeed again; ready");
            }
        }
    }
}

/// Middleware around every route: retries a read whose connection broke, once, on a fresh
/// connection; notes writes failing for want of space and succeeding again.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let is_read = matches!(method, Method::GET | Method::HEAD);
    let (parts, body) = req.into_parts();
    // A read has no body worth keeping; only its head is needed to send it again.
    let again = is_read.then(|| parts.clone());
    let response = next.clone().run(Request::from_parts(parts, body)).await;
    let response = match (response.extensions().get::<DatabaseFault>(), again) {
        (Some(DatabaseFault::ConnectionLost), Some(parts)) => {
            tracing::info!("a read lost its database connection; trying it once more on a fresh one");
            next.run(Request::from_parts(parts, Body::empty())).await
        }
        _ => response,
    };
    match response.extensions().get::<DatabaseFault>() {
        Some(DatabaseFault::Storage) => state.writes.set_failing(true),
        // A change that went through: saved and sent on (a redirect after a form), or created.
        None if !is_read && (response.status().is_redirection() || response.status() == StatusCode::CREATED) => {
            state.writes.set_failing(false);
        }
        _ => {}
    }
    response
}

/// How long `/readyz` may take, whatever the database does.
pub const READY_WITHIN: Duration = Duration::from_secs(1);

/// Why the service is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// The database did not answer in time, or at all.
    NotAnswering,
    /// The database answers but does not take writes (a full or failing disk).
    NotWriting,
}

impl NotReady {
    /// The reason as `/readyz` gives it.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            NotReady::NotAnswering => "database not answering",
            NotReady::NotWriting => "database not taking writes",
        }
    }
}

/// Whether the service can serve: the database answers within [`READY_WITHIN`] and, when
/// writes were failing, takes a write again.
///
/// # Errors
/// Why not.
pub async fn readiness(state: &AppState) -> Result<(), NotReady> {
    let check = async {
        state.store.ping().await.map_err(|_| NotReady::NotAnswering)?;
        if state.writes.failing() {
            state.store.probe_write().await.map_err(|_| NotReady::NotWriting)?;
            state.writes.set_failing(false);
        }
        Ok(())
    };
    match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(result) => result,
        Err(_) if state.writes.failing() => Err(NotReady::NotWriting),
        Err(_) => Err(NotReady::NotAnswering),
    }
}
