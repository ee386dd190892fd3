//! "Forgot your password?": a reset link by email, then a new password through it.
//!
//! Asking always answers the same 202, whether or not the address has an account, so
//! the form cannot tell anyone who uses Pulseboard; the mail is sent in the
//! background, so neither can the answer's timing. The link carries a random token
//! (only its hash is stored) that works once, for 30 minutes. The mail goes straight
//! to the transport, never through an organization's outbox: its admins can read
//! that one in the Mailbox page, and the link would let them take over the account.

use axum::{extract::State, http::StatusCode};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::{ApiJson, ClientIp},
    field, AppState,
};
use crate::{
    db::{self, outbox::OutgoingEmail, password_resets::Redeemed, Bypass},
    domain::{passwords, secrets, EmailAddress, Password},
    error::{ApiError, ApiResult, ErrorBody},
};

/// How long a reset link works.
pub const LINK_TTL_MINUTES: i64 = 30;
/// Links mailed to one address per window; further requests answer the same 202 and
/// send nothing, so the form cannot be used to flood someone's inbox.
const MAX_LINKS_PER_ADDRESS: i64 = 3;
const LINK_WINDOW_SECS: i64 = 60 * 60;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(value_type = crate::domain::EmailAddress)]
    email: String,
}

/// Ask for a password reset link. The answer is 202 whether or not an account uses
/// this address (and whether or not a mail was sent: an address gets at most three
/// links an hour); for an account, a link to `/reset-password/{token}` is mailed,
/// valid once for 30 minutes.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth", request_body = PasswordResetRequest, security(()),
    responses((status = 202, description = "Accepted; a link is mailed if the address has an account"),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let email = field("email", EmailAddress::parse(&body.email))?;
    let mut tx = state.db.bypass_tx(Bypass::PasswordReset).await?;
    let Some((user_id, name)) =
        db::password_resets::account_for_email(&mut *tx, email.as_str()).await?
    else {
        return Ok(StatusCode::ACCEPTED);
    };
    if db::password_resets::recent_count(&mut *tx, user_id, LINK_WINDOW_SECS).await?
        >= MAX_LINKS_PER_ADDRESS
    {
        tracing::info!(%user_id, "password reset link not sent: too many asked for recently");
        return Ok(StatusCode::ACCEPTED);
    }
    let token = secrets::new_token("pbr_");
    let expires_at = Utc::now() + chrono::Duration::minutes(LINK_TTL_MINUTES);
    let reset_id = db::password_resets::create(
        &mut *tx,
        user_id,
        &secrets::token_hash(&token),
        expires_at,
        &client.to_string(),
    )
    .await?;
    tx.commit().await?;

    let link = state.config.link(&format!("/reset-password/{token}"));
    let email = OutgoingEmail {
        id: reset_id,
        to_addr: email.as_str().to_owned(),
        subject: "Reset your Pulseboard password".into(),
        body_text: format!(
            "Hi {name},\n\n\
             Someone (hopefully you) asked to reset the password of your Pulseboard account.\n\n\
             Choose a new password: {link}\n\n\
             The link works once, for {LINK_TTL_MINUTES} minutes. Setting a new password signs \
             you out everywhere. If you did not ask for this, ignore this email: your password \
             stays as it is.\n"
        ),
        body_html: None,
        inline_images: Vec::new(),
        unsubscribe_url: None,
        attempts: 1,
    };
    let mailer = state.mailer.clone();
    tokio::spawn(async move {
        // The error describes the transport's answer, never the message's body.
        match mailer.send(&email).await {
            Ok(()) => tracing::info!(%reset_id, "password reset link mailed"),
            Err(error) => tracing::warn!(%reset_id, %error, "mailing a password reset link failed"),
        }
    });
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the mailed link (`/reset-password/{token}`).
    token: String,
    /// The new password: 10 to 256 characters.
    #[schema(value_type = crate::domain::Password)]
    password: String,
}

/// Set a new password with a reset link's token. The link is spent (and any other
/// open link of the account), every session of the account is signed out, and no new
/// one starts: sign in with the new password. API tokens keep working. A token that
/// is unknown, already used or expired answers 400 with `reset_token_unknown`,
/// `reset_token_used` or `reset_token_expired`.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirm, security(()),
    responses((status = 204, description = "The password is changed; every session is signed out"),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm_reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    // The password is checked first: a typo must not spend the link.
    let password = field("password", Password::parse(&body.password))?;
    let hash = passwords::hash(&password).await?;
    let mut tx = state.db.bypass_tx(Bypass::PasswordReset).await?;
    let user_id =
        match db::password_resets::redeem(&mut tx, &secrets::token_hash(&body.token)).await? {
            Redeemed::User(id) => id,
            Redeemed::Unknown => {
                return Err(ApiError::bad_request(
                    "reset_token_unknown",
                    "this reset link is not valid; ask for a new one",
                ))
            }
            Redeemed::Used => {
                return Err(ApiError::bad_request(
                    "reset_token_used",
                    "this reset link was already used; ask for a new one",
                ))
            }
            Redeemed::Expired => {
                return Err(ApiError::bad_request(
                    "reset_token_expired",
                    "this reset link has expired (links work for 30 minutes); ask for a new one",
                ))
            }
        };
    db::accounts::set_password(&mut *tx, user_id, &hash).await?;
    let revoked = db::accounts::revoke_sessions_except(&mut *tx, user_id, None).await?;
    // Proving control of the mailbox clears the account's failed-login count, so a
    // stranger's guessing does not lock its owner out after a reset.
    let email = db::accounts::profile(&mut *tx, user_id).await?.email;
    db::accounts::record_login_attempt(&mut *tx, &email, &client.to_string(), true).await?;
    tx.commit().await?;
    tracing::info!(%user_id, sessions_revoked = revoked, "password reset");
    Ok(StatusCode::NO_CONTENT)
}
