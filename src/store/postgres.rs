//! The shared store: schema `remtrack` in a PostgreSQL database (the target itself or another),
//! so a team on many machines keeps one record. New events are announced with NOTIFY by a
//! trigger; after a lost listener connection everything is read again.

use std::time::Duration;

use sqlx::Row as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use tokio::sync::mpsc;

use super::{Event, EventKind, Failure, NewEvent, RefreshKey, StoreChange, StoreLocation};
use crate::check::Verdicts;
use time::OffsetDateTime;

const SCHEMA: &str = "remtrack";
const CHANNEL: &str = "remtrack_events";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_EVERY: Duration = Duration::from_secs(1);

fn migrator() -> Migrator {
    super::migrator([
        include_str!("migrations/postgres/0001_events.sql"),
        include_str!("migrations/postgres/0002_last_refresh.sql"),
        include_str!("migrations/postgres/0003_fix_events.sql"),
    ])
}

#[derive(Debug, Clone)]
pub(super) struct PgStore {
    pool: PgPool,
    options: PgConnectOptions,
}

impl PgStore {
    pub(super) async fn open(url: &str) -> Result<PgStore, Failure> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| Failure::Open(format!("not a usable PostgreSQL URL: {e}")))?;
        // Every object, the migrations' own table included, lives in schema `remtrack`.
        let options = options.application_name("remtrack-store").options([
            ("search_path", SCHEMA),
            ("statement_timeout", "10s"),
            ("lock_timeout", "5s"),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| Failure::Open(e.to_string()))?;
        if !up_to_date(&pool).await {
            ensure_schema(&pool).await?;
            migrator().run(&pool).await.map_err(|e| {
                Failure::Open(format!(
                    "cannot prepare schema {SCHEMA}: {e} (the first use needs a role with CREATE \
                     on the database; after that the grants in the README are enough)"
                ))
            })?;
        }
        Ok(PgStore { pool, options })
    }

    pub(super) async fn append(&self, event: &NewEvent) -> Result<i64, Failure> {
        sqlx::query_scalar(
            "INSERT INTO events (task_id, kind, actor, at, note, evidence, fingerprint) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&event.task_id)
        .bind(event.kind.as_str())
        .bind(&event.actor)
        .bind(event.at)
        .bind(&event.note)
        .bind(Json(&event.evidence))
        .bind(&event.fingerprint)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("25006") => {
                Failure::ReadOnly(e.to_string())
            }
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
                Failure::ReadOnly(e.to_string())
            }
            // A role that may only use the store does not migrate it (see `up_to_date`): until
            // its owner opens it once, the store takes marks but not the fix events.
            sqlx::Error::Database(db) if db.constraint() == Some("events_kind_check") => {
                Failure::Write(format!(
                    "this store's schema is older than the \"{}\" event; open it once as the \
                     role that owns schema {SCHEMA} (any remtrack command with --store) to \
                     upgrade it",
                    event.kind.as_str()
                ))
            }
            _ => Failure::Write(e.to_string()),
        })
    }

    pub(super) async fn remember(
        &self,
        key: &RefreshKey,
        at: OffsetDateTime,
        verdicts: &Verdicts,
    ) -> Result<(), Failure> {
        sqlx::query(
            "INSERT INTO last_refresh (plan_fingerprint, target, checked_at, verdicts) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plan_fingerprint, target) DO UPDATE SET checked_at = excluded.checked_at, verdicts = excluded.verdicts",
        )
        .bind(&key.plan_fingerprint)
        .bind(&key.target)
        .bind(at)
        .bind(Json(verdicts))
        .execute(&self.pool)
        .await
        .map_err(|e| Failure::Write(e.to_string()))?;
        Ok(())
    }

    pub(super) async fn remembered(
        &self,
        key: &RefreshKey,
    ) -> Result<Option<(OffsetDateTime, Verdicts)>, Failure> {
        let row: Option<(OffsetDateTime, Json<Verdicts>)> =
            sqlx::query_as("SELECT checked_at, verdicts FROM last_refresh WHERE plan_fingerprint = $1 AND target = $2")
                .bind(&key.plan_fingerprint)
                .bind(&key.target)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::Read(e.to_string()))?;
        Ok(row.map(|(at, Json(verdicts))| (at, verdicts)))
    }

    pub(super) async fn events(&self, task_id: Option<&str>) -> Result<Vec<Event>, Failure> {
        let rows = sqlx::query(
            "SELECT id, task_id, kind, actor, at, note, evidence, fingerprint FROM events \
             WHERE $1::text IS NULL OR task_id = $1 ORDER BY id",
        )
        .bind(task_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Failure::Read(e.to_string()))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn events_by_id(&self, ids: &[i64]) -> Result<Vec<Event>, Failure> {
        let rows = sqlx::query(
            "SELECT id, task_id, kind, actor, at, note, evidence, fingerprint FROM events \
             WHERE id = ANY($1) ORDER BY id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Failure::Read(e.to_string()))?;
        rows.iter().map(event_from_row).collect()
    }

    /// Listens for new events. Identity values are not committed in order, so the notification's
    /// payload (the committed id) says what to read, not "everything after the last id".
    pub(super) async fn watch(self, location: StoreLocation, changes: mpsc::Sender<StoreChange>) {
        let mut failing = false;
        loop {
            if changes.is_closed() {
                return;
            }
            let mut listener = match self.listen().await {
                Ok(listener) => listener,
                Err(reason) => {
                    if !failing {
                        failing = true;
                        let reason = Failure::Read(reason).into_error(&location).to_string();
                        if changes.send(StoreChange::Failed(reason)).await.is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                    continue;
                }
            };
            // Whatever was committed before LISTEN took effect was not announced: read it all.
            if changes.send(StoreChange::ReloadAll).await.is_err() {
                return;
            }
            loop {
                let notification = tokio::select! {
                    notification = listener.try_recv() => notification,
                    () = changes.closed() => return,
                };
                let change = match notification {
                    Ok(Some(first)) => {
                        let mut ids: Vec<i64> = first.payload().parse().ok().into_iter().collect();
                        while let Some(more) = listener.next_buffered() {
                            ids.extend(more.payload().parse::<i64>().ok());
                        }
                        match self.events_by_id(&ids).await {
                            Ok(events) => StoreChange::Appended(events),
                            Err(failure) => {
                                StoreChange::Failed(failure.into_error(&location).to_string())
                            }
                        }
                    }
                    // Reconnected: notifications may have been missed while away.
                    Ok(None) => StoreChange::ReloadAll,
                    Err(error) => {
                        let reason = Failure::Read(error.to_string()).into_error(&location);
                        failing = true;
                        if changes
                            .send(StoreChange::Failed(reason.to_string()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        tokio::time::sleep(RETRY_EVERY).await;
                        break;
                    }
                };
                if changes.send(change).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn listen(&self) -> Result<PgListener, String> {
        // The listener holds its connection for good: give it a pool of its own.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(|e| e.to_string())?;
        listener.eager_reconnect(true);
        listener.listen(CHANNEL).await.map_err(|e| e.to_string())?;
        Ok(listener)
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether every migration has been applied. Checked first because a role that may read and
/// write the events but not create tables could not even run the migrator's `CREATE ... IF NOT
/// EXISTS`.
/// Whether the schema is at the current version, so that nothing needs creating. A role that
/// may only use the store (the README's grants: no SELECT on the migrations' own table) cannot
/// read the version; for it, the tables of the latest migration being there is enough, and no
/// migration is attempted (it could only fail, and in a read-only session it would).
async fn up_to_date(pool: &PgPool) -> bool {
    let latest = migrator().iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await;
    match applied {
        Ok(version) => version.is_some_and(|version| version >= latest),
        Err(_) => sqlx::query_scalar::<_, bool>(
            "SELECT to_regclass('remtrack.events') IS NOT NULL \
                AND to_regclass('remtrack.last_refresh') IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .unwrap_or(false),
    }
}

/// Creates schema `remtrack` unless it exists; a role that may not create it can still use it.
async fn ensure_schema(pool: &PgPool) -> Result<(), Failure> {
    let exists = || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
        )
        .bind(SCHEMA)
        .fetch_one(pool)
        .await
        .map_err(|e| Failure::Open(e.to_string()))
    };
    if exists().await? {
        return Ok(());
    }
    let created = sqlx::query("CREATE SCHEMA IF NOT EXISTS remtrack")
        .execute(pool)
        .await;
    match created {
        Ok(_) => Ok(()),
        // Two sessions creating it at once: the loser finds it there.
        Err(_) if exists().await? => Ok(()),
        Err(e) => Err(Failure::Open(format!("cannot create schema {SCHEMA}: {e}"))),
    }
}

fn event_from_row(row: &PgRow) -> Result<Event, Failure> {
    let read = |e: sqlx::Error| Failure::Read(e.to_string());
    let kind: String = row.try_get("kind").map_err(read)?;
    let Json(evidence): Json<serde_json::Value> = row.try_get("evidence").map_err(read)?;
    Ok(Event {
        id: row.try_get("id").map_err(read)?,
        task_id: row.try_get("task_id").map_err(read)?,
        kind: EventKind::parse(&kind),
        actor: row.try_get("actor").map_err(read)?,
        at: row.try_get("at").map_err(read)?,
        note: row.try_get("note").map_err(read)?,
        evidence,
        fingerprint: row.try_get("fingerprint").map_err(read)?,
    })
}
