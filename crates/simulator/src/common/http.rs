//! Small HTTP helpers the providers' OAuth endpoints share.

use std::collections::HashMap;

use axum::{
    http::{header::CONTENT_TYPE, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use rand::{distributions::Alphanumeric, Rng};

/// Reads a request body that may be form-encoded or JSON (providers accept
/// both on their token endpoints) into string parameters.
pub(crate) fn body_params(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let Some(object) = value.as_object() else {
            return HashMap::new();
        };
        object
            .iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    }
}

/// A random token body of `len` alphanumeric characters.
pub(crate) fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A `302 Found` to `location` (axum's `Redirect` helpers send 303/307/308; the
/// providers send 302).
pub(crate) fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location.to_owned())],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_params_read_json_and_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        let json = body_params(&headers, br#"{"code":"abc","n":3,"x":null}"#);
        assert_eq!(json["code"], "abc");
        assert_eq!(json["n"], "3");
        assert!(!json.contains_key("x"));
        let form = body_params(
            &HeaderMap::new(),
            b"grant_type=authorization_code&code=a%2Bb",
        );
        assert_eq!(form["code"], "a+b");
    }
}
