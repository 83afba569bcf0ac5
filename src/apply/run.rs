//! One fix run: BEGIN; the guards; the fix, statement by statement; the task's checks and the
//! guards again, judged inside the transaction; then ROLLBACK (a dry run, or an apply that did
//! not prove itself) or COMMIT (an apply that did), and a recheck of what was committed.

use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest as _, Sha256};
use sqlx::{Executor as _, Row as _};

use super::outcome::{Conclusion, FixRun, Mode, StatementRun, pass_count};
use super::statements::untransactable;
use super::write_target::{WriteConnection, WriteTarget};
use crate::Backend;
use crate::check::{CheckStatus, CodeSource, InTransaction, TaskVerdicts, judge_in, split_script};
use crate::plan::{Plan, Task};

/// What to run: which task's fix, for whom, how.
pub struct FixRequest<'a> {
    pub plan: &'a Plan,
    pub task_id: &'a str,
    pub actor: &'a str,
    pub code: &'a Arc<CodeSource>,
    pub mode: Mode,
    /// The schemas the checks' own connection resolves names in (`current_schemas(false)`),
    /// when known: a write connection that resolves them elsewhere could prove a fix on other
    /// tables than the ones the tracker checks, so it is refused.
    pub checks_search_path: Option<Vec<String>>,
}

/// The plan cut down to one task: what the checks inside the transaction judge.
fn only_task(plan: &Plan, task: &Task) -> Plan {
    Plan {
        tasks: vec![task.clone()],
        ..plan.clone()
    }
}

/// Runs the fix as asked. Never panics and never leaves a transaction open: every way out of
/// here either rolled back, committed, or lost the connection (which the server rolls back).
pub async fn run_fix(target: &WriteTarget, request: FixRequest<'_>) -> FixRun {
    let started = Instant::now();
    let backend = target.backend();
    let mut run = FixRun {
        task_id: request.task_id.to_string(),
        mode: request.mode,
        backend,
        database: target.identity(),
        sql: String::new(),
        before: None,
        statements: Vec::new(),
        inside: None,
        after: None,
        warnings: Vec::new(),
        // Replaced below, once the run has concluded.
        conclusion: Conclusion::Refused(String::new()),
        duration: Default::default(),
    };
    run.conclusion = match prepare(&request, backend) {
        Ok((task, sql, statements)) => {
            run.sql = sql.clone();
            run_in_transaction(target, &request, &task, statements, &mut run).await
        }
        Err(reason) => Conclusion::Refused(reason),
    };
    run.duration = started.elapsed();
    run
}

/// The task and its fix text for this backend, split into statements; or why not.
fn prepare(
    request: &FixRequest<'_>,
    backend: Backend,
) -> Result<(Task, String, Vec<crate::check::ScriptStatement>), String> {
    let task = request
        .plan
        .tasks
        .iter()
        .find(|task| task.id == request.task_id)
        .ok_or_else(|| format!("the plan has no task {:?}", request.task_id))?;
    let fix = task
        .fix
        .as_ref()
        .ok_or_else(|| format!("task {} has no fix in the plan", task.id))?;
    if task.checks.is_empty() {
        return Err(format!(
            "task {} has no checks, so nothing can prove its fix: give it checks that say what \
             the fix must leave",
            task.id
        ));
    }
    let sql = fix
        .sql
        .for_backend(backend)
        .ok_or_else(|| format!("task {}'s fix has no SQL for {}", task.id, backend.name()))?;
    let statements =
        split_script(sql).map_err(|error| format!("the fix's SQL cannot be read: {error}"))?;
    if statements.is_empty() {
        return Err("the fix's SQL holds no statement".into());
    }
    Ok((task.clone(), sql.to_string(), statements))
}

