//! The database dies mid-session and comes back: the tracker shows it offline within a refresh,
//! keeps the last verdicts marked old, and goes live again by itself. It stops and restarts the
//! test cluster, so it lives in a file of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::pg::{cluster, exec};
use support::tmux::Tmux;

#[tokio::test]
async fn the_tracker_rides_out_a_database_restart() {
    let url = cluster().fresh_database().await;
    exec(&url, "CREATE TABLE calm (id int);").await;
    let plan = json!({
        "version": 1, "title": "Restart",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [{ "id": "calm-table", "title": "calm exists", "day": 1, "phase": "db", "priority": "high",
                    "checks": [{ "id": "t", "kind": "table_exists", "table": "calm" }] }],
        "risks": []
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    let tmux = Tmux::start(
        dir.path(),
        &format!(
            "{} --database-url '{url}' --refresh 1s --connect-timeout 1s; sleep 600",
            env!("CARGO_BIN_EXE_remtrack")
        ),
    );
    tmux.wait_for("● live");
    tmux.wait_for("✓ done");

    tokio::task::spawn_blocking(|| cluster().stop())
        .await
        .unwrap();
    let screen = tmux.wait_for("OFFLINE");
    tmux.wait_for("(old)");
    assert!(
        screen.contains("calm-table"),
        "the plan stays on screen:\n{screen}"
    );
    tmux.keys(&["4"]);
    tmux.wait_for("retrying in");

    tokio::task::spawn_blocking(|| cluster().start())
        .await
        .unwrap();
    let screen = tmux.wait_for("database is back");
    assert!(screen.contains("● live"), "{screen}");
    tmux.keys(&["q"]);
}
