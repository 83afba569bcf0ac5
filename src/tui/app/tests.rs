//! Every path of the app without a terminal or a database: actions in, state and effects out.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::macros::datetime;

use super::*;
use crate::check::{CheckStatus, Refresh, TargetError, TaskVerdicts, Verdict, Verdicts};
use crate::demo::SHIPPED_PLAN;
use crate::engine::EngineUpdate;
use crate::plan::parse_plan;
use crate::status::{TaskStatus, Verification};
use crate::store::{Event, EventKind, task_fingerprint};
use crate::tui::action::Msg;

pub(crate) fn shipped_plan() -> Arc<Plan> {
    Arc::new(parse_plan(SHIPPED_PLAN.as_bytes(), std::path::Path::new("plan.json")).unwrap())
}

pub(crate) fn app() -> App {
    app_with_plan(shipped_plan())
}

/// An app on `plan`, as [`app`] is on the shipped one.
pub(crate) fn app_with_plan(plan: Arc<Plan>) -> App {
    App::new(AppConfig {
        plan,
        database: "sqlite:demo.db".into(),
        backend: Backend::Sqlite,
        user: "ana".into(),
        theme: Theme {
            color: true,
            ascii: false,
        },
        now: datetime!(2026-11-24 10:00 UTC),
        search_path_override: None,
        code_root: None,
        editor: None,
        pairing: None,
        apply_to: None,
    })
}

/// The seed's reality: every check passes except those of the tasks listed as failing.
pub(crate) fn refresh_where_failing(plan: &Plan, failing: &[&str]) -> Refresh {
    let verdict = |fail: bool| {
        if fail {
            Verdict::fail("column x missing from t")
        } else {
            Verdict::pass("ok")
        }
    };
    Refresh {
        verdicts: Verdicts {
            tasks: plan
                .tasks
                .iter()
                .map(|task| TaskVerdicts {
                    checks: task
                        .checks
                        .iter()
                        .map(|_| verdict(failing.contains(&task.id.as_str())))
                        .collect(),
                    guards: task
                        .fix
                        .iter()
                        .flat_map(|f| f.guards.iter())
                        .map(|_| verdict(false))
                        .collect(),
                })
                .collect(),
        },
        checked_at: datetime!(2026-11-24 10:00 UTC),
        duration: Duration::from_millis(12),
        queries: 3,
        search_path: Default::default(),
    }
}

pub(crate) const SEED_FAILING: &[&str] = &[
    "fix-session-id-in-code",
    "consolidate-api-versions",
    "master-flow-columns",
    "drop-discovery-assets",
    "drop-data-import-sessions",
    "drop-session-id-columns",
];

pub(crate) fn finished(app: &mut App, run: u64, refresh: Refresh) {
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(refresh)),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
}

pub(crate) fn live_app() -> App {
    let mut app = app();
    let refresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    finished(&mut app, 1, refresh);
    app.receive(Msg::StoreLoaded(vec![]));
    app
}

pub(super) fn key(code: KeyCode) -> Action {
    Action::Edit(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.act(key(KeyCode::Char(c)));
    }
}

pub(super) fn select(app: &mut App, task_id: &str) {
    let index = app
        .board
        .plan
        .tasks
        .iter()
        .position(|t| t.id == task_id)
        .unwrap();
    app.act(Action::Home);
    for _ in 0..app.board.plan.tasks.len() {
        if app.selected_task_index() == Some(index) {
            return;
        }
        // Walk in plan order with "next todo"-like precision: filter by the id.
        app.act(Action::StartFilter);
        type_text(app, task_id);
        app.act(Action::Submit);
    }
    assert_eq!(
        app.selected_task_index(),
        Some(index),
        "could not select {task_id}"
    );
}

pub(crate) fn recorded(app: &App, id: i64, kind: EventKind, task_id: &str, actor: &str) -> Event {
    let task = app.board.plan.task(task_id).unwrap();
    Event {
        id,
        task_id: task_id.into(),
        kind,
        actor: actor.into(),
        at: datetime!(2026-11-24 10:01 UTC),
        note: "n".into(),
        evidence: serde_json::json!({}),
        fingerprint: task_fingerprint(task),
    }
}

#[test]
fn it_opens_on_day_one_connecting_and_goes_live_with_the_first_refresh() {
    let mut app = app();
    assert_eq!(app.board.connection, Connection::Connecting);
    assert_eq!(app.view, View::Days);
    assert_eq!(
        app.selected_task().unwrap().id,
        "flow-state-extensions-table"
    );
    let refresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    finished(&mut app, 1, refresh);
    assert_eq!(app.board.connection, Connection::Live);
    assert_eq!(app.board.status.overclaimed().count(), 4);
    assert!(app.activity.back().unwrap().text.contains("4 overclaimed"));
}