async fn run_in_transaction(
    target: &WriteTarget,
    request: &FixRequest<'_>,
    task: &Task,
    statements: Vec<crate::check::ScriptStatement>,
    run: &mut FixRun,
) -> Conclusion {
    let applying = request.mode == Mode::Apply;
    let mut conn = match target.connect(request.actor, applying).await {
        Ok(conn) => conn,
        Err(error) => {
            return Conclusion::Refused(format!(
                "cannot connect to {}: {}",
                target.display_url(),
                target.redact(&reason(&error))
            ));
        }
    };
    let server_version = match &mut conn {
        WriteConnection::Postgres(pg) => server_version(pg).await,
        WriteConnection::Sqlite(_) => None,
    };
    if let Some(refused) = untransactable(&statements, target.backend(), server_version)
        .into_iter()
        .next()
    {
        close(conn).await;
        return Conclusion::Refused(format!(
            "statement {} cannot be proven ({}): {}",
            refused.number,
            first_words(&refused.text),
            refused.reason
        ));
    }
    if let (WriteConnection::Postgres(pg), Some(expected)) =
        (&mut conn, &request.checks_search_path)
    {
        match search_path(pg).await {
            Ok(found) if &found != expected => {
                close(conn).await;
                return Conclusion::Refused(format!(
                    "the write connection resolves names on search path {}, the checks on {}: \
                     the fix would be proven on other tables than the ones checked; set the \
                     plan's search_path (or --search-path), or the same for both roles",
                    found.join(", "),
                    expected.join(", ")
                ));
            }
            Ok(_) => {}
            Err(error) => {
                close(conn).await;
                return Conclusion::Refused(format!(
                    "cannot read the write connection's search path: {}",
                    describe(&error, target)
                ));
            }
        }
    }
    let plan = only_task(request.plan, task);
    let task_index = request.plan.task_index(&task.id).unwrap_or_default();
    let limits = target.limits().for_checks();
    let path_before = match &mut conn {
        WriteConnection::Postgres(pg) => search_path(pg).await.ok(),
        WriteConnection::Sqlite(_) => None,
    };
    let conclusion = async {
        match begin(&mut conn).await {
            Ok(()) => {}
            Err(error) if is_lost(&error) => return Err(error),
            // Nothing began, so nothing ran: not a connection lost before a commit.
            Err(error) => return Ok(Conclusion::Refused(cannot_begin(&error, target))),
        }
        let ours = Transaction::mark(&mut conn).await?;
        if let Some(holder) = take_lock(&mut conn, &task.id).await? {
            rollback(&mut conn).await?;
            return Ok(Conclusion::Refused(holder));
        }
        // The whole plan, not only this task: a fix must not undo work that is done.
        let before_all = judge(&mut conn, request.plan, request.code, limits).await?;
        let before = before_all
            .tasks
            .get(task_index)
            .cloned()
            .unwrap_or_default();
        if !before.checks.is_empty() && before.checks.iter().all(|v| v.status == CheckStatus::Pass)
        {
            run.before = Some(before);
            rollback(&mut conn).await?;
            return Ok(Conclusion::Refused(format!(
                "every check of {} passes already: there is nothing to fix",
                task.id
            )));
        }
        let unmet = unmet_dependencies(request.plan, task, &before_all);
        let unmet_text = unmet.join("; ");
        run.warnings.extend(unmet.into_iter().map(|dependency| {
            format!(
                "depends on work that is not done ({dependency}): an apply is refused until it is"
            )
        }));
        let failing_guard = task
            .fix
            .iter()
            .flat_map(|fix| fix.guards.iter())
            .zip(&before.guards)
            .find(|(_, verdict)| verdict.status != CheckStatus::Pass)
            .map(|(guard, verdict)| {
                format!(
                    "guard {} {}s: {}",
                    guard.id,
                    verdict.status.as_str(),
                    crate::printable::one_line(&verdict.evidence)
                )
            });
        run.before = Some(before);
        if let Some(guard) = failing_guard {
            rollback(&mut conn).await?;
            return Ok(Conclusion::Refused(guard));
        }
        if applying && !unmet_text.is_empty() {
            rollback(&mut conn).await?;
            return Ok(Conclusion::Refused(format!(
                "{} depends on work that is not done: {}; finish it first",
                task.id, unmet_text
            )));
        }
        let broken_keys_before = broken_foreign_keys(&mut conn).await?;
        for statement in &statements {
            match execute(&mut conn, &statement.text, limits.statement_timeout).await {
                Ok(rows) => {
                    run.statements.push(StatementRun {
                        sql: statement.text.clone(),
                        rows: Some(rows),
                        error: None,
                    });
                    if !ours.still_open(&mut conn).await? {
                        return Ok(Conclusion::Unknown(format!(
                            "statement {} ended remtrack's transaction (a COMMIT or ROLLBACK in \
                             the fix), so what the fix did before it may be committed",
                            run.statements.len()
                        )));
                    }
                }
                Err(error) if is_lost(&error) => return Err(error),
                Err(error) => {
                    let message = describe(&error, target);
                    run.statements.push(StatementRun {
                        sql: statement.text.clone(),
                        rows: None,
                        error: Some(message.clone()),
                    });
                    rollback(&mut conn).await?;
                    return Ok(Conclusion::StatementFailed(format!(
                        "statement {} failed: {message}",
                        run.statements.len()
                    )));
                }
            }
        }
        // Deferred constraints are checked at COMMIT, which a dry run never reaches: check
        // them now, so a fix that breaks one is not proven.
        if let Some(broken) = deferred_constraints(&mut conn, broken_keys_before).await? {
            rollback(&mut conn).await?;
            return Ok(Conclusion::StatementFailed(broken));
        }
        if let (WriteConnection::Postgres(pg), Some(before)) = (&mut conn, &path_before) {
            let now = search_path(pg).await?;
            if &now != before {
                rollback(&mut conn).await?;
                return Ok(Conclusion::NotProven(format!(
                    "the fix changed the session's search path (from {} to {}), so its checks \
                     would read other tables than the ones checked",
                    before.join(", "),
                    now.join(", ")
                )));
            }
        }
        let inside_all = judge(&mut conn, request.plan, request.code, limits).await?;
        let inside = inside_all
            .tasks
            .get(task_index)
            .cloned()
            .unwrap_or_default();
        let not_proven = why_not_proven(task, &inside)
            .or_else(|| regressions(request.plan, task_index, &before_all, &inside_all));
        run.inside = Some(inside);
        if let Some(why) = not_proven {
            rollback(&mut conn).await?;
            return Ok(Conclusion::NotProven(why));
        }
        if !applying {
            rollback(&mut conn).await?;
            return Ok(Conclusion::Proven);
        }
        Ok(match commit(&mut conn).await {
            Ok(()) => Conclusion::Applied,
            Err(error) if is_lost(&error) => Conclusion::Unknown(format!(
                "the connection was lost during COMMIT ({}), so whether it committed is not known",
                target.redact(&reason(&error))
            )),
            Err(error) => Conclusion::RolledBack(format!(
                "the server refused the commit and rolled back: {}",
                describe(&error, target)
            )),
        })
    }
    .await;
    let conclusion = conclusion.unwrap_or_else(|error: sqlx::Error| {
        if is_lost(&error) {
            // Lost before COMMIT was sent: a server rolls back a transaction whose session
            // ends, and SQLite rolls back what its journal holds.
            Conclusion::RolledBack(format!(
                "rolled back by the server: the connection was lost before the commit ({})",
                target.redact(&reason(&error))
            ))
        } else {
            // A read inside the transaction failed; the connection is closed below without
            // a commit, which rolls it back.
            Conclusion::RolledBack(format!(
                "rolled back: {} failed inside the transaction",
                describe(&error, target)
            ))
        }
    });
    match &conclusion {
        // A new connection: nothing of the fix's session (a setting it made) colours what the
        // recheck sees. After an unknown end, it is also the only way to tell.
        Conclusion::Applied | Conclusion::Unknown(_) => {
            close(conn).await;
            if let Ok(mut fresh) = target.connect(request.actor, applying).await {
                run.after = recheck(&mut fresh, &plan, request.code, limits).await.ok();
                close(fresh).await;
            }
        }
        _ => close(conn).await,
    }
    conclusion
}

