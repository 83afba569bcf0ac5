//! One refresh: work out what the plan needs to know, ask the database, judge every check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use time::OffsetDateTime;

use super::code::{CodeFacts, CodeNeeds, CodeSource};
use super::db::target::{Target, TargetError, seconds};
use super::db::{postgres, sqlite};
use super::facts::{DataFacts, QueryJob, SchemaSnapshot, SearchPath, SqlOutcome};
use super::judge::{Facts, judge, judge_code, judge_with_files};
use super::needs::Needs;
use super::{TaskVerdicts, Verdict, Verdicts, screen_check_sql};
use crate::Backend;
use crate::plan::{Check, CheckSpec, Plan, RowsMatch, SqlCheck};

/// The result of one refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    pub verdicts: Verdicts,
    pub checked_at: OffsetDateTime,
    pub duration: Duration,
    /// Queries sent to the target (transaction control aside), for the curious and the benchmark.
    pub queries: usize,
    /// The search path names without a schema were resolved under.
    pub search_path: SearchPath,
}

/// Checks the whole plan against the target, with no code at hand (code checks are errors).
pub async fn refresh(plan: &Plan, target: &Target) -> Result<Refresh, TargetError> {
    refresh_with(plan, target, &Arc::new(CodeSource::unset())).await
}

/// Checks the whole plan: the database (one catalog snapshot, one data query, then the `sql`
/// checks concurrently on the pool) and, beside it on a blocking thread, the code. Fails only
/// when the database cannot be used at all; [`judge_code_only`] then still judges the code.
pub async fn refresh_with(
    plan: &Plan,
    target: &Target,
    code: &Arc<CodeSource>,
) -> Result<Refresh, TargetError> {
    let started = Instant::now();
    let code_pass = CodePass::start(plan, code);
    let checked_at = OffsetDateTime::now_utc();
    let backend = target.backend();
    let limits = target.limits();
    let needs = Needs::of(plan);
    // A server that stops answering mid-query must not hang the refresh past its own limits:
    // the catalog, the shared `sql` statement and, when that fails, the checks one by one.
    let deadline = limits.connect_timeout + limits.statement_timeout * 3 + Duration::from_secs(1);
    let url = target.display_url().to_string();
    let unreachable = |reason: String| TargetError::Unreachable {
        url: url.clone(),
        reason,
    };
    let cannot_use = |error: &sqlx::Error| match refusal(error) {
        Some(reason) => TargetError::Refused {
            url: url.clone(),
            reason,
        },
        None => unreachable(connection_reason(error)),
    };

    // A pool with no connection yet would retry a refused one for the whole connect timeout;
    // one direct attempt first says at once why the database cannot be reached.
    if target.is_cold()
        && let Err(error) = target.probe().await
    {
        // A connection that broke at once may be another kind of server on that port.
        if matches!(
            error,
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)
        ) && let Some(greeting) = target.stranger_greeting().await
        {
            return Err(unreachable(format!(
                "the server there is not PostgreSQL: it greets with \"{greeting}\""
            )));
        }
        return Err(cannot_use(&error));
    }
    let snapshot = async {
        let started = Instant::now();
        let snapshot = match target {
            Target::Postgres { pool, .. } => postgres::snapshot(pool, &needs, limits).await,
            Target::Sqlite { pool, .. } => sqlite::snapshot(pool, &needs).await,
        };
        tracing::debug!("catalog and data read in {:?}", started.elapsed());
        snapshot
    };
    // Owned inputs keep each job's future free of borrowed lifetimes, so a refresh can run on
    // a spawned task.
    let sql_jobs = run_sql_checks(
        target.clone(),
        sql_checks(plan).map(|check| check.spec.clone()).collect(),
    );
    let (snapshot, sql_results) = tokio::time::timeout(deadline, async {
        // After the snapshot, not beside it: on a small server the catalog query is CPU-bound,
        // and `sql` checks competing with it made the whole refresh slower, not faster.
        let snapshot = snapshot.await;
        // A database that could not give the snapshot is not asked again for each `sql` check:
        // each would wait out its own connect timeout before the refresh could say "offline".
        let sql_results = if snapshot.is_ok() {
            sql_jobs.await
        } else {
            Ok((Vec::new(), 0))
        };
        (snapshot, sql_results)
    })
    .await
    .map_err(|_| unreachable(format!("no answer within {}", seconds(deadline))))?;
    let (schema, data, statements) = match snapshot {
        Ok(snapshot) => snapshot,
        Err(sqlx::Error::PoolTimedOut) => {
            return Err(match target.probe().await {
                Err(error) => cannot_use(&error),
                Ok(()) => unreachable(connection_reason(&sqlx::Error::PoolTimedOut)),
            });
        }
        Err(error) => return Err(cannot_use(&error)),
    };
    let (sql_outcomes, sql_statements) =
        sql_results.map_err(|error| unreachable(connection_reason(&error)))?;

    tracing::debug!("all queries answered after {:?}", started.elapsed());
    let code_facts = code_pass.finish().await;
    let verdicts = judge_gathered(plan, backend, (&schema, &data, &code_facts), sql_outcomes);
    tracing::debug!("judged after {:?}", started.elapsed());
    Ok(Refresh {
        verdicts,
        checked_at,
        duration: started.elapsed(),
        queries: statements + sql_statements,
        search_path: schema.search_path.clone(),
    })
}