#[test]
fn navigation_moves_within_a_day_and_across_days_and_views() {
    let mut app = live_app();
    assert_eq!(app.visible_tasks().len(), 5);
    app.act(Action::Down);
    app.act(Action::Down);
    assert_eq!(app.selected, 2);
    app.act(Action::End);
    assert_eq!(app.selected, 4);
    app.act(Action::Down);
    assert_eq!(app.selected, 4, "stays on the last task");
    app.act(Action::NextGroup);
    assert_eq!(app.day, 1);
    assert_eq!(app.selected_task().unwrap().id, "master-flow-columns");
    app.act(Action::PrevGroup);
    app.act(Action::PrevGroup);
    assert_eq!(app.day, 4, "wraps around to day 5");
    app.act(Action::Show(View::Phases));
    assert_eq!(
        app.board.plan.phases[app.phase].id,
        app.selected_task().unwrap().phase,
        "keeps the task in view"
    );
    app.act(Action::NextView);
    assert_eq!(app.view, View::Risks);
    app.act(Action::NextView);
    app.act(Action::NextView);
    assert_eq!(app.view, View::Days);
}

#[test]
fn walking_jumps_to_the_next_open_task_and_the_next_problem_in_plan_order() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    assert_eq!(app.selected_task().unwrap().id, "master-flow-columns");
    assert_eq!(app.day, 1);
    app.act(Action::NextTodo);
    assert_eq!(app.selected_task().unwrap().id, "drop-discovery-assets");

    let mut app = live_app();
    app.act(Action::Show(View::Risks));
    app.act(Action::NextProblem);
    assert_eq!(
        app.view,
        View::Days,
        "walking leaves the risks panel for the task"
    );
    assert_eq!(app.selected_task().unwrap().id, "master-flow-columns");
    for expected in [
        "drop-discovery-assets",
        "drop-data-import-sessions",
        "drop-session-id-columns",
        "master-flow-columns",
    ] {
        app.act(Action::NextProblem);
        assert_eq!(app.selected_task().unwrap().id, expected);
    }
}

#[test]
fn the_filter_matches_ids_titles_and_descriptions_and_esc_clears_it() {
    let mut app = live_app();
    app.act(Action::StartFilter);
    assert!(matches!(app.mode, Mode::Filter));
    type_text(&mut app, "DROP");
    let ids: Vec<&str> = app
        .visible_tasks()
        .iter()
        .map(|&i| app.board.plan.tasks[i].id.as_str())
        .collect();
    assert!(
        ids.contains(&"drop-discovery-assets") && ids.contains(&"workflow-states-dropped"),
        "{ids:?}"
    );
    assert!(ids.iter().all(|id| app.board.plan.task(id).is_some()));
    app.act(key(KeyCode::Backspace));
    assert_eq!(app.filter, "DRO");
    app.act(Action::Paste("p\u{1b}[31m".into()));
    assert_eq!(
        app.filter, "DROp[31m",
        "pasted control characters are dropped"
    );
    app.act(Action::Edit(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.filter.is_empty(), "Ctrl-U clears the filter");
    app.act(Action::Cancel);
    assert!(app.filter.is_empty());
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn the_filter_finds_tasks_by_their_check_ids_and_tables() {
    let mut app = live_app();
    app.act(Action::StartFilter);
    type_text(&mut app, "rows-migrated");
    let ids: Vec<&str> = app
        .visible_tasks()
        .iter()
        .map(|&i| app.board.plan.tasks[i].id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["drop-discovery-assets"],
        "a guard's id finds its task"
    );
    app.act(Action::Cancel);
    app.act(Action::StartFilter);
    type_text(&mut app, "data_import_sessions");
    assert!(
        app.visible_tasks()
            .iter()
            .any(|&i| app.board.plan.tasks[i].id == "drop-data-import-sessions"),
        "a checked table finds its tasks"
    );
}

#[test]
fn the_open_only_toggle_hides_done_tasks_and_keeps_the_selection() {
    let mut app = live_app();
    app.act(Action::ToggleOpenOnly);
    assert!(app.visible_tasks().is_empty(), "day 1 is all done");
    app.act(Action::NextGroup);
    assert_eq!(app.visible_tasks().len(), 3);
    app.act(Action::ToggleOpenOnly);
    assert_eq!(app.visible_tasks().len(), 3);
}

#[test]
fn verifying_a_failing_task_is_refused_with_the_evidence() {
    let mut app = live_app();
    select(&mut app, "drop-discovery-assets");
    assert!(app.act(Action::Verify).is_empty());
    let Mode::Dialog(dialog) = &app.mode else {
        panic!("no dialog")
    };
    let DialogState::Refused(refusal) = &dialog.state else {
        panic!("not refused: {:?}", dialog.state)
    };
    assert!(
        refusal
            .to_string()
            .contains("fail table-gone: column x missing from t"),
        "{refusal}"
    );
    assert!(app.act(Action::Submit).is_empty(), "saving is not possible");
    app.act(Action::Cancel);
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn verifying_a_passing_task_records_the_note_and_the_evidence() {
    let mut app = live_app();
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    type_text(&mut app, "looked in psql");
    app.act(key(KeyCode::Enter));
    type_text(&mut app, "all three");
    let effects = app.act(Action::Submit);
    let [Effect::Record(event)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(event.kind, EventKind::Verified);
    assert_eq!(event.actor, "ana");
    assert_eq!(event.note, "looked in psql\nall three");
    assert_eq!(event.evidence["all_pass"], true);
    assert_eq!(event.evidence["checks"].as_array().unwrap().len(), 3);
    assert_eq!(
        event.fingerprint,
        task_fingerprint(app.board.plan.task("assets-multi-phase-columns").unwrap())
    );
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert_eq!(dialog.state, DialogState::Saving);

    let saved = recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "ana",
    );
    app.receive(Msg::MarkRecorded(saved));
    assert!(matches!(app.mode, Mode::Normal));
    let index = app.selected_task_index().unwrap();
    assert_eq!(
        app.board.status.tasks[index].verification,
        Some(Verification::Verified)
    );
    assert!(app.drafts.is_empty());
}

#[test]
fn a_manual_task_needs_a_note_and_typing_one_is_enough() {
    let mut app = live_app();
    select(&mut app, "integration-tests");
    app.act(Action::Verify);
    assert!(app.act(Action::Submit).is_empty());
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert!(matches!(&dialog.state, DialogState::Refused(r) if r.needs_note_only()));
    type_text(&mut app, "ran the suite: 212 passed");
    let effects = app.act(Action::Submit);
    assert!(
        matches!(effects.as_slice(), [Effect::Record(e)] if e.note == "ran the suite: 212 passed")
    );
}

#[test]
fn unverifying_needs_a_verified_task_and_a_note() {
    let mut app = live_app();
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Unverify);
    assert!(matches!(app.mode, Mode::Normal), "nothing to withdraw");
    assert!(app.notice.as_deref().unwrap().contains("is not verified"));

    let saved = recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "bo",
    );
    app.receive(Msg::StoreAppended(vec![saved]));
    app.act(Action::Unverify);
    assert!(app.act(Action::Submit).is_empty(), "a note is required");
    type_text(&mut app, "columns renamed");
    let effects = app.act(Action::Submit);
    assert!(matches!(effects.as_slice(), [Effect::Record(e)] if e.kind == EventKind::Unverified));
}

#[test]
fn a_verified_task_whose_checks_fail_later_is_regressed_and_logged_loudly() {
    let mut app = live_app();
    let saved = recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "bo",
    );
    app.receive(Msg::StoreAppended(vec![saved]));
    assert!(
        app.activity
            .back()
            .unwrap()
            .text
            .contains("bo verified assets-multi-phase-columns")
    );
    let mut failing = SEED_FAILING.to_vec();
    failing.push("assets-multi-phase-columns");
    let refresh = refresh_where_failing(&app.board.plan, &failing);
    finished(&mut app, 2, refresh);
    let index = app
        .board
        .plan
        .tasks
        .iter()
        .position(|t| t.id == "assets-multi-phase-columns")
        .unwrap();
    assert_eq!(
        app.board.status.tasks[index].verification,
        Some(Verification::Regressed)
    );
    assert_eq!(app.board.status.regressed().count(), 1);
    assert!(
        app.activity
            .iter()
            .any(|a| a.important && a.text.contains("REGRESSED"))
    );
}

