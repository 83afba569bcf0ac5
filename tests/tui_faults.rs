//! The tracker when things go wrong, in a real terminal: the database unreachable at start, a
//! check blocked by a lock (keys stay responsive), passwords never on screen or in the log, and
//! the terminal restored after a panic, SIGTERM and SIGHUP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection as _;
use support::pg::{cluster, exec};
use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_remtrack");

fn workspace_with_plan(plan: &serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    dir
}

fn shipped_plan_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["demo", "--db", "demo.db", "--check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    dir
}

fn assert_restored(tmux: &Tmux, exit_line: &str) {
    let screen = tmux.wait_for(exit_line);
    assert_eq!(
        tmux.flag("alternate_on"),
        "0",
        "not back on the normal screen:\n{screen}"
    );
    assert_eq!(tmux.flag("cursor_flag"), "1", "the cursor is still hidden");
    assert_eq!(
        tmux.flag("mouse_any_flag"),
        "0",
        "mouse reporting is still on"
    );
}

#[test]
fn the_terminal_is_restored_after_a_panic() {
    let dir = shipped_plan_workspace();
    let tmux = Tmux::start(
        dir.path(),
        &format!(
            "REMTRACK_TEST_PANIC_KEY=! {BIN} --database-url sqlite:demo.db 2>/dev/null; echo \"exited $?\"; sleep 600"
        ),
    );
    tmux.wait_for("● live");
    tmux.keys(&["!"]);
    assert_restored(&tmux, "exited 101");
}

#[test]
fn the_terminal_is_restored_after_sigterm_and_sighup() {
    for signal in ["TERM", "HUP"] {
        let dir = shipped_plan_workspace();
        let tmux = Tmux::start(
            dir.path(),
            &format!("{BIN} --database-url sqlite:demo.db; echo \"exited $?\"; sleep 600"),
        );
        tmux.wait_for("● live");
        let pid = tmux.program_pid();
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        assert_restored(&tmux, "exited 0");
    }
}

#[test]
fn an_unreachable_database_at_start_still_opens_the_plan_offline() {
    let dir = shipped_plan_workspace();
    let tmux = Tmux::start(
        dir.path(),
        &format!(
            "{BIN} --database-url postgres://ana:hunter2@127.0.0.1:1/app --connect-timeout 1s; sleep 600"
        ),
    );
    let screen = tmux.wait_for("OFFLINE");
    assert!(
        screen.contains("Day 1: Audit actual database state"),
        "the plan is there:\n{screen}"
    );
    assert!(screen.contains("127.0.0.1:1/app"), "{screen}");
    assert!(
        screen.contains("OFFLINE: Connection refused"),
        "the reason, not just a timeout:\n{screen}"
    );
    assert!(!screen.contains("hunter2"), "{screen}");
    // Keys work while offline.
    tmux.keys(&["3"]);
    tmux.wait_for("Risks, overclaims, blocked, timeline");
    tmux.keys(&["4"]);
    let log = tmux.wait_for("retrying in");
    assert!(log.contains("postgres://ana:***@127.0.0.1:1/app"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    tmux.keys(&["q"]);
    let logged = std::fs::read_to_string(dir.path().join(".remtrack/remtrack.log")).unwrap();
    assert!(
        logged.contains("127.0.0.1:1"),
        "the log file is written:\n{logged}"
    );
    assert!(!logged.contains("hunter2"), "{logged}");
}

#[tokio::test]
async fn a_locked_table_times_out_its_own_check_while_keys_stay_responsive() {
    let url = cluster().fresh_database().await;
    exec(
        &url,
        "CREATE TABLE busy (id int); INSERT INTO busy VALUES (1); CREATE TABLE calm (id int);",
    )
    .await;
    let plan = json!({
        "version": 1, "title": "Locks",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [
            { "id": "busy-rows", "title": "busy has one row", "day": 1, "phase": "db", "priority": "high",
              "checks": [{ "id": "rows", "kind": "row_count", "table": "busy", "equals": 1 }] },
            { "id": "calm-table", "title": "calm exists", "day": 1, "phase": "db", "priority": "high",
              "checks": [{ "id": "t", "kind": "table_exists", "table": "calm" }] }
        ],
        "risks": []
    });
    let dir = workspace_with_plan(&plan);
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();

    let with_password = url.replacen("postgres@", "postgres:s3cret-pw@", 1);
    let tmux = Tmux::start(
        dir.path(),
        &format!(
            "{BIN} --database-url '{with_password}' --lock-timeout 2s --statement-timeout 4s --refresh 30s; sleep 600"
        ),
    );
    tmux.wait_for("Day 1: One");
    // While the first refresh waits on the lock, the screen answers keys at once.
    let asked = Instant::now();
    tmux.keys(&["?"]);
    tmux.wait_for("Keys (j/k scroll, any other key closes)");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "help took {:?}",
        asked.elapsed()
    );
    tmux.keys(&["Escape"]);

    let screen = tmux.wait_for("error: ");
    assert!(screen.contains("lock"), "the error says why:\n{screen}");
    tmux.keys(&["j"]);
    let screen = tmux.wait_for("table public.calm exists");
    assert!(!screen.contains("s3cret-pw"), "{screen}");
    tmux.keys(&["q"]);
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    let logged = std::fs::read_to_string(dir.path().join(".remtrack/remtrack.log")).unwrap();
    assert!(!logged.contains("s3cret-pw"), "{logged}");
}

#[test]
fn a_terminal_that_goes_away_is_a_quiet_exit_that_keeps_the_note_being_typed() {
    let dir = shipped_plan_workspace();
    // The program's stderr is the pane itself, as over `ssh -t`: it dies with the terminal.
    let tmux = Tmux::start(
        dir.path(),
        &format!("{BIN} --database-url sqlite:demo.db; sleep 600"),
    );
    tmux.wait_for("● live");
    let pid = tmux.program_pid();
    tmux.keys(&["v"]);
    tmux.wait_for("Ctrl-S");
    tmux.type_text("half a note");
    tmux.wait_for("half a note");
    // The pane's terminal closes under the program, as when an SSH client is killed.
    tmux.run(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "the tracker did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(dir.path().join(".remtrack/remtrack.log")).unwrap();
    assert!(
        log.contains("the terminal is gone or hung up"),
        "one line says why it exited:\n{log}"
    );
    assert!(log.contains("half a note"), "the note is not lost:\n{log}");
    assert!(!log.contains("panic"), "{log}");
    assert!(!log.contains("tracker failed"), "{log}");
}
