//! `remtrack verify`, `unverify`, `note` and `log`, and verifications in `remtrack check`: the
//! real binary against the demo database, with the store beside a copy of the plan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod support;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A directory with the shipped plan and a fresh demo database.
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
            dir.path().join("plan.json"),
        )
        .unwrap();
        let workspace = Workspace { dir };
        let built = workspace.run(&["demo", "--db", "demo.db", "--check"]);
        assert!(built.status.code() == Some(1), "{}", text(&built.stderr));
        workspace
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_remtrack"))
            .args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", "sqlite:demo.db")
            .env("REMTRACK_USER", "ana")
            .env_remove("REMTRACK_STORE")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn verifying_a_passing_task_records_who_when_and_the_evidence() {
    let ws = Workspace::new();
    let out = ws.run(&[
        "verify",
        "assets-multi-phase-columns",
        "--note",
        "looked in psql",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("verified assets-multi-phase-columns as ana at "));
    assert!(ws.dir.path().join(".remtrack/state.db").exists());

    let log = ws.run(&["log", "--format", "json"]);
    let events: Value = serde_json::from_slice(&log.stdout).unwrap();
    let event = &events[0];
    assert_eq!(event["actor"], "ana");
    assert_eq!(event["kind"], "verified");
    assert_eq!(event["note"], "looked in psql");
    assert_eq!(event["evidence"]["all_pass"], true);
    assert_eq!(event["evidence"]["checks"].as_array().unwrap().len(), 3);
    assert!(event["at"].as_str().unwrap().ends_with('Z'));

    let report = ws.run(&["check", "--format", "json"]);
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let task = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "assets-multi-phase-columns")
        .unwrap();
    assert_eq!(task["verification"]["state"], "verified");
    assert_eq!(task["verification"]["by"], "ana");
    let text_report = text(&ws.run(&["check"]).stdout);
    assert!(text_report.contains("verified by ana at "), "{text_report}");
}