#[test]
fn a_failed_mark_keeps_the_note_and_a_closed_dialog_keeps_the_draft() {
    let mut app = live_app();
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    type_text(&mut app, "careful words");
    app.act(Action::Submit);
    app.receive(Msg::MarkFailed {
        task_id: "assets-multi-phase-columns".into(),
        error: "disk full".into(),
    });
    let Mode::Dialog(dialog) = &app.mode else {
        panic!("the dialog must stay open")
    };
    assert_eq!(dialog.state, DialogState::Failed("disk full".into()));
    assert_eq!(dialog.note_text(), "careful words");
    app.act(Action::Cancel);
    assert_eq!(app.drafts["assets-multi-phase-columns"], "careful words");
    app.act(Action::Verify);
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert_eq!(dialog.note_text(), "careful words", "the draft comes back");
}

#[test]
fn an_unavailable_store_refuses_to_save_but_keeps_the_note() {
    let mut app = live_app();
    app.receive(Msg::StoreFailed(
        "cannot open the verification store: permission denied".into(),
    ));
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    type_text(&mut app, "my note");
    assert!(app.act(Action::Submit).is_empty());
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert!(matches!(&dialog.state, DialogState::Failed(e) if e.contains("permission denied")));
    assert_eq!(dialog.note_text(), "my note");
}

#[test]
fn stale_refresh_results_are_dropped() {
    let mut app = live_app();
    let all_pass = refresh_where_failing(&app.board.plan, &[]);
    finished(&mut app, 3, all_pass);
    let overclaimed_now = app.board.status.overclaimed().count();
    assert_eq!(overclaimed_now, 0);
    let older = refresh_where_failing(&app.board.plan, SEED_FAILING);
    finished(&mut app, 2, older);
    assert_eq!(
        app.board.status.overclaimed().count(),
        0,
        "run 2 finished after run 3: dropped"
    );
    assert_eq!(app.board.latest_run, 3);
}

