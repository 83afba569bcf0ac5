//! The fix dialog and the detail pane's fix section at 80×24 and 200×50: the verdict stays in
//! view however long the report, in the colour of its meaning; the confirmation says what Enter
//! does; the history shows the last apply and who asked for an approval.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::tests::{screen, text};
use crate::apply::{Conclusion, FixAction, Mode as RunMode};
use crate::store::EventKind;
use crate::tui::action::{Action, Msg};
use crate::tui::app::App;
use crate::tui::app::fix_tests::{answer, fix_event, fixing_app, proven, run_of};
use crate::tui::app::tests::type_text_pub;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

fn at_sizes(name: &str, app: &mut App) {
    for (width, height) in SIZES {
        app.receive(Msg::Resized { width, height });
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            text(&screen(app, width, height))
        );
    }
}

/// The colour of the first cell of the row that starts with `start` inside the dialog.
fn colour_of_row(terminal: &Terminal<TestBackend>, start: &str) -> Option<Color> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (0..area.height).find_map(|y| {
        let row: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        let at = row.find(start)?;
        let x = row[..at].chars().count() as u16;
        Some(buffer[(x, y)].fg)
    })
}

#[test]
fn a_proven_dry_run_with_the_keys_it_allows() {
    let mut app = fixing_app();
    proven(&mut app);
    at_sizes("fix_proven", &mut app);
    for (width, height) in SIZES {
        let shown = text(&screen(&app, width, height));
        assert!(shown.contains("proven: after this fix, 7 of 7"), "{shown}");
        assert!(shown.contains("a apply"), "{shown}");
        assert!(
            shown.contains("dry run of master-flow-columns: proven"),
            "the footer's notice stays in view:\n{shown}"
        );
    }
}

#[test]
fn the_running_dry_run_and_the_typed_confirmation() {
    let mut app = fixing_app();
    app.act(Action::ProveFix);
    let shown = text(&screen(&app, 80, 24));
    assert!(shown.contains("running the dry run…"), "{shown}");

    let run = run_of(&app, RunMode::DryRun, Conclusion::Proven);
    answer(&mut app, FixAction::DryRun, run, vec![]);
    app.act(Action::ApplyFix);
    type_text_pub(&mut app, "master-flow");
    at_sizes("fix_confirm", &mut app);
}

#[test]
fn the_verdict_is_green_when_proven_and_red_when_not() {
    let mut app = fixing_app();
    proven(&mut app);
    assert_eq!(
        colour_of_row(&screen(&app, 80, 24), "proven: after"),
        Some(Color::Green)
    );

    let mut app = fixing_app();
    app.act(Action::ProveFix);
    let run = run_of(
        &app,
        RunMode::DryRun,
        Conclusion::NotProven(
            "after this fix, 6 of 7 checks pass; current-phase fails: type is VARCHAR(100), \
             expected varchar(50)"
                .into(),
        ),
    );
    answer(&mut app, FixAction::DryRun, run, vec![]);
    let terminal = screen(&app, 80, 24);
    assert_eq!(colour_of_row(&terminal, "not proven:"), Some(Color::Red));
    let shown = text(&terminal);
    assert!(!shown.contains("a apply"), "no apply is offered:\n{shown}");
}

#[test]
fn the_detail_shows_how_to_prove_the_fix_the_last_apply_and_who_asks_for_approval() {
    let mut app = fixing_app();
    let shown = text(&screen(&app, 200, 50));
    assert!(
        shown.contains("p: dry run the fix — proves it in a transaction that is rolled back"),
        "{shown}"
    );

    let failed = {
        let mut event = fix_event(&app, 1, EventKind::ApplyFailed, "lee", "");
        event.note = "not applied: needs 1 approval from someone other than lee".into();
        event
    };
    let request = fix_event(
        &app,
        2,
        EventKind::ApprovalRequested,
        "ana",
        "look at the types",
    );
    app.receive(Msg::StoreAppended(vec![failed, request]));
    app.receive(Msg::Resized {
        width: 200,
        height: 50,
    });
    let shown = text(&screen(&app, 200, 50));
    assert!(
        shown.contains(
            "Last apply here: not applied: needs 1 approval from someone other than lee, by lee"
        ),
        "{shown}"
    );
    assert!(
        shown
            .contains("approval asked by ana 0s ago (2026-11-24T10:01:00Z): \"look at the types\""),
        "{shown}"
    );
    // At 80×24 the same lines are there to scroll to.
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    let drawn = super::tests::frame_of(&app);
    app.receive(Msg::Drawn(drawn));
    app.act(Action::ScrollDetail(i16::MAX));
    let shown = text(&screen(&app, 80, 24));
    assert!(shown.contains("approval asked by ana"), "{shown}");
}

#[test]
fn after_an_apply_the_dialog_says_the_approvals_were_spent_not_that_none_were_given() {
    let mut app = fixing_app();
    let board = std::sync::Arc::make_mut(&mut app.board);
    std::sync::Arc::make_mut(&mut board.plan).fix_policy =
        Some(crate::plan::FixPolicy { approvals: 1 });
    let approved = fix_event(&app, 1, EventKind::Approved, "lee", "ok");
    app.receive(Msg::StoreAppended(vec![approved]));
    proven(&mut app);
    let shown = text(&screen(&app, 200, 50));
    assert!(
        shown.contains("1 approval before an apply: given by lee for this fix text"),
        "{shown}"
    );
    let applied = fix_event(&app, 2, EventKind::Applied, "ana", "");
    app.receive(Msg::StoreAppended(vec![applied]));
    let shown = text(&screen(&app, 200, 50));
    assert!(
        shown.contains("none left (the last apply here spent the ones given)"),
        "{shown}"
    );
    assert!(!shown.contains("none given yet"), "{shown}");
}
