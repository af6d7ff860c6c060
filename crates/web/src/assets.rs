//! Static assets built into the binary (see `scripts/build-assets.mjs`), so the binary runs
//! alone.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_bytes!("../assets/dist/app.css") },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/dist/app.js"),
    },
    Asset {
        name: "govuk-frontend.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/dist/govuk-frontend.min.js"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_bytes!("../assets/dist/favicon.svg") },
];

/// `GET /assets/{name}`.
///
/// # Errors
/// 404 for anything not built in.
pub async fn serve(Path(name): Path<String>) -> Result<Response, AppError> {
    let asset = ASSETS.iter().find(|a| a.name == name).ok_or(AppError::NotFound)?;
    let mut response = asset.body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    Ok(response)
}

/// `GET /favicon.ico`: browsers ask for it whatever the page says.
///
/// # Errors
/// Never; the return type matches the other handlers.
pub async fn favicon() -> Result<Response, AppError> {
    serve(Path("favicon.svg".to_owned())).await
}