#[test]
fn going_offline_keeps_the_last_verdicts_marked_old_and_coming_back_is_logged() {
    let mut app = live_app();
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Err(TargetError::Unreachable {
            url: "sqlite:demo.db".into(),
            reason: "connection refused".into(),
        })),
        code_only: None,
        retry_in: Duration::from_secs(4),
    }));
    assert!(
        matches!(&app.board.connection, Connection::Offline { reason } if reason.contains("connection refused"))
    );
    assert!(
        app.board.last_refresh.is_some(),
        "the last verdicts are kept"
    );
    assert_eq!(app.board.status.overclaimed().count(), 4);
    assert!(
        app.activity
            .back()
            .unwrap()
            .text
            .contains("retrying in 4 s")
    );
    let refresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    finished(&mut app, 3, refresh);
    assert_eq!(app.board.connection, Connection::Live);
    assert!(
        app.activity
            .iter()
            .any(|a| a.text.contains("database is back"))
    );
}

#[test]
fn recheck_copy_help_and_quit_are_effects_or_modes() {
    let mut app = live_app();
    assert_eq!(app.act(Action::Recheck), vec![Effect::Refresh]);
    select(&mut app, "drop-discovery-assets");
    let effects = app.act(Action::CopyFix);
    assert!(matches!(effects.as_slice(), [Effect::Copy(sql)] if sql.contains("discovery_assets")));
    app.act(Action::Help);
    assert!(matches!(app.mode, Mode::Help));
    app.act(Action::Down);
    assert!(matches!(app.mode, Mode::Normal), "any key closes help");
    assert_eq!(app.act(Action::Quit), vec![Effect::Quit]);
}

#[test]
fn clicking_a_row_selects_it_and_clicking_a_tab_switches_view() {
    let mut app = live_app();
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    let list = crate::tui::layout::Areas::compute(80, 24, View::Days).list;
    app.act(Action::Click {
        column: list.x + 3,
        row: list.y + 3,
    });
    assert_eq!(app.selected, 2);
    let tabs = crate::tui::layout::Areas::compute(80, 24, View::Days).tabs;
    app.act(Action::Click {
        column: tabs.x + 20,
        row: tabs.y,
    });
    assert_eq!(app.view, View::Risks);
}

#[test]
fn tasks_with_a_changed_definition_show_stale_marks() {
    let mut app = live_app();
    let mut event = recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "bo",
    );
    event.fingerprint = "sha256:old".into();
    app.receive(Msg::StoreLoaded(vec![event]));
    let index = app
        .board
        .plan
        .tasks
        .iter()
        .position(|t| t.id == "assets-multi-phase-columns")
        .unwrap();
    assert_eq!(
        app.board.status.tasks[index].verification,
        Some(Verification::Stale)
    );
    assert_eq!(app.board.status.tasks[index].status, TaskStatus::Done);
    let _ = CheckStatus::Pass;
}

#[test]
fn marks_made_against_another_database_do_not_count_here_and_say_where_they_were_made() {
    let mut app = live_app();
    let mut elsewhere = recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "bo",
    );
    elsewhere.evidence =
        serde_json::json!({ "database": "postgres://bo:***@prod.example.com/app" });
    let mut here = recorded(
        &app,
        2,
        EventKind::Verified,
        "workflow-states-dropped",
        "cy",
    );
    here.evidence = serde_json::json!({ "database": app.database.clone() });
    app.receive(Msg::StoreLoaded(vec![elsewhere, here]));
    assert!(!app.board.marks.contains_key("assets-multi-phase-columns"));
    assert!(app.board.marks["workflow-states-dropped"].verified);
    assert_eq!(
        app.board.made_elsewhere.get(&1).map(String::as_str),
        Some("postgres://prod.example.com:5432/app")
    );
    assert!(!app.board.made_elsewhere.contains_key(&2));
}

/// For the drawing tests: types into whatever is being edited.
pub(crate) fn type_text_pub(app: &mut App, text: &str) {
    type_text(app, text);
}

#[test]
fn verdicts_remembered_by_the_store_show_until_the_database_answers() {
    let mut app = app();
    let remembered = refresh_where_failing(&app.board.plan, SEED_FAILING);
    app.receive(Msg::Remembered {
        checked_at: datetime!(2026-11-24 07:00 UTC),
        verdicts: remembered.verdicts,
    });
    assert!(app.board.verdicts_remembered);
    assert_eq!(
        app.board.status.overclaimed().count(),
        4,
        "the old verdicts are shown"
    );
    assert!(
        app.activity
            .back()
            .unwrap()
            .text
            .contains("kept by the store")
    );

    let effects = app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 1,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(refresh_where_failing(&app.board.plan, &[]))),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    assert!(!app.board.verdicts_remembered);
    assert_eq!(app.board.status.overclaimed().count(), 0);
    assert!(
        effects.is_empty(),
        "a view does not write the verdicts: the hub keeps them, once for every view"
    );
    let again = refresh_where_failing(&app.board.plan, &[]);
    let effects = app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(again)),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    assert!(
        effects.is_empty(),
        "unchanged verdicts are not written again within a minute"
    );

    // Remembered verdicts never replace live ones.
    let stale = refresh_where_failing(&app.board.plan, SEED_FAILING);
    app.receive(Msg::Remembered {
        checked_at: datetime!(2026-11-24 07:00 UTC),
        verdicts: stale.verdicts,
    });
    assert_eq!(app.board.status.overclaimed().count(), 0);
}

