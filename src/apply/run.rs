//! One fix run: BEGIN; the guards; the fix, statement by statement; the task's checks and the
//! guards again, judged inside the transaction; then ROLLBACK (a dry run, or an apply that did
//! not prove itself) or COMMIT (an apply that did), and a recheck of what was committed.

use std::sync::Arc;
use std::time::Instant;

use sqlx::Executor as _;

use super::errors::{cannot_begin, describe, is_lost, reason};
use super::lock::take_lock;
use super::outcome::{Conclusion, FixRun, Mode, StatementRun};
use super::session::{
    Transaction, begin, broken_foreign_keys, close, commit, deferred_constraints, execute,
    rollback, search_path, server_version,
};
use super::statements::untransactable;
use super::verdicts::{regressions, unmet_dependencies, why_not_proven};
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
    let plan = request.plan.only(task);
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

fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .flat_map(str::split_whitespace)
        .take(6)
        .collect();
    crate::printable::one_line(&words.join(" "))
}