/// The code pass of one judging, on a blocking thread beside the database's reads; none for a
/// plan that reads no code.
pub(super) struct CodePass(Option<tokio::task::JoinHandle<CodeFacts>>);

impl CodePass {
    pub(super) fn start(plan: &Plan, code: &Arc<CodeSource>) -> CodePass {
        let needs = CodeNeeds::of(plan);
        CodePass((!needs.is_empty()).then(|| {
            let code = code.clone();
            tokio::task::spawn_blocking(move || code.gather(&needs))
        }))
    }

    pub(super) async fn finish(self) -> CodeFacts {
        match self.0 {
            Some(pass) => pass.await.unwrap_or_else(|error| CodeFacts {
                root: Err(format!("the code pass failed: {error}")),
                ..CodeFacts::default()
            }),
            None => CodeFacts::default(),
        }
    }
}

/// Every check and guard judged from what the sources gave: the schema, the data, the code,
/// and the `sql` checks' outcomes in plan order.
pub(super) fn judge_gathered(
    plan: &Plan,
    backend: Backend,
    (schema, data, code_facts): (&SchemaSnapshot, &DataFacts, &CodeFacts),
    sql_outcomes: Vec<SqlOutcome>,
) -> Verdicts {
    let facts = Facts {
        backend,
        schema,
        data,
    };
    let mut sql_outcomes = sql_outcomes.into_iter();
    judge_plan(plan, |check| {
        if let Some(verdict) = judge_code(&check.spec, code_facts)
            .or_else(|| judge_with_files(&check.spec, &facts, code_facts))
        {
            return verdict;
        }
        let sql = runs_query(&check.spec)
            .then(|| sql_outcomes.next())
            .flatten();
        judge(&check.spec, &facts, sql.as_ref())
    })
}

/// The verdicts of the code checks alone, for when the database cannot be read (offline, or
/// `check --code-only`): every other check says it was not read. Blocking (file I/O).
pub fn judge_code_only(plan: &Plan, code: &CodeSource, why_no_database: &str) -> Verdicts {
    let facts = code.gather(&CodeNeeds::of(plan));
    judge_plan(plan, |check| {
        judge_code(&check.spec, &facts)
            .unwrap_or_else(|| Verdict::error(format!("not read: {why_no_database}")))
    })
}

/// Every check and guard of the plan judged by `verdict_of`, in plan order.
pub(super) fn judge_plan(plan: &Plan, mut verdict_of: impl FnMut(&Check) -> Verdict) -> Verdicts {
    Verdicts {
        tasks: plan
            .tasks
            .iter()
            .map(|task| TaskVerdicts {
                checks: task.checks.iter().map(&mut verdict_of).collect(),
                guards: task
                    .fix
                    .iter()
                    .flat_map(|fix| fix.guards.iter())
                    .map(&mut verdict_of)
                    .collect(),
            })
            .collect(),
    }
}

