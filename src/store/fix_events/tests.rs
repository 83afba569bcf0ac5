//! The write path's events read back: the last apply per task and database, and their words.

use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

const PROD: &str = "postgres://ana:***@prod.example.com/app";
const TASK: &str = "master-flow-columns";

fn event(id: i64, kind: EventKind, actor: &str, note: &str, evidence: Value) -> Event {
    Event {
        id,
        task_id: TASK.into(),
        kind,
        actor: actor.into(),
        at: datetime!(2026-12-08 10:00 UTC) + time::Duration::minutes(id),
        note: note.into(),
        evidence,
        fingerprint: "sha256:fix".into(),
    }
}

/// The evidence of an apply as the write path records it.
fn applied_evidence(passing: usize, checks: usize, duration_ms: u64) -> Value {
    let checks: Vec<Value> = (0..checks)
        .map(|i| {
            json!({ "id": format!("c{i}"), "kind": "column_exists",
                         "status": if i < passing { "pass" } else { "fail" }, "evidence": "" })
        })
        .collect();
    json!({
        "database": PROD, "backend": "postgres", "sql": "ALTER TABLE t ADD c int",
        "statements": [{ "sql": "ALTER TABLE t ADD c int", "rows": 0 }],
        "dry_run": { "database": PROD, "all_pass": true, "checks": checks.clone() },
        "after": { "database": PROD, "all_pass": passing == checks.len(), "checks": checks },
        "duration_ms": duration_ms, "outcome": "applied", "reason": null, "approvers": ["bob"]
    })
}

fn failed_evidence(outcome: &str, reason: &str) -> Value {
    json!({ "database": PROD, "backend": "postgres", "sql": "x", "statements": [],
            "dry_run": null, "after": null, "duration_ms": 40,
            "outcome": outcome, "reason": reason, "approvers": [] })
}

#[test]
fn an_apply_reads_in_plain_words() {
    let applied = event(
        1,
        EventKind::Applied,
        "ana",
        "",
        applied_evidence(7, 7, 1234),
    );
    assert_eq!(
        fix_event_words(&applied, false).unwrap(),
        "ana applied the fix to master-flow-columns (7 of 7 checks pass after, 1.2 s, approved by bob)"
    );
    assert_eq!(
        fix_event_words(&applied, true).unwrap(),
        "you applied the fix to master-flow-columns (7 of 7 checks pass after, 1.2 s, approved by bob)"
    );
    let mut quick = applied_evidence(1, 1, 340);
    quick["approvers"] = json!([]);
    let quick = event(2, EventKind::Applied, "ana", "", quick);
    assert_eq!(
        fix_event_words(&quick, false).unwrap(),
        "ana applied the fix to master-flow-columns (1 of 1 check passes after, 340 ms)"
    );
    // Evidence that lacks the details still reads.
    let bare = event(3, EventKind::Applied, "ana", "", json!({}));
    assert_eq!(
        fix_event_words(&bare, false).unwrap(),
        "ana applied the fix to master-flow-columns"
    );
}

#[test]
fn a_failed_apply_says_why_and_whether_anything_may_have_changed() {
    let reason = "check c2 fails inside the transaction: type would be character varying(100), expected character varying(50)";
    let rolled_back = event(
        1,
        EventKind::ApplyFailed,
        "ana",
        reason,
        failed_evidence("rolled_back", reason),
    );
    assert_eq!(
        fix_event_words(&rolled_back, false).unwrap(),
        format!("ana's apply of master-flow-columns failed: {reason}")
    );
    assert_eq!(
        fix_event_words(&rolled_back, true).unwrap(),
        format!("your apply of master-flow-columns failed: {reason}")
    );
    let refused = event(
        2,
        EventKind::ApplyFailed,
        "ana",
        "",
        failed_evidence("refused", "bob holds the apply lock"),
    );
    assert_eq!(
        fix_event_words(&refused, false).unwrap(),
        "ana's apply of master-flow-columns was refused: bob holds the apply lock"
    );
    let unknown = event(
        3,
        EventKind::ApplyFailed,
        "ana",
        "connection lost at COMMIT",
        json!({ "database": PROD, "outcome": "unknown" }),
    );
    assert_eq!(
        fix_event_words(&unknown, false).unwrap(),
        "ana's apply of master-flow-columns may or may not have committed: connection lost at COMMIT; recheck to see"
    );
    let silent = event(4, EventKind::ApplyFailed, "ana", "", json!({}));
    assert_eq!(
        fix_event_words(&silent, false).unwrap(),
        "ana's apply of master-flow-columns failed: no reason recorded"
    );
}