/// Why the checks inside the transaction do not prove the fix, if they do not.
fn why_not_proven(task: &Task, inside: &TaskVerdicts) -> Option<String> {
    let guards = task.fix.as_ref().map_or(0, |fix| fix.guards.len());
    if inside.checks.len() != task.checks.len() || inside.guards.len() != guards {
        return Some(format!(
            "{} of {} checks and {} of {guards} guards were judged",
            inside.checks.len(),
            task.checks.len(),
            inside.guards.len()
        ));
    }
    let failing: Vec<String> = task
        .checks
        .iter()
        .zip(&inside.checks)
        .filter(|(_, verdict)| verdict.status != CheckStatus::Pass)
        .map(|(check, verdict)| {
            format!(
                "{} {}s: {}",
                check.id,
                verdict.status.as_str(),
                crate::printable::one_line(&verdict.evidence)
            )
        })
        .collect();
    let broken_guards: Vec<String> = task
        .fix
        .iter()
        .flat_map(|fix| fix.guards.iter())
        .zip(&inside.guards)
        .filter(|(_, verdict)| verdict.status == CheckStatus::Fail)
        .map(|(guard, verdict)| {
            format!(
                "guard {} fails after the fix: {}",
                guard.id,
                crate::printable::one_line(&verdict.evidence)
            )
        })
        .collect();
    if failing.is_empty() && broken_guards.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    if !failing.is_empty() {
        why.push(format!(
            "after this fix, {}; {}",
            pass_count(&inside.checks),
            failing.join("; ")
        ));
    }
    why.extend(broken_guards);
    Some(why.join("; "))
}

