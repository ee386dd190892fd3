//! One error type for every handler. Client errors carry a stable `code` and a
//! message meant for people; server errors are logged once and answered opaquely.
//! Wire shape (DESIGN §12): `{ "error": { "code": "...", "message": "...", "field"?: "..." } }`.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use sqlx::error::DatabaseError;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("incorrect email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The thing existed but can no longer be used (expired or spent links).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("request body is larger than this server accepts (PULSEBOARD_MAX_BODY_BYTES)")]
    PayloadTooLarge,
    /// A third-party provider failed or timed out: not our bug, and not the client's.
    #[error("{0}")]
    FailedDependency(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database is down, restarting, or every connection is busy: the client
    /// should come back, not see a bug.
    #[error("the service is temporarily unavailable; try again in {retry_after_secs} seconds")]
    Unavailable { retry_after_secs: u64 },
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn gone(code: &'static str, message: impl Into<String>) -> Self {
        Self::Gone {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::FailedDependency(_) => StatusCode::FAILED_DEPENDENCY,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Validation { .. } => "validation_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::FailedDependency(_) => "provider_unavailable",
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }
}

/// Seconds a client is told to wait when the database cannot serve it.
const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl ApiError {
    fn unavailable() -> Self {
        Self::Unavailable {
            retry_after_secs: DATABASE_RETRY_AFTER_SECS,
        }
    }
}

/// True when `error` says the database could not be reached or went away, rather
/// than that a statement was wrong: no free connection in time, a refused or
/// broken connection, or PostgreSQL shutting down, starting up or out of slots.
pub fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 57P01-57P03: admin/crash shutdown and
            // "cannot connect now"; 53300: too many connections.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if database_unavailable(&error) {
            return Self::unavailable();
        }
        if let sqlx::Error::Database(db) = &error {
            if db.constraint() == Some("org_members_last_owner") {
                return Self::conflict(
                    "last_owner",
                    "an organization must keep at least one owner",
                );
            }
            // 42501: a row-level security policy refused the write. The handler's own
            // checks should have caught it; the database is the second wall.
            if db.code().as_deref() == Some("42501") {
                tracing::warn!(error = %db, "row-level security refused a write the handler allowed");
                return Self::forbidden("you do not have permission to do that");
            }
        }
        Self::Database(error)
    }
}

/// Maps a named constraint's violation to an API error, at the statement that can
/// raise it (realworld-axum-sqlx's `on_constraint`):
///
/// ```ignore
/// query.execute(db).await.on_constraint("users_email_key", |_| ApiError::conflict(…))?;
/// ```
///
/// Any other error converts as `?` would convert it, so calls can be chained.
pub trait ResultExt<T> {
    fn on_constraint(
        self,
        name: &str,
        map_err: impl FnOnce(Box<dyn DatabaseError>) -> ApiError,
    ) -> Result<T, ApiError>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<ApiError>,
{
    fn on_constraint(
        self,
        name: &str,
        map_err: impl FnOnce(Box<dyn DatabaseError>) -> ApiError,
    ) -> Result<T, ApiError> {
        self.map_err(|e| match e.into() {
            ApiError::Database(sqlx::Error::Database(d)) if d.constraint() == Some(name) => {
                map_err(d)
            }
            e => e,
        })
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `validation_failed` or `not_found`.
    pub code: String,
    /// A message for people.
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Handlers that wrap a database error in anyhow still mean "come back later".
        let this = match self {
            Self::Internal(error)
                if error.chain().any(|c| {
                    c.downcast_ref::<sqlx::Error>()
                        .is_some_and(database_unavailable)
                }) =>
            {
                Self::unavailable()
            }
            Self::Database(error) if database_unavailable(&error) => Self::unavailable(),
            other => other,
        };
        let status = this.status();
        let message = if let Self::Unavailable { .. } = this {
            // One line per refused request, not an error storm while PostgreSQL restarts.
            tracing::warn!("request refused: the database is unavailable or busy");
            this.to_string()
        } else if status.is_server_error() {
            // The cause chain goes to the log once; the client learns nothing internal.
            tracing::error!(error = ?this, "request failed with a server error");
            "internal server error; the cause has been logged".to_string()
        } else {
            this.to_string()
        };
        let field = match &this {
            Self::Validation { field, .. } => Some(field.clone()),
            _ => None,
        };
        let retry_after = match &this {
            Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: this.code().to_string(),
                message,
                field,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
