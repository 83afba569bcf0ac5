//! remtrack: a remediation-plan tracker that checks every item live against the real database.
//!
//! The library holds everything but the terminal front end's wiring, so the CLI, the TUI and the
//! tests all drive the same code: [`plan`] (format and validation), [`check`] (the live check
//! engine), [`status`] (pure status, progress and risk derivation) and [`report`] (headless output).

pub mod apply;
pub mod check;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod identity;
pub mod plan;
pub mod printable;
pub mod redact;
pub mod report;
pub mod serve;
pub mod status;
pub mod store;
pub mod tui;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Serialize;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Records when the process started; `main` calls it first. The tracker logs the time from here to
/// its first frame (the benchmark reads it).
pub fn mark_process_start() {
    STARTED.get_or_init(Instant::now);
}

/// Time since [`mark_process_start`] (or since the first call, when it was never called).
pub fn since_process_start() -> Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

/// Which kind of database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "sqlite" => Some(Backend::Sqlite),
            _ => None,
        }
    }

    /// The schema a check means when it names none.
    pub fn default_schema(self) -> &'static str {
        match self {
            Backend::Postgres => "public",
            Backend::Sqlite => "main",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }

    /// As people write it: `PostgreSQL`, `SQLite`.
    pub fn display_name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }
}
