//! The fix dialog without a database: `p` asks for a dry run and its answer opens the report;
//! an apply is offered only after a dry run there proved the fix text the plan has now, behind
//! the task id typed again; what each role may do in a shared tracker.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{key, live_app, select, type_text};
use super::*;
use crate::apply::{Conclusion, FixAction, FixRun, Mode as RunMode, Performed};
use crate::check::{TaskVerdicts, Verdict};
use crate::engine::fixer::{FixJob, FixReport};
use crate::serve::presence::{Presence, Room};
use crate::serve::team::Role;
use crate::store::{Event, EventKind};
use crate::tui::action::Msg;

pub(crate) const TASK: &str = "master-flow-columns";

/// The live app on day 2's first task, with a write target.
pub(crate) fn fixing_app() -> App {
    fixing_app_on(TASK)
}

pub(crate) fn fixing_app_on(task_id: &str) -> App {
    let mut app = live_app();
    app.apply_to = Some(ApplyTarget {
        shown: "sqlite:demo.db".into(),
        backend: Backend::Sqlite,
    });
    select(&mut app, task_id);
    app
}

/// The same, as `name` with `role` in a shared tracker.
fn fixing_as(room: &Room, name: &str, role: Role) -> (App, Presence) {
    let presence = room.join(name, role);
    let mut app = fixing_app();
    app.user = name.into();
    app.pairing = Some(Pairing::new(presence.id(), role));
    app.receive(Msg::Roster(room.roster()));
    (app, presence)
}

fn job(action: FixAction) -> FixJob {
    FixJob {
        task_id: TASK.into(),
        action,
        actor: "ana".into(),
        role: None,
        note: String::new(),
        proven: None,
    }
}

/// A run of the task's fix that ended as `conclusion`, its checks all passing inside.
pub(crate) fn run_of(app: &App, mode: RunMode, conclusion: Conclusion) -> FixRun {
    let task = app.board.plan.task(TASK).unwrap();
    let passing = TaskVerdicts {
        checks: task.checks.iter().map(|_| Verdict::pass("ok")).collect(),
        guards: vec![],
    };
    let failing = TaskVerdicts {
        checks: task
            .checks
            .iter()
            .map(|_| Verdict::fail("type would be character varying(100), expected (50)"))
            .collect(),
        guards: vec![],
    };
    let proven = matches!(conclusion, Conclusion::Proven | Conclusion::Applied);
    FixRun {
        task_id: TASK.into(),
        mode,
        backend: Backend::Sqlite,
        database: "sqlite:/tmp/demo.db".into(),
        sql: "ALTER TABLE …".into(),
        before: Some(failing.clone()),
        statements: vec![],
        inside: Some(if proven { passing.clone() } else { failing }),
        after: (conclusion == Conclusion::Applied).then_some(passing),
        warnings: vec![],
        conclusion,
        duration: Duration::from_millis(40),
    }
}

/// The runtime's answer to the run the app asked for.
pub(crate) fn answer(app: &mut App, action: FixAction, run: FixRun, said: Vec<String>) {
    let task = app.board.plan.task(TASK).unwrap().clone();
    let index = app.board.plan.task_index(TASK).unwrap();
    let report = FixReport {
        lines: run.lines(&task, "sqlite:demo.db"),
        fingerprint: app.fix_fingerprint_of(index),
        performed: Performed { run, said },
    };
    let effects = app.receive(Msg::FixFinished {
        task_id: TASK.into(),
        action,
        outcome: Ok(Arc::new(report)),
    });
    assert!(effects.is_empty());
}

fn dialog(app: &App) -> &FixDialog {
    match &app.mode {
        Mode::Fix(dialog) => dialog,
        other => panic!("no fix dialog: {other:?}"),
    }
}

