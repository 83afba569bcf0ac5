//! What the store keeps of a fix run: an `applied` or `apply_failed` event with who, when, the
//! database, the exact SQL, the evidence inside the transaction and after the commit, and the
//! duration; `approved` and `approval_requested` with the dry run they were given after.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::outcome::{Conclusion, FixRun, Mode};
use crate::check::TaskVerdicts;
use crate::plan::Task;
use crate::store::{EventKind, NewEvent, evidence_snapshot};

fn snapshot(task: &Task, verdicts: Option<&TaskVerdicts>, run: &FixRun) -> Value {
    match verdicts {
        None => Value::Null,
        Some(verdicts) => {
            let mut snapshot = evidence_snapshot(task, Some(verdicts), &run.database, Some(now()));
            let guards: Vec<Value> = task
                .fix
                .iter()
                .flat_map(|fix| fix.guards.iter())
                .zip(&verdicts.guards)
                .map(|(guard, verdict)| {
                    json!({"id": guard.id, "status": verdict.status, "evidence": verdict.evidence})
                })
                .collect();
            if let Value::Object(map) = &mut snapshot {
                map.insert("guards".into(), Value::from(guards));
            }
            snapshot
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The evidence of a fix run, as every fix event keeps it.
pub fn run_evidence(run: &FixRun, task: &Task, approvers: &[String]) -> Value {
    json!({
        "database": run.database,
        "backend": run.backend.name(),
        "mode": run.mode,
        "sql": run.sql,
        "statements": run.statements.iter().map(|s| json!({
            "sql": s.sql, "rows": s.rows, "error": s.error,
        })).collect::<Vec<_>>(),
        "before": snapshot(task, run.before.as_ref(), run),
        "dry_run": snapshot(task, run.inside.as_ref(), run),
        "after": snapshot(task, run.after.as_ref(), run),
        "duration_ms": u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        "outcome": run.conclusion.as_str(),
        "reason": run.conclusion.reason(),
        "approvers": approvers,
    })
}

/// `applied` when the run committed, else `apply_failed` with the reason as its note.
pub fn apply_event(
    run: &FixRun,
    task: &Task,
    actor: &str,
    approvers: &[String],
    fingerprint: &str,
) -> NewEvent {
    debug_assert_eq!(run.mode, Mode::Apply);
    let kind = if run.conclusion == Conclusion::Applied {
        EventKind::Applied
    } else {
        EventKind::ApplyFailed
    };
    NewEvent {
        task_id: task.id.clone(),
        kind,
        actor: actor.to_string(),
        at: now(),
        note: match &run.conclusion {
            Conclusion::Applied => String::new(),
            other => run_verdict_note(other),
        },
        evidence: run_evidence(run, task, approvers),
        fingerprint: fingerprint.to_string(),
    }
}

fn run_verdict_note(conclusion: &Conclusion) -> String {
    let reason = conclusion.reason().unwrap_or_default();
    match conclusion {
        Conclusion::Unknown(_) => format!("unknown: recheck ({reason})"),
        Conclusion::RolledBack(_) => format!("not applied ({reason})"),
        _ => format!("not applied: {reason}"),
    }
}

/// `apply_failed` for an apply refused before anything ran (approvals missing, a bad request).
pub fn refused_apply_event(
    task: &Task,
    actor: &str,
    database: &str,
    sql: &str,
    reason: &str,
    fingerprint: &str,
) -> NewEvent {
    NewEvent {
        task_id: task.id.clone(),
        kind: EventKind::ApplyFailed,
        actor: actor.to_string(),
        at: now(),
        note: format!("not applied: {reason}"),
        evidence: json!({
            "database": database,
            "sql": sql,
            "outcome": "refused",
            "reason": reason,
            "statements": [],
            "dry_run": Value::Null,
            "after": Value::Null,
        }),
        fingerprint: fingerprint.to_string(),
    }
}

/// `approved`, given after a dry run that proved the fix (`role` as the team file says, under
/// `serve`), or `approval_requested` when `kind` says so.
pub fn approval_event(
    kind: EventKind,
    run: &FixRun,
    task: &Task,
    actor: &str,
    role: Option<&str>,
    note: &str,
    fingerprint: &str,
) -> NewEvent {
    NewEvent {
        task_id: task.id.clone(),
        kind,
        actor: actor.to_string(),
        at: now(),
        note: note.trim().to_string(),
        evidence: json!({
            "database": run.database,
            "backend": run.backend.name(),
            "sql": run.sql,
            "dry_run": snapshot(task, run.inside.as_ref(), run),
            "role": role,
        }),
        fingerprint: fingerprint.to_string(),
    }
}
