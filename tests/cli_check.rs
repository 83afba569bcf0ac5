//! `remtrack check`, `plan validate`, `plan schema` and `demo` as a user runs them: the real
//! binary, real exit codes, real output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::pg::{cluster, exec};

const REALITY_SQL: &str = include_str!("../src/demo/reality.sql");

/// The demo's code tree, laid out once: the shipped plan's code checks read it.
fn demo_code() -> &'static std::path::Path {
    static CODE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    CODE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        remtrack::demo::code::lay_out(&dir.path().join("code")).unwrap();
        dir
    })
    .path()
}

fn remtrack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("REMTRACK_CODE_ROOT", demo_code().join("code"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn task<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no task {id}"))
}

#[tokio::test]
async fn check_json_against_the_seed_reality_on_postgres() {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    exec(&url, "ALTER ROLE postgres PASSWORD 'sekret-pw'").await;
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:sekret-pw@", 1);

    let out = remtrack(&[
        "check",
        "--format",
        "json",
        "--database-url",
        &with_password,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "overclaimed work must exit 1; stderr: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("sekret-pw"),
        "password leaked into the report"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();

    assert_eq!(report["backend"], "postgres");
    assert!(
        report["database"]["url"]
            .as_str()
            .unwrap()
            .contains(":***@"),
        "{}",
        report["database"]
    );
    assert_eq!(
        report["database"]["search_path"],
        serde_json::json!(["public"]),
        "the search path the verdicts were judged under"
    );
    let summary = &report["summary"];
    // The files hold a second Alembic head the database never got: the "latest migration"
    // task is overclaimed too.
    assert_eq!(summary["progress"]["database"]["done"], 4);
    assert_eq!(summary["progress"]["database"]["total"], 9);
    assert_eq!(summary["progress"]["database"]["claimed_percent"], 100);
    assert_eq!(summary["progress"]["database"]["live_percent"], 44);
    assert_eq!(summary["overclaimed"], 5);
    let latest = task(&report, "latest-migration-applied");
    assert_eq!(latest["status"], "failing");
    assert!(
        latest["checks"][1]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("1 of 4 revisions not applied: 3b1f0c2d9e77 (head)"),
        "{latest}"
    );
    assert_eq!(summary["checks"]["error"], 0);
    // The code is read beside the database: the seed's mismatch, live.
    let code_task = task(&report, "fix-session-id-in-code");
    assert_eq!(code_task["status"], "failing");
    assert!(
        code_task["checks"][0]["evidence"]
            .as_str()
            .unwrap()
            .starts_with(
                "/session_id/ still in 20 places in 12 files: backend/app/agents/crew.py:2"
            ),
        "{code_task}"
    );
    assert_eq!(summary["progress"]["code"]["total"], 6);

    let columns = task(&report, "master-flow-columns");
    assert_eq!(columns["status"], "failing");
    assert_eq!(columns["overclaimed"], true);
    assert_eq!(
        columns["checks"][0]["evidence"],
        "column current_phase missing from public.crewai_flow_state_extensions"
    );
    assert!(
        columns["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "fail")
    );

    let sessions = task(&report, "drop-data-import-sessions");
    assert_eq!(
        sessions["checks"][0]["evidence"],
        "table public.data_import_sessions still exists with 0 rows"
    );
    assert_eq!(sessions["guards"][0]["status"], "pass");
    let discovery = task(&report, "drop-discovery-assets");
    assert_eq!(discovery["guards"][0]["evidence"], "returned true");

    let drop_session_ids = task(&report, "drop-session-id-columns");
    assert_eq!(drop_session_ids["status"], "blocked");
    assert_eq!(drop_session_ids["blocked_by"][0], "fix-session-id-in-code");
    assert_eq!(
        drop_session_ids["checks"][0]["evidence"],
        "column session_id still exists in public.assets (uuid)"
    );

    for done in [
        "flow-state-extensions-table",
        "assets-multi-phase-columns",
        "import-tables-master-flow-id",
        "workflow-states-dropped",
    ] {
        assert_eq!(task(&report, done)["status"], "done", "{done}");
    }
    let risks = report["risks"].as_array().unwrap();
    assert!(risks.iter().all(|r| r["level"] == "active"), "{risks:#?}");
    assert_eq!(report["days"][0]["done"], 4);

    // Other formats come from the same data.
    let junit = text(
        &remtrack(&[
            "check",
            "--format",
            "junit",
            "--database-url",
            &with_password,
        ])
        .stdout,
    );
    assert!(
        junit.contains("<failure") && junit.contains("current_phase missing"),
        "{junit}"
    );
    assert!(!junit.contains("sekret-pw"));
    let markdown = text(
        &remtrack(&[
            "check",
            "--format",
            "markdown",
            "--database-url",
            &with_password,
        ])
        .stdout,
    );
    assert!(
        markdown.contains("## Overclaimed: claimed done, the database says no"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| Database | 44% (4/9) | 100% (9/9) |"),
        "{markdown}"
    );
}

#[tokio::test]
async fn strict_mode_fails_on_anything_not_done_and_plain_mode_passes_a_truthful_plan() {
    let url = cluster().fresh_database().await;
    exec(&url, "CREATE TABLE assets (id int)").await;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, r#"{"version": 1, "title": "t", "days": [{"day": 1, "title": "d"}], "phases": [{"id": "p", "title": "p"}],
        "tasks": [
          {"id": "a", "title": "assets exists", "day": 1, "phase": "p", "priority": "high", "claimed": "done",
           "checks": [{"id": "t", "kind": "table_exists", "table": "assets"}]},
          {"id": "b", "title": "not started", "day": 1, "phase": "p", "priority": "low", "claimed": "not_started",
           "checks": [{"id": "t", "kind": "table_exists", "table": "nope"}]}]}"#).unwrap();
    let plan = plan.to_str().unwrap();
    assert_eq!(
        remtrack(&["check", "--plan", plan, "--database-url", &url])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        remtrack(&["check", "--plan", plan, "--database-url", &url, "--strict"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn an_unreachable_database_exits_3_with_one_line_and_no_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/prod");
    let out = remtrack(&["check", "--database-url", &url, "--connect-timeout", "2s"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "remtrack: cannot reach postgres://app:***@127.0.0.1:{port}/prod"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && out.stdout.is_empty());
}

#[test]
fn a_bad_url_or_plan_exits_2() {
    let out = remtrack(&["check", "--database-url", "mysql://x:pw@h/db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected a postgres://, postgresql:// or sqlite: URL"));
    assert!(!text(&out.stderr).contains(":pw@"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"version": 1, "title": "t", "days": [], "phases": [], "tasks": [{"id": "a", "kind": 3}]}"#).unwrap();
    let out = remtrack(&[
        "check",
        "--plan",
        bad.to_str().unwrap(),
        "--database-url",
        "sqlite:x.db",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = remtrack(&["plan", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tasks[0].kind: unknown field \"kind\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("tasks[0]: missing field \"title\""),
        "{stderr}"
    );
}

#[test]
fn plan_validate_accepts_the_shipped_plan_and_schema_matches_the_committed_file() {
    let out = remtrack(&["plan", "validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("plan.json is valid: 5 days"));
    let schema = text(&remtrack(&["plan", "schema"]).stdout);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plan.schema.json")).unwrap();
    assert_eq!(schema.trim_end(), committed.trim_end());
    let example = text(&remtrack(&["plan", "example"]).stdout);
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plan.json")).unwrap();
    assert_eq!(example, shipped, "plan example prints the demo's plan");
}

#[test]
fn the_demo_shows_the_seed_picture_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = remtrack(&["demo", "--db", db.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["summary"]["progress"]["database"]["live_percent"],
        44
    );
    assert_eq!(
        report["summary"]["progress"]["database"]["claimed_percent"],
        100
    );
    assert!(db.exists(), "--db keeps the database");
    // The demo never overwrites a file.
    let again = remtrack(&["demo", "--db", db.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists"));
    // Text output carries no colour codes when NO_COLOR is set.
    let plain = remtrack(&["demo"]);
    assert!(!text(&plain.stdout).contains('\u{1b}'));
    assert!(text(&plain.stdout).contains("database work   44% live (4/9)   claimed 100% (9/9)"));
}

#[test]
fn help_never_shows_a_password_from_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(["check", "--help"])
        .env("DATABASE_URL", "postgres://app:hunter2@db/prod")
        .output()
        .unwrap();
    assert!(!text(&out.stdout).contains("hunter2"));
}

#[tokio::test]
async fn a_done_tasks_guards_do_not_apply_in_any_format() {
    // The fix was applied: data_import_sessions is gone, so its row_count guard cannot count.
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    exec(&url, "DROP TABLE data_import_sessions").await;
    let run = |format: &str| {
        let out = remtrack(&["check", "--format", format, "--database-url", &url]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    let task = task(&json, "drop-data-import-sessions");
    assert_eq!(task["status"], "done");
    assert!(task.get("guards").is_none(), "{task}");
    assert_eq!(json["summary"]["checks"]["error"], 0);

    let junit = run("junit");
    let suite = junit
        .lines()
        .find(|l| l.contains("testsuite ") && l.contains("drop-data-import-sessions"))
        .unwrap_or_else(|| panic!("{junit}"));
    assert!(suite.contains("errors=\"0\""), "{suite}");
    assert!(!junit.contains("cannot count rows"), "{junit}");
    assert!(!run("text").contains("cannot count rows"));
    assert!(!run("markdown").contains("cannot count rows"));
}

#[test]
fn a_server_that_refuses_is_not_called_unreachable() {
    let url = cluster().url("no_such_database");
    let out = remtrack(&["check", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("refused the connection: database \"no_such_database\" does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot reach"), "{stderr}");
}

#[tokio::test]
async fn a_libpq_key_value_connection_string_works_as_psql_takes_it() {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    let parsed = url::Url::parse(&url).unwrap();
    let conninfo = format!(
        "host={} port={} dbname={} user=postgres password='se cret'",
        parsed.host_str().unwrap(),
        parsed.port().unwrap(),
        parsed.path().trim_start_matches('/')
    );
    let out = remtrack(&["check", "--format", "json", "--database-url", &conninfo]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(report["summary"]["overclaimed"], 5);
    let shown = report["database"]["url"].as_str().unwrap();
    assert!(
        shown.starts_with("postgres://postgres:***@127.0.0.1:"),
        "{shown}"
    );
    assert!(!text(&out.stdout).contains("se cret") && !text(&out.stdout).contains("se%20cret"));
}

#[tokio::test]
async fn a_service_name_reaches_the_database_psql_reaches_with_it() {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    let parsed = url::Url::parse(&url).unwrap();
    let db = parsed.path().trim_start_matches('/').to_string();
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("pg_service.conf");
    std::fs::write(
        &services,
        format!(
            "# as psql reads it\n[elsewhere]\nhost=192.0.2.1\n\n  [remtrack_test]\nhost={}\n  port={}  \n\
             dbname=postgres\nuser=postgres\n[spaced]\nport = 5432\n",
            parsed.host_str().unwrap(),
            parsed.port().unwrap(),
        ),
    )
    .unwrap();
    let with_services = |program: &std::path::Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .env("PGSERVICEFILE", &services)
            .env("PGSYSCONFDIR", dir.path().join("none"))
            .env_remove("DATABASE_URL")
            .env_remove("PGSERVICE")
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    // psql is the oracle: the service, with dbname given beside it (which wins), reaches `db`.
    let conninfo = format!("service=remtrack_test dbname={db}");
    let psql = with_services(
        &cluster().psql(),
        &["-XAt", "-d", &conninfo, "-c", "select current_database()"],
    );
    assert_eq!(text(&psql.stdout).trim(), db, "{}", text(&psql.stderr));
    let out = with_services(
        std::path::Path::new(env!("CARGO_BIN_EXE_remtrack")),
        &["check", "--format", "json", "--database-url", &conninfo],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(report["summary"]["overclaimed"], 4);
    assert!(
        report["database"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{db}")),
        "{report}"
    );

    // A service no file defines, and one psql calls a syntax error: psql refuses both, and so
    // does remtrack, saying where it looked or which line is wrong.
    for (service, says) in [
        ("service=nope", "service \"nope\" is not defined"),
        ("service=spaced", "pg_service.conf, line 11"),
    ] {
        let psql = with_services(
            &cluster().psql(),
            &["-XAt", "-d", service, "-c", "select 1"],
        );
        assert!(!psql.status.success(), "{service}");
        let out = with_services(
            std::path::Path::new(env!("CARGO_BIN_EXE_remtrack")),
            &["check", "--database-url", service],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(says) && stderr.contains("pg_service.conf"),
            "{stderr}"
        );
    }
}

#[test]
fn a_kept_demo_says_how_to_open_it_again_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(["demo", "--db", "kept.db", "--check"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    let hint = said
        .lines()
        .find(|l| l.trim_start().starts_with("remtrack --database-url"))
        .unwrap_or_else(|| panic!("{said}"));
    let db = dir.path().join("kept.db");
    assert!(
        hint.contains(&format!("sqlite:{}", db.display())),
        "the database path is absolute: {hint}"
    );
    assert!(hint.contains("remtrack plan example > plan.json"), "{hint}");

    // The hint works from another folder, once the plan is written out as it says.
    let elsewhere = tempfile::tempdir().unwrap();
    let plan = Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(["plan", "example"])
        .output()
        .unwrap();
    std::fs::write(elsewhere.path().join("plan.json"), plan.stdout).unwrap();
    let args: Vec<&str> = hint
        .split("  (")
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .collect();
    let again = Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(["check"])
        .args(&args[..args.len() - 2])
        .args(["--plan", "plan.json"])
        .current_dir(elsewhere.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("44% live"),
        "the kept code is read again too: {}",
        text(&again.stdout)
    );
}

#[test]
fn check_code_only_needs_no_database_and_fails_strict_ci_while_the_code_is_not_done() {
    let code = demo_code().join("code");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--code-only",
            "--code-root",
            code.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        remtrack(&args)
    };
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing claimed done is failing: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("checked the code only (no database)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("/session_id/ still in 20 places in 12 files"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("crewai_flow_state_extensions"),
        "database tasks are left out: {stdout}"
    );
    let strict = run(&["--strict", "--format", "junit"]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(
        text(&strict.stdout).contains("backend/app/api/v1 still exists"),
        "{}",
        text(&strict.stdout)
    );
}

#[test]
fn plan_paths_that_leave_the_code_root_are_refused_at_validation() {
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({
        "version": 1, "title": "t",
        "code": {"root": "/"},
        "days": [{"day": 1, "title": "d"}], "phases": [{"id": "p", "title": "p"}],
        "tasks": [{"id": "t", "title": "t", "day": 1, "phase": "p", "priority": "high", "checks": [
            {"id": "a", "kind": "path_absent", "path": "../../etc/passwd"},
            {"id": "b", "kind": "code_absent", "literal": "x", "paths": ["/etc/**"]},
            {"id": "c", "kind": "code_absent", "pattern": "(unclosed"},
            {"id": "d", "kind": "code_present", "literal": "x", "pattern": "y"},
            {"id": "e", "kind": "migrations_applied", "tool": "liquibase", "dir": "db"}
        ]}]
    });
    let file = dir.path().join("plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let out = remtrack(&["plan", "validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    for expected in [
        "tasks[0].checks[0].path: \"../../etc/passwd\" leaves the code root",
        "tasks[0].checks[1].paths[0]: \"/etc/**\" is not relative to the code root",
        "tasks[0].checks[2].pattern: not a regular expression remtrack can use",
        "code_present takes \"pattern\" or \"literal\", not both",
        "tasks[0].checks[4].tool: \"liquibase\" is not one of alembic, golang-migrate, flyway, sqitch",
        "code.root: \"/\" is absolute",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
}

#[test]
fn plan_validate_for_sqlite_warns_about_checks_that_cannot_exist_there() {
    let dir = tempfile::tempdir().unwrap();
    let plan = serde_json::json!({
        "version": 1, "title": "t",
        "days": [{"day": 1, "title": "d"}], "phases": [{"id": "p", "title": "p"}],
        "tasks": [{"id": "add-enum", "title": "t", "day": 1, "phase": "p", "priority": "high", "checks": [
            {"id": "labels", "kind": "enum_values", "type": "status", "values": ["a"]},
            {"id": "fk", "kind": "constraint_exists", "table": "t", "type": "foreign_key"}
        ], "fix": {"sql": "select 1", "guards": [
            {"id": "grant", "kind": "privilege", "role": "r", "table": "t", "privileges": ["SELECT"], "has": true}
        ]}}]
    });
    let file = dir.path().join("plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let out = remtrack(&[
        "plan",
        "validate",
        "--backend",
        "sqlite",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings do not fail validation"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: tasks[0].checks[0] (add-enum/labels): enum types do not exist on SQLite: this enum_values check will be an error there"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "warning: tasks[0].fix.guards[0] (add-enum/grant): privileges do not exist on SQLite"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("(add-enum/fk)"), "{stderr}");
    let out = remtrack(&[
        "plan",
        "validate",
        "--backend",
        "postgres",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}
