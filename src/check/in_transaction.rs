//! Judging checks on a connection inside a transaction someone else opened and will end (a
//! dry run's, holding a fix's uncommitted changes): the checks see those changes, and nothing
//! they do outlives them.
//!
//! The reads run under a savepoint that is rolled back before this returns, and read-only
//! inside it (PostgreSQL's `transaction_read_only`, which the rollback to the savepoint lifts
//! again; SQLite's `query_only`): a check cannot write, not even through a function that
//! calls `nextval`, and the caller's transaction is writable again afterwards.

use std::sync::Arc;

use sqlx::{Executor as _, PgConnection, SqliteConnection};

use super::code::CodeSource;
use super::db::postgres::{self, Restart};
use super::db::sqlite;
use super::facts::{QueryJob, SqlOutcome};
use super::needs::Needs;
use super::refresh::{CodePass, judge_gathered, runs_query, screen_job};
use super::{Limits, Verdicts};
use crate::Backend;
use crate::plan::Plan;

/// A connection in a transaction of the caller's.
pub enum InTransaction<'c> {
    Postgres(&'c mut PgConnection),
    Sqlite(&'c mut SqliteConnection),
}

impl InTransaction<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            InTransaction::Postgres(_) => Backend::Postgres,
            InTransaction::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Inside the savepoint, on PostgreSQL: no write, until the rollback to it.
pub(super) const READ_ONLY: &str = "SET LOCAL transaction_read_only = on";

/// The savepoint every read here happens under.
const CHECKS: &str = "remtrack_checks";
/// The savepoint each `sql` check run alone happens under.
const ONE_CHECK: &str = "remtrack_check";

/// Every check and guard of `plan` judged on `conn`, as a refresh judges them on the target.
/// An error means the connection is unusable (the transaction is then the caller's to give up).
pub async fn judge_in(
    conn: InTransaction<'_>,
    plan: &Plan,
    code: &Arc<CodeSource>,
    limits: Limits,
) -> Result<Verdicts, sqlx::Error> {
    let code_pass = CodePass::start(plan, code);
    let backend = conn.backend();
    let needs = Needs::of(plan);
    let jobs: Vec<Result<QueryJob, SqlOutcome>> = plan
        .all_checks()
        .filter(|check| runs_query(&check.spec))
        .map(|check| screen_job(&check.spec, backend))
        .collect();
    let (schema, data, sql_outcomes) = match conn {
        InTransaction::Postgres(conn) => {
            conn.execute(format!("SAVEPOINT {CHECKS}; {READ_ONLY}").as_str())
                .await?;
            let read = async {
                let (schema, data, _) =
                    postgres::snapshot_in(conn, &needs, limits, Restart::ToSavepoint(CHECKS))
                        .await?;
                let outcomes = pg_sql_checks(conn, &jobs, limits).await?;
                Ok::<_, sqlx::Error>((schema, data, outcomes))
            }
            .await;
            end_savepoint_pg(conn).await?;
            read?
        }
        InTransaction::Sqlite(conn) => {
            conn.execute(format!("SAVEPOINT {CHECKS}; PRAGMA query_only = ON").as_str())
                .await?;
            let read = async {
                let (schema, data, _) = sqlite::snapshot_in(conn, &needs).await?;
                let mut outcomes = Vec::with_capacity(jobs.len());
                for job in &jobs {
                    outcomes.push(match job {
                        Ok(job) => run_sqlite_check(conn, job, limits).await?,
                        Err(rejected) => rejected.clone(),
                    });
                }
                Ok::<_, sqlx::Error>((schema, data, outcomes))
            }
            .await;
            conn.execute("PRAGMA query_only = OFF").await?;
            end_savepoint_sqlite(conn).await?;
            read?
        }
    };
    let code_facts = code_pass.finish().await;
    Ok(judge_gathered(
        plan,
        backend,
        (&schema, &data, &code_facts),
        sql_outcomes,
    ))
}

/// Undoes whatever happened since the savepoint, then drops it. One function per backend, not
/// one generic over `sqlx::Executor`: rustc cannot prove a future `Send` through that generic
/// (rust-lang/rust#102211), and the tracker runs a fix on a task of its own.
async fn end_savepoint_pg(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    conn.execute(end_savepoint().as_str()).await.map(drop)
}

async fn end_savepoint_sqlite(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    conn.execute(end_savepoint().as_str()).await.map(drop)
}

fn end_savepoint() -> String {
    format!("ROLLBACK TO SAVEPOINT {CHECKS}; RELEASE SAVEPOINT {CHECKS}")
}

/// The `sql` checks in one statement when there are several, else (or when that fails) each
/// under a savepoint of its own, so one failing check does not abort the others.
async fn pg_sql_checks(
    conn: &mut PgConnection,
    jobs: &[Result<QueryJob, SqlOutcome>],
    limits: Limits,
) -> Result<Vec<SqlOutcome>, sqlx::Error> {
    let bodies: Vec<QueryJob> = jobs
        .iter()
        .filter_map(|j| j.as_ref().ok().cloned())
        .collect();
    if bodies.len() > 1 {
        match postgres::run_sql_batch_on(conn, &bodies).await? {
            Some(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                return Ok(jobs
                    .iter()
                    .map(|job| match job {
                        Ok(_) => outcomes
                            .next()
                            .unwrap_or_else(|| SqlOutcome::Error("query was not run".into())),
                        Err(rejected) => rejected.clone(),
                    })
                    .collect());
            }
            None => {
                conn.execute(format!("ROLLBACK TO SAVEPOINT {CHECKS}; {READ_ONLY}").as_str())
                    .await?;
            }
        }
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        outcomes.push(match job {
            Ok(job) => {
                conn.execute(format!("SAVEPOINT {ONE_CHECK}").as_str())
                    .await?;
                let outcome = postgres::run_sql_on(conn, job, limits).await?;
                conn.execute(
                    format!("ROLLBACK TO SAVEPOINT {ONE_CHECK}; RELEASE SAVEPOINT {ONE_CHECK}")
                        .as_str(),
                )
                .await?;
                outcome
            }
            Err(rejected) => rejected.clone(),
        });
    }
    Ok(outcomes)
}

async fn run_sqlite_check(
    conn: &mut SqliteConnection,
    job: &QueryJob,
    limits: Limits,
) -> Result<SqlOutcome, sqlx::Error> {
    // Dropping the future at a deadline would not stop the query: it runs on in sqlx's worker,
    // and the fix's transaction waits behind it. A progress handler interrupts it (a SELECT
    // interrupted leaves the transaction as it was).
    let deadline = std::time::Instant::now() + limits.statement_timeout;
    conn.lock_handle()
        .await?
        .set_progress_handler(1_000, move || std::time::Instant::now() < deadline);
    let outcome = sqlite::run_sql_on(conn, job).await;
    conn.lock_handle().await?.remove_progress_handler();
    Ok(match outcome? {
        SqlOutcome::Error(message) if message.contains("interrupted") => {
            SqlOutcome::Error(format!(
                "timed out after {}",
                super::db::target::seconds(limits.statement_timeout)
            ))
        }
        other => other,
    })
}