#[test]
fn approvals_and_requests_read_with_their_note() {
    let approved = event(
        1,
        EventKind::Approved,
        "bob",
        "dry run 7/7\nsecond line",
        json!({ "database": PROD, "dry_run": {}, "role": "lead" }),
    );
    assert_eq!(
        fix_event_words(&approved, false).unwrap(),
        "bob approved the fix of master-flow-columns: dry run 7/7"
    );
    let asked = event(
        2,
        EventKind::ApprovalRequested,
        "ana",
        "for tonight's window",
        json!({ "database": PROD, "dry_run": {} }),
    );
    assert_eq!(
        fix_event_words(&asked, false).unwrap(),
        "ana asks for approval of master-flow-columns's fix: for tonight's window"
    );
    assert_eq!(
        fix_event_words(&asked, true).unwrap(),
        "you ask for approval of master-flow-columns's fix: for tonight's window"
    );
    let unnoted = event(3, EventKind::Approved, "bob", " \n", json!({}));
    assert_eq!(
        fix_event_words(&unnoted, false).unwrap(),
        "bob approved the fix of master-flow-columns"
    );
    for kind in [EventKind::Verified, EventKind::Unverified, EventKind::Note] {
        assert_eq!(
            fix_event_words(&event(4, kind, "ana", "x", json!({})), false),
            None
        );
    }
}

#[test]
fn the_last_apply_is_the_latest_of_that_task_on_that_database() {
    let staging = "postgres://ci@staging.example.com/app";
    let mut other_task = event(3, EventKind::Applied, "cy", "", applied_evidence(1, 1, 5));
    other_task.task_id = "other".into();
    let mut on_staging = event(
        4,
        EventKind::ApplyFailed,
        "dee",
        "no",
        failed_evidence("refused", "no"),
    );
    on_staging.evidence["database"] = json!(staging);
    let events = vec![
        event(
            1,
            EventKind::Applied,
            "ana",
            "",
            applied_evidence(7, 7, 1200),
        ),
        event(
            2,
            EventKind::Approved,
            "bob",
            "ok",
            json!({ "database": PROD }),
        ),
        other_task,
        on_staging,
    ];
    let last = last_apply(&events, TASK, "postgres://x:pw@PROD.example.com:5432/app").unwrap();
    assert_eq!(
        last,
        LastApply {
            actor: "ana".into(),
            at: datetime!(2026-12-08 10:01 UTC),
            outcome: ApplyOutcome::Applied,
            database: "postgres://prod.example.com:5432/app".into(),
            reason: None,
        }
    );
    let there = last_apply(&events, TASK, staging).unwrap();
    assert_eq!(there.outcome, ApplyOutcome::Refused);
    assert_eq!(there.reason.as_deref(), Some("no"));
    assert_eq!(last_apply(&events, "other", staging), None);
    assert_eq!(last_apply(&events, "nothing", PROD), None);

    let failed_since = [
        events.clone(),
        vec![event(
            5,
            EventKind::ApplyFailed,
            "ana",
            "lost",
            json!({ "database": PROD, "outcome": "unknown" }),
        )],
    ]
    .concat();
    let last = last_apply(&failed_since, TASK, PROD).unwrap();
    assert_eq!(last.outcome, ApplyOutcome::Unknown);
    assert_eq!(last.reason.as_deref(), Some("lost"));
    assert_eq!(
        serde_json::to_value(&last).unwrap(),
        json!({ "actor": "ana", "at": "2026-12-08T10:05:00Z", "outcome": "unknown",
                "database": "postgres://prod.example.com:5432/app", "reason": "lost" })
    );
}