/// PostgreSQL's advisory lock for one task's fix, in this database: `None` once taken (it ends
/// with the transaction), else who holds it.
async fn take_lock(
    conn: &mut WriteConnection,
    task_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let WriteConnection::Postgres(pg) = conn else {
        // SQLite: BEGIN IMMEDIATE already made this the only writer.
        return Ok(None);
    };
    let key = lock_key(task_id);
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(&mut *pg)
        .await?;
    if taken {
        return Ok(None);
    }
    let holder: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.application_name, a.usename::text
           FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::int8 = ($1 >> 32) & 4294967295 AND l.objid::int8 = $1 & 4294967295
            AND l.objsubid = 1
          LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut *pg)
    .await?;
    let who = match holder {
        Some((Some(name), _)) if name.starts_with("remtrack fix") => {
            holder_words(&name).unwrap_or(name)
        }
        Some((_, Some(role))) => format!("a session of role {role} holds it"),
        _ => "another session holds it".into(),
    };
    Ok(Some(format!(
        "another fix of {task_id} is running on this database: {who}; try again when it is done"
    )))
}

/// `ana is applying it`, from the session name [`super::session_name`] gave.
fn holder_words(session: &str) -> Option<String> {
    let rest = session.strip_prefix("remtrack fix (")?;
    let (doing, who) = rest.split_once(") by ")?;
    Some(match doing {
        "applying" => format!("{who} is applying it"),
        _ => format!("{who} is dry-running it"),
    })
}