/// Whether the check runs a query of its own from the plan (`sql`, `rows_match`).
pub(super) fn runs_query(spec: &CheckSpec) -> bool {
    matches!(spec, CheckSpec::Sql(_) | CheckSpec::RowsMatch(_))
}

fn sql_checks(plan: &Plan) -> impl Iterator<Item = &Check> {
    plan.all_checks().filter(|check| runs_query(&check.spec))
}

/// Runs the `sql` checks, in plan order, and says how many statements that took. On
/// PostgreSQL they go in one statement when there are several, and one by one (concurrently, on
/// the pool) only when that statement fails.
async fn run_sql_checks(
    target: Target,
    specs: Vec<CheckSpec>,
) -> Result<(Vec<SqlOutcome>, usize), sqlx::Error> {
    let backend = target.backend();
    let screened: Vec<Result<QueryJob, SqlOutcome>> =
        specs.iter().map(|spec| screen_job(spec, backend)).collect();
    let bodies: Vec<QueryJob> = screened
        .iter()
        .filter_map(|s| s.as_ref().ok().cloned())
        .collect();
    // One statement for several checks; a failed one counts among the statements sent.
    let shared = matches!(target, Target::Postgres { .. }) && bodies.len() > 1;
    if shared
        && let Target::Postgres { pool, .. } = &target
        && let Some(outcomes) = postgres::run_sql_batch(pool, &bodies).await?
    {
        {
            let mut outcomes = outcomes.into_iter();
            let results = screened
                .into_iter()
                .map(|s| match s {
                    Ok(_) => outcomes
                        .next()
                        .unwrap_or_else(|| SqlOutcome::Error("query was not run".into())),
                    Err(rejected) => rejected,
                })
                .collect();
            return Ok((results, 1));
        }
    }
    let attempts = usize::from(shared);
    let jobs = screened.into_iter().map(|s| {
        let target = target.clone();
        async move {
            match s {
                Ok(job) => run_sql_body(&target, &job).await,
                Err(rejected) => Ok(rejected),
            }
        }
    });
    let results = join_all(jobs)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok((results, attempts + bodies.len()))
}

/// The check's query for this backend, screened; or the verdict's reason when there is none.
pub(super) fn screen_job(spec: &CheckSpec, backend: Backend) -> Result<QueryJob, SqlOutcome> {
    let (query, rows) = match spec {
        CheckSpec::Sql(SqlCheck { query, .. }) => (query, None),
        CheckSpec::RowsMatch(check @ RowsMatch { query, .. }) => (query, Some(check.row_cap())),
        _ => return Err(SqlOutcome::Error("not a query check".into())),
    };
    let text = query
        .for_backend(backend)
        .ok_or_else(|| SqlOutcome::Error(format!("no query for {}", backend.name())))?;
    let body = screen_check_sql(text, backend)
        .map_err(|rejection| SqlOutcome::Error(rejection.to_string()))?;
    Ok(QueryJob { body, rows })
}

async fn run_sql_body(target: &Target, job: &QueryJob) -> Result<SqlOutcome, sqlx::Error> {
    match target {
        Target::Postgres { pool, limits, .. } => postgres::run_sql(pool, job, *limits).await,
        Target::Sqlite { pool, limits, .. } => {
            match tokio::time::timeout(limits.statement_timeout, sqlite::run_sql(pool, job)).await {
                Ok(outcome) => outcome,
                Err(_) => Ok(SqlOutcome::Error(format!(
                    "timed out after {}",
                    seconds(limits.statement_timeout)
                ))),
            }
        }
    }
}

/// The server's own "no" to this role or database, which waiting will not change: a wrong
/// password (28P01), a role that may not log in (28000), a missing database (3D000), no CONNECT
/// privilege (42501).
fn refusal(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("28P01" | "28000" | "3D000" | "42501")
            ) =>
        {
            Some(db.message().to_string())
        }
        _ => None,
    }
}

fn connection_reason(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Protocol(message) => {
            format!("the server does not answer like PostgreSQL ({message})")
        }
        sqlx::Error::PoolTimedOut => "timed out connecting".into(),
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
