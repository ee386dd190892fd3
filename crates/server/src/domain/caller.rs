//! Who is calling: the signed-in user and how they proved it. The HTTP layer
//! extracts it (`http::extract`); the database layer records sessions and token use
//! with it.

use uuid::Uuid;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(Uuid),
    ApiToken(Uuid),
}

/// The signed-in user, from the session cookie or an `Authorization: Bearer` API token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub credential: Credential,
}
