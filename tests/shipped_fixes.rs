//! The shipped plan's fixes really fix their tasks: applied with `remtrack fix --apply`, in day
//! order, to the seed's database reality on PostgreSQL and on SQLite, each is proven and
//! committed (its guards passing on the seed) and `remtrack check` then finds its task done.
//! The code is the demo's after its code tasks are done (no `session_id` left, `api/v1` gone):
//! a fix guarded by the code waits for that, as it should.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use remtrack::demo::{REALITY_SQL, build_demo_database};
use serde_json::Value;
use support::fix::{Desk, shipped_plan, task_status};
use support::pg::{cluster, exec};

/// The demo's code once its code tasks are done: `session_id` no longer read anywhere.
fn code_after_the_code_tasks() -> PathBuf {
    static CODE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = CODE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("code");
        remtrack::demo::code::lay_out(&root).unwrap();
        for (path, text) in remtrack::demo::code::FILES {
            if path.ends_with(".py") && !path.contains("alembic") {
                std::fs::write(root.join(path), text.replace("session_id", "flow_id")).unwrap();
            }
        }
        std::fs::remove_dir_all(root.join("backend/app/api/v1")).unwrap();
        dir
    });
    dir.path().join("code")
}

/// The ids of the tasks with a fix, by day (plan order within a day).
fn tasks_with_a_fix_in_day_order(plan: &Value) -> Vec<String> {
    let mut tasks: Vec<(u64, String)> = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|task| task.get("fix").is_some())
        .map(|task| {
            let day = task["day"].as_u64().unwrap();
            (day, task["id"].as_str().unwrap().to_string())
        })
        .collect();
    tasks.sort_by_key(|(day, _)| *day);
    tasks.into_iter().map(|(_, id)| id).collect()
}

/// Applies every fix of the shipped plan in day order to `url`, checking after each.
fn apply_every_fix(url: &str, code_root: &Path) {
    let plan = shipped_plan();
    let desk = Desk::new(url, &plan).with_code_root(code_root);
    let fixes = tasks_with_a_fix_in_day_order(&plan);
    assert!(fixes.len() >= 3, "the plan ships several fixes: {fixes:?}");
    let seed = desk.check(url);
    for task in &fixes {
        assert_ne!(
            task_status(&seed, task),
            "done",
            "{task} is done on the seed already"
        );
    }

    for task in &fixes {
        desk.apply(task, "ana")
            .exits(0)
            .says("applied: committed after")
            .says("checked again after the commit:");
        let report = desk.check(url);
        let checks = report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == task.as_str())
            .map(|t| t["checks"].clone());
        assert_eq!(
            task_status(&report, task),
            "done",
            "{task} after its fix: {checks:#?}"
        );
    }
    let applied: Vec<String> = desk
        .events_of("applied")
        .iter()
        .map(|event| event["task_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(applied, fixes);
}

#[tokio::test]
async fn every_fix_applied_in_day_order_makes_its_task_done_on_postgres() {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    apply_every_fix(&url, &code_after_the_code_tasks());
}

#[tokio::test]
async fn every_fix_applied_in_day_order_makes_its_task_done_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = build_demo_database(&dir.path().join("demo.db"))
        .await
        .unwrap();
    apply_every_fix(&url, &code_after_the_code_tasks());
}

#[tokio::test]
async fn dropping_the_session_id_columns_waits_for_the_code_to_stop_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = build_demo_database(&dir.path().join("demo.db"))
        .await
        .unwrap();
    let code_as_shipped = dir.path().join("code");
    remtrack::demo::code::lay_out(&code_as_shipped).unwrap();
    let desk = Desk::new(&url, &shipped_plan()).with_code_root(&code_as_shipped);

    desk.apply("drop-session-id-columns", "ana").exits(1).says(
        "refused, nothing ran: guard no-code-reads-them fails: assets.session_id still referenced",
    );
    assert_ne!(
        task_status(&desk.check(&url), "drop-session-id-columns"),
        "done"
    );
}
