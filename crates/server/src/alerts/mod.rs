//! Alerts (seed 000, DESIGN §10): rules that watch a catalog metric and mail (and
//! post to Slack) when it crosses a line, moves more than usual, or falls behind
//! last week's pace.
//!
//! - [`rule`]: what a rule is, the two metrics-service queries that answer it, and
//!   the judgement from their answers;
//! - [`detect`]: the pure arithmetic (percent change, the robust "usual range");
//! - [`evaluate`]: the hourly pass over every rule, batched per organization, that
//!   fires each crossing exactly once;
//! - [`deliver`]: the messages of a firing, queued in the firing's transaction.

pub mod deliver;
pub mod detect;
pub mod evaluate;
pub mod rule;