/// `p`, answered: the fix proven by a dry run in the dialog.
pub(crate) fn proven(app: &mut App) {
    app.act(Action::ProveFix);
    let run = run_of(app, RunMode::DryRun, Conclusion::Proven);
    answer(app, FixAction::DryRun, run, vec![]);
    assert!(dialog(app).proven.is_some());
}

#[test]
fn p_asks_for_a_dry_run_and_its_answer_opens_the_report() {
    let mut app = fixing_app();
    let effects = app.act(Action::ProveFix);
    assert_eq!(effects, vec![Effect::Fix(job(FixAction::DryRun))]);
    assert!(matches!(
        dialog(&app).stage,
        FixStage::Running(FixAction::DryRun)
    ));

    // Nothing else starts while it runs.
    assert!(app.act(Action::ProveFix).is_empty());
    assert!(
        dialog(&app)
            .refusal
            .as_deref()
            .unwrap()
            .contains("still running")
    );

    let run = run_of(&app, RunMode::DryRun, Conclusion::Proven);
    answer(&mut app, FixAction::DryRun, run, vec![]);
    let shown = dialog(&app);
    assert!(matches!(shown.stage, FixStage::Report));
    assert!(shown.report_proven);
    assert_eq!(shown.proven, app.fix_fingerprint_of(shown.task_index));
    assert!(
        shown.report.last().unwrap().starts_with(
            "proven: after this fix, 7 of 7 checks pass (the fix has no guards). Rolled back"
        ),
        "{:?}",
        shown.report
    );
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .starts_with("dry run of master-flow-columns: proven")
    );
    assert_eq!(app.fix_running, None);
}

#[test]
fn p_says_why_not_without_a_write_url_without_a_fix_and_while_a_run_is_on_its_way() {
    let mut app = fixing_app();
    app.apply_to = None;
    assert!(app.act(Action::ProveFix).is_empty());
    assert_eq!(app.notice.as_deref(), Some(crate::apply::NO_APPLY_URL));
    assert!(matches!(app.mode, Mode::Normal));

    let mut app = fixing_app_on("flow-state-extensions-table");
    assert!(app.act(Action::ProveFix).is_empty());
    assert_eq!(
        app.notice.as_deref(),
        Some("this task has no fix in the plan")
    );

    // Closed while it runs: the run goes on, and a second one is not started.
    let mut app = fixing_app();
    app.act(Action::ProveFix);
    app.act(Action::Cancel);
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.notice.as_deref().unwrap().contains("goes on"));
    // Esc clears the filter that found it; the next task of day 2 is another fix.
    app.act(Action::Cancel);
    app.act(Action::Down);
    assert_eq!(app.selected_task().unwrap().id, "drop-discovery-assets");
    assert!(app.act(Action::ProveFix).is_empty());
    assert_eq!(
        app.notice.as_deref(),
        Some("the dry run of master-flow-columns's fix is still running: wait for its answer")
    );
    // Its answer, with the dialog closed, is told in the footer and the log.
    let run = run_of(&app, RunMode::DryRun, Conclusion::Proven);
    answer(&mut app, FixAction::DryRun, run, vec![]);
    assert!(matches!(app.mode, Mode::Normal));
    assert!(
        app.activity
            .back()
            .unwrap()
            .text
            .starts_with("dry run of master-flow-columns: proven")
    );
}

#[test]
fn apply_is_refused_before_a_dry_run_proved_the_fix() {
    let mut app = fixing_app();
    app.act(Action::ProveFix);
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Running(_)));

    let run = run_of(
        &app,
        RunMode::DryRun,
        Conclusion::NotProven("current-phase fails".into()),
    );
    answer(&mut app, FixAction::DryRun, run, vec![]);
    assert!(!dialog(&app).report_proven);
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Report));
    assert_eq!(
        dialog(&app).refusal.as_deref(),
        Some("the dry run did not prove the fix, so an apply is not offered")
    );
    assert!(app.act(Action::ApproveFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Report));
}

