//! Integration secrets: the key ring that encrypts them ([`vault`]), the stored
//! provider credentials ([`credentials`]), and the provider access tokens that are
//! refreshed from them ([`access_token`]). Users' own API tokens are not here: they
//! are accounts (`db::accounts`).

pub mod access_token;
pub mod credentials;
pub mod vault;
