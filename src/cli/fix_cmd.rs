//! `remtrack fix TASK --dry-run | --apply --confirm TASK | --approve | --request-approval`:
//! prove a task's fix inside a rolled-back transaction, approve it, or apply it — on a write
//! connection of its own, only when asked, and recorded in the store.

use std::io::Write as _;

use super::{FixArgs, FixFormat, exit};
use crate::apply::{
    Conclusion, FixAction, FixLimits, FixOrder, FixRun, NO_APPLY_URL, WriteTarget, perform,
};
use crate::plan::{Task, load_plan};
use crate::printable::printable;
use crate::store::Store;

pub async fn run(args: &FixArgs) -> u8 {
    let action = match (
        args.dry_run,
        args.apply,
        args.approve,
        args.request_approval,
    ) {
        (true, false, false, false) => FixAction::DryRun,
        (false, true, false, false) => FixAction::Apply,
        (false, false, true, false) => FixAction::Approve,
        (false, false, false, true) => FixAction::RequestApproval,
        _ => {
            eprintln!(
                "remtrack: say what to do with the fix, exactly one of: --dry-run, --apply --confirm {task}, --approve, --request-approval",
                task = printable(&args.task)
            );
            return exit::BAD_INPUT;
        }
    };
    if action == FixAction::Apply && args.confirm.as_deref() != Some(args.task.as_str()) {
        let typed = match &args.confirm {
            Some(other) => format!("--confirm {} is not this task's id. ", printable(other)),
            None => String::new(),
        };
        eprintln!(
            "remtrack: {typed}Applying changes the database: confirm by typing the task's id again, --confirm {}",
            printable(&args.task)
        );
        return exit::BAD_INPUT;
    }
    let plan = match load_plan(&args.plan) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let Some(task) = super::mark_cmd::find_task(&plan, &args.task) else {
        return exit::BAD_INPUT;
    };
    if task.fix.is_none() {
        let with_fix: Vec<&str> = plan
            .tasks
            .iter()
            .filter(|t| t.fix.is_some())
            .map(|t| t.id.as_str())
            .collect();
        eprintln!(
            "remtrack: task {} has no fix in the plan; tasks with one: {}",
            task.id,
            with_fix.join(", ")
        );
        return exit::BAD_INPUT;
    }
    let Some(url) = args
        .apply_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
    else {
        eprintln!("remtrack: {NO_APPLY_URL}");
        return exit::BAD_INPUT;
    };
    let limits = FixLimits {
        statement_timeout: args.statement_timeout,
        lock_timeout: args.lock_timeout,
        connect_timeout: args.connect_timeout,
    };
    let search_path = plan.search_path_with(args.search_path.as_deref());
    let target = match WriteTarget::open(url, limits, search_path) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("remtrack: {error}");
            return exit::BAD_INPUT;
        }
    };
    if task
        .fix
        .as_ref()
        .and_then(|fix| fix.sql.for_backend(target.backend()))
        .is_none()
    {
        eprintln!(
            "remtrack: task {}'s fix has no SQL for {}",
            task.id,
            target.backend().name()
        );
        return exit::BAD_INPUT;
    }
    // Approvals and the audit need the store; a dry run writes nothing anywhere.
    let store = if action == FixAction::DryRun {
        None
    } else {
        match Store::open(&args.store.location(&args.plan)).await {
            Ok(store) => Some(store),
            Err(error) => {
                eprintln!("remtrack: {error}");
                return exit::UNREACHABLE;
            }
        }
    };
    let actor = args.actor.actor();
    let code = std::sync::Arc::new(crate::check::CodeSource::for_plan(
        &plan,
        &args.plan,
        args.code_root.as_deref(),
    ));
    let checks = match args
        .database_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
    {
        Some(url) => {
            match crate::check::Target::open_with(url, crate::check::Limits::default(), search_path)
            {
                Ok(checks) => Some(checks),
                Err(error) => {
                    eprintln!("remtrack: --database-url: {error}");
                    return exit::BAD_INPUT;
                }
            }
        }
        None => None,
    };
    let one_task = plan.only(task);
    let checks_search_path = match &checks {
        Some(checks) if checks.backend() == crate::Backend::Postgres => {
            match crate::check::refresh(&one_task, checks).await {
                Ok(refreshed) => Some(refreshed.search_path.shown),
                Err(error) => {
                    eprintln!("remtrack: the checks' connection: {error}");
                    return exit::UNREACHABLE;
                }
            }
        }
        _ => None,
    };
    let performed = perform(
        &target,
        store.as_ref(),
        FixOrder {
            plan: &plan,
            task_id: &task.id,
            actor: &actor,
            role: None,
            action,
            note: &args.note,
            code: &code,
            checks_search_path,
        },
    )
    .await;
    if let Some(store) = store {
        store.close().await;
    }
    print_run(args.format, &performed.run, task, &target);
    if let Some(checks) = &checks {
        if performed.run.conclusion.may_have_changed() && args.format == FixFormat::Text {
            match crate::check::refresh_with(&one_task, checks, &code).await {
                Ok(refreshed) => {
                    let verdicts = refreshed
                        .verdicts
                        .tasks
                        .into_iter()
                        .next()
                        .unwrap_or_default();
                    println!(
                        "checked again on the checks' connection ({}): {}",
                        checks.display_url(),
                        crate::apply::pass_count(&verdicts.checks)
                    );
                }
                Err(error) => println!("not checked again on the checks' connection: {error}"),
            }
        }
        checks.close().await;
    }
    for line in &performed.said {
        eprintln!("remtrack: {line}");
    }
    outcome_code(&performed.run)
}

fn print_run(format: FixFormat, run: &FixRun, task: &Task, target: &WriteTarget) {
    let mut out = std::io::stdout().lock();
    match format {
        FixFormat::Text => {
            for line in run.lines(task, target.display_url()) {
                let _ = writeln!(out, "{line}");
            }
        }
        FixFormat::Json => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(run).unwrap_or_default()
            );
        }
    }
}

/// 0 proven or applied; 1 not proven, refused or failed; 3 the database could not be reached.
fn outcome_code(run: &FixRun) -> u8 {
    match &run.conclusion {
        Conclusion::Proven | Conclusion::Applied => exit::OK,
        Conclusion::Refused(reason) if reason.starts_with("cannot connect") => exit::UNREACHABLE,
        _ => exit::NOT_DONE,
    }
}
