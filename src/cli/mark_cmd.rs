//! `remtrack verify|unverify|note TASK --note ...`: the TUI's marking rules, from a script.

use time::OffsetDateTime;

use super::{MarkArgs, exit};
use crate::check::{Target, judge_code_only, refresh_with};
use crate::plan::{Plan, Task, load_plan};
use crate::printable::{one_line, printable};
use crate::redact::redact_url;
use crate::store::{
    EventKind, NewEvent, Store, evidence_snapshot, may_unverify, may_verify, task_fingerprint,
    to_status_marks,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Verify,
    Unverify,
    Note,
}

pub async fn run(args: &MarkArgs, kind: MarkKind) -> u8 {
    let plan = match load_plan(&args.plan) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let Some(task) = find_task(&plan, &args.task) else {
        return exit::BAD_INPUT;
    };
    let note = args.note.trim().to_string();
    let evidence = match kind {
        MarkKind::Verify => match verify_evidence(args, task, &plan, &note).await {
            Ok(evidence) => evidence,
            Err(code) => return code,
        },
        MarkKind::Unverify => {
            if let Err(refusal) = may_unverify(&note) {
                eprintln!("remtrack: {refusal}");
                return exit::BAD_INPUT;
            }
            if task.marks_count_everywhere() {
                serde_json::json!({ "manual": task.is_manual() })
            } else {
                // A verification of a task with checks belongs to one database; so does its
                // withdrawal.
                let Some(url) = &args.database_url else {
                    eprintln!(
                        "remtrack: {} has checks, and its verification belongs to one database: pass --database-url or set DATABASE_URL",
                        task.id
                    );
                    return exit::BAD_INPUT;
                };
                serde_json::json!({ "manual": false, "database": redact_url(url) })
            }
        }
        MarkKind::Note => {
            if note.is_empty() {
                eprintln!("remtrack: a note needs some text: --note \"...\"");
                return exit::BAD_INPUT;
            }
            serde_json::json!({ "manual": task.is_manual() })
        }
    };
    let location = args.store.location(&args.plan);
    let store = match Store::open(&location).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("remtrack: {error}");
            eprintln!(
                "remtrack: nothing was recorded; your note was: {}",
                one_line(&note)
            );
            return exit::UNREACHABLE;
        }
    };
    if kind == MarkKind::Unverify {
        let verified = match store.events(Some(&task.id)).await {
            Ok(events) => {
                to_status_marks(&plan, &events, args.database_url.as_deref().unwrap_or(""))
                    .get(&task.id)
                    .is_some_and(|mark| mark.verified)
            }
            Err(error) => {
                eprintln!("remtrack: {error}");
                return exit::UNREACHABLE;
            }
        };
        if !verified {
            eprintln!(
                "remtrack: {} is not verified; there is nothing to withdraw",
                task.id
            );
            store.close().await;
            return exit::NOT_DONE;
        }
    }
    let event = NewEvent {
        task_id: task.id.clone(),
        kind: match kind {
            MarkKind::Verify => EventKind::Verified,
            MarkKind::Unverify => EventKind::Unverified,
            MarkKind::Note => EventKind::Note,
        },
        actor: args.actor.actor(),
        at: OffsetDateTime::now_utc(),
        note: note.clone(),
        evidence,
        fingerprint: task_fingerprint(task),
    };
    let recorded = store.append(event).await;
    store.close().await;
    match recorded {
        Ok(event) => {
            println!(
                "{} {} as {} at {} (event {} in {})",
                match kind {
                    MarkKind::Verify => "verified",
                    MarkKind::Unverify => "unverified",
                    MarkKind::Note => "noted on",
                },
                event.task_id,
                one_line(&event.actor),
                crate::store::utc_text(event.at),
                event.id,
                location.display()
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("remtrack: {error}");
            eprintln!(
                "remtrack: nothing was recorded; your note was: {}",
                one_line(&note)
            );
            exit::UNREACHABLE
        }
    }
}

/// Checks the task against the database and returns the evidence, or the exit code of a refusal.
async fn verify_evidence(
    args: &MarkArgs,
    task: &Task,
    plan: &Plan,
    note: &str,
) -> Result<serde_json::Value, u8> {
    if task.is_manual() {
        return match may_verify(task, None, note) {
            Ok(()) => Ok(evidence_snapshot(task, None, "", None)),
            // A missing note is bad usage, as for `unverify` and `note`, not a task not done.
            Err(refusal) if refusal.needs_note_only() => {
                eprintln!("remtrack: {refusal}");
                Err(exit::BAD_INPUT)
            }
            Err(refusal) => {
                eprintln!("remtrack: {refusal}");
                Err(exit::NOT_DONE)
            }
        };
    }
    if task.is_code_work() {
        // Only the code is read: no database needed, and the mark holds for every database.
        let code = args.limits.code_source(plan, &args.plan);
        let verdicts = judge_code_only(plan, &code, "a code task reads no database");
        let index = plan.task_index(&task.id);
        let task_verdicts = index.and_then(|i| verdicts.task(i));
        if let Err(refusal) = may_verify(task, task_verdicts, note) {
            eprintln!("remtrack: {}: {}", task.id, printable(&refusal.to_string()));
            return Err(exit::NOT_DONE);
        }
        return Ok(evidence_snapshot(
            task,
            task_verdicts,
            "",
            Some(OffsetDateTime::now_utc()),
        ));
    }
    let Some(url) = &args.database_url else {
        eprintln!(
            "remtrack: {} has checks, so verifying it needs the database: pass --database-url or set DATABASE_URL",
            task.id
        );
        return Err(exit::BAD_INPUT);
    };
    let target = Target::open_with(url, args.limits.limits(), args.limits.search_path(plan))
        .map_err(|error| {
            eprintln!("remtrack: {}", one_line(&error.to_string()));
            exit::BAD_INPUT
        })?;
    let refreshed = refresh_with(plan, &target, &args.limits.code_source(plan, &args.plan)).await;
    target.close().await;
    let refreshed = refreshed.map_err(|error| {
        eprintln!("remtrack: {}", one_line(&error.to_string()));
        exit::UNREACHABLE
    })?;
    let index = plan.tasks.iter().position(|t| t.id == task.id);
    let verdicts = index.and_then(|i| refreshed.verdicts.task(i));
    if let Err(refusal) = may_verify(task, verdicts, note) {
        eprintln!("remtrack: {}: {}", task.id, printable(&refusal.to_string()));
        return Err(exit::NOT_DONE);
    }
    Ok(evidence_snapshot(
        task,
        verdicts,
        target.display_url(),
        Some(refreshed.checked_at),
    ))
}

/// The task with this id, or an error naming the nearest id.
pub(super) fn find_task<'p>(plan: &'p Plan, id: &str) -> Option<&'p Task> {
    let found = plan.task(id);
    if found.is_none() {
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        let hint = crate::plan::nearest_id(id, &ids)
            .map(|near| format!("; did you mean \"{near}\"?"))
            .unwrap_or_default();
        eprintln!(
            "remtrack: there is no task \"{}\" in the plan{hint}",
            one_line(id)
        );
    }
    found
}