#[test]
fn the_selected_task_survives_the_risks_and_log_views() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    let chosen = app.selected_task().unwrap().id.clone();
    assert_ne!(app.day, 0, "the first open task is past day 1");
    app.act(Action::Show(View::Log));
    app.act(Action::Show(View::Risks));
    app.act(Action::Show(View::Days));
    assert_eq!(app.selected_task().unwrap().id, chosen);
    app.act(Action::Show(View::Phases));
    assert_eq!(app.selected_task().unwrap().id, chosen);
}

#[test]
fn clearing_the_filter_keeps_the_task_it_found() {
    let mut app = live_app();
    app.act(Action::StartFilter);
    type_text(&mut app, "drop-session");
    app.act(Action::Submit);
    assert_eq!(app.selected_task().unwrap().id, "drop-session-id-columns");
    app.act(Action::Cancel);
    assert!(app.filter.is_empty());
    assert_eq!(app.selected_task().unwrap().id, "drop-session-id-columns");
    let day = app.board.plan.task("drop-session-id-columns").unwrap().day;
    assert_eq!(
        app.board.plan.days[app.day].day, day,
        "the day holding it is shown"
    );

    app.act(Action::StartFilter);
    type_text(&mut app, "integration");
    app.act(Action::Cancel);
    assert_eq!(
        app.selected_task().unwrap().id,
        "integration-tests",
        "Esc while typing clears the filter and stays on the task"
    );
}

#[test]
fn scrolling_stops_at_the_end_of_the_panel_and_each_view_starts_at_the_top() {
    let mut app = live_app();
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    app.act(Action::Show(View::Risks));
    let drawn = crate::tui::draw::tests::frame_of(&app);
    let limit = drawn.scroll_limit;
    assert!(limit > 0, "the risks view is longer than 80x24");
    app.receive(Msg::Drawn(drawn));
    for _ in 0..50 {
        app.act(Action::ScrollDetail(3));
        app.receive(Msg::Drawn(crate::tui::draw::tests::frame_of(&app)));
    }
    assert_eq!(app.detail_scroll, limit, "J stops at the last line");
    app.act(Action::ScrollDetail(-3));
    assert_eq!(app.detail_scroll, limit - 3, "and K answers at once");
    app.act(Action::Show(View::Log));
    assert_eq!(app.detail_scroll, 0, "another view starts at its top");
}

#[test]
fn a_verification_waits_for_live_checks_when_the_ones_shown_are_old() {
    // The database went away after its last answer: the checks shown pass, but are old.
    let mut app = live_app();
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Err(crate::check::TargetError::Unreachable {
            url: "sqlite:demo.db".into(),
            reason: "Connection refused".into(),
        })),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    type_text(&mut app, "looked in psql");
    assert_eq!(
        app.act(Action::Submit),
        vec![Effect::Refresh],
        "nothing is recorded on old checks; the database is asked again"
    );
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert_eq!(dialog.state, DialogState::AwaitingRefresh);

    // Still offline: the dialog says so and keeps the note.
    let effects = app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 3,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Err(crate::check::TargetError::Unreachable {
            url: "sqlite:demo.db".into(),
            reason: "Connection refused".into(),
        })),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    assert!(effects.is_empty(), "{effects:?}");
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert!(
        matches!(&dialog.state, DialogState::Failed(why) if why.contains("Connection refused")),
        "{:?}",
        dialog.state
    );
    assert_eq!(dialog.note_text(), "looked in psql");

    // Back, and the checks still pass: the mark is recorded with the fresh evidence.
    assert_eq!(app.act(Action::Submit), vec![Effect::Refresh]);
    app.receive(Msg::Tick(datetime!(2026-11-24 10:05 UTC)));
    let mut fresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    fresh.checked_at = datetime!(2026-11-24 10:05 UTC);
    let effects = app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 4,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(fresh)),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    let Some(Effect::Record(event)) = effects.first() else {
        panic!("{effects:?}")
    };
    assert_eq!(event.evidence["checked_at"], "2026-11-24T10:05:00Z");
}

#[test]
fn a_verification_waiting_for_live_checks_is_refused_if_they_fail_now() {
    let mut app = live_app();
    // A minute later, without a refresh in between: the checks shown are a minute old.
    app.receive(Msg::Tick(datetime!(2026-11-24 10:01 UTC)));
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    assert_eq!(app.act(Action::Submit), vec![Effect::Refresh]);
    let mut now_failing = refresh_where_failing(&app.board.plan, &["assets-multi-phase-columns"]);
    now_failing.checked_at = datetime!(2026-11-24 10:01 UTC);
    let effects = app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(now_failing)),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Record(_))),
        "{effects:?}"
    );
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert!(
        matches!(dialog.state, DialogState::Refused(_)),
        "{:?}",
        dialog.state
    );
}

