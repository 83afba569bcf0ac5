//! Unit tests for status derivation: task status, overclaims, blocking, progress and risks.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::check::{TaskVerdicts, Verdict, Verdicts};
use crate::plan::{Plan, parse_plan};

/// db1, db2 and db3 are checked (db3 depends on the manual task code1); code1 is manual.
fn plan() -> Plan {
    let plan = json!({
        "version": 1, "title": "T",
        "days": [{ "day": 1, "title": "One" }, { "day": 2, "title": "Two" }],
        "phases": [{ "id": "db", "title": "DB" }, { "id": "code", "title": "Code" }],
        "tasks": [
            { "id": "db1", "title": "x", "day": 1, "phase": "db", "priority": "high", "claimed": "done",
              "checks": [{ "id": "a", "kind": "table_exists", "table": "t" }, { "id": "b", "kind": "table_exists", "table": "u" }] },
            { "id": "db2", "title": "x", "day": 1, "phase": "db", "priority": "high", "claimed": "done",
              "checks": [{ "id": "a", "kind": "table_exists", "table": "t" }] },
            { "id": "code1", "title": "x", "day": 2, "phase": "code", "priority": "high", "claimed": "not_started" },
            { "id": "db3", "title": "x", "day": 2, "phase": "db", "priority": "high", "claimed": "done",
              "depends_on": ["code1"], "checks": [{ "id": "a", "kind": "column_absent", "table": "t", "column": "c" }] }
        ],
        "risks": [
            { "id": "r-task", "title": "x", "severity": "high", "description": "", "watch": ["db1"] },
            { "id": "r-check", "title": "x", "severity": "low", "description": "", "watch": ["db1/b"] }
        ]
    });
    parse_plan(plan.to_string().as_bytes(), Path::new("t.json")).unwrap()
}

fn verdict(code: char) -> Verdict {
    match code {
        'p' => Verdict::pass("ok"),
        'f' => Verdict::fail("missing"),
        _ => Verdict::error("timed out after 5 s"),
    }
}

/// One string per task, one char per check: p(ass), f(ail), e(rror).
fn verdicts(codes: [&str; 4]) -> Verdicts {
    Verdicts {
        tasks: codes
            .iter()
            .map(|c| TaskVerdicts {
                checks: c.chars().map(verdict).collect(),
                guards: vec![],
            })
            .collect(),
    }
}

fn statuses(status: &PlanStatus) -> Vec<TaskStatus> {
    status.tasks.iter().map(|t| t.status).collect()
}

#[test]
fn all_checks_passing_is_done_and_any_failure_is_failing() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "f", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[0].status, TaskStatus::Done);
    assert_eq!(s.tasks[1].status, TaskStatus::Failing);
    assert_eq!((s.tasks[0].passing, s.tasks[1].failing), (2, 1));
}

#[test]
fn an_error_is_unknown_never_failing() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pe", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[0].status, TaskStatus::Unknown);
    assert_eq!(s.tasks[0].errors, 1);
    assert_eq!(s.tasks[0].failing, 0);
    // A failure alongside an error is still a failure.
    let s = derive(
        &plan(),
        Some(&verdicts(["fe", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[0].status, TaskStatus::Failing);
}

#[test]
fn a_task_with_no_checks_is_manual_until_a_person_verifies_it() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[2].status, TaskStatus::Manual);
    let marks = Marks::from([(
        "code1".to_string(),
        Mark {
            verified: true,
            by: "ana".into(),
            at: None,
            stale: false,
        },
    )]);
    let s = derive(&plan(), Some(&verdicts(["pp", "p", "", "p"])), &marks);
    assert_eq!(s.tasks[2].status, TaskStatus::Done);
}

#[test]
fn a_task_whose_dependency_is_not_done_is_blocked_unless_it_is_done_itself() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "f"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[3].status, TaskStatus::Blocked);
    assert_eq!(s.tasks[3].blocked_by, vec!["code1".to_string()]);
    // The database says it is done: done it is, whatever the order of work.
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[3].status, TaskStatus::Done);
    assert!(s.tasks[3].blocked_by.contains(&"code1".to_string()));
}

#[test]
fn claimed_done_but_not_done_live_is_overclaimed() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pf", "p", "", "f"])),
        &Marks::new(),
    );
    let overclaimed: Vec<bool> = s.tasks.iter().map(|t| t.overclaimed).collect();
    assert_eq!(overclaimed, vec![true, false, false, true]);
    assert_eq!(s.overclaimed().count(), 2);
}

