//! Domain newtypes: parsed once at the edge, valid everywhere after.

mod caller;
pub mod dashboards;
mod names;
pub mod passwords;
pub mod plans;
mod roles;
pub mod secrets;

pub use caller::{Credential, CurrentUser};
pub use names::{Currency, DisplayName, EmailAddress, OrgSlug, Password, TimeZone};
pub use roles::{OrgRole, WorkspaceRole};
