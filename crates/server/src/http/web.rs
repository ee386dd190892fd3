//! The web UI: the React app built by Vite into `web/dist`, embedded in the binary.
//!
//! The router's fallback: paths under `/api` keep the API's JSON 404; a file the build
//! produced is served from the embed; any other path gets `index.html`, so client-side
//! routes (`/settings/integrations?connected=stripe`, `/shared/{token}`) load the app.
//! Hashed files under `/assets/` never change, so browsers may keep them for a year;
//! `index.html` must be revalidated so a new release is picked up at once.
//!
//! `web/dist` is optional at compile time (`allow_missing`): CI builds the Rust code
//! without Node, and such a binary answers `/` with a page saying how to build the UI.
//! In debug builds rust-embed reads the folder at run time, so `npm run build` shows up
//! without recompiling; release builds embed what `web/dist` held when they compiled.

use std::{
    collections::HashMap,
    io::Write,
    sync::{Mutex, OnceLock},
};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
#[exclude = ".gitignore"]
struct Assets;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Inline scripts are never needed (Vite emits module files); Recharts sets inline
/// `style` attributes, hence `'unsafe-inline'` for styles only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Pulseboard</title>\
<p>The web UI was not built into this binary. Run <code>npm ci &amp;&amp; npm run build</code> \
in <code>web/</code>, then rebuild Pulseboard. The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.";

/// Fallback for every request no route matched.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") || !matches!(method, Method::GET | Method::HEAD)
    {
        return super::not_found().await.into_response();
    }
    let file = path.trim_start_matches('/');
    if !file.is_empty() && file != "index.html" {
        if let Some(asset) = Assets::get(file) {
            let cache = if file.starts_with("assets/") {
                IMMUTABLE
            } else {
                "no-cache"
            };
            let mut response = (
                [
                    (header::CONTENT_TYPE, asset.metadata.mimetype().to_string()),
                    (header::CACHE_CONTROL, cache.to_string()),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                    (header::VARY, "accept-encoding".to_string()),
                ],
                asset.data.clone(),
            )
                .into_response();
            if accepts_gzip(&headers) && compressible(file) {
                *response.body_mut() = Body::from(gzipped(file, &asset.data));
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            return response;
        }
        // A missing hashed asset is an old page asking for a file this release does
        // not have: answering index.html would only confuse the browser.
        if file.starts_with("assets/") {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    }
    index()
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn compressible(file: &str) -> bool {
    [".js", ".css", ".svg", ".html", ".json", ".map"]
        .iter()
        .any(|ext| file.ends_with(ext))
}

/// Assets never change while the process runs: each is compressed once, at its first
/// request, at the best level, and served from memory after that.
fn gzipped(file: &str, data: &[u8]) -> axum::body::Bytes {
    static CACHE: OnceLock<Mutex<HashMap<String, axum::body::Bytes>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    // The length too: debug builds read `web/dist` from disk, which a rebuild changes.
    let key = format!("{file}:{}", data.len());
    if let Some(hit) = cache.lock().expect("gzip cache").get(&key) {
        return hit.clone();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let packed = encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map(axum::body::Bytes::from)
        .unwrap_or_else(|_| axum::body::Bytes::copy_from_slice(data));
    cache
        .lock()
        .expect("gzip cache")
        .insert(key, packed.clone());
    packed
}

fn index() -> Response {
    let (status, body) = match Assets::get("index.html") {
        Some(asset) => (StatusCode::OK, Body::from(asset.data)),
        None => (StatusCode::NOT_FOUND, Body::from(NOT_BUILT)),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Share links carry their token in the path: never leak it to other sites.
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