#[test]
fn offline_means_unknown_for_checked_tasks_and_nothing_is_done() {
    let s = derive(&plan(), None, &Marks::new());
    assert_eq!(
        statuses(&s),
        vec![
            TaskStatus::Unknown,
            TaskStatus::Unknown,
            TaskStatus::Manual,
            TaskStatus::Blocked
        ]
    );
    assert_eq!(s.progress.overall.done, 0);
    assert!(
        s.tasks.iter().all(|t| !t.overclaimed),
        "an unreachable database says nothing, so nothing is called overclaimed"
    );
}

#[test]
fn a_check_that_could_not_be_evaluated_is_not_an_overclaim() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pe", "f", "", "f"])),
        &Marks::new(),
    );
    assert_eq!(s.tasks[0].status, TaskStatus::Unknown);
    assert!(
        !s.tasks[0].overclaimed,
        "an error proves nothing either way"
    );
}

#[test]
fn progress_puts_the_live_share_beside_the_claimed_share() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "f", "", "f"])),
        &Marks::new(),
    );
    let p = &s.progress;
    assert_eq!(
        (p.database.done, p.database.claimed_done, p.database.total),
        (1, 3, 3)
    );
    assert_eq!((p.code.done, p.code.claimed_done, p.code.total), (0, 0, 1));
    assert_eq!((p.overall.done, p.overall.total), (1, 4));
    assert_eq!(p.database.live_percent(), 33);
    assert_eq!(p.database.claimed_percent(), 100);
    assert_eq!(
        (p.days[0].done, p.days[0].total, p.days[0].claimed_done),
        (1, 2, 2)
    );
    assert_eq!((p.days[1].done, p.days[1].total), (0, 2));
    assert_eq!((p.phases[1].done, p.phases[1].total), (0, 1));
}

#[test]
fn an_empty_group_counts_as_complete_not_as_a_division_by_zero() {
    let progress = Progress::default();
    assert_eq!(progress.live_percent(), 100);
}

#[test]
fn a_risk_is_clear_only_when_everything_it_watches_passes() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.risks[0].level, RiskLevel::Clear);
    assert_eq!(s.risks[1].level, RiskLevel::Clear);

    let s = derive(
        &plan(),
        Some(&verdicts(["pf", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.risks[0].level, RiskLevel::Active);
    assert_eq!(s.risks[1].level, RiskLevel::Active);
    assert_eq!(s.risks[1].open_items[0].item, "db1/b");
    assert_eq!(s.risks[1].open_items[0].evidence, "missing");
}

#[test]
fn a_risk_with_only_unevaluated_items_is_unknown() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pe", "p", "", "p"])),
        &Marks::new(),
    );
    assert_eq!(s.risks[0].level, RiskLevel::Unknown);
    assert_eq!(s.risks[1].level, RiskLevel::Unknown);
    assert_eq!(s.risks[1].open_items[0].status, "error");
}

fn marked(task: &str, stale: bool) -> Marks {
    Marks::from([(
        task.to_string(),
        Mark {
            verified: true,
            by: "ana".into(),
            at: None,
            stale,
        },
    )])
}

#[test]
fn a_verified_task_whose_checks_now_fail_is_regressed() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &marked("db1", false),
    );
    assert_eq!(s.tasks[0].verification, Some(Verification::Verified));
    let s = derive(
        &plan(),
        Some(&verdicts(["pf", "p", "", "p"])),
        &marked("db1", false),
    );
    assert_eq!(s.tasks[0].verification, Some(Verification::Regressed));
    assert_eq!(
        s.tasks[0].status,
        TaskStatus::Failing,
        "a person's mark never overrides the database"
    );
    assert_eq!(s.regressed().count(), 1);
}

#[test]
fn a_mark_on_changed_checks_is_stale_and_does_not_count_as_done() {
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &marked("code1", true),
    );
    assert_eq!(s.tasks[2].verification, Some(Verification::Stale));
    assert_eq!(s.tasks[2].status, TaskStatus::Manual);
    let s = derive(
        &plan(),
        Some(&verdicts(["pp", "p", "", "p"])),
        &marked("db1", true),
    );
    assert_eq!(s.tasks[0].verification, Some(Verification::Stale));
}