#[test]
fn apply_is_refused_once_the_fix_text_changed_in_the_plan() {
    let mut app = fixing_app();
    proven(&mut app);
    let mut plan = (*app.board.plan).clone();
    let index = plan.task_index(TASK).unwrap();
    let fix = plan.tasks[index].fix.as_mut().unwrap();
    let changed = serde_json::json!({
        "postgres": "ALTER TABLE crewai_flow_state_extensions ADD COLUMN current_phase VARCHAR(100);",
        "sqlite": "ALTER TABLE crewai_flow_state_extensions ADD COLUMN current_phase VARCHAR(100);",
    });
    fix.sql = serde_json::from_value(changed).unwrap();
    app.receive(Msg::PlanFile(Ok(Arc::new(plan))));
    assert!(matches!(app.mode, Mode::Fix(_)), "the dialog stays open");

    assert!(app.act(Action::ApplyFix).is_empty());
    let shown = dialog(&app);
    assert!(matches!(shown.stage, FixStage::Report));
    assert!(
        shown
            .refusal
            .as_deref()
            .unwrap()
            .starts_with("the fix text changed in the plan since the dry run proved it"),
        "{:?}",
        shown.refusal
    );
    assert_eq!(shown.proven, None, "that proof is forgotten");
    // A new dry run proves the new text.
    assert_eq!(
        app.act(Action::ProveFix),
        vec![Effect::Fix(job(FixAction::DryRun))]
    );
}

#[test]
fn the_typed_confirmation_refuses_a_wrong_id_and_sends_the_apply_on_the_right_one() {
    let mut app = fixing_app();
    proven(&mut app);
    let fingerprint = dialog(&app).proven.clone();
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Confirm { .. }));

    type_text(&mut app, "master-flow");
    assert!(
        app.act(Action::Submit).is_empty(),
        "a wrong id applies nothing"
    );
    let shown = dialog(&app);
    assert!(matches!(&shown.stage, FixStage::Confirm { typed } if typed.is_empty()));
    assert_eq!(
        shown.refusal.as_deref(),
        Some(
            "not applied: \"master-flow\" is not this task's id; type master-flow-columns \
             exactly (Esc goes back)"
        )
    );

    type_text(&mut app, TASK);
    let effects = app.act(Action::Submit);
    assert_eq!(
        effects,
        vec![Effect::Fix(FixJob {
            proven: fingerprint,
            ..job(FixAction::Apply)
        })]
    );
    assert!(matches!(
        dialog(&app).stage,
        FixStage::Running(FixAction::Apply)
    ));

    let run = run_of(&app, RunMode::Apply, Conclusion::Applied);
    answer(&mut app, FixAction::Apply, run, vec![]);
    assert_eq!(
        app.notice.as_deref(),
        Some("applied master-flow-columns: 7 of 7 checks pass after the commit")
    );
    let shown = dialog(&app);
    assert!(
        shown
            .report
            .iter()
            .any(|l| l.starts_with("applied: committed"))
    );
    assert_eq!(shown.proven, None, "the apply spent the proof");
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Report));
}

#[test]
fn esc_goes_back_from_the_confirmation_then_closes_the_dialog() {
    let mut app = fixing_app();
    proven(&mut app);
    app.act(Action::ApplyFix);
    type_text(&mut app, "mast");
    app.act(Action::Cancel);
    assert!(matches!(dialog(&app).stage, FixStage::Report));
    assert!(dialog(&app).proven.is_some(), "the proof stays");
    app.act(Action::Cancel);
    assert!(matches!(app.mode, Mode::Normal));
    assert!(
        !app.notice
            .as_deref()
            .unwrap_or_default()
            .contains("goes on"),
        "nothing is running: {:?}",
        app.notice
    );
}

