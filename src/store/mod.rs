//! The verification store: an append-only trail of people's marks (verified, unverified, notes),
//! each with the evidence at that moment. Embedded SQLite beside the plan by default; a shared
//! PostgreSQL schema `remtrack` for teams. Current state is derived from the events, never stored.

mod derive;
mod evidence;
mod fix_events;
mod postgres;
mod rules;
mod sqlite;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::check::Verdicts;

pub use derive::{
    event_databases, fix_fingerprint, plan_fingerprint, task_fingerprint, to_status_marks,
};
pub use evidence::evidence_snapshot;
pub use fix_events::{ApplyOutcome, LastApply, fix_event_words, last_apply};
pub use rules::{
    ApplyRefusal, ApproveRefusal, FailingCheck, Refusal, Uncounted, approval_counts_for, may_apply,
    may_approve, may_note, may_unverify, may_verify,
};

/// What a person recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Verified,
    Unverified,
    Note,
    /// A task's fix was committed to a database, its checks passing inside the transaction.
    Applied,
    /// An apply was tried and did not commit (refused, rolled back, or its outcome unknown).
    ApplyFailed,
    /// Someone other than the applier approved one fix text (by fingerprint) after a dry run.
    Approved,
    /// Someone asks for an approval of a task's fix.
    ApprovalRequested,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Verified => "verified",
            EventKind::Unverified => "unverified",
            EventKind::Note => "note",
            EventKind::Applied => "applied",
            EventKind::ApplyFailed => "apply_failed",
            EventKind::Approved => "approved",
            EventKind::ApprovalRequested => "approval_requested",
        }
    }

    /// The CHECK constraint admits only these kinds; anything else (a kind from a newer remtrack
    /// read through a hand-made copy) reads as a note, which marks nothing.
    fn parse(text: &str) -> EventKind {
        match text {
            "verified" => EventKind::Verified,
            "unverified" => EventKind::Unverified,
            "applied" => EventKind::Applied,
            "apply_failed" => EventKind::ApplyFailed,
            "approved" => EventKind::Approved,
            "approval_requested" => EventKind::ApprovalRequested,
            _ => EventKind::Note,
        }
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEvent {
    pub task_id: String,
    pub kind: EventKind,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub note: String,
    /// Every verdict of the task when the mark was made.
    pub evidence: serde_json::Value,
    /// [`task_fingerprint`] of the task's check definitions when the mark was made.
    pub fingerprint: String,
}

/// A recorded event. Ids grow in commit order within one store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub task_id: String,
    pub kind: EventKind,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub note: String,
    pub evidence: serde_json::Value,
    pub fingerprint: String,
}

impl Event {
    fn recorded(id: i64, event: NewEvent) -> Event {
        Event {
            id,
            task_id: event.task_id,
            kind: event.kind,
            actor: event.actor,
            at: event.at,
            note: event.note,
            evidence: event.evidence,
            fingerprint: event.fingerprint,
        }
    }
}

/// A time as marks show it: UTC, to the second (`2026-11-24T10:00:03Z`).
pub fn utc_text(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Which remembered verdicts apply: the same plan checks against the same database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshKey {
    /// [`plan_fingerprint`] of the plan.
    pub plan_fingerprint: String,
    /// The target URL, password redacted.
    pub target: String,
}

/// What a subscriber hears about the store.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreChange {
    /// Events committed since the last change, by any session, oldest first.
    Appended(Vec<Event>),
    /// The connection was lost and is back: notifications may have been missed, read everything.
    ReloadAll,
    /// The store cannot be reached; the subscriber keeps trying.
    Failed(String),
}

/// Where the events live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    /// A PostgreSQL URL (kept whole to connect; shown only redacted).
    Postgres(String),
}

impl StoreLocation {
    /// The default: `.remtrack/state.db` in the plan's directory.
    pub fn beside_plan(plan_file: &Path) -> StoreLocation {
        let dir = plan_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        StoreLocation::Sqlite(dir.join(".remtrack").join("state.db"))
    }

    /// `--store`: a `postgres://` URL, a `sqlite:` URL, or a file path.
    pub fn parse(text: &str) -> StoreLocation {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_string())
        } else {
            let path = text
                .strip_prefix("sqlite://")
                .or_else(|| text.strip_prefix("sqlite:"))
                .unwrap_or(text);
            StoreLocation::Sqlite(PathBuf::from(path))
        }
    }

    /// For people: the path, or the URL with its password replaced.
    pub fn display(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => crate::redact::redact_url(url),
        }
    }

    fn redact(&self, text: &str) -> String {
        match self {
            StoreLocation::Sqlite(_) => text.to_string(),
            StoreLocation::Postgres(url) => crate::redact::redact_text(text, url),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the verification store {location}: {reason}")]
    Open { location: String, reason: String },
    #[error(
        "the verification store {location} is read-only here ({reason}); marks cannot be recorded"
    )]
    ReadOnly { location: String, reason: String },
    #[error("the mark was not recorded in {location}: {reason}")]
    Write { location: String, reason: String },
    #[error("cannot read the verification store {location}: {reason}")]
    Read { location: String, reason: String },
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// An open store. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    location: StoreLocation,
    backend: Backend,
}

