//! The real binary driven in tmux at 80×24 against the demo database, as a person would: move,
//! read the detail, be refused on a failing task, verify a passing one with a note, quit; then
//! the mark is in the store and the terminal is restored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::tmux::Tmux;

fn remtrack(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(args)
        .current_dir(dir)
        .env_remove("REMTRACK_STORE")
        .output()
        .unwrap()
}

#[test]
fn a_person_verifies_in_the_tracker_and_the_mark_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    assert_eq!(
        remtrack(dir.path(), &["demo", "--db", "demo.db", "--check"])
            .status
            .code(),
        Some(1)
    );

    let command = format!(
        "{} --database-url sqlite:demo.db --as ana --refresh 2s; echo \"remtrack exited with $?\"; sleep 600",
        env!("CARGO_BIN_EXE_remtrack")
    );
    let tmux = Tmux::start(dir.path(), &command);
    tmux.wait_for("● live");
    assert_eq!(
        tmux.flag("alternate_on"),
        "1",
        "the tracker uses the alternate screen"
    );

    // Day 2, first task: its detail shows the failing evidence, and verifying it is refused.
    tmux.keys(&["l"]);
    tmux.wait_for("Day 2: Complete pending database migrations");
    // The frame may still be on its way: wait for the detail rather than read the first one.
    let screen = tmux.wait_for("column current_phase missing from");
    assert!(screen.contains("OVERCLAIMED"), "{screen}");
    tmux.keys(&["v"]);
    tmux.wait_for("cannot verify: 7 checks are not passing");
    tmux.keys(&["Escape"]);

    // Day 1, second task: all checks pass; verify it with a note.
    tmux.keys(&["h", "j", "v"]);
    tmux.wait_for("Verify assets-multi-phase-columns");
    tmux.type_text("looked at \\d assets in psql");
    tmux.keys(&["Enter"]);
    tmux.type_text("all three columns there");
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("★ verified by ana");
    assert!(
        screen.contains("verified assets-multi-phase-columns"),
        "{screen}"
    );

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("remtrack exited with 0");
    assert_eq!(
        tmux.flag("alternate_on"),
        "0",
        "back on the normal screen:\n{screen}"
    );
    assert_eq!(tmux.flag("cursor_flag"), "1", "the cursor is visible again");
    assert_eq!(
        tmux.flag("mouse_any_flag"),
        "0",
        "mouse reporting is off again"
    );

    let log = remtrack(dir.path(), &["log", "--format", "json"]);
    let events: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["task_id"], "assets-multi-phase-columns");
    assert_eq!(events[0]["actor"], "ana");
    assert_eq!(
        events[0]["note"],
        "looked at \\d assets in psql\nall three columns there"
    );
    assert_eq!(events[0]["evidence"]["all_pass"], true);
}

#[test]
fn the_tracker_follows_plan_json_and_keeps_the_old_plan_while_the_file_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        &plan_file,
    )
    .unwrap();
    remtrack(dir.path(), &["demo", "--db", "demo.db", "--check"]);
    let command = format!(
        "{} --database-url sqlite:demo.db --as ana --refresh 30s; echo \"remtrack exited with $?\"; sleep 600",
        env!("CARGO_BIN_EXE_remtrack")
    );
    let tmux = Tmux::start(dir.path(), &command);
    tmux.wait_for("● live");

    // From the risks view, Enter opens the selected item's task in its day.
    tmux.keys(&["3"]);
    tmux.wait_for("Enter open task");
    tmux.keys(&["j", "j", "j", "Enter"]);
    let screen = tmux.wait_for("(Tab or 3 goes back to the risks)");
    assert!(
        screen.contains("Day 2: Complete pending database migrations"),
        "{screen}"
    );

    // An edit on disk: the title changes on screen, the selection stays, checked at once.
    let original = std::fs::read_to_string(&plan_file).unwrap();
    let edited = original.replace(
        "\"Drop legacy table discovery_assets\"",
        "\"Drop the legacy discovery_assets table (renamed)\"",
    );
    assert_ne!(edited, original, "the shipped plan has that title");
    std::fs::write(&plan_file, &edited).unwrap();
    let screen = tmux.wait_for("plan reloaded: 15 tasks (0 added, 0 removed, 1 changed)");
    assert!(screen.contains("Drop the legacy discovery"), "{screen}");
    assert!(
        screen.contains("Complete the master flow migration on crewai"),
        "the selection stays:\n{screen}"
    );
    // Until the new plan is checked its tasks have no verdict (never the old plan's); then the
    // detail shows the fresh one.
    tmux.wait_for("✗ Complete the master flow migration");
    tmux.wait_for("● live");

    // A broken save keeps the plan shown; the footer points to the whole problem.
    std::fs::write(
        &plan_file,
        edited.replacen("\"tasks\"", "\"tasks\" \"oops\"", 1),
    )
    .unwrap();
    let screen = tmux.wait_for("the plan shown stays");
    assert!(
        screen.contains("Drop the legacy discovery"),
        "the old plan is still on screen:\n{screen}"
    );
    tmux.keys(&["j"]);
    let screen = tmux.wait_for("why plan file");
    tmux.keys(&["4"]);
    let log = tmux.wait_for("the file changed but cannot be used");
    assert!(
        log.contains("plan.json"),
        "the problem names the file:\n{log}"
    );
    assert!(!screen.contains("panic"), "{screen}");

    // Saved again, valid: the problem goes away.
    std::fs::write(&plan_file, &original).unwrap();
    tmux.wait_for("the plan file is valid again");
    tmux.keys(&["q"]);
    tmux.wait_for("remtrack exited with 0");
}