#[test]
fn the_fix_dialog_keys_depend_on_what_is_typed() {
    use crate::tui::keymap::key_action;
    let mut app = fixing_app();
    proven(&mut app);
    let press = |app: &App, code: KeyCode, modifiers: KeyModifiers| {
        key_action(&app.mode, KeyEvent::new(code, modifiers))
    };
    let none = KeyModifiers::NONE;
    assert_eq!(
        press(&app, KeyCode::Char('a'), none),
        Some(Action::ApplyFix)
    );
    assert_eq!(
        press(&app, KeyCode::Char('A'), KeyModifiers::SHIFT),
        Some(Action::ApproveFix)
    );
    assert_eq!(
        press(&app, KeyCode::Char('R'), KeyModifiers::SHIFT),
        Some(Action::RequestApproval)
    );
    assert_eq!(press(&app, KeyCode::Esc, none), Some(Action::Cancel));
    app.act(Action::ApplyFix);
    assert_eq!(
        press(&app, KeyCode::Char('a'), none),
        Some(key(KeyCode::Char('a')))
    );
    assert_eq!(press(&app, KeyCode::Enter, none), Some(Action::Submit));
    app.act(Action::Cancel);
    app.act(Action::RequestApproval);
    assert_eq!(
        press(&app, KeyCode::Enter, none),
        Some(key(KeyCode::Enter)),
        "a note may have several lines"
    );
    assert_eq!(
        press(&app, KeyCode::Char('s'), KeyModifiers::CONTROL),
        Some(Action::Submit)
    );
}

#[test]
fn a_viewer_may_not_fix_an_engineer_may_but_not_approve_and_a_lead_approves() {
    let room = Room::new();
    let (mut bob, _bob_here) = fixing_as(&room, "bob", Role::Viewer);
    assert!(bob.act(Action::ProveFix).is_empty());
    assert!(matches!(bob.mode, Mode::Normal));
    assert_eq!(
        bob.notice.as_deref(),
        Some("bob is a viewer: fixes need the engineer role")
    );

    let (mut ana, _ana_here) = fixing_as(&room, "ana", Role::Engineer);
    assert_eq!(
        ana.act(Action::ProveFix),
        vec![Effect::Fix(FixJob {
            role: Some("engineer".into()),
            ..job(FixAction::DryRun)
        })]
    );
    let run = run_of(&ana, RunMode::DryRun, Conclusion::Proven);
    answer(&mut ana, FixAction::DryRun, run, vec![]);
    assert!(ana.act(Action::ApproveFix).is_empty());
    assert_eq!(
        dialog(&ana).refusal.as_deref(),
        Some("ana is an engineer: approving a fix needs the lead role")
    );
    ana.act(Action::RequestApproval);
    assert!(matches!(dialog(&ana).stage, FixStage::Note { .. }));
    type_text(&mut ana, "the types differ from the model");
    let proof = dialog(&ana).proven.clone();
    assert_eq!(
        ana.act(Action::Submit),
        vec![Effect::Fix(FixJob {
            role: Some("engineer".into()),
            note: "the types differ from the model".into(),
            proven: proof.clone(),
            ..job(FixAction::RequestApproval)
        })]
    );

    let (mut lee, _lee_here) = fixing_as(&room, "lee", Role::Lead);
    proven(&mut lee);
    lee.act(Action::ApproveFix);
    type_text(&mut lee, "checked against the model");
    assert_eq!(
        lee.act(Action::Submit),
        vec![Effect::Fix(FixJob {
            actor: "lee".into(),
            role: Some("lead".into()),
            note: "checked against the model".into(),
            proven: proof,
            ..job(FixAction::Approve)
        })]
    );
}

pub(crate) fn fix_event(app: &App, id: i64, kind: EventKind, actor: &str, note: &str) -> Event {
    let index = app.board.plan.task_index(TASK).unwrap();
    Event {
        id,
        task_id: TASK.into(),
        kind,
        actor: actor.into(),
        at: time::macros::datetime!(2026-11-24 10:01 UTC),
        note: note.into(),
        evidence: serde_json::json!({ "database": "sqlite:demo.db" }),
        fingerprint: app.fix_fingerprint_of(index).unwrap(),
    }
}