#[test]
fn verifying_a_failing_task_is_refused_with_the_failing_evidence() {
    let ws = Workspace::new();
    let out = ws.run(&["verify", "drop-discovery-assets", "--note", "trust me"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot verify: 1 check is not passing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("table discovery_assets still exists with 3 rows"),
        "{stderr}"
    );
    assert!(text(&ws.run(&["log"]).stdout).contains("no verifications recorded yet"));
}

#[test]
fn manual_tasks_need_a_note_and_unverify_needs_one_too() {
    let ws = Workspace::new();
    let out = ws.run(&["verify", "integration-tests"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing note is bad usage (exit 2), as for unverify and note"
    );
    assert!(text(&out.stderr).contains("manual task has no checks: write a note"));
    let out = ws.run(&[
        "verify",
        "integration-tests",
        "-n",
        "ran the suite: 212 passed",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = ws.run(&["unverify", "integration-tests"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs a note saying why"));
    let out = ws.run(&["unverify", "integration-tests", "-n", "flaky after all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = ws.run(&["unverify", "integration-tests", "-n", "again"]);
    assert_eq!(out.status.code(), Some(1), "nothing to withdraw");

    let log = text(&ws.run(&["log", "--task", "integration-tests"]).stdout);
    let kinds: Vec<&str> = log
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(kinds, ["unverified", "verified"], "newest first:\n{log}");
    assert!(log.contains("    flaky after all"));
}

#[test]
fn an_unknown_task_suggests_the_nearest_id() {
    let ws = Workspace::new();
    let out = ws.run(&["verify", "integration-test", "-n", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean \"integration-tests\"?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unreachable_store_keeps_the_note_on_screen() {
    let ws = Workspace::new();
    let out = ws.run(&[
        "note",
        "integration-tests",
        "-n",
        "a long careful note",
        "--store",
        "postgres://ana:hunter2@127.0.0.1:1/remtrack",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("cannot open the verification store postgres://ana:***@127.0.0.1:1/remtrack"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing was recorded; your note was: a long careful note"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn a_verified_task_whose_checks_fail_later_is_regressed_in_every_report() {
    let ws = Workspace::new();
    let out = ws.run(&[
        "verify",
        "workflow-states-dropped",
        "--note",
        "table is gone",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Someone restores the legacy table behind the team's back.
    let db = ws.dir.path().join("demo.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE workflow_states (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });

    let json = ws.run(&["check", "--format", "json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["summary"]["regressed"], 1, "{report:#}");
    let task = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "workflow-states-dropped")
        .unwrap();
    assert_eq!(task["verification"]["state"], "regressed");
    assert_eq!(task["verification"]["by"], "ana");

    let plain = text(&ws.run(&["check"]).stdout);
    assert!(
        plain.contains("Regressed: 1 task verified by a person whose checks fail now"),
        "{plain}"
    );
    assert!(plain.contains("REGRESSED: verified by ana at "), "{plain}");

    let markdown = text(&ws.run(&["check", "--format", "markdown"]).stdout);
    assert!(
        markdown.contains("## Regressed: verified by a person, failing now"),
        "{markdown}"
    );
    assert!(
        markdown.contains("table workflow_states still exists"),
        "{markdown}"
    );
}

#[test]
fn a_verification_belongs_to_the_database_it_was_made_against() {
    let ws = Workspace::new();
    let out = ws.run(&["verify", "workflow-states-dropped", "--note", "gone"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let built = ws.run(&["demo", "--db", "staging.db", "--check"]);
    assert_eq!(built.status.code(), Some(1), "{}", text(&built.stderr));

    let verification_on = |url: &str| {
        let out = ws.run(&["check", "--format", "json", "--database-url", url]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "workflow-states-dropped")
            .unwrap()["verification"]
            .clone()
    };
    let absolute = format!("sqlite:{}", ws.dir.path().join("demo.db").display());
    assert_eq!(
        verification_on(&absolute)["by"],
        "ana",
        "same file, spelled another way"
    );
    assert_eq!(
        verification_on("sqlite:staging.db"),
        Value::Null,
        "a mark on one database says nothing about another"
    );

    let refused = ws.run(&[
        "unverify",
        "workflow-states-dropped",
        "--note",
        "wrong db",
        "--database-url",
        "sqlite:staging.db",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("is not verified"));
}

#[test]
fn junit_passes_a_verified_manual_task_and_skips_an_unverified_one() {
    let ws = Workspace::new();
    let out = ws.run(&[
        "verify",
        "integration-tests",
        "--note",
        "CI run 4812: 212 passed",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let junit = text(&ws.run(&["check", "--format", "junit"]).stdout);
    let case = |name: &str| {
        let start = junit
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("no test case {name}:\n{junit}"));
        let end = junit[start..]
            .find("</testcase>")
            .map_or(junit.len(), |e| start + e);
        junit[start..end].to_string()
    };
    let verified = case("integration-tests/verified");
    assert!(!verified.contains("<skipped"), "{verified}");
    assert!(verified.contains("verified by ana"), "{verified}");
    let open = case("websocket-system/verified");
    assert!(
        open.contains("<skipped") && open.contains("not yet verified by a person"),
        "{open}"
    );
}

/// The README's grants, exactly as written, on a shared PostgreSQL store: a marking role and a
/// read-only checking role can use a store an owner prepared, without trying to prepare it.
#[tokio::test]
async fn the_documented_store_grants_are_enough() {
    use support::pg::{cluster, exec};
    let ws = Workspace::new();
    let db = cluster().fresh_database().await;
    let name = db.rsplit('/').next().unwrap().to_string();
    let as_role =
        |role: &str| db.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);

    // The owner's first use prepares schema remtrack.
    let out = ws.run(&[
        "note",
        "drop-discovery-assets",
        "--note",
        "owner was here",
        "--store",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    exec(
        &db,
        &format!(
            "CREATE ROLE marker LOGIN;
             CREATE ROLE checker LOGIN;
             ALTER ROLE checker SET default_transaction_read_only = on;
             GRANT CONNECT ON DATABASE \"{name}\" TO marker, checker;
             -- As the README says, for a role that marks:
             GRANT USAGE ON SCHEMA remtrack TO marker;
             GRANT SELECT, INSERT ON remtrack.events TO marker;
             GRANT SELECT, INSERT, UPDATE ON remtrack.last_refresh TO marker;
             -- and for a role that only reads:
             GRANT USAGE ON SCHEMA remtrack TO checker;
             GRANT SELECT ON remtrack.events, remtrack.last_refresh TO checker;"
        ),
    )
    .await;

    let marked = ws.run(&[
        "verify",
        "integration-tests",
        "--note",
        "CI run 4812",
        "--store",
        &as_role("marker"),
    ]);
    assert_eq!(marked.status.code(), Some(0), "{}", text(&marked.stderr));

    let checked = ws.run(&["check", "--format", "json", "--store", &as_role("checker")]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked.stderr));
    let report: Value = serde_json::from_str(&text(&checked.stdout)).unwrap();
    let task = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "integration-tests")
        .unwrap();
    assert_eq!(
        task["verification"]["by"], "ana",
        "the reader sees the mark"
    );

    let refused = ws.run(&[
        "note",
        "integration-tests",
        "--note",
        "from the reader",
        "--store",
        &as_role("checker"),
    ]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(!stderr.contains("cannot prepare schema"), "{stderr}");
    assert!(
        stderr.contains("from the reader"),
        "the note is printed back: {stderr}"
    );
}

/// Records what the write path would for `master-flow-columns` on the workspace's demo database:
/// a request, an approval, a failed apply, then an apply that passed all its checks.
fn record_fix_events(ws: &Workspace) {
    use remtrack::store::{EventKind, NewEvent, Store, StoreLocation};
    use serde_json::json;
    let database = format!("sqlite:{}", ws.dir.path().join("demo.db").display());
    let plan = remtrack::plan::load_plan(&ws.dir.path().join("plan.json")).unwrap();
    let task = plan.task("master-flow-columns").unwrap();
    let fingerprint = remtrack::store::fix_fingerprint(task, remtrack::Backend::Sqlite).unwrap();
    let after = json!({ "database": database, "all_pass": true,
        "checks": task.checks.iter().map(|c| json!({ "id": c.id, "status": "pass" })).collect::<Vec<_>>() });
    // As the write path words it: the reason in the evidence, restated in the note.
    let reason = "check current-phase fails inside the transaction: type would be varchar(100), expected varchar(50)";
    let not_applied = format!("not applied ({reason})");
    let events = [
        (
            EventKind::ApprovalRequested,
            "ana",
            "for tonight's window",
            json!({ "database": database, "dry_run": after }),
        ),
        (
            EventKind::Approved,
            "bob",
            "dry run 7 of 7\nchecked the backup first",
            json!({ "database": database, "dry_run": after, "role": null }),
        ),
        (
            EventKind::ApplyFailed,
            "ana",
            &not_applied,
            json!({ "database": database, "backend": "sqlite", "sql": "…",
            "statements": [], "dry_run": after, "after": null, "duration_ms": 80,
            "outcome": "rolled_back", "reason": reason, "approvers": ["bob"] }),
        ),
        (
            EventKind::Applied,
            "ana",
            "",
            json!({ "database": database, "backend": "sqlite", "sql": "…",
            "statements": [{ "sql": "…", "rows": 0 }], "dry_run": after, "after": after, "duration_ms": 1234,
            "outcome": "applied", "reason": null, "approvers": ["bob"] }),
        ),
    ];
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&StoreLocation::beside_plan(
            &ws.dir.path().join("plan.json"),
        ))
        .await
        .unwrap();
        for (minute, (kind, actor, note, evidence)) in events.into_iter().enumerate() {
            store
                .append(NewEvent {
                    task_id: "master-flow-columns".into(),
                    kind,
                    actor: actor.into(),
                    at: time::macros::datetime!(2026-12-08 10:00 UTC)
                        + time::Duration::minutes(minute as i64),
                    note: note.into(),
                    evidence,
                    fingerprint: fingerprint.clone(),
                })
                .await
                .unwrap();
        }
        store.close().await;
    });
}

#[test]
fn the_log_tells_applies_and_approvals_in_plain_words() {
    let ws = Workspace::new();
    record_fix_events(&ws);
    let out = ws.run(&["log", "--task", "master-flow-columns"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = text(&out.stdout);
    let identity = format!(
        "sqlite:{}",
        ws.dir
            .path()
            .join("demo.db")
            .canonicalize()
            .unwrap()
            .display()
    );
    let expected = format!(
        "\
2026-12-08T10:03:00Z  ana applied the fix to master-flow-columns (7 of 7 checks pass after, 1.2 s, approved by bob)
    on {identity}
2026-12-08T10:02:00Z  ana's apply of master-flow-columns failed: check current-phase fails inside the transaction: type would be varchar(100), expected varchar(50)
    on {identity}
2026-12-08T10:01:00Z  bob approved the fix of master-flow-columns: dry run 7 of 7
    on {identity}
    checked the backup first
2026-12-08T10:00:00Z  ana asks for approval of master-flow-columns's fix: for tonight's window
    on {identity}
"
    );
    assert_eq!(log, expected);

    let json = ws.run(&["log", "--format", "json"]);
    let events: Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["applied", "apply_failed", "approved", "approval_requested"]
    );
    assert_eq!(events[0]["evidence"]["duration_ms"], 1234);
    assert_eq!(events[0]["evidence"]["approvers"][0], "bob");
    assert_eq!(events[1]["evidence"]["outcome"], "rolled_back");
    assert!(
        events[1]["note"]
            .as_str()
            .unwrap()
            .starts_with("not applied (check current-phase")
    );
}

#[test]
fn every_report_shows_the_last_apply_of_a_task_on_the_checked_database() {
    let ws = Workspace::new();
    record_fix_events(&ws);
    let line = "last apply: ana at 2026-12-08T10:03:00Z — applied";

    let plain = text(&ws.run(&["check"]).stdout);
    let lines: Vec<&str> = plain.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("      {line}"))
        .expect(&plain);
    assert!(
        lines[at - 1].contains("[master-flow-columns]"),
        "under its task:\n{plain}"
    );
    assert_eq!(plain.matches("last apply:").count(), 1, "{plain}");

    let json = ws.run(&["check", "--format", "json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let tasks = report["tasks"].as_array().unwrap();
    let task = tasks
        .iter()
        .find(|t| t["id"] == "master-flow-columns")
        .unwrap();
    assert_eq!(task["last_apply"]["actor"], "ana");
    assert_eq!(task["last_apply"]["at"], "2026-12-08T10:03:00Z");
    assert_eq!(task["last_apply"]["outcome"], "applied");
    assert!(
        task["last_apply"]["database"]
            .as_str()
            .unwrap()
            .ends_with("/demo.db")
    );
    assert!(
        tasks
            .iter()
            .filter(|t| t["id"] != "master-flow-columns")
            .all(|t| t["last_apply"].is_null())
    );

    let markdown = text(&ws.run(&["check", "--format", "markdown"]).stdout);
    assert!(markdown.contains(&format!("<br>{line} |")), "{markdown}");
    let junit = text(&ws.run(&["check", "--format", "junit"]).stdout);
    assert!(
        junit.contains(r#"<property name="remtrack.last_apply" value="applied"/>"#),
        "{junit}"
    );
    assert!(
        junit.contains(&format!("<system-out>{line}</system-out>")),
        "{junit}"
    );

    // Checked against another database, the apply on the demo database is not this one's.
    let other = ws.dir.path().join("other.db");
    std::fs::copy(ws.dir.path().join("demo.db"), &other).unwrap();
    let elsewhere = ws.run(&[
        "check",
        "--database-url",
        &format!("sqlite:{}", other.display()),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&elsewhere.stdout).unwrap();
    assert!(
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["last_apply"].is_null()),
        "{}",
        text(&elsewhere.stderr)
    );
}
