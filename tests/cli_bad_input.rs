//! Secrets, wrong URLs, odd names and huge inputs through the real binary: a clear error or a
//! correct answer, never a panic, a hang or a password on screen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};

use serde_json::json;
use support::pg::{cluster, exec};

const REALITY_SQL: &str = include_str!("../src/demo/reality.sql");

fn remtrack(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REMTRACK_STORE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn passwords_never_appear_in_reports_marks_or_logs() {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    let secret = "Sup3r-s3cret";
    let with_password = url.replacen("postgres@", &format!("postgres:{secret}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let store = format!("--store={with_password}");
    for format in ["text", "json", "junit", "markdown"] {
        let out = remtrack(
            dir.path(),
            &[
                "check",
                "--database-url",
                &with_password,
                "--format",
                format,
                &store,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", all_output(&out));
        let shown = all_output(&out);
        assert!(
            !shown.contains(secret),
            "{format} shows the password:\n{shown}"
        );
        if format != "junit" {
            assert!(
                shown.contains("postgres:***@"),
                "{format} names the database redacted:\n{shown}"
            );
        }
    }
    let runs = [
        vec![
            "verify",
            "assets-multi-phase-columns",
            "-n",
            "ok",
            "--database-url",
            &with_password,
            &store,
        ],
        vec![
            "verify",
            "drop-discovery-assets",
            "-n",
            "ok",
            "--database-url",
            &with_password,
            &store,
        ],
        vec!["log", &store],
        vec!["log", "--format", "json", &store],
    ];
    for args in runs {
        let out = remtrack(dir.path(), &args);
        let shown = all_output(&out);
        assert!(
            !shown.contains(secret),
            "{args:?} shows the password:\n{shown}"
        );
    }
    // The evidence stored with a mark names the database without its password too.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT string_agg(evidence::text || note, ' ') FROM remtrack.events")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(
        stored.contains("postgres:***@") && !stored.contains(secret),
        "{stored}"
    );
}

#[tokio::test]
async fn every_wrong_part_of_a_database_url_gets_a_clear_one_line_error() {
    let good = cluster().fresh_database().await;
    let port = cluster().port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let cases = [
        (
            "mysql://app:pw@127.0.0.1/db".to_string(),
            2,
            "expected a postgres://, postgresql:// or sqlite: URL",
        ),
        (
            "postgres://app:pw@127.0.0.1:99999/db".to_string(),
            2,
            "bad database URL",
        ),
        (
            // Nothing listens on port 1: the reason, not just "timed out".
            "postgres://app:pw@127.0.0.1:1/db".to_string(),
            3,
            "Connection refused",
        ),
        (
            "postgres://app:pw@no-such-host.invalid/db".to_string(),
            3,
            "cannot reach",
        ),
        (
            format!("postgres://postgres:pw@127.0.0.1:{port}/no_such_db"),
            3,
            "no_such_db",
        ),
        (
            format!("postgres://no_such_role:pw@127.0.0.1:{port}/postgres"),
            3,
            "no_such_role",
        ),
        ("sqlite:/no/such/dir/x.db".to_string(), 3, "cannot reach"),
        ("postgres://".to_string(), 3, "cannot reach"),
    ];
    for (url, code, expected) in cases {
        let out = remtrack(
            dir.path(),
            &["check", "--database-url", &url, "--connect-timeout", "3s"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{url}: {stderr}");
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{url}: one line, got:\n{stderr}"
        );
        assert!(!stderr.contains(":pw@"), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{url}: {stderr}");
    }
    drop(good);
}

#[tokio::test]
async fn names_with_quotes_spaces_unicode_mixed_case_and_escapes_are_checked_and_printed_safely() {
    let url = cluster().fresh_database().await;
    exec(
        &url,
        "CREATE TABLE \"we\"\"ird name\" (\"Mixed Col\" int DEFAULT 0);
         CREATE TABLE \"Ünïcödé\" (id int);
         CREATE TABLE \"evil\u{1b}[2Jname\" (id int);",
    )
    .await;
    let plan = json!({
        "version": 1, "title": "Names",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [{ "id": "names", "title": "odd names", "day": 1, "phase": "db", "priority": "high", "claimed": "done",
            "checks": [
                { "id": "quoted", "kind": "column_exists", "table": "we\"ird name", "column": "Mixed Col", "type": "int", "default": "0" },
                { "id": "unicode", "kind": "table_exists", "table": "Ünïcödé" },
                { "id": "case", "kind": "table_absent", "table": "ünïcödé" },
                { "id": "escape", "kind": "row_count", "table": "evil\u{1b}[2Jname", "equals": 1 }
            ] }],
        "risks": []
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    let out = remtrack(
        dir.path(),
        &["check", "--database-url", &url, "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = report["tasks"][0]["checks"].as_array().unwrap();
    let status: Vec<&str> = checks
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["pass", "pass", "pass", "fail"], "{checks:#?}");

    let out = remtrack(dir.path(), &["check", "--database-url", &url]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains('\u{1b}'),
        "a raw escape reached the terminal:\n{shown}"
    );
    assert!(shown.contains("\\u{1b}[2J"), "{shown}");
}

#[test]
fn a_fifty_megabyte_plan_is_read_or_refused_clearly_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(include_str!("../plan.json")).unwrap();
    plan["description"] = json!("x".repeat(50 * 1024 * 1024));
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    let out = remtrack(dir.path(), &["plan", "validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    let mut tasks = String::from("[");
    for i in 0..250_000 {
        tasks.push_str(&format!(
            "{}{{\"id\": \"t{i}\", \"title\": \"x\", \"dayy\": 1}}",
            if i == 0 { "" } else { "," }
        ));
    }
    tasks.push(']');
    let broken = format!(
        "{{\"version\": 1, \"title\": \"big\", \"days\": [], \"phases\": [], \"tasks\": {tasks}}}"
    );
    std::fs::write(dir.path().join("broken.json"), broken).unwrap();
    let out = remtrack(dir.path(), &["plan", "validate", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tasks[0].dayy: unknown field \"dayy\""),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.lines().count() < 1_000,
        "a flood of errors is cut short: {} lines",
        stderr.lines().count()
    );
}

#[test]
fn check_without_a_database_says_how_to_name_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let out = remtrack(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let said = all_output(&out);
    assert!(
        said.contains("no database to check: set DATABASE_URL or pass --database-url"),
        "{said}"
    );
}

#[test]
fn a_server_that_is_not_postgresql_says_so_in_words() {
    // An SSH server on the port: it speaks first, which PostgreSQL never does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write as _;
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let url = format!("postgres://ana@127.0.0.1:{port}/app");
    let out = remtrack(
        dir.path(),
        &["check", "--database-url", &url, "--connect-timeout", "3s"],
    );
    assert_eq!(out.status.code(), Some(3));
    let said = all_output(&out);
    assert!(
        said.contains("the server there is not PostgreSQL: it greets with \"SSH-2.0-OpenSSH_9.2\""),
        "{said}"
    );
}
