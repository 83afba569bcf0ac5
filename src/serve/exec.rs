//! Commands run without a terminal (`ssh host check --format json`): the report `remtrack check`
//! prints, from the shared engine's newest refresh, with the same exit codes. Nothing else runs.

use std::time::Duration;

use clap::Parser;

use super::Shared;
use crate::cli::{ReportArgs, exit};
use crate::engine::EngineUpdate;
use crate::report::Report;
use crate::status::derive;
use crate::store::to_status_marks;

#[derive(Debug, Parser)]
#[command(name = "ssh … ", no_binary_name = true, disable_version_flag = true)]
enum ExecCommand {
    /// Print the report of the newest refresh (as `remtrack check`).
    Check(ReportArgs),
}

/// Runs `command`; returns what to print and the exit status.
pub async fn run(shared: &Shared, command: &str) -> (String, u32) {
    let words = command.split_whitespace();
    let parsed = match ExecCommand::try_parse_from(words) {
        Ok(parsed) => parsed,
        Err(error) => {
            let status = if error.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            return (error.render().to_string(), u32::from(status));
        }
    };
    let ExecCommand::Check(report_args) = parsed;
    let update = match fresh_refresh(shared).await {
        Ok(update) => update,
        Err(why) => return (format!("remtrack: {why}\n"), u32::from(exit::UNREACHABLE)),
    };
    let EngineUpdate::RefreshFinished { plan, outcome, .. } = update else {
        return (String::new(), u32::from(exit::UNREACHABLE));
    };
    let refresh = match outcome.as_ref() {
        Ok(refresh) => refresh,
        Err(error) => {
            return (
                format!(
                    "remtrack: {}\n",
                    crate::printable::one_line(&error.to_string())
                ),
                u32::from(exit::UNREACHABLE),
            );
        }
    };
    let target = shared.hub.target();
    let events = shared.hub.ledger().borrow().events.clone();
    let marks = to_status_marks(&plan, &events, target.display_url());
    let status = derive(&plan, Some(&refresh.verdicts), &marks);
    let report = Report::build(
        &plan,
        &shared.plan_file_name,
        target.display_url(),
        refresh,
        &status,
        &marks,
    )
    .with_backend(target.backend())
    .with_last_applies(&events, target.display_url());
    let rendered = crate::cli::render_report(&report, report_args.format);
    // No terminal at the other end: no colour either.
    let text = anstream::adapter::strip_str(&rendered).to_string();
    let code = crate::cli::exit_code(&status, &report_args);
    (text, u32::from(code))
}

/// A refresh no older than the refresh interval: the one the engine has, or the next one. The
/// database is not asked once more per command: many people's scripts cost it one refresh.
async fn fresh_refresh(shared: &Shared) -> Result<EngineUpdate, String> {
    let engine = shared.hub.engine();
    let every = shared.hub.refresh_every();
    let plan = shared.hub.plan();
    // Of the plan shown now (not one the file replaced since), and recent.
    let is_fresh = |update: &EngineUpdate| match update {
        EngineUpdate::RefreshFinished {
            outcome,
            plan: checked,
            ..
        } => {
            std::sync::Arc::ptr_eq(checked, &plan)
                && outcome.as_ref().as_ref().is_ok_and(|r| {
                    let age = time::OffsetDateTime::now_utc() - r.checked_at;
                    age <= time::Duration::try_from(every).unwrap_or(time::Duration::ZERO)
                })
        }
        EngineUpdate::RefreshStarted { .. } => false,
    };
    let mut handle = engine.attach();
    if let Some(update) = handle.last_finished.take()
        && is_fresh(&update)
    {
        return Ok(update);
    }
    let is_current = |update: &EngineUpdate| matches!(update, EngineUpdate::RefreshFinished { plan: checked, .. } if std::sync::Arc::ptr_eq(checked, &shared.hub.plan()));
    engine.refresh_now();
    let wait = every.max(Duration::from_secs(5)) + Duration::from_secs(30);
    let finished = tokio::time::timeout(wait, async {
        loop {
            match handle.updates.recv().await {
                Ok(update @ EngineUpdate::RefreshFinished { .. }) if is_current(&update) => {
                    return Some(update);
                }
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await;
    match finished {
        Ok(Some(update)) => Ok(update),
        Ok(None) => Err("the server is stopping".into()),
        Err(_) => Err(format!("no refresh finished within {} s", wait.as_secs())),
    }
}
