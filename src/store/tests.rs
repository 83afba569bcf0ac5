use std::path::Path;

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::check::{CheckStatus, TaskVerdicts, Verdict};
use crate::plan::{Plan, parse_plan};

fn plan_with_check(table: &str) -> Plan {
    let plan = json!({
        "version": 1, "title": "T",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [
            { "id": "db1", "title": "x", "day": 1, "phase": "db", "priority": "high",
              "checks": [{ "id": "a", "kind": "table_exists", "table": table, "note": "n" }] },
            { "id": "manual", "title": "x", "day": 1, "phase": "db", "priority": "low" }
        ],
        "risks": []
    });
    parse_plan(plan.to_string().as_bytes(), Path::new("t.json")).unwrap()
}

const PROD: &str = "postgres://ana:***@prod.example.com/app";

fn event(id: i64, task: &str, kind: EventKind, fingerprint: &str) -> Event {
    Event {
        id,
        task_id: task.into(),
        kind,
        actor: format!("person{id}"),
        at: datetime!(2026-11-24 10:00 UTC),
        note: String::new(),
        evidence: json!({ "database": PROD }),
        fingerprint: fingerprint.into(),
    }
}

fn verdicts(statuses: &[CheckStatus]) -> TaskVerdicts {
    TaskVerdicts {
        checks: statuses
            .iter()
            .map(|s| match s {
                CheckStatus::Pass => Verdict::pass("ok"),
                CheckStatus::Fail => Verdict::fail("table t is missing"),
                CheckStatus::Error => Verdict::error("timed out after 5 s"),
            })
            .collect(),
        guards: vec![],
    }
}

#[test]
fn the_last_verify_or_unverify_wins_and_notes_change_nothing() {
    let plan = plan_with_check("t");
    let fp = task_fingerprint(&plan.tasks[0]);
    let events = vec![
        event(1, "db1", EventKind::Verified, &fp),
        event(2, "db1", EventKind::Unverified, &fp),
        event(3, "db1", EventKind::Verified, &fp),
        event(4, "db1", EventKind::Note, &fp),
        event(5, "gone", EventKind::Verified, &fp),
    ];
    let marks = to_status_marks(&plan, &events, PROD);
    let mark = &marks["db1"];
    assert!(mark.verified && !mark.stale);
    assert_eq!(mark.by, "person3");
    assert!(
        !marks.contains_key("gone"),
        "tasks no longer in the plan mark nothing"
    );

    let marks = to_status_marks(&plan, &events[..2], PROD);
    assert!(!marks["db1"].verified);
}

#[test]
fn a_verification_counts_for_the_database_it_was_made_against_and_manual_ones_everywhere() {
    let plan = plan_with_check("t");
    let fp = task_fingerprint(&plan.tasks[0]);
    let manual_fp = task_fingerprint(&plan.tasks[1]);
    let mut staging_mark = event(1, "db1", EventKind::Verified, &fp);
    staging_mark.evidence = json!({ "database": "postgres://ci@staging.example.com/app" });
    let mut code_review = event(2, "manual", EventKind::Verified, &manual_fp);
    code_review.evidence = json!({ "database": "" });
    let events = vec![staging_mark, code_review];

    let on_staging = to_status_marks(
        &plan,
        &events,
        "postgres://ana:pw@staging.example.com:5432/app",
    );
    assert!(
        on_staging["db1"].verified,
        "same database, another role and port spelling"
    );
    let on_prod = to_status_marks(&plan, &events, PROD);
    assert!(
        !on_prod.contains_key("db1"),
        "a mark made on staging says nothing about production"
    );
    assert!(
        on_prod["manual"].verified,
        "code work is verified once, for every database"
    );

    let mut withdrawn_everywhere = event(3, "db1", EventKind::Unverified, &fp);
    withdrawn_everywhere.evidence = json!({ "manual": false });
    let events = [events.to_vec(), vec![withdrawn_everywhere]].concat();
    assert!(
        !to_status_marks(&plan, &events, "postgres://x@staging.example.com/app")["db1"].verified,
        "an event that names no database (older stores) applies to every one"
    );
}