#[test]
fn a_refused_connection_says_it_is_not_retried_until_asked() {
    let mut app = app();
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 1,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Err(crate::check::TargetError::Refused {
            url: "postgres://bo:***@db/app".into(),
            reason: "password authentication failed for user \"bo\"".into(),
        })),
        code_only: None,
        retry_in: crate::engine::NOT_BY_ITSELF,
    }));
    let Connection::Offline { reason } = &app.board.connection else {
        panic!("{:?}", app.board.connection)
    };
    assert_eq!(
        reason,
        "password authentication failed for user \"bo\" · not retrying: r tries again"
    );
    let logged = &app.activity.back().unwrap().text;
    assert!(logged.contains("refused the connection"), "{logged}");
    assert!(
        logged.contains("not retrying until you press r"),
        "{logged}"
    );
    assert_eq!(app.act(Action::Recheck), vec![Effect::Refresh]);
}

#[test]
fn a_note_can_be_added_to_any_task_and_needs_text() {
    let mut app = live_app();
    select(&mut app, "drop-discovery-assets");
    app.act(Action::Note);
    assert!(
        app.act(Action::Submit).is_empty(),
        "an empty note is refused"
    );
    let Mode::Dialog(dialog) = &app.mode else {
        panic!()
    };
    assert!(matches!(dialog.state, DialogState::Refused(_)));
    type_text(&mut app, "waiting for the data team");
    let effects = app.act(Action::Submit);
    assert!(
        matches!(effects.as_slice(), [Effect::Record(e)]
            if e.kind == EventKind::Note && e.note == "waiting for the data team"),
        "{effects:?}"
    );
}

/// Draws the app as the runtime does and tells it what the frame measured.
fn draw(app: &mut App) -> String {
    let drawn = crate::tui::draw::tests::frame_of(app);
    app.receive(Msg::Drawn(drawn));
    crate::tui::draw::tests::screen_text(app)
}

#[test]
fn the_help_and_a_dialog_with_a_long_reason_scroll_to_their_last_line_on_the_smallest_terminal() {
    let mut app = live_app();
    app.receive(Msg::Resized {
        width: 60,
        height: 16,
    });
    app.act(Action::Help);
    let first = draw(&mut app);
    assert!(
        !first.contains("in a dialog"),
        "the smallest terminal cannot show it all:\n{first}"
    );
    assert!(first.contains("↓ more"), "and says there is more:\n{first}");
    for _ in 0..40 {
        app.act(Action::ScrollDetail(1));
        draw(&mut app);
    }
    let last = draw(&mut app);
    assert!(
        matches!(app.mode, Mode::Help),
        "scrolling keeps the help open"
    );
    assert!(last.contains("in a dialog"), "{last}");
    assert!(last.contains("PgUp scroll"), "its last line too:\n{last}");
    app.act(Action::Cancel);
    assert!(matches!(app.mode, Mode::Normal), "any other key closes it");

    // A long reason why marks cannot be saved, said before typing: more than 16 rows hold
    // beside the note, so the text scrolls and the note keeps its rows.
    let problem = "the store's server at store.internal.example.com:5432 refused the \
                   connection because too many clients are connected already; an \
                   administrator must raise max_connections or close idle sessions, and \
                   until then every mark made here is refused; the store is tried again \
                   with backoff, and the footer and the log view say when it is back, so \
                   nothing needs restarting; notes typed meanwhile are kept as drafts \
                   and survive closing this dialog (reason ends here)";
    app.receive(Msg::StoreFailed(problem.into()));
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    type_text(&mut app, "typed note");
    let first = draw(&mut app);
    assert!(first.contains("Marks cannot be saved"), "{first}");
    assert!(!first.contains("reason ends here"), "{first}");
    assert!(
        first.contains("typed note"),
        "the note stays in view:\n{first}"
    );
    assert!(first.contains("↓ more: PgDn/PgUp"), "{first}");
    for _ in 0..10 {
        app.act(Action::ScrollDetail(3));
        draw(&mut app);
    }
    let last = draw(&mut app);
    assert!(last.contains("(reason ends here)"), "{last}");
    assert!(last.contains("typed note"), "{last}");
    assert_eq!(
        crate::tui::app::DialogState::Editing,
        match &app.mode {
            Mode::Dialog(dialog) => dialog.state.clone(),
            _ => panic!("scrolling keeps the dialog open"),
        }
    );
}

#[test]
fn enter_in_the_risks_view_opens_the_task_of_the_selected_row() {
    let mut app = live_app();
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    app.act(Action::Show(View::Risks));
    draw(&mut app);
    let rows = app.task_rows.clone();
    assert!(
        rows.len() >= 8,
        "risk items, overclaims and blocked tasks: {rows:?}"
    );
    // Walk every row: each is highlighted on screen in turn, kept in view, and Enter opens the
    // task it names.
    for (position, row) in rows.iter().enumerate() {
        app.act(Action::Show(View::Risks));
        app.act(Action::Home);
        for _ in 0..position {
            app.act(Action::Down);
        }
        let screen = draw(&mut app);
        assert_eq!(app.risk_cursor, position);
        let id = app.board.plan.tasks[row.task].id.clone();
        let shown = crate::tui::draw::tests::highlighted_rows(&app);
        assert!(
            shown.iter().any(|line| line.contains(&id)),
            "row {position} ({id}) is highlighted and on screen: {shown:?}\n{screen}"
        );
        app.act(Action::Open);
        assert_eq!(app.view, View::Days);
        assert_eq!(app.selected_task().map(|t| t.id.clone()), Some(id.clone()));
        assert!(app.notice.as_deref().is_some_and(|n| n.contains(&id)));
    }
    // Back in the risks view the cursor is where it was left.
    app.act(Action::Show(View::Risks));
    assert_eq!(app.risk_cursor, rows.len() - 1);
}

