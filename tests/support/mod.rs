//! Shared helpers for the integration tests: a throwaway PostgreSQL cluster, plan builders, a
//! private tmux server, `remtrack serve` with an SSH client, and `remtrack fix` on plan copies
//! with snapshots of what a database holds.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod checks;
pub mod fix;
pub mod pg;
pub mod snapshot;
pub mod ssh;
pub mod tmux;
