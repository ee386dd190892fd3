//! Request extractors. They turn every rejection into the JSON error shape, and
//! carry tenancy: handlers get the organization only from [`OrgScope`], never a body.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
};

use axum::{
    extract::{
        rejection::JsonRejection, ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request,
    },
    http::{header, request::Parts, Method, StatusCode},
};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use crate::{
    db::Bypass,
    db::{self, Tx},
    domain::{secrets::token_hash, OrgRole},
    error::{ApiError, ApiResult},
    http::AppState,
};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pb_session";
/// Prefix of personal API tokens.
pub const API_TOKEN_PREFIX: &str = "pbt_";

/// A JSON body. Unknown fields are refused by `#[serde(deny_unknown_fields)]` on
/// every request type; errors name the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(raw) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        // PostgreSQL cannot store NUL and nothing a person types holds other control
        // characters: refused up front, wherever they are, rather than failing later.
        if let Some(field) = control_character_in(&raw) {
            return Err(ApiError::validation(
                field,
                "must not contain control characters (only tabs and line breaks are allowed)",
            ));
        }
        // JSON does not tell 3.0 from 3: a whole number sent with a fraction still fills
        // an integer field.
        let raw = whole_numbers_as_integers(raw);
        // serde reads a struct from an array of its fields' values too; every body (and
        // every object in it) is documented as an object, so nothing else is accepted.
        if !raw.is_object() {
            return Err(ApiError::validation("body", "must be a JSON object"));
        }
        serde_path_to_error::deserialize(super::strict_json::Strict(raw))
            .map(Self)
            .map_err(|e| {
                let detail = e.to_string();
                ApiError::validation(field_of(&detail), detail)
            })
    }
}

/// `3.0` as `3`, at any depth; other numbers unchanged.
fn whole_numbers_as_integers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Value::Number((f as i64).into())
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(whole_numbers_as_integers).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_numbers_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The path of the first string (or key) holding a control character other than a
/// tab or a line break (`name`, `steps[1].metric`; `body` for a bare string), if any.
fn control_character_in(value: &serde_json::Value) -> Option<String> {
    fn path_in(value: &serde_json::Value) -> Option<String> {
        use serde_json::Value;
        let bad = |s: &str| {
            s.chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        };
        let join = |head: String, rest: String| match rest.as_str() {
            "" => head,
            r if r.starts_with('[') => head + r,
            r => format!("{head}.{r}"),
        };
        match value {
            Value::String(s) => bad(s).then(String::new),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| path_in(v).map(|rest| join(format!("[{i}]"), rest))),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                if bad(k) {
                    return Some(k.escape_debug().to_string());
                }
                path_in(v).map(|rest| join(k.clone(), rest))
            }),
            _ => None,
        }
    }
    path_in(value).map(|p| if p.is_empty() { "body".into() } else { p })
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    match rejection {
        JsonRejection::JsonDataError(e) => {
            let detail = e.body_text();
            let detail = detail
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&detail)
                .to_string();
            ApiError::validation(field_of(&detail), detail)
        }
        JsonRejection::JsonSyntaxError(e) => {
            let detail = e.body_text();
            let detail = detail
                .strip_prefix("Failed to parse the request body as JSON: ")
                .unwrap_or(&detail)
                .to_string();
            // With the path where parsing stopped, when there is one (`aggregation: …`).
            let message = match detail.split_once(": ") {
                Some((path, rest)) if !path.contains(' ') && path != "." => {
                    format!("request body is not valid JSON at `{path}`: {rest}")
                }
                _ => format!("request body is not valid JSON: {detail}"),
            };
            ApiError::bad_request("malformed_json", message)
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        other => ApiError::bad_request("bad_body", other.body_text()),
    }
}

/// The field a serde error talks about: ``unknown field `x` `` → `x`, `a.b: …` → `a.b`.
fn field_of(detail: &str) -> String {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = detail.split(marker).nth(1) {
            if let Some(name) = rest.split('`').next() {
                return name.to_string();
            }
        }
    }
    match detail.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && path != "." => path.to_string(),
        _ => "body".to_string(),
    }
}

/// Path parameters with JSON errors (a malformed id is a 400, not a text page).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|e| ApiError::bad_request("bad_path", e.body_text()))
    }
}

/// Query parameters with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::validation("query", e.body_text()))
    }
}

pub use crate::domain::{Credential, CurrentUser};

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        // An `Authorization` header, when present, is the credential: anything but a
        // valid bearer token is refused, even beside a valid session cookie, so a
        // client never acts as someone it did not authenticate as.
        let bearer = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => Some(bearer_token(value).ok_or(ApiError::Unauthenticated)?),
            None => None,
        };
        let mut tx = state.db.bypass_tx(Bypass::SessionLookup).await?;
        let found = match bearer {
            Some(token) => db::accounts::user_for_api_token(&mut *tx, &token_hash(token)).await?,
            None => match CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE) {
                Some(cookie) => {
                    db::accounts::user_for_session(&mut *tx, &token_hash(cookie.value())).await?
                }
                None => None,
            },
        };
        tx.commit().await?;
        let user = found.ok_or(ApiError::Unauthenticated)?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is
