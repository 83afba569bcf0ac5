//! The last apply of each task's fix on the checked database, from the store's events: who, when
//! and how it ended, in every report format.

use serde::Serialize;

use super::{Report, TaskReport};
use crate::printable::one_line;
use crate::store::{ApplyOutcome, Event, last_apply, utc_text};

/// The latest `applied` or `apply_failed` event of a task on the checked database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastApplyReport {
    pub actor: String,
    /// UTC, to the second.
    pub at: String,
    pub outcome: ApplyOutcome,
    /// The database's identity (no user, no password).
    pub database: String,
    /// Why it did not commit; absent for an apply that did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Report {
    /// Each task's last apply on `database` (the checked URL, redacted or not), from the store's
    /// events oldest first.
    pub fn with_last_applies(mut self, events: &[Event], database: &str) -> Self {
        for task in &mut self.tasks {
            task.last_apply = last_apply(events, &task.id, database).map(|last| LastApplyReport {
                actor: last.actor,
                at: utc_text(last.at),
                outcome: last.outcome,
                database: last.database,
                reason: last.reason,
            });
        }
        self
    }
}

impl TaskReport {
    /// "last apply: ana at 2026-12-08T10:00:00Z — applied" (or "— failed: why"); empty without
    /// one.
    pub fn last_apply_text(&self) -> String {
        let Some(last) = &self.last_apply else {
            return String::new();
        };
        let reason = one_line(last.reason.as_deref().unwrap_or("no reason recorded"));
        let ended = match last.outcome {
            ApplyOutcome::Applied => "applied".to_string(),
            ApplyOutcome::RolledBack => format!("failed: {reason}"),
            ApplyOutcome::Refused => format!("refused: {reason}"),
            ApplyOutcome::Unknown => format!("outcome unknown, recheck: {reason}"),
        };
        format!(
            "last apply: {} at {} — {ended}",
            one_line(&last.actor),
            last.at
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;
    use crate::check::{Refresh, TaskVerdicts, Verdict, Verdicts};
    use crate::plan::parse_plan;
    use crate::status::{Marks, derive};
    use crate::store::EventKind;

    const DB: &str = "postgres://ana:***@db.example.com/app";

    fn report(events: &[Event]) -> Report {
        let plan = json!({
            "version": 1, "title": "T",
            "days": [{ "day": 1, "title": "One" }],
            "phases": [{ "id": "db", "title": "DB" }],
            "tasks": [
                { "id": "fixed", "title": "Fixed", "day": 1, "phase": "db", "priority": "high",
                  "checks": [{ "id": "a", "kind": "table_exists", "table": "t" }],
                  "fix": { "sql": "CREATE TABLE t (id int)" } },
                { "id": "broken", "title": "Broken", "day": 1, "phase": "db", "priority": "high",
                  "checks": [{ "id": "b", "kind": "table_exists", "table": "u" }],
                  "fix": { "sql": "CREATE TABLE u (id int)" } },
                { "id": "untouched", "title": "Untouched", "day": 1, "phase": "db", "priority": "low",
                  "checks": [{ "id": "c", "kind": "table_exists", "table": "v" }] }
            ]
        });
        let plan = parse_plan(plan.to_string().as_bytes(), Path::new("p.json")).unwrap();
        let verdicts = Verdicts {
            tasks: vec![
                TaskVerdicts {
                    checks: vec![Verdict::pass("table t exists")],
                    guards: vec![],
                },
                TaskVerdicts {
                    checks: vec![Verdict::fail("table u is missing")],
                    guards: vec![],
                },
                TaskVerdicts {
                    checks: vec![Verdict::pass("table v exists")],
                    guards: vec![],
                },
            ],
        };
        let refresh = Refresh {
            verdicts,
            checked_at: datetime!(2026-12-08 11:00 UTC),
            duration: std::time::Duration::from_millis(9),
            queries: 3,
            search_path: Default::default(),
        };
        let marks = Marks::new();
        let status = derive(&plan, Some(&refresh.verdicts), &marks);
        Report::build(&plan, "p.json", DB, &refresh, &status, &marks)
            .with_backend(crate::Backend::Postgres)
            .with_last_applies(events, DB)
    }

    fn event(id: i64, task: &str, kind: EventKind, evidence: Value) -> Event {
        Event {
            id,
            task_id: task.into(),
            kind,
            actor: "ana".into(),
            at: datetime!(2026-12-08 10:00:00.25 UTC) + time::Duration::minutes(id),
            note: String::new(),
            evidence,
            fingerprint: "sha256:f".into(),
        }
    }

    fn history() -> Vec<Event> {
        let here = json!({ "database": DB, "outcome": "applied" });
        vec![
            event(
                0,
                "fixed",
                EventKind::ApplyFailed,
                json!({ "database": DB, "outcome": "rolled_back", "reason": "guard g fails" }),
            ),
            event(1, "fixed", EventKind::Applied, here.clone()),
            event(2, "broken", EventKind::Applied, here),
            event(
                3,
                "broken",
                EventKind::ApplyFailed,
                json!({
                "database": DB, "outcome": "rolled_back",
                "reason": "check b fails inside the transaction: table u is missing" }),
            ),
            // Elsewhere: not this report's database.
            event(
                4,
                "untouched",
                EventKind::Applied,
                json!({ "database": "postgres://x@staging/app" }),
            ),
        ]
    }

    #[test]
    fn each_task_carries_its_last_apply_on_the_checked_database() {
        let report = report(&history());
        let last: Vec<String> = report
            .tasks
            .iter()
            .map(TaskReport::last_apply_text)
            .collect();
        assert_eq!(
            last,
            [
                "last apply: ana at 2026-12-08T10:01:00Z — applied",
                "last apply: ana at 2026-12-08T10:03:00Z — failed: check b fails inside the transaction: table u is missing",
                "",
            ]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["tasks"][0]["last_apply"],
            json!({ "actor": "ana", "at": "2026-12-08T10:01:00Z", "outcome": "applied",
                    "database": "postgres://db.example.com:5432/app" })
        );
        assert_eq!(json["tasks"][1]["last_apply"]["outcome"], "rolled_back");
        assert_eq!(
            json["tasks"][1]["last_apply"]["reason"],
            "check b fails inside the transaction: table u is missing"
        );
        assert_eq!(json["tasks"][2]["last_apply"], Value::Null);
    }

    #[test]
    fn the_text_report_shows_the_last_apply_under_its_task() {
        let text = anstream::adapter::strip_str(&crate::report::render_text(&report(&history())))
            .to_string();
        assert!(
            text.contains("[fixed]\n      last apply: ana at 2026-12-08T10:01:00Z — applied\n"),
            "{text}"
        );
        assert!(
            text.contains("[broken]\n      last apply: ana at 2026-12-08T10:03:00Z — failed: check b fails inside the transaction: table u is missing\n      ✗ b: table u is missing\n"),
            "{text}"
        );
        assert!(!text.contains("[untouched]\n      last apply"), "{text}");
        let plain = crate::report::render_text(&report(&[]));
        assert!(!plain.contains("last apply"), "{plain}");
    }

    #[test]
    fn the_markdown_report_shows_it_in_the_status_cell() {
        let markdown = crate::report::render_markdown(&report(&history()));
        assert!(
            markdown.contains(
                "| done<br>last apply: ana at 2026-12-08T10:01:00Z — applied | Fixed `fixed` |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("| failing<br>last apply: ana at 2026-12-08T10:03:00Z — failed: check b fails inside the transaction: table u is missing | Broken `broken` |"),
            "{markdown}"
        );
    }

    #[test]
    fn the_junit_report_gives_each_suite_its_last_apply() {
        let junit = crate::report::render_junit(&report(&history()));
        assert!(
            junit.contains(r#"<property name="remtrack.last_apply" value="rolled_back"/>"#),
            "{junit}"
        );
        assert!(
            junit.contains(
                "<system-out>last apply: ana at 2026-12-08T10:01:00Z — applied</system-out>"
            ),
            "{junit}"
        );
        assert_eq!(junit.matches("remtrack.last_apply").count(), 2, "{junit}");
    }

    #[test]
    fn an_unknown_outcome_and_a_refusal_say_so() {
        let events = [
            event(
                1,
                "broken",
                EventKind::ApplyFailed,
                json!({ "database": DB, "outcome": "unknown", "reason": "connection lost at COMMIT" }),
            ),
            event(
                2,
                "fixed",
                EventKind::ApplyFailed,
                json!({ "database": DB, "outcome": "refused" }),
            ),
        ];
        let report = report(&events);
        assert_eq!(
            report.tasks[1].last_apply_text(),
            "last apply: ana at 2026-12-08T10:01:00Z — outcome unknown, recheck: connection lost at COMMIT"
        );
        assert_eq!(
            report.tasks[0].last_apply_text(),
            "last apply: ana at 2026-12-08T10:02:00Z — refused: no reason recorded"
        );
    }
}