#[test]
fn a_request_for_approval_is_told_to_a_lead_and_answered_by_an_approval() {
    let room = Room::new();
    let (mut lee, _here) = fixing_as(&room, "lee", Role::Lead);
    let request = fix_event(
        &lee,
        1,
        EventKind::ApprovalRequested,
        "ana",
        "please check the types",
    );
    lee.receive(Msg::StoreAppended(vec![request.clone()]));
    let line = "ana asks for approval of master-flow-columns's fix: please check the types";
    assert_eq!(lee.notice.as_deref(), Some(line));
    assert_eq!(lee.activity.back().unwrap().text, line);
    let index = lee.board.plan.task_index(TASK).unwrap();
    let history = lee.fix_history(index);
    assert_eq!(history.requests.len(), 1);
    assert!(history.approvals.is_empty());

    // A viewer reads it in the log, and is not asked for anything.
    let (mut bob, _bob_here) = fixing_as(&room, "bob", Role::Viewer);
    bob.receive(Msg::StoreAppended(vec![request]));
    assert_eq!(bob.notice, None);
    assert_eq!(bob.activity.back().unwrap().text, line);

    let approval = fix_event(&lee, 2, EventKind::Approved, "lee", "ok");
    lee.receive(Msg::StoreAppended(vec![approval]));
    let history = lee.fix_history(index);
    assert!(history.requests.is_empty(), "answered");
    assert_eq!(history.approvals.len(), 1);

    // An apply of that text spends the approvals.
    let applied = fix_event(&lee, 3, EventKind::Applied, "ana", "");
    lee.receive(Msg::StoreAppended(vec![applied]));
    let history = lee.fix_history(index);
    assert!(history.approvals.is_empty());
    assert_eq!(history.last_apply.map(|e| e.id), Some(3));
}

#[test]
fn quitting_while_an_apply_commits_is_held_once_in_the_local_tracker() {
    let mut app = fixing_app();
    proven(&mut app);
    app.act(Action::ApplyFix);
    type_text(&mut app, TASK);
    app.act(Action::Submit);
    assert!(app.act(Action::Quit).is_empty(), "held");
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("quit again to quit anyway")
    );
    assert_eq!(app.act(Action::Quit), vec![Effect::Quit], "the second goes");

    // Over SSH the run is the server's: leaving does not stop it.
    let room = Room::new();
    let (mut ana, _here) = fixing_as(&room, "ana", Role::Engineer);
    proven(&mut ana);
    ana.act(Action::ApplyFix);
    type_text(&mut ana, TASK);
    ana.act(Action::Submit);
    assert_eq!(ana.act(Action::Quit), vec![Effect::Quit]);
}

#[test]
fn apply_asks_for_no_id_while_the_plan_wants_an_approval_nobody_else_gave() {
    let mut app = fixing_app();
    let board = Arc::make_mut(&mut app.board);
    Arc::make_mut(&mut board.plan).fix_policy = Some(crate::plan::FixPolicy { approvals: 1 });
    // Her own approval does not count for her.
    let own = fix_event(&app, 1, EventKind::Approved, &app.user.clone(), "mine");
    app.receive(Msg::StoreAppended(vec![own]));
    proven(&mut app);
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Report));
    assert_eq!(
        dialog(&app).refusal.as_deref(),
        Some(
            "the plan asks for 1 approval from someone other than you before an apply; none \
             given for this fix text: R asks for one"
        )
    );
    let lees = fix_event(&app, 2, EventKind::Approved, "lee", "ok");
    app.receive(Msg::StoreAppended(vec![lees]));
    assert!(app.act(Action::ApplyFix).is_empty());
    assert!(matches!(dialog(&app).stage, FixStage::Confirm { .. }));
}