#[test]
fn the_demo_checks_its_code_live_and_e_opens_a_location_in_the_editor() {
    let dir = tempfile::tempdir().unwrap();
    let editor = dir.path().join("fake-editor.sh");
    let seen = dir.path().join("editor-args.txt");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", seen.display()),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let command = format!(
        "EDITOR='{}' VISUAL= {} demo --db demo.db --as ana; echo \"remtrack exited with $?\"; sleep 600",
        editor.display(),
        env!("CARGO_BIN_EXE_remtrack")
    );
    let tmux = Tmux::start(dir.path(), &command);
    tmux.wait_for("● live");

    // Day 3: the code task fails on the code itself, with where.
    tmux.keys(&["l", "l"]);
    let screen = tmux.wait_for("Day 3: Begin systematic code cleanup");
    assert!(screen.contains("fix-session-id-in-code"), "{screen}");
    tmux.wait_for("still in 20 places in 12 files");
    // The places, with their text, lie below the evidence.
    tmux.keys(&["J"]);
    tmux.wait_for("backend/app/agents/crew.py:2  def run(self, session_id):");

    tmux.keys(&["e"]);
    tmux.wait_for("back from the editor");
    let args = std::fs::read_to_string(&seen).unwrap();
    let code = dir.path().join("demo-code/backend/app/agents/crew.py");
    assert_eq!(
        args,
        format!("+2\n{}\n", code.display()),
        "the editor got +LINE FILE"
    );
    // The tracker took the terminal back and still answers.
    tmux.keys(&["3"]);
    tmux.wait_for("Enter open task");
    tmux.keys(&["q"]);
    tmux.wait_for("remtrack exited with 0");
}

/// The first line of `screen` naming the task `id` in the list.
fn row_of<'a>(screen: &'a str, id: &str) -> &'a str {
    screen
        .lines()
        .find(|line| line.contains(&format!(" {id} ")))
        .unwrap_or_default()
}

#[test]
fn a_fix_is_proven_then_applied_after_its_id_is_typed_and_the_task_turns_done_live() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    remtrack(dir.path(), &["demo", "--db", "demo.db", "--check"]);
    // A refresh of its own is half a minute away: the task can only turn done in time through
    // the recheck the apply asks for.
    let command = format!(
        "{} --database-url sqlite:demo.db --apply-url sqlite:demo.db --as ana --refresh 30s; echo \"remtrack exited with $?\"; sleep 600",
        env!("CARGO_BIN_EXE_remtrack")
    );
    let tmux = Tmux::start(dir.path(), &command);
    tmux.wait_for("● live");
    tmux.keys(&["l"]);
    tmux.wait_for("Day 2: Complete pending database migrations");
    let screen = tmux.wait_for("column current_phase missing from");
    assert!(
        row_of(&screen, "master-flow-columns").contains("failing"),
        "{screen}"
    );

    tmux.keys(&["p"]);
    let screen = tmux.wait_for("proven: after this fix, 7 of 7 checks pass");
    assert!(screen.contains("Fix master-flow-columns"), "{screen}");
    assert!(screen.contains("a apply"), "{screen}");

    // A wrong id applies nothing; the right one does.
    tmux.keys(&["a"]);
    tmux.wait_for("Type the task id to apply it");
    tmux.type_text("master-flow");
    tmux.keys(&["Enter"]);
    tmux.wait_for("\"master-flow\" is not this task's id");
    tmux.type_text("master-flow-columns");
    tmux.keys(&["Enter"]);
    tmux.wait_for("applied master-flow-columns: 7 of 7 checks pass after the commit");
    tmux.keys(&["Escape"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let screen = loop {
        let screen = tmux.screen();
        if row_of(&screen, "master-flow-columns").contains("✓ done") {
            break screen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the task never turned done:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(screen.contains("Day 2 1/3"), "{screen}");

    tmux.keys(&["q"]);
    tmux.wait_for("remtrack exited with 0");
    let log = remtrack(dir.path(), &["log", "--format", "json"]);
    let events: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "a dry run records nothing: {events:?}");
    assert_eq!(events[0]["kind"], "applied");
    assert_eq!(events[0]["task_id"], "master-flow-columns");
    assert_eq!(events[0]["actor"], "ana");
    assert_eq!(events[0]["evidence"]["outcome"], "applied");
}