/// The advisory lock's key: the same for every remtrack, derived from the task id.
fn lock_key(task_id: &str) -> i64 {
    let digest = Sha256::digest(format!("remtrack fix {task_id}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Which transaction remtrack began, to tell whether a statement of the fix ended it.
enum Transaction {
    /// PostgreSQL's transaction id.
    Postgres(String),
    Sqlite,
}

impl Transaction {
    async fn mark(conn: &mut WriteConnection) -> Result<Transaction, sqlx::Error> {
        Ok(match conn {
            WriteConnection::Postgres(pg) => Transaction::Postgres(
                sqlx::query_scalar("SELECT txid_current()::text")
                    .fetch_one(&mut *pg)
                    .await?,
            ),
            WriteConnection::Sqlite(_) => Transaction::Sqlite,
        })
    }

    async fn still_open(&self, conn: &mut WriteConnection) -> Result<bool, sqlx::Error> {
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
async fn broken_foreign_keys(conn: &mut WriteConnection) -> Result<usize, sqlx::Error> {
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
async fn deferred_constraints(
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
async fn search_path(pg: &mut sqlx::PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT current_schemas(false)::text[]")
        .fetch_one(&mut *pg)
        .await
}

async fn server_version(pg: &mut sqlx::PgConnection) -> Option<u32> {
    let text: String = sqlx::query("SHOW server_version_num")
        .fetch_one(&mut *pg)
        .await
        .ok()?
        .try_get(0)
        .ok()?;
    text.trim().parse().ok()
}

async fn begin(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("BEGIN").await.map(drop),
        // IMMEDIATE: the write lock now, so a second writer is told at once, not mid-fix.
        WriteConnection::Sqlite(lite) => lite.execute("BEGIN IMMEDIATE").await.map(drop),
    }
}

async fn rollback(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
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

async fn commit(conn: &mut WriteConnection) -> Result<(), sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("COMMIT").await.map(drop),
        WriteConnection::Sqlite(lite) => lite.execute("COMMIT").await.map(drop),
    }
}

/// One statement of the fix, as the simple protocol sends it; the rows it changed.
async fn execute(
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

async fn judge(
    conn: &mut WriteConnection,
    plan: &Plan,
    code: &Arc<CodeSource>,
    limits: crate::check::Limits,
) -> Result<crate::check::Verdicts, sqlx::Error> {
    let reader = match conn {
        WriteConnection::Postgres(pg) => InTransaction::Postgres(pg),
        WriteConnection::Sqlite(lite) => InTransaction::Sqlite(lite),
    };
    judge_in(reader, plan, code, limits).await
}

/// Checks of other tasks that passed before the fix and do not inside the transaction: work
/// that was done and the fix would undo.
fn regressions(
    plan: &Plan,
    task_index: usize,
    before: &crate::check::Verdicts,
    inside: &crate::check::Verdicts,
) -> Option<String> {
    let broken: Vec<String> = plan
        .tasks
        .iter()
        .enumerate()
        .filter(|(at, _)| *at != task_index)
        .filter_map(|(at, task)| Some((task, before.tasks.get(at)?, inside.tasks.get(at)?)))
        .flat_map(|(task, before, inside)| {
            task.checks
                .iter()
                .zip(before.checks.iter().zip(&inside.checks))
                .filter(|(_, (was, now))| {
                    was.status == CheckStatus::Pass && now.status != CheckStatus::Pass
                })
                .map(move |(check, (_, now))| {
                    format!(
                        "{}/{} passed before and {}s after: {}",
                        task.id,
                        check.id,
                        now.status.as_str(),
                        crate::printable::one_line(&now.evidence)
                    )
                })
        })
        .collect();
    (!broken.is_empty()).then(|| format!("it undoes work that is done: {}", broken.join("; ")))
}

/// The task's dependencies whose checks do not all pass now (manual ones cannot be judged here
/// and are left to the people who mark them).
fn unmet_dependencies(plan: &Plan, task: &Task, verdicts: &crate::check::Verdicts) -> Vec<String> {
    task.depends_on
        .iter()
        .filter_map(|id| {
            let at = plan.task_index(id)?;
            let dependency = &plan.tasks[at];
            let checks = &verdicts.tasks.get(at)?.checks;
            let passing = checks
                .iter()
                .filter(|v| v.status == CheckStatus::Pass)
                .count();
            (!dependency.checks.is_empty() && passing < checks.len())
                .then(|| format!("{id}: {}", pass_count(checks)))
        })
        .collect()
}

/// The task's checks on what was committed, in a read-only transaction of their own.
async fn recheck(
    conn: &mut WriteConnection,
    plan: &Plan,
    code: &Arc<CodeSource>,
    limits: crate::check::Limits,
) -> Result<TaskVerdicts, sqlx::Error> {
    match conn {
        WriteConnection::Postgres(pg) => pg.execute("BEGIN READ ONLY").await.map(drop)?,
        WriteConnection::Sqlite(lite) => lite.execute("BEGIN").await.map(drop)?,
    }
    let verdicts = judge(conn, plan, code, limits).await;
    rollback(conn).await?;
    Ok(verdicts?.tasks.into_iter().next().unwrap_or_default())
}

async fn close(conn: WriteConnection) {
    use sqlx::Connection as _;
    let _ = match conn {
        WriteConnection::Postgres(pg) => pg.close().await,
        WriteConnection::Sqlite(lite) => lite.close().await,
    };
}

/// Whether the connection is gone (rather than one statement failing).
fn is_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

fn reason(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::PoolTimedOut => "timed out connecting".into(),
        other => other.to_string(),
    }
}

/// Why the fix's transaction could not begin: on SQLite, mostly another writer (BEGIN IMMEDIATE
/// waits for it as long as the lock timeout).
fn cannot_begin(error: &sqlx::Error, target: &WriteTarget) -> String {
    let busy = match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    };
    if target.backend() == Backend::Sqlite && busy {
        format!(
            "another connection is writing to this database and did not finish within the lock \
             timeout ({}); SQLite allows one writer at a time: try again when it is done ({})",
            crate::check::seconds(target.limits().lock_timeout),
            reason(error)
        )
    } else {
        format!(
            "the transaction could not begin: {}",
            describe(error, target)
        )
    }
}

/// A statement's error as a person reads it: the server's message, with what the timeouts mean.
fn describe(error: &sqlx::Error, target: &WriteTarget) -> String {
    let limits = target.limits();
    let text = match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // SQLITE_INTERRUPT: only the statement timeout's progress handler interrupts.
            Some("57014") | Some("9") => format!(
                "it ran longer than the statement timeout ({})",
                crate::check::seconds(limits.statement_timeout)
            ),
            Some("55P03") => format!(
                "it waited longer than the lock timeout ({}) for a lock another session holds",
                crate::check::seconds(limits.lock_timeout)
            ),
            _ => db.message().to_string(),
        },
        sqlx::Error::Protocol(message) => message.clone(),
        other => other.to_string(),
    };
    crate::printable::one_line(&target.redact(&text))
}

fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .flat_map(str::split_whitespace)
        .take(6)
        .collect();
    crate::printable::one_line(&words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn every_task_has_its_own_lock_and_every_remtrack_the_same() {
        assert_eq!(
            lock_key("master-flow-columns"),
            lock_key("master-flow-columns")
        );
        assert_ne!(
            lock_key("master-flow-columns"),
            lock_key("drop-discovery-assets")
        );
    }
}