#[test]
fn changing_a_check_definition_makes_the_verification_stale_but_a_note_does_not() {
    let before = plan_with_check("t");
    let fp = task_fingerprint(&before.tasks[0]);
    let events = vec![event(1, "db1", EventKind::Verified, &fp)];

    let mut renoted = before.clone();
    renoted.tasks[0].checks[0].note = Some("reworded".into());
    assert!(!to_status_marks(&renoted, &events, PROD)["db1"].stale);

    let changed = plan_with_check("t2");
    assert!(to_status_marks(&changed, &events, PROD)["db1"].stale);
    assert_ne!(task_fingerprint(&changed.tasks[0]), fp);
}

#[test]
fn verifying_needs_every_check_passing_and_shows_what_fails() {
    let plan = plan_with_check("t");
    let task = &plan.tasks[0];
    assert_eq!(
        may_verify(task, Some(&verdicts(&[CheckStatus::Pass])), ""),
        Ok(())
    );
    let refusal =
        may_verify(task, Some(&verdicts(&[CheckStatus::Fail])), "looks fine").unwrap_err();
    assert!(!refusal.needs_note_only());
    assert_eq!(
        refusal.to_string(),
        "cannot verify: 1 check is not passing\n  fail a: table t is missing"
    );
    let refusal = may_verify(task, Some(&verdicts(&[CheckStatus::Error])), "x").unwrap_err();
    assert!(refusal.to_string().contains("error a: timed out after 5 s"));
    assert_eq!(may_verify(task, None, "x"), Err(Refusal::NoEvidence));
}

#[test]
fn manual_tasks_and_unverifying_need_a_note() {
    let plan = plan_with_check("t");
    let manual = &plan.tasks[1];
    let refusal = may_verify(manual, None, "  \n ").unwrap_err();
    assert!(refusal.needs_note_only());
    assert_eq!(may_verify(manual, None, "read the code: done"), Ok(()));
    assert_eq!(may_unverify(""), Err(Refusal::UnverifyNeedsNote));
    assert_eq!(may_unverify("column came back"), Ok(()));
}

#[test]
fn store_locations_read_like_people_write_them() {
    assert_eq!(
        StoreLocation::beside_plan(Path::new("plan.json")),
        StoreLocation::Sqlite("./.remtrack/state.db".into())
    );
    assert_eq!(
        StoreLocation::beside_plan(Path::new("/srv/plans/plan.json")),
        StoreLocation::Sqlite("/srv/plans/.remtrack/state.db".into())
    );
    assert_eq!(
        StoreLocation::parse("sqlite:marks.db"),
        StoreLocation::Sqlite("marks.db".into())
    );
    let shared = StoreLocation::parse("postgres://ana:s3cret@db/remtrack");
    assert_eq!(shared.display(), "postgres://ana:***@db/remtrack");
}

fn plan_with_fix(fix: serde_json::Value) -> Plan {
    let plan = json!({
        "version": 1, "title": "T",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [
            { "id": "db1", "title": "x", "day": 1, "phase": "db", "priority": "high",
              "checks": [{ "id": "a", "kind": "table_exists", "table": "t" }],
              "fix": fix }
        ]
    });
    parse_plan(plan.to_string().as_bytes(), Path::new("t.json")).unwrap()
}

