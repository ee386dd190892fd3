//! Pieces every provider uses and none owns: the HTTP client with its error
//! classification, retries with backoff, HMAC signature checks, PKCE and the
//! error types, and the
//! sentiment of free text.

pub mod backoff;
pub mod error;
pub mod http;
pub mod pkce;
pub mod sentiment;
pub mod signature;
