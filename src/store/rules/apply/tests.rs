//! The four-eyes rule, case by case: which approvals count and what a refused applier is told.

use serde_json::json;
use time::macros::datetime;

use super::*;

const PROD: &str = "postgres://ana:***@prod.example.com/app";
const FIX: &str = "sha256:fix-v2";
const EARLIER_FIX: &str = "sha256:fix-v1";

fn event(id: i64, kind: EventKind, actor: &str, fingerprint: &str, database: &str) -> Event {
    Event {
        id,
        task_id: "master-flow-columns".into(),
        kind,
        actor: actor.into(),
        at: datetime!(2026-12-08 10:00 UTC),
        note: String::new(),
        evidence: json!({ "database": database, "dry_run": { "all_pass": true } }),
        fingerprint: fingerprint.into(),
    }
}

fn approval(id: i64, actor: &str) -> Event {
    event(id, EventKind::Approved, actor, FIX, PROD)
}

fn check(required: u32, events: &[Event]) -> Result<Vec<String>, ApplyRefusal> {
    may_apply(required, events, "master-flow-columns", "ana", FIX, PROD)
}

fn refusal(required: u32, events: &[Event]) -> String {
    check(required, events).unwrap_err().to_string()
}

#[test]
fn no_policy_needs_nobody_but_still_names_who_approved() {
    assert_eq!(check(0, &[]), Ok(vec![]));
    assert_eq!(check(0, &[approval(1, "bob")]), Ok(vec!["bob".into()]));
}

#[test]
fn another_person_s_approval_of_this_text_on_this_database_counts() {
    let events = [
        event(1, EventKind::ApprovalRequested, "ana", FIX, PROD),
        approval(2, "bob"),
    ];
    assert_eq!(check(1, &events), Ok(vec!["bob".into()]));
    // The same database however it is reached; a name typed with a stray space is the same name.
    let other_spelling = "postgres://bob:secret@PROD.example.com:5432/app";
    let events = [event(1, EventKind::Approved, " bob ", FIX, other_spelling)];
    assert_eq!(
        may_apply(1, &events, "master-flow-columns", " ana", FIX, PROD),
        Ok(vec!["bob".into()])
    );
}

#[test]
fn approvers_are_counted_once_each() {
    let events = [approval(1, "bob"), approval(2, "bob"), approval(3, "cy")];
    assert_eq!(check(2, &events), Ok(vec!["bob".into(), "cy".into()]));
    assert_eq!(
        refusal(2, &events[..2]),
        "needs 2 approvals from people other than ana; only 1 given, by bob"
    );
}

#[test]
fn none_at_all_says_so() {
    let requested = [event(1, EventKind::ApprovalRequested, "ana", FIX, PROD)];
    let refused = check(1, &requested).unwrap_err();
    assert_eq!(refused.uncounted, vec![]);
    assert_eq!(
        refused.to_string(),
        "needs 1 approval from someone other than ana; none given yet"
    );
}

#[test]
fn your_own_approval_never_counts() {
    let events = [approval(1, "ana")];
    let refused = check(1, &events).unwrap_err();
    assert_eq!(refused.uncounted, vec![Uncounted::OwnApproval]);
    assert_eq!(
        refused.to_string(),
        "needs 1 approval from someone other than ana; only your own was given (you cannot approve your own fix)"
    );
    let events = [approval(1, "ana"), approval(2, "bob")];
    assert_eq!(
        refusal(2, &events),
        "needs 2 approvals from people other than ana; only 1 given, by bob (yours does not count: you cannot approve your own fix)"
    );
    // Names are compared as written, but trimmed.
    assert_eq!(
        check(1, &[approval(1, "ana ")]).unwrap_err().approvers,
        Vec::<String>::new()
    );
    assert_eq!(check(1, &[approval(1, "Ana")]), Ok(vec!["Ana".into()]));
}

#[test]
fn an_approval_of_the_earlier_fix_text_no_longer_counts() {
    let events = [event(1, EventKind::Approved, "bob", EARLIER_FIX, PROD)];
    let refused = check(1, &events).unwrap_err();
    assert_eq!(
        refused.uncounted,
        vec![Uncounted::OtherFixText {
            approvers: vec!["bob".into()]
        }]
    );
    assert_eq!(
        refused.to_string(),
        "needs 1 approval from someone other than ana; none given for this fix text (an approval given for the earlier text no longer counts)"
    );
    // Approved again for the new text: counts, and is not also listed as stale.
    let events = [events[0].clone(), approval(2, "bob")];
    assert_eq!(check(1, &events), Ok(vec!["bob".into()]));
}