#[test]
fn a_fix_fingerprint_changes_with_the_fix_text_and_the_guards_only() {
    use crate::Backend;
    let guard = json!({ "id": "g", "kind": "table_absent", "table": "t", "note": "fresh" });
    let base = plan_with_fix(json!({ "sql": "CREATE TABLE t (id int)", "guards": [guard] }));
    let fingerprint = fix_fingerprint(&base.tasks[0], Backend::Postgres).unwrap();
    assert!(fingerprint.starts_with("sha256:") && fingerprint.len() == 7 + 64);
    assert_eq!(
        fix_fingerprint(&base.tasks[0], Backend::Sqlite).as_deref(),
        Some(fingerprint.as_str()),
        "one text for every backend: the same fix"
    );

    let mut renoted = base.clone();
    renoted.tasks[0].fix.as_mut().unwrap().guards[0].note = Some("reworded".into());
    renoted.tasks[0].checks[0].note = Some("reworded".into());
    assert_eq!(
        fix_fingerprint(&renoted.tasks[0], Backend::Postgres).unwrap(),
        fingerprint,
        "a note is not what the fix does"
    );

    let edited = plan_with_fix(json!({ "sql": "CREATE TABLE t (id bigint)", "guards": [guard] }));
    assert_ne!(
        fix_fingerprint(&edited.tasks[0], Backend::Postgres).unwrap(),
        fingerprint
    );
    let other_guard = json!({ "id": "g", "kind": "table_absent", "table": "t2" });
    let reguarded =
        plan_with_fix(json!({ "sql": "CREATE TABLE t (id int)", "guards": [other_guard] }));
    assert_ne!(
        fix_fingerprint(&reguarded.tasks[0], Backend::Postgres).unwrap(),
        fingerprint
    );
    let unguarded = plan_with_fix(json!({ "sql": "CREATE TABLE t (id int)" }));
    assert_ne!(
        fix_fingerprint(&unguarded.tasks[0], Backend::Postgres).unwrap(),
        fingerprint
    );
}

#[test]
fn a_fix_fingerprint_is_per_backend_and_none_without_a_fix_there() {
    use crate::Backend;
    let plan = plan_with_fix(json!({ "sql": { "postgres": "CREATE TABLE t (id int)" } }));
    assert!(fix_fingerprint(&plan.tasks[0], Backend::Postgres).is_some());
    assert_eq!(fix_fingerprint(&plan.tasks[0], Backend::Sqlite), None);
    let both = plan_with_fix(json!({ "sql": {
        "postgres": "CREATE TABLE t (id int)", "sqlite": "CREATE TABLE t (id INTEGER)" } }));
    assert_ne!(
        fix_fingerprint(&both.tasks[0], Backend::Postgres),
        fix_fingerprint(&both.tasks[0], Backend::Sqlite)
    );
    assert_eq!(
        fix_fingerprint(&plan_with_check("t").tasks[0], Backend::Postgres),
        None
    );
}

#[test]
fn fix_events_mark_nothing() {
    let plan = plan_with_check("t");
    let fp = task_fingerprint(&plan.tasks[0]);
    let fix_kinds = [
        EventKind::Applied,
        EventKind::ApplyFailed,
        EventKind::Approved,
        EventKind::ApprovalRequested,
    ];
    let mut events = vec![event(1, "db1", EventKind::Verified, &fp)];
    events.extend(
        fix_kinds
            .iter()
            .zip(2..)
            .map(|(kind, id)| event(id, "db1", *kind, &fp)),
    );
    let marks = to_status_marks(&plan, &events, PROD);
    assert!(marks["db1"].verified);
    assert_eq!(marks["db1"].by, "person1", "the verification still stands");

    let only_fixes: Vec<Event> = events[1..].to_vec();
    assert!(to_status_marks(&plan, &only_fixes, PROD).is_empty());
}

#[test]
fn every_event_kind_reads_back_as_itself() {
    for kind in [
        EventKind::Verified,
        EventKind::Unverified,
        EventKind::Note,
        EventKind::Applied,
        EventKind::ApplyFailed,
        EventKind::Approved,
        EventKind::ApprovalRequested,
    ] {
        assert_eq!(EventKind::parse(kind.as_str()), kind);
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            json!(kind.as_str()),
            "JSON output spells it as the store does"
        );
    }
    assert_eq!(EventKind::parse("from_the_future"), EventKind::Note);
}
