//! The statements a fix run sends on its write connection besides the fix itself: the
//! transaction's begin and end, the probe that it is still remtrack's, the deferred
//! constraints, the search path and the server's version.

use std::time::Instant;

use sqlx::{Executor as _, Row as _};

use super::errors::is_lost;
use super::write_target::WriteConnection;

/// Which transaction remtrack began, to tell whether a statement of the fix ended it.
pub(super) enum Transaction {
    /// PostgreSQL's transaction id.
    Postgres(String),
    Sqlite,
}

impl Transaction {
    pub(super) async fn mark(conn: &mut WriteConnection) -> Result<Transaction, sqlx::Error> {
        Ok(match conn {
            WriteConnection::Postgres(pg) => Transaction::Postgres(
                sqlx::query_scalar("SELECT txid_current()::text")
                    .fetch_one(&mut *pg)
                    .await?,
            ),
            WriteConnection::Sqlite(_) => Transaction::Sqlite,
        })
    }

    pub(super) async fn still_open(&self, conn: &mut WriteConnection) -> Result<bool, sqlx::Error> {
        match (self, conn) {
            (Transaction::Postgres(id), WriteConnection::Postgres(pg)) => {
                let now: String = sqlx::query_scalar("SELECT txid_current()::text")
                    .fetch_one(&mut *pg)
                    .await?;
                Ok(&now == id)
            }
            // BEGIN fails inside a transaction; succeeding, it proves the fix's ended.
            (Transaction::Sqlite, WriteConnection::Sqlite(lite)) => {
                match lite.execute("BEGIN").await {
                    Ok(_) => {
                        lite.execute("ROLLBACK").await?;
                        Ok(false)
                    }
                    Err(sqlx::Error::Database(db))
                        if db.message().contains("within a transaction") =>
                    {
                        Ok(true)
                    }
                    Err(error) => Err(error),
                }
            }
            _ => Ok(false),
        }
    }
}

/// SQLite's count of rows that break a foreign key (`PRAGMA foreign_key_check`); PostgreSQL
/// checks its deferred constraints itself (see [`deferred_constraints`]).
pub(super) async fn broken_foreign_keys(conn: &mut WriteConnection) -> Result<usize, sqlx::Error> {
    match conn {
        WriteConnection::Postgres(_) => Ok(0),
        WriteConnection::Sqlite(lite) => Ok(sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *lite)
            .await?
            .len()),
    }
}

/// Why the fix breaks a deferred constraint, if it does: PostgreSQL checks them at once on
/// `SET CONSTRAINTS ALL IMMEDIATE`; on SQLite, more rows break a foreign key than before.
pub(super) async fn deferred_constraints(
    conn: &mut WriteConnection,
    broken_before: usize,
) -> Result<Option<String>, sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => match pg.execute("SET CONSTRAINTS ALL IMMEDIATE").await {
            Ok(_) => Ok(None),
            Err(error) if is_lost(&error) => Err(error),
            Err(sqlx::Error::Database(db)) => Ok(Some(format!(
                "a deferred constraint fails after the fix: {}",
                crate::printable::one_line(db.message())
            ))),
            Err(error) => Err(error),
        },
        WriteConnection::Sqlite(_) => {
            let after = broken_foreign_keys(conn).await?;
            Ok((after > broken_before).then(|| {
                format!(
                    "after the fix {} more row{} break a foreign key (PRAGMA foreign_key_check)",
                    after - broken_before,
                    if after - broken_before == 1 { "" } else { "s" }
                )
            }))
        }
    }
}

/// The write session's search path as people set it: `current_schemas(false)`.
pub(super) async fn search_path(pg: &mut sqlx::PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT current_schemas(false)::text[]")
        .fetch_one(&mut *pg)
        .await
}

pub(super) async fn server_version(pg: &mut sqlx::PgConnection) -> Option<u32> {
    let text: String = sqlx::query("SHOW server_version_num")
        .fetch_one(&mut *pg)
        .await
        .ok()?
        .try_get(0)
        .ok()?;
    text.trim().parse().ok()
}

pub(super) async fn begin(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("BEGIN").await.map(drop),
        // IMMEDIATE: the write lock now, so a second writer is told at once, not mid-fix.
        WriteConnection::Sqlite(lite) => lite.execute("BEGIN IMMEDIATE").await.map(drop),
    }
}

pub(super) async fn rollback(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("ROLLBACK").await.map(drop),
        WriteConnection::Sqlite(lite) => match lite.execute("ROLLBACK").await {
            // An interrupted statement (the statement timeout) has SQLite roll back already.
            Err(sqlx::Error::Database(db)) if db.message().contains("no transaction is active") => {
                Ok(())
            }
            done => done.map(drop),
        },
    }
}

pub(super) async fn commit(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("COMMIT").await.map(drop),
        WriteConnection::Sqlite(lite) => lite.execute("COMMIT").await.map(drop),
    }
}

/// One statement of the fix, as the simple protocol sends it; the rows it changed.
pub(super) async fn execute(
    conn: &mut WriteConnection,
    sql: &str,
    timeout: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    match conn {
        // The extended protocol, which takes one command only: a piece the splitter got wrong
        // fails here rather than running a COMMIT hidden inside it.
        WriteConnection::Postgres(pg) => sqlx::query(sql)
            .persistent(false)
            .execute(&mut *pg)
            .await
            .map(|done| done.rows_affected()),
        // SQLite has no statement timeout of its own: a progress handler stops the statement
        // at the deadline (dropping the future would not: the statement runs on in sqlx's
        // worker, and closing the connection waits for it).
        WriteConnection::Sqlite(lite) => {
            let deadline = Instant::now() + timeout;
            lite.lock_handle()
                .await?
                .set_progress_handler(1_000, move || Instant::now() < deadline);
            let done = lite.execute(sqlx::raw_sql(sql)).await;
            lite.lock_handle().await?.remove_progress_handler();
            done.map(|done| done.rows_affected())
        }
    }
}

pub(super) async fn close(conn: WriteConnection) {
    use sqlx::Connection as _;
    let _ = match conn {
        WriteConnection::Postgres(pg) => pg.close().await,
        WriteConnection::Sqlite(lite) => lite.close().await,
    };
}