#[test]
fn an_approval_is_spent_by_the_apply_it_allowed() {
    let events = [
        approval(1, "bob"),
        event(2, EventKind::Applied, "ana", FIX, PROD),
    ];
    let refused = check(1, &events).unwrap_err();
    assert_eq!(
        refused.uncounted,
        vec![Uncounted::Spent {
            approvers: vec!["bob".into()]
        }]
    );
    assert_eq!(
        refused.to_string(),
        "needs 1 approval from someone other than ana; none given for this fix text (bob's approval was spent by the apply of this text since; each apply needs its own)"
    );
    // A new approval after the apply counts again.
    let again = [events.to_vec(), vec![approval(3, "cy")]].concat();
    assert_eq!(check(1, &again), Ok(vec!["cy".into()]));
}

#[test]
fn only_an_apply_of_this_text_on_this_database_spends_an_approval() {
    let staging = "postgres://ci@staging.example.com/app";
    let events = [
        approval(1, "bob"),
        // Failed: nothing was committed, so nothing was spent.
        event(2, EventKind::ApplyFailed, "ana", FIX, PROD),
        event(3, EventKind::Applied, "ana", FIX, staging),
        event(4, EventKind::Applied, "ana", EARLIER_FIX, PROD),
    ];
    assert_eq!(check(1, &events), Ok(vec!["bob".into()]));
}

#[test]
fn an_approval_for_another_database_does_not_count_here() {
    let staging = "postgres://ci@staging.example.com/app";
    let events = [event(1, EventKind::Approved, "bob", FIX, staging)];
    let refused = check(1, &events).unwrap_err();
    assert_eq!(
        refused.uncounted,
        vec![Uncounted::OtherDatabase {
            approvers: vec!["bob".into()],
            databases: vec!["postgres://staging.example.com:5432/app".into()],
        }]
    );
    assert_eq!(
        refused.to_string(),
        "needs 1 approval from someone other than ana; none given for this fix text (bob approved it for postgres://staging.example.com:5432/app, not this database)"
    );
    // An approval that names no database vouches for none.
    let mut nameless = approval(1, "bob");
    nameless.evidence = json!({});
    assert!(check(1, &[nameless]).is_err());
}

#[test]
fn other_tasks_and_other_kinds_are_not_approvals() {
    let mut elsewhere = approval(1, "bob");
    elsewhere.task_id = "other-task".into();
    let events = [
        elsewhere,
        event(2, EventKind::Verified, "cy", FIX, PROD),
        event(3, EventKind::Note, "dee", FIX, PROD),
        event(4, EventKind::ApprovalRequested, "eve", FIX, PROD),
    ];
    assert_eq!(
        refusal(1, &events),
        "needs 1 approval from someone other than ana; none given yet"
    );
}

#[test]
fn your_own_approval_is_named_before_an_outdated_one() {
    let events = [
        event(1, EventKind::Approved, "bob", EARLIER_FIX, PROD),
        approval(2, "ana"),
    ];
    assert_eq!(
        refusal(1, &events),
        "needs 1 approval from someone other than ana; only your own was given for this fix text (you cannot approve your own fix; an approval given for the earlier text no longer counts)"
    );
}

#[test]
fn approving_needs_a_name_and_a_proven_dry_run() {
    assert_eq!(may_approve("bob", true), Ok(()));
    assert_eq!(may_approve("  ", true), Err(ApproveRefusal::NoApprover));
    let refused = may_approve("bob", false).unwrap_err();
    assert_eq!(refused, ApproveRefusal::NotProven);
    assert!(
        refused.to_string().starts_with("cannot approve: "),
        "{refused}"
    );
}

#[test]
fn names_read_as_a_list() {
    let people = |list: &[&str]| list.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&people(&["bob", "cy", "dee"])), "bob, cy and dee");
    assert_eq!(possessive(&people(&["bob"])), "bob's");
    assert_eq!(possessive(&people(&["bob", "cy"])), "bob and cy's");
}
