//! Rules for `fix_policy` that the field table cannot say: a bound on approvals, and a task's
//! policy only where the task has a fix for it to govern.

use serde_json::Value;

use super::issue::{JsonPath, PlanIssue};

/// More than this many approvals is a typo or a team that cannot apply anything.
pub(crate) const MAX_APPROVALS: u64 = 5;

pub(crate) fn check_fix_policies(plan: &Value, issues: &mut Vec<PlanIssue>) {
    let root = JsonPath::root();
    check_approvals(&root.field("fix_policy"), plan.get("fix_policy"), issues);
    let tasks = plan.get("tasks").and_then(Value::as_array);
    for (index, task) in tasks.into_iter().flatten().enumerate() {
        let path = root.field("tasks").index(index).field("fix_policy");
        let policy = task.get("fix_policy");
        check_approvals(&path, policy, issues);
        if policy.is_some() && task.get("fix").is_none() {
            issues.push(PlanIssue {
                path: path.as_str().to_string(),
                message: "this task has no \"fix\" for a fix_policy to govern; add the fix, or \
                          remove the fix_policy (a plan-wide one goes at the top level)"
                    .into(),
            });
        }
    }
}

fn check_approvals(path: &JsonPath, policy: Option<&Value>, issues: &mut Vec<PlanIssue>) {
    // A value of the wrong type was reported by the shape pass.
    let Some(approvals) = policy
        .and_then(|policy| policy.get("approvals"))
        .and_then(Value::as_u64)
    else {
        return;
    };
    if approvals > MAX_APPROVALS {
        issues.push(PlanIssue {
            path: path.field("approvals").as_str().to_string(),
            message: format!(
                "a fix needs at most {MAX_APPROVALS} approvals; this asks for {approvals}"
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use crate::plan::{FixPolicy, parse_plan, validate_value};

    fn plan_with_policies(plan_policy: Option<Value>, task_policy: Option<Value>) -> Value {
        let mut plan = json!({
            "version": 1, "title": "T",
            "days": [{ "day": 1, "title": "One" }],
            "phases": [{ "id": "db", "title": "DB" }],
            "tasks": [
                { "id": "fixed", "title": "x", "day": 1, "phase": "db", "priority": "high",
                  "checks": [{ "id": "a", "kind": "table_exists", "table": "t" }],
                  "fix": { "sql": "CREATE TABLE t (id int)" } },
                { "id": "other", "title": "x", "day": 1, "phase": "db", "priority": "low",
                  "fix": { "sql": "CREATE TABLE u (id int)" } },
                { "id": "manual", "title": "x", "day": 1, "phase": "db", "priority": "low" }
            ]
        });
        if let Some(policy) = plan_policy {
            plan["fix_policy"] = policy;
        }
        if let Some(policy) = task_policy {
            plan["tasks"][0]["fix_policy"] = policy;
        }
        plan
    }

    fn issues_of(plan: &Value) -> Vec<String> {
        validate_value(plan)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_task_s_own_policy_overrides_the_plan_s_and_none_needs_no_approval() {
        let load = |plan: Value| parse_plan(plan.to_string().as_bytes(), Path::new("p.json"));
        let plan = load(plan_with_policies(
            Some(json!({ "approvals": 1 })),
            Some(json!({ "approvals": 2 })),
        ))
        .unwrap();
        assert_eq!(
            plan.fix_policy_of(&plan.tasks[0]),
            FixPolicy { approvals: 2 }
        );
        assert_eq!(
            plan.fix_policy_of(&plan.tasks[1]),
            FixPolicy { approvals: 1 }
        );

        let plan = load(plan_with_policies(None, Some(json!({ "approvals": 0 })))).unwrap();
        assert_eq!(
            plan.fix_policy_of(&plan.tasks[0]),
            FixPolicy { approvals: 0 }
        );
        assert_eq!(plan.fix_policy_of(&plan.tasks[1]), FixPolicy::default());
        assert_eq!(FixPolicy::default().approvals, 0);
    }

    #[test]
    fn more_than_five_approvals_is_refused_where_it_is_written() {
        let plan = plan_with_policies(
            Some(json!({ "approvals": 6 })),
            Some(json!({ "approvals": 5 })),
        );
        assert_eq!(
            issues_of(&plan),
            ["fix_policy.approvals: a fix needs at most 5 approvals; this asks for 6"]
        );
        let plan = plan_with_policies(None, Some(json!({ "approvals": 99 })));
        assert_eq!(
            issues_of(&plan),
            ["tasks[0].fix_policy.approvals: a fix needs at most 5 approvals; this asks for 99"]
        );
    }

    #[test]
    fn a_policy_on_a_task_without_a_fix_is_an_error_naming_it() {
        let mut plan = plan_with_policies(None, None);
        plan["tasks"][2]["fix_policy"] = json!({ "approvals": 1 });
        let issues = issues_of(&plan);
        assert_eq!(issues.len(), 1, "{issues:#?}");
        assert!(
            issues[0].starts_with("tasks[2].fix_policy: this task has no \"fix\""),
            "{issues:#?}"
        );
    }

    #[test]
    fn a_malformed_policy_names_the_field_and_never_panics() {
        for (policy, expected) in [
            (json!({}), "fix_policy: missing field \"approvals\""),
            (
                json!({ "approvals": -1 }),
                "fix_policy.approvals: expected a whole number",
            ),
            (
                json!({ "approvals": "one" }),
                "fix_policy.approvals: expected a whole number",
            ),
            (
                json!({ "approvals": 1, "by": "lead" }),
                "fix_policy.by: unknown field \"by\"",
            ),
            (
                json!(1),
                "fix_policy: expected an object, found a whole number",
            ),
        ] {
            let issues = issues_of(&plan_with_policies(Some(policy.clone()), None));
            assert!(
                issues.iter().any(|issue| issue.starts_with(expected)),
                "{policy}: expected {expected:?}, got {issues:#?}"
            );
        }
    }

    #[test]
    fn adding_a_policy_does_not_make_marks_stale_or_remembered_verdicts_unusable() {
        let load =
            |plan: Value| parse_plan(plan.to_string().as_bytes(), Path::new("p.json")).unwrap();
        let without = load(plan_with_policies(None, None));
        let with = load(plan_with_policies(
            Some(json!({ "approvals": 1 })),
            Some(json!({ "approvals": 2 })),
        ));
        use crate::store::{plan_fingerprint, task_fingerprint};
        assert_eq!(
            task_fingerprint(&without.tasks[0]),
            task_fingerprint(&with.tasks[0])
        );
        assert_eq!(plan_fingerprint(&without), plan_fingerprint(&with));
    }
}