/// The shipped plan with a task inserted before the others and one task's title changed: every
/// later task moves one place.
fn edited_plan(app: &App) -> Arc<Plan> {
    let mut plan = (*app.board.plan).clone();
    let mut first = plan.tasks[0].clone();
    first.id = "audit-grants".into();
    first.title = "Audit the grants".into();
    plan.tasks.insert(0, first);
    let index = plan.task_index("master-flow-columns").unwrap();
    plan.tasks[index].title = "Finish the master flow migration".into();
    Arc::new(plan)
}

#[test]
fn a_changed_plan_replaces_the_shown_one_keeping_the_selection_and_never_reads_old_verdicts() {
    let mut app = live_app();
    select(&mut app, "drop-discovery-assets");
    let old_plan = app.board.plan.clone();
    let new_plan = edited_plan(&app);

    let effects = app.receive(Msg::PlanFile(Ok(new_plan.clone())));
    assert!(
        effects.is_empty(),
        "the hub tells the engine to check the new plan, once for every view"
    );
    assert!(Arc::ptr_eq(&app.board.plan, &new_plan));
    assert_eq!(
        app.selected_task().unwrap().id,
        "drop-discovery-assets",
        "the selection stays"
    );
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("16 tasks (1 added, 0 removed, 1 changed)"),
        "{:?}",
        app.notice
    );
    // Every task moved one place: the old verdicts would be read against the wrong tasks.
    assert!(app.board.last_refresh.is_none());
    assert!(
        app.board
            .status
            .tasks
            .iter()
            .all(|t| t.status != TaskStatus::Done),
        "nothing is done until the new plan is checked"
    );

    // A result of the old plan that was in flight arrives late: it is not applied.
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 8,
        plan: old_plan.clone(),
        outcome: Arc::new(Ok(refresh_where_failing(&old_plan, SEED_FAILING))),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    assert!(
        app.board.last_refresh.is_none(),
        "the old plan's verdicts are dropped"
    );

    // The new plan's result is applied, by the new positions.
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 9,
        plan: new_plan.clone(),
        outcome: Arc::new(Ok(refresh_where_failing(&new_plan, SEED_FAILING))),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    let status_of =
        |app: &App, id: &str| app.board.status.tasks[app.board.plan.task_index(id).unwrap()].status;
    assert_eq!(status_of(&app, "master-flow-columns"), TaskStatus::Failing);
    assert_eq!(status_of(&app, "audit-grants"), TaskStatus::Done);
}

#[test]
fn a_plan_file_that_does_not_validate_keeps_the_old_plan_and_shows_every_problem() {
    let mut app = live_app();
    let shown = app.board.plan.clone();
    let problems = "plan.json: 2 problems\n  tasks[3].checks[0].kind: unknown kind \"tabel\"\n  tasks[5].day: day 9 is not in days";
    let effects = app.receive(Msg::PlanFile(Err(problems.into())));
    assert!(effects.is_empty());
    assert!(Arc::ptr_eq(&app.board.plan, &shown), "the old plan stays");
    assert_eq!(app.board.plan_problem.as_deref(), Some(problems));
    assert!(
        app.board.last_refresh.is_some(),
        "and so do its live verdicts"
    );
    assert!(app.notice.as_deref().unwrap().contains("4 shows why"));
    app.act(Action::Show(View::Log));
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    let log = draw(&mut app);
    assert!(
        log.contains("tasks[3].checks[0].kind: unknown kind"),
        "{log}"
    );
    assert!(log.contains("tasks[5].day: day 9 is not in days"), "{log}");

    // Fixed: the problem goes; a fix back to exactly the plan shown changes nothing else.
    let effects = app.receive(Msg::PlanFile(Ok(Arc::new((*shown).clone()))));
    assert!(effects.is_empty());
    assert_eq!(app.board.plan_problem, None);
    assert!(Arc::ptr_eq(&app.board.plan, &shown));
}

#[test]
fn a_plan_whose_search_path_changed_is_refused_until_restart() {
    let mut app = live_app();
    let mut plan = (*app.board.plan).clone();
    plan.search_path = Some(vec!["migration".into(), "public".into()]);
    let effects = app.receive(Msg::PlanFile(Ok(Arc::new(plan.clone()))));
    assert!(effects.is_empty());
    assert!(
        app.board
            .plan_problem
            .as_deref()
            .unwrap()
            .contains("search_path changed"),
        "{:?}",
        app.board.plan_problem
    );
    // With --search-path the plan's own does not matter: the change is taken.
    let mut app = live_app();
    Arc::make_mut(&mut app.board).search_path_override = Some(vec!["public".into()]);
    let plan = Arc::new(plan);
    app.receive(Msg::PlanFile(Ok(plan.clone())));
    assert!(Arc::ptr_eq(&app.board.plan, &plan), "the change is taken");
    assert_eq!(app.board.plan_problem, None);
}

