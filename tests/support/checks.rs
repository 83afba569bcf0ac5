//! Building one-task plans from a list of checks, and reading verdicts back by check id.

use std::collections::HashMap;
use std::path::Path;

use remtrack::check::{CheckStatus, Verdict, Verdicts};
use remtrack::plan::{Plan, parse_plan};
use serde_json::{Value, json};

/// A one-task plan holding `checks`, as JSON.
fn plan_json(checks: Value) -> Value {
    json!({
        "version": 1,
        "title": "test plan",
        "days": [{ "day": 1, "title": "Day" }],
        "phases": [{ "id": "p", "title": "Phase" }],
        "tasks": [{ "id": "t", "title": "Task", "day": 1, "phase": "p", "priority": "high", "checks": checks }]
    })
}

/// A valid plan with a single task holding `checks`.
pub fn plan_of(checks: Value) -> Plan {
    parse_plan(
        plan_json(checks).to_string().as_bytes(),
        Path::new("test-plan.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The same plan built without validation, as a plan that slipped past it would reach the
/// engine: to prove the engine's own defences.
pub fn plan_unvalidated(checks: Value) -> Plan {
    serde_json::from_value(plan_json(checks)).unwrap_or_else(|e| panic!("{e}"))
}

pub fn verdicts_by_id(plan: &Plan, verdicts: &Verdicts) -> HashMap<String, Verdict> {
    plan.tasks[0]
        .checks
        .iter()
        .map(|c| c.id.clone())
        .zip(verdicts.tasks[0].checks.iter().cloned())
        .collect()
}

/// Asserts the verdict of check `id`: its status, and a piece of its evidence.
#[track_caller]
pub fn assert_verdict(
    verdicts: &HashMap<String, Verdict>,
    id: &str,
    status: CheckStatus,
    evidence: &str,
) {
    let verdict = verdicts
        .get(id)
        .unwrap_or_else(|| panic!("no verdict for {id}"));
    assert_eq!(verdict.status, status, "{id}: {verdict:?}");
    assert!(
        verdict.evidence.contains(evidence),
        "{id}: evidence {:?} should contain {evidence:?}",
        verdict.evidence
    );
}