/// case-insensitive, RFC 9110 §11.1); `None` for any other scheme or an empty token.
pub fn bearer_token(value: &header::HeaderValue) -> Option<&str> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The address of the client: the socket's peer, or, when the peer is a trusted
/// reverse proxy (`PULSEBOARD_TRUSTED_PROXIES`), the address the proxies forwarded.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no peer address")))?;
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The client's address behind trusted proxies: walking the forwarded chain from the
/// nearest hop, the first address that is not a trusted proxy. Headers from an
/// untrusted peer are ignored (anyone can send them).
pub fn client_ip(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses of `X-Forwarded-For` (every header, in order), or else of the
/// `for=` parameters of `Forwarded` (RFC 7239); entries that are not addresses
/// (`unknown`, obfuscated names) are skipped.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let xff: Vec<IpAddr> = values("x-forwarded-for")
        .iter()
        .filter_map(|s| parse_hop(s))
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    values("forwarded")
        .iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim_matches('"')))
                    .flatten()
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    if let Ok(ip) = raw.parse() {
        return Some(ip);
    }
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// A request inside one organization: the caller is a member, the transaction runs
/// as the user-facing role with their id set, and viewers are refused any write.
/// Another organization answers 404, exactly like one that does not exist.
pub struct OrgScope {
    pub user: CurrentUser,
    pub org: db::orgs::Org,
    pub role: OrgRole,
    pub tx: Tx,
}

impl FromRequestParts<AppState> for OrgScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("bad_path", e.body_text()))?;
        let slug = params
            .get("org_slug")
            .ok_or(ApiError::NotFound("organization"))?;
        let mut tx = state.db.user_tx(user.id).await?;
        let (org, role) = db::orgs::find_by_slug(&mut *tx, slug)
            .await?
            .ok_or(ApiError::NotFound("organization"))?;
        let reads_only = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
            || parts.extensions.get::<ReadOnlyPost>().is_some();
        if !reads_only && !role.can_write() {
            return Err(ApiError::forbidden(
                "viewers have read-only access to this organization",
            ));
        }
        Ok(Self {
            user,
            org,
            role,
            tx,
        })
    }
}

/// Marks a POST that only reads (a metrics query with a JSON body), so viewers may
/// call it. Set by [`read_only_post`] on the routes that need it.
#[derive(Clone, Copy)]
pub struct ReadOnlyPost;

/// Layer function for read-only POST routes.
pub async fn read_only_post(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request.extensions_mut().insert(ReadOnlyPost);
    next.run(request).await
}

impl OrgScope {
    /// Owners and admins only.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the organization's owners and admins can do that",
            ))
        }
    }

    /// Records an action in the organization's audit log, in the same transaction.
    pub async fn audit(
        &mut self,
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        details: serde_json::Value,
    ) -> ApiResult<()> {
        db::orgs::audit(
            &mut *self.tx,
            self.org.id,
            self.user.id,
            action,
            target_type,
            &target_id.to_string(),
            details,
        )
        .await?;
        Ok(())
    }

    pub async fn commit(self) -> ApiResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_of("unknown field `colour`, expected one of `name`"),
            "colour"
        );
        assert_eq!(
            field_of("missing field `email` at line 1 column 2"),
            "email"
        );
        assert_eq!(
            field_of("store.currency: invalid type: integer"),
            "store.currency"
        );
        assert_eq!(field_of("invalid type: string, expected a map"), "body");
    }
}

#[cfg(test)]
mod client_ip_tests {
    use axum::http::HeaderMap;

    use super::client_ip;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_a_trusted_peers_forwarding_is_believed_up_to_the_first_untrusted_hop() {
        let trusted = vec![
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8:1::/48".parse().unwrap(),
        ];
        let peer = "10.1.2.3".parse().unwrap();
        let stranger = "198.51.100.1".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.9.9.9")]);
        assert_eq!(client_ip(peer, &xff, &trusted).to_string(), "203.0.113.9");
        assert_eq!(
            client_ip(stranger, &xff, &trusted),
            stranger,
            "an untrusted peer's header is ignored"
        );
        let v6 = headers(&[(
            "forwarded",
            "for=unknown, for=\"[2001:db8:2::7]:443\";proto=https, for=10.0.0.5",
        )]);
        assert_eq!(client_ip(peer, &v6, &trusted).to_string(), "2001:db8:2::7");
        // Every hop trusted: the first is the client; nothing forwarded: the peer.
        let internal = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.8")]);
        assert_eq!(client_ip(peer, &internal, &trusted).to_string(), "10.0.0.7");
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
    }
}
