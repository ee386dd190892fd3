//! The API test binary: real PostgreSQL, the real HTTP stack.

mod architecture;
mod helpers;

mod accounts;
mod alerts;
mod backup;
mod clarity;
mod conversion;
mod cro;
mod dashboards;
mod digest;
mod embedded;
mod explain;
mod ga4;
mod gorgias;
mod input;
mod integrations;
mod intelligems;
mod isolation;
mod judgeme;
mod knocommerce;
mod lemonsqueezy;
mod mail;
mod metrics;
mod oauth;
mod ops;
mod orgs;
mod paddle;
mod password_reset;
mod posthog;
mod rls;
mod secrets;
mod sync;
mod tokens;
mod vault;
mod webhooks;