impl Store {
    /// Opens the store, creating it (and running its migrations) on first use.
    pub async fn open(location: &StoreLocation) -> Result<Store, StoreError> {
        let backend = match location {
            StoreLocation::Sqlite(path) => {
                sqlite::SqliteStore::open(path).await.map(Backend::Sqlite)
            }
            StoreLocation::Postgres(url) => {
                postgres::PgStore::open(url).await.map(Backend::Postgres)
            }
        };
        let backend = backend.map_err(|failure| failure.into_error(location))?;
        Ok(Store {
            location: location.clone(),
            backend,
        })
    }

    /// Opens an existing store without creating anything; `None` when there is none yet.
    /// For read-only commands, which must not leave a store behind.
    pub async fn open_existing(location: &StoreLocation) -> Result<Option<Store>, StoreError> {
        match location {
            StoreLocation::Sqlite(path) if !path.exists() => Ok(None),
            _ => Store::open(location).await.map(Some),
        }
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// Records one event; returns it with its id once it is committed.
    pub async fn append(&self, mut event: NewEvent) -> Result<Event, StoreError> {
        // Both backends keep microseconds in UTC: what is returned is what will be read back.
        let at = event.at.to_offset(time::UtcOffset::UTC);
        event.at = at
            .replace_nanosecond(at.nanosecond() / 1000 * 1000)
            .unwrap_or(at);
        if event.note.contains('\0') || event.actor.contains('\0') {
            return Err(StoreError::Write {
                location: self.location.display(),
                reason: "the note contains a NUL character, which cannot be stored; remove it"
                    .into(),
            });
        }
        let result = match &self.backend {
            Backend::Sqlite(store) => store.append(&event).await,
            Backend::Postgres(store) => store.append(&event).await,
        };
        result
            .map(|id| Event::recorded(id, event))
            .map_err(|failure| failure.into_error(&self.location))
    }

    /// Keeps the verdicts of a refresh, replacing the ones kept before for the same plan and
    /// target, so a session that starts while the database is down can show them, marked old.
    pub async fn remember(
        &self,
        key: &RefreshKey,
        checked_at: OffsetDateTime,
        verdicts: &Verdicts,
    ) -> Result<(), StoreError> {
        let result = match &self.backend {
            Backend::Sqlite(store) => store.remember(key, checked_at, verdicts).await,
            Backend::Postgres(store) => store.remember(key, checked_at, verdicts).await,
        };
        result.map_err(|failure| failure.into_error(&self.location))
    }

    /// The verdicts last kept for this plan and target, and when they were checked.
    pub async fn remembered(
        &self,
        key: &RefreshKey,
    ) -> Result<Option<(OffsetDateTime, Verdicts)>, StoreError> {
        let result = match &self.backend {
            Backend::Sqlite(store) => store.remembered(key).await,
            Backend::Postgres(store) => store.remembered(key).await,
        };
        result.map_err(|failure| failure.into_error(&self.location))
    }

    /// Every event (or one task's), oldest first.
    pub async fn events(&self, task_id: Option<&str>) -> Result<Vec<Event>, StoreError> {
        let result = match &self.backend {
            Backend::Sqlite(store) => store.events(task_id).await,
            Backend::Postgres(store) => store.events(task_id).await,
        };
        result.map_err(|failure| failure.into_error(&self.location))
    }

    /// Changes made by any session, as they are committed: PostgreSQL LISTEN/NOTIFY, or polling
    /// SQLite's `data_version`. The watcher stops when the receiver is dropped.
    pub fn subscribe(&self, after_id: i64) -> mpsc::Receiver<StoreChange> {
        let (tx, rx) = mpsc::channel(16);
        match &self.backend {
            Backend::Sqlite(store) => {
                tokio::spawn(store.clone().watch(after_id, tx));
            }
            Backend::Postgres(store) => {
                tokio::spawn(store.clone().watch(self.location.clone(), tx));
            }
        }
        rx
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }
}

/// A backend's failure before it is given the location and redacted.
#[derive(Debug)]
enum Failure {
    Open(String),
    ReadOnly(String),
    Write(String),
    Read(String),
}

impl Failure {
    fn reason(&self) -> &str {
        match self {
            Failure::Open(r) | Failure::ReadOnly(r) | Failure::Write(r) | Failure::Read(r) => r,
        }
    }

    fn into_error(self, location: &StoreLocation) -> StoreError {
        let display = location.display();
        let clean = |reason: String| crate::printable::one_line(&location.redact(&reason));
        match self {
            Failure::Open(reason) => StoreError::Open {
                location: display,
                reason: clean(reason),
            },
            Failure::ReadOnly(reason) => StoreError::ReadOnly {
                location: display,
                reason: clean(reason),
            },
            Failure::Write(reason) => StoreError::Write {
                location: display,
                reason: clean(reason),
            },
            Failure::Read(reason) => StoreError::Read {
                location: display,
                reason: clean(reason),
            },
        }
    }
}

/// The store's schema steps, the same for every backend, each given as that backend's SQL.
fn migrator(steps: [&'static str; 3]) -> Migrator {
    const NAMES: [&str; 3] = ["events", "last refresh", "fix events"];
    Migrator {
        migrations: Cow::Owned(
            steps
                .iter()
                .zip(NAMES)
                .zip(1..)
                .map(|((sql, name), version)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(name),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests;
