//! The embedded store: one SQLite file (WAL, busy timeout), created on first use. Other sessions'
//! writes are noticed by polling `PRAGMA data_version`, which changes only when another
//! connection commits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use super::{Event, EventKind, Failure, NewEvent, RefreshKey, StoreChange};
use crate::check::Verdicts;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(250);

fn migrator() -> Migrator {
    super::migrator([
        include_str!("migrations/sqlite/0001_events.sql"),
        include_str!("migrations/sqlite/0002_last_refresh.sql"),
        include_str!("migrations/sqlite/0003_fix_events.sql"),
    ])
}

#[derive(Debug, Clone)]
pub(super) struct SqliteStore {
    pool: SqlitePool,
    options: SqliteConnectOptions,
    writable: bool,
    path: PathBuf,
}

impl SqliteStore {
    pub(super) async fn open(path: &Path) -> Result<SqliteStore, Failure> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let mut attempt = 0;
        let writable = loop {
            // Two sessions creating the store at once can meet a lock (switching to WAL takes an
            // exclusive one) or each other's migration: the loser tries again.
            match Self::open_writable(path, options.clone()).await {
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                outcome => break outcome,
            }
        };
        match writable {
            Ok(store) => Ok(store),
            // A store someone else owns, or on a read-only disk: show the marks, record none.
            Err(writable_error) if path.exists() => {
                let options = options.read_only(true);
                let pool = pool(options.clone()).await.map_err(|read_error| {
                    Failure::Open(format!("{writable_error}; read-only too: {read_error}"))
                })?;
                sqlx::query("SELECT count(*) FROM events")
                    .fetch_one(&pool)
                    .await
                    .map_err(|e| Failure::Open(e.to_string()))?;
                Ok(SqliteStore {
                    pool,
                    options,
                    writable: false,
                    path: path.to_path_buf(),
                })
            }
            Err(error) => Err(Failure::Open(error)),
        }
    }

    async fn open_writable(path: &Path, options: SqliteConnectOptions) -> Result<Self, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let options = options.create_if_missing(true);
        let pool = pool(options.clone()).await.map_err(|e| e.to_string())?;
        migrator().run(&pool).await.map_err(|e| e.to_string())?;
        Ok(SqliteStore {
            pool,
            options,
            writable: true,
            path: path.to_path_buf(),
        })
    }

    pub(super) async fn append(&self, event: &NewEvent) -> Result<i64, Failure> {
        if !self.writable {
            return Err(Failure::ReadOnly(format!(
                "{} cannot be written by this user",
                self.path.display()
            )));
        }
        let at = event
            .at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| Failure::Write(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO events (task_id, kind, actor, at, note, evidence, fingerprint) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&event.task_id)
        .bind(event.kind.as_str())
        .bind(&event.actor)
        .bind(at)
        .bind(&event.note)
        .bind(event.evidence.to_string())
        .bind(&event.fingerprint)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| Failure::Write(e.to_string()))?;
        row.try_get(0).map_err(|e| Failure::Write(e.to_string()))
    }

    pub(super) async fn remember(
        &self,
        key: &RefreshKey,
        at: OffsetDateTime,
        verdicts: &Verdicts,
    ) -> Result<(), Failure> {
        if !self.writable {
            return Err(Failure::ReadOnly(format!(
                "{} cannot be written by this user",
                self.path.display()
            )));
        }
        let at = at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| Failure::Write(e.to_string()))?;
        let verdicts =
            serde_json::to_string(verdicts).map_err(|e| Failure::Write(e.to_string()))?;
        sqlx::query(
            "INSERT INTO last_refresh (plan_fingerprint, target, checked_at, verdicts) VALUES (?, ?, ?, ?) \
             ON CONFLICT (plan_fingerprint, target) DO UPDATE SET checked_at = excluded.checked_at, verdicts = excluded.verdicts",
        )
        .bind(&key.plan_fingerprint)
        .bind(&key.target)
        .bind(at)
        .bind(verdicts)
        .execute(&self.pool)
        .await
        .map_err(|e| Failure::Write(e.to_string()))?;
        Ok(())
    }

    pub(super) async fn remembered(
        &self,
        key: &RefreshKey,
    ) -> Result<Option<(OffsetDateTime, Verdicts)>, Failure> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT checked_at, verdicts FROM last_refresh WHERE plan_fingerprint = ? AND target = ?")
                .bind(&key.plan_fingerprint)
                .bind(&key.target)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::Read(e.to_string()))?;
        Ok(row.and_then(|(at, verdicts)| {
            Some((
                OffsetDateTime::parse(&at, &Rfc3339).ok()?,
                serde_json::from_str(&verdicts).ok()?,
            ))
        }))
    }

    pub(super) async fn events(&self, task_id: Option<&str>) -> Result<Vec<Event>, Failure> {
        let rows = sqlx::query(
            "SELECT id, task_id, kind, actor, at, note, evidence, fingerprint FROM events \
             WHERE ?1 IS NULL OR task_id = ?1 ORDER BY id",
        )
        .bind(task_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Failure::Read(e.to_string()))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn events_after(
        connection: &mut SqliteConnection,
        after_id: i64,
    ) -> Result<Vec<Event>, Failure> {
        let rows = sqlx::query(
            "SELECT id, task_id, kind, actor, at, note, evidence, fingerprint FROM events \
             WHERE id > ? ORDER BY id",
        )
        .bind(after_id)
        .fetch_all(connection)
        .await
        .map_err(|e| Failure::Read(e.to_string()))?;
        rows.iter().map(event_from_row).collect()
    }

    /// Polls `data_version` on a connection of its own and sends what other connections commit.
    pub(super) async fn watch(self, mut after_id: i64, changes: mpsc::Sender<StoreChange>) {
        let mut connection: Option<SqliteConnection> = None;
        let mut seen_version: Option<i64> = None;
        let mut failing = false;
        loop {
            if changes.is_closed() {
                return;
            }
            let outcome: Result<Option<Vec<Event>>, String> = async {
                if connection.is_none() {
                    connection = Some(
                        SqliteConnection::connect_with(&self.options)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                let Some(conn) = connection.as_mut() else {
                    return Ok(None);
                };
                let version: i64 = sqlx::query_scalar("PRAGMA data_version")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| e.to_string())?;
                if seen_version == Some(version) {
                    return Ok(None);
                }
                seen_version = Some(version);
                Self::events_after(conn, after_id)
                    .await
                    .map(Some)
                    .map_err(|f| f.reason().to_string())
            }
            .await;
            let change = match outcome {
                Ok(Some(events)) if !events.is_empty() => {
                    after_id = events.last().map_or(after_id, |e| e.id);
                    failing = false;
                    Some(StoreChange::Appended(events))
                }
                Ok(_) => {
                    failing = false;
                    None
                }
                Err(reason) => {
                    connection = None;
                    seen_version = None;
                    let first = !failing;
                    failing = true;
                    first.then_some(StoreChange::Failed(reason))
                }
            };
            if let Some(change) = change
                && changes.send(change).await.is_err()
            {
                return;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

async fn pool(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(options)
        .await
}

fn event_from_row(row: &SqliteRow) -> Result<Event, Failure> {
    let read = |e: sqlx::Error| Failure::Read(e.to_string());
    let at: String = row.try_get("at").map_err(read)?;
    let evidence: String = row.try_get("evidence").map_err(read)?;
    let kind: String = row.try_get("kind").map_err(read)?;
    Ok(Event {
        id: row.try_get("id").map_err(read)?,
        task_id: row.try_get("task_id").map_err(read)?,
        kind: EventKind::parse(&kind),
        actor: row.try_get("actor").map_err(read)?,
        at: OffsetDateTime::parse(&at, &Rfc3339)
            .map_err(|e| Failure::Read(format!("event time {at:?}: {e}")))?,
        note: row.try_get("note").map_err(read)?,
        // Never lose what was stored: evidence that is not JSON is kept as text.
        evidence: serde_json::from_str(&evidence).unwrap_or(serde_json::Value::String(evidence)),
        fingerprint: row.try_get("fingerprint").map_err(read)?,
    })
}
