//! Shared helpers for the integration tests: a throwaway PostgreSQL cluster, plan builders, a
//! private tmux server, and `remtrack serve` with an SSH client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod checks;
pub mod pg;
pub mod ssh;
pub mod tmux;