#[test]
fn a_dialog_on_a_task_the_new_plan_drops_closes_and_keeps_the_note() {
    let mut app = live_app();
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Note);
    type_text(&mut app, "half written");
    let mut plan = (*app.board.plan).clone();
    plan.tasks.retain(|t| t.id != "assets-multi-phase-columns");
    for task in &mut plan.tasks {
        task.depends_on
            .retain(|d| d != "assets-multi-phase-columns");
    }
    app.receive(Msg::PlanFile(Ok(Arc::new(plan))));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(
        app.drafts
            .get("assets-multi-phase-columns")
            .map(String::as_str),
        Some("half written")
    );

    // A dialog on a task that stays follows it to its new place.
    let mut app = live_app();
    select(&mut app, "drop-discovery-assets");
    app.act(Action::Note);
    let plan = edited_plan(&app);
    app.receive(Msg::PlanFile(Ok(plan.clone())));
    let Mode::Dialog(dialog) = &app.mode else {
        panic!("the dialog stays open")
    };
    assert_eq!(plan.tasks[dialog.task_index].id, "drop-discovery-assets");
}

#[test]
fn e_opens_the_first_code_location_in_the_editor_or_says_why_not() {
    let mut app = app();
    let mut refresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    let index = app.board.plan.task_index("fix-session-id-in-code").unwrap();
    refresh.verdicts.tasks[index].checks[0] = Verdict::fail("session_id still in 2 places")
        .with_fact(
            "locations",
            serde_json::json!([{"file": "backend/app/models/asset.py", "line": 4, "text": "session_id = Column(UUID)"}]),
        );
    finished(&mut app, 1, refresh);
    select(&mut app, "fix-session-id-in-code");

    assert!(app.act(Action::OpenInEditor).is_empty());
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("set $VISUAL or $EDITOR"),
        "{:?}",
        app.notice
    );

    app.editor = Some("vi".into());
    app.code_root = Some("/work/app".into());
    assert_eq!(
        app.act(Action::OpenInEditor),
        vec![Effect::Edit {
            file: "/work/app/backend/app/models/asset.py".into(),
            line: 4
        }]
    );
    app.receive(Msg::EditorClosed(Err(
        "vi exited with exit status: 1".into()
    )));
    assert!(app.notice.as_deref().unwrap().contains("could not run"));

    // A location from a store someone else writes to is not trusted to stay under the root.
    let mut refresh = refresh_where_failing(&app.board.plan, SEED_FAILING);
    refresh.verdicts.tasks[index].checks[0] = Verdict::fail("x").with_fact(
        "locations",
        serde_json::json!([{"file": "../../etc/shadow", "line": 1, "text": "x"}]),
    );
    finished(&mut app, 2, refresh);
    assert!(app.act(Action::OpenInEditor).is_empty());
    assert!(
        app.notice.as_deref().unwrap().starts_with("not opened:"),
        "{:?}",
        app.notice
    );

    // A task without code locations says so.
    app.act(Action::Cancel);
    select(&mut app, "drop-session-id-columns");
    assert!(app.act(Action::OpenInEditor).is_empty());
    assert_eq!(
        app.notice.as_deref(),
        Some("no code location in this task's checks")
    );
}

#[test]
fn a_code_task_is_verified_on_the_code_while_the_database_is_offline_and_names_the_commit() {
    let mut app = live_app();
    let index = app.board.plan.task_index("fix-session-id-in-code").unwrap();
    // The database goes away; the code, read alone, now passes.
    let mut code = refresh_where_failing(&app.board.plan, &[]).verdicts;
    code.tasks[index].checks[0] = Verdict::pass("no match for /session_id/ in 12 files")
        .with_fact("commit", "3f9c2e1aa0000000000000000000000000000000");
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Err(TargetError::Unreachable {
            url: "sqlite:demo.db".into(),
            reason: "Connection refused".into(),
        })),
        code_only: Some(Arc::new(code)),
        retry_in: Duration::from_secs(5),
    }));
    assert!(matches!(app.board.connection, Connection::Offline { .. }));
    assert_eq!(
        app.board.status.tasks[index].status,
        TaskStatus::Done,
        "the code is live"
    );
    // A database task stays as it was last seen: the old verdicts, not the code-only errors.
    let drop_index = app.board.plan.task_index("drop-discovery-assets").unwrap();
    assert_eq!(
        app.board.status.tasks[drop_index].status,
        TaskStatus::Failing
    );

    select(&mut app, "fix-session-id-in-code");
    app.act(Action::Verify);
    type_text(&mut app, "grep is clean");
    let effects = app.act(Action::Submit);
    let [Effect::Record(event)] = effects.as_slice() else {
        panic!("recorded at once on fresh code verdicts: {effects:?}")
    };
    assert_eq!(event.evidence["code_only"], true);
    assert_eq!(
        event.evidence["commit"],
        "3f9c2e1aa0000000000000000000000000000000"
    );
    assert_eq!(event.evidence["all_pass"], true);

    // A database task in the same state waits for the live database instead.
    app.mode = Mode::Normal;
    app.act(Action::Cancel);
    select(&mut app, "assets-multi-phase-columns");
    app.act(Action::Verify);
    assert_eq!(app.act(Action::Submit), vec![Effect::Refresh]);
}
