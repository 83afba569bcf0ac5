//! Shared helpers for the integration tests: a throwaway PostgreSQL cluster, and plan builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod checks;
pub mod pg;
pub mod tmux;
