//! Snapshots of the main screens at 80×24 and 160×48, and the colours that carry meaning.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::render;
use crate::tui::action::{Action, Msg, View};
use crate::tui::app::App;
use crate::tui::app::tests::{live_app, type_text_pub};
use crate::tui::theme::Theme;

pub(super) fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| {
            render(frame, app);
        })
        .unwrap();
    terminal
}

/// Draws `app` at its own size, as the runtime does, and hands back what the frame measured.
pub(crate) fn frame_of(app: &App) -> super::Drawn {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut drawn = super::Drawn::default();
    terminal.draw(|frame| drawn = render(frame, app)).unwrap();
    drawn
}

pub(super) fn text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn at_sizes(name: &str, app: &mut App) {
    for (width, height) in [(80, 24), (160, 48)] {
        app.receive(Msg::Resized { width, height });
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            text(&screen(app, width, height))
        );
    }
}

#[test]
fn day_view() {
    at_sizes("day_view", &mut live_app());
}

#[test]
fn detail_with_failing_evidence() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    at_sizes("detail_failing", &mut app);
}

#[test]
fn verify_dialog_refused() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    app.act(Action::Verify);
    at_sizes("verify_refused", &mut app);
}

#[test]
fn verify_dialog_accepted() {
    let mut app = live_app();
    app.act(Action::Down);
    app.act(Action::Verify);
    type_text_pub(&mut app, "checked all three columns in psql");
    at_sizes("verify_accepted", &mut app);
}

#[test]
fn risks_panel() {
    let mut app = live_app();
    app.act(Action::Show(View::Risks));
    at_sizes("risks", &mut app);
}

#[test]
fn help() {
    let mut app = live_app();
    app.act(Action::Help);
    at_sizes("help", &mut app);
}

#[test]
fn filter() {
    let mut app = live_app();
    app.act(Action::StartFilter);
    type_text_pub(&mut app, "session");
    at_sizes("filter", &mut app);
}

#[test]
fn too_small_and_tiny_terminals_never_panic() {
    let app = live_app();
    insta::assert_snapshot!("too_small_50x12", text(&screen(&app, 50, 12)));
    for (width, height) in [
        (1, 1),
        (2, 1),
        (1, 30),
        (300, 1),
        (59, 16),
        (60, 15),
        (60, 16),
        (500, 200),
    ] {
        let _ = screen(&app, width, height);
    }
}

#[test]
fn a_failing_task_is_drawn_in_the_failure_colour_and_plain_under_no_color() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    let find_fail_cell = |terminal: &Terminal<TestBackend>| {
        let buffer = terminal.backend().buffer();
        let area = buffer.area;
        (0..area.height)
            .flat_map(|y| (0..area.width).map(move |x| (x, y)))
            .find(|&(x, y)| buffer[(x, y)].symbol() == "✗")
            .map(|(x, y)| buffer[(x, y)].fg)
    };
    assert_eq!(find_fail_cell(&screen(&app, 80, 24)), Some(Color::Red));
    app.theme = Theme {
        color: false,
        ascii: false,
    };
    assert_eq!(find_fail_cell(&screen(&app, 80, 24)), Some(Color::Reset));
}

#[test]
fn ascii_mode_draws_no_unicode_glyphs() {
    let mut app = live_app();
    app.theme = Theme {
        color: true,
        ascii: true,
    };
    let drawn = text(&screen(&app, 80, 24));
    assert!(drawn.is_ascii(), "{drawn}");
}

#[test]
fn escape_sequences_from_the_plan_the_database_and_notes_never_reach_the_screen() {
    use crate::store::{Event, EventKind};
    use std::sync::Arc;

    let nasty = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}\r\u{202E}evil";
    let mut plan = (*crate::tui::app::tests::shipped_plan()).clone();
    plan.title = format!("Plan {nasty}");
    plan.tasks[0].title = format!("Task {nasty}");
    plan.tasks[0].description = Some(format!("Description {nasty}"));
    let mut app = App::new(crate::tui::app::AppConfig {
        plan: Arc::new(plan),
        database: format!("sqlite:{nasty}.db"),
        backend: crate::Backend::Sqlite,
        user: format!("ana{nasty}"),
        theme: Theme {
            color: true,
            ascii: false,
        },
        now: time::macros::datetime!(2026-11-24 10:00 UTC),
        search_path_override: None,
        code_root: None,
        editor: None,
        pairing: None,
        apply_to: None,
    });
    let mut refresh = crate::tui::app::tests::refresh_where_failing(&app.board.plan, &[]);
    refresh.verdicts.tasks[0].checks[0].evidence = format!("table {nasty} exists");
    crate::tui::app::tests::finished(&mut app, 1, refresh);
    let event = Event {
        id: 1,
        task_id: app.board.plan.tasks[0].id.clone(),
        kind: EventKind::Note,
        actor: format!("bo{nasty}"),
        at: time::macros::datetime!(2026-11-24 09:00 UTC),
        note: format!("note {nasty}"),
        evidence: serde_json::json!({}),
        fingerprint: String::new(),
    };
    app.receive(Msg::StoreAppended(vec![event]));
    let mut screens = Vec::new();
    for view in View::ALL {
        app.act(Action::Show(view));
        screens.push(screen(&app, 160, 48));
    }
    app.act(Action::Show(View::Days));
    app.act(Action::Verify);
    app.act(Action::Paste(format!("pasted {nasty}\r\nline two")));
    screens.push(screen(&app, 160, 48));
    for terminal in &screens {
        for cell in terminal.backend().buffer().content.iter() {
            assert!(
                !cell.symbol().chars().any(crate::printable::is_unsafe),
                "a raw control or bidi character reached the screen: {:?}\n{}",
                cell.symbol(),
                text(terminal)
            );
        }
    }
    let shown = text(&screens[0]);
    assert!(
        shown.contains("\\u{1b}[2J"),
        "shown escaped instead:\n{shown}"
    );
}

#[test]
fn resize_storms_and_every_size_from_one_cell_up_draw_without_panicking() {
    let mut app = live_app();
    app.act(Action::NextTodo);
    for width in (1..=220).step_by(9) {
        for height in (1..=70).step_by(7) {
            app.receive(Msg::Resized { width, height });
            let _ = screen(&app, width, height);
        }
    }
    app.act(Action::Verify);
    for size in [1, 5, 20, 59, 60, 61, 80] {
        let _ = screen(&app, size, size / 3 + 1);
    }
}

#[test]
fn the_dialog_says_before_typing_that_marks_cannot_be_saved_now() {
    let mut app = live_app();
    app.receive(crate::tui::action::Msg::StoreFailed(
        "cannot reach the store: Connection refused; retrying in 2 s".into(),
    ));
    app.act(Action::Down);
    app.act(Action::Verify);
    let shown = text(&screen(&app, 80, 24));
    assert!(
        shown.contains("Marks cannot be saved right now: cannot reach the store"),
        "{shown}"
    );
}

#[test]
fn a_plan_without_code_work_shows_a_dash_not_a_full_gauge() {
    let mut plan = (*crate::tui::app::tests::shipped_plan()).clone();
    plan.tasks.retain(|task| task.phase != "code-remediation");
    plan.phases.push(crate::plan::Phase {
        id: "empty".into(),
        title: "Nothing yet".into(),
        window: None,
    });
    let mut app = crate::tui::app::tests::app_with_plan(std::sync::Arc::new(plan));
    app.act(Action::Show(View::Phases));
    let shown = text(&screen(&app, 120, 30));
    assert!(shown.contains("Code — no tasks"), "{shown}");
    assert!(shown.contains("empty —"), "{shown}");
    assert!(!shown.contains("Code ████"), "{shown}");
}

#[test]
fn phases_view() {
    let mut app = live_app();
    app.act(Action::Show(View::Phases));
    at_sizes("phases", &mut app);
}

#[test]
fn log_view() {
    let mut app = live_app();
    app.act(Action::Show(View::Log));
    at_sizes("log", &mut app);
}

/// The database stops answering after the first refresh.
fn go_offline(app: &mut App, reason: &str) {
    app.receive(Msg::Engine(crate::engine::EngineUpdate::RefreshFinished {
        run: 2,
        plan: app.board.plan.clone(),
        outcome: std::sync::Arc::new(Err(crate::check::TargetError::Unreachable {
            url: "sqlite:demo.db".into(),
            reason: reason.into(),
        })),
        code_only: None,
        retry_in: std::time::Duration::from_secs(4),
    }));
}

#[test]
fn offline_header_keeps_the_old_verdicts() {
    let mut app = live_app();
    go_offline(&mut app, "Connection refused (os error 111)");
    at_sizes("offline", &mut app);
}

#[test]
fn the_day_strip_follows_the_selected_day_when_they_do_not_all_fit() {
    let mut plan = (*crate::tui::app::tests::shipped_plan()).clone();
    for day in 6..=12 {
        plan.days.push(crate::plan::Day {
            day,
            title: format!("A long day title that goes on and on, day {day}"),
            goal: None,
        });
    }
    let mut app = crate::tui::app::tests::app_with_plan(std::sync::Arc::new(plan));
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    let strip = |app: &App| {
        text(&screen(app, 80, 24))
            .lines()
            .nth(3)
            .unwrap_or("")
            .to_string()
    };
    assert!(strip(&app).contains("Day 1 "), "{}", strip(&app));
    assert!(
        strip(&app).trim_end().ends_with('›'),
        "more to the right: {}",
        strip(&app)
    );
    for _ in 0..11 {
        app.act(Action::NextGroup);
    }
    let shown = strip(&app);
    assert!(
        shown.contains("Day 12 —"),
        "the selected day is on screen: {shown}"
    );
    assert!(shown.starts_with('‹'), "more to the left: {shown}");
}

/// The columns of each task row in the list, as drawn: where its id starts.
fn id_columns(app: &App, width: u16, height: u16) -> Vec<(String, usize)> {
    let screen = text(&screen(app, width, height));
    app.visible_tasks()
        .iter()
        .map(|&index| {
            let id = &app.board.plan.tasks[index].id;
            // A narrow list may cut the id: its start is enough to find it.
            let start: String = format!(" {}", id.chars().take(12).collect::<String>());
            let line = screen
                .lines()
                .find(|line| line.contains(&start))
                .unwrap_or_else(|| panic!("{id} is not on screen at {width}x{height}:\n{screen}"));
            let byte = line.find(&start).unwrap() + 1;
            (id.clone(), line[..byte].chars().count())
        })
        .collect()
}

#[test]
fn the_ids_in_the_task_list_line_up_whether_or_not_a_task_has_a_marker() {
    use crate::store::EventKind;
    let mut app = live_app();
    // Day 1 mixes a verified task with unmarked ones; day 2 is all OVERCLAIMED.
    let verified = crate::tui::app::tests::recorded(
        &app,
        1,
        EventKind::Verified,
        "assets-multi-phase-columns",
        "ana",
    );
    app.receive(Msg::StoreLoaded(vec![verified]));
    for (width, height) in [(80, 24), (120, 40), (200, 50)] {
        app.receive(Msg::Resized { width, height });
        for day in 0..app.board.plan.days.len() {
            app.day = day;
            let columns = id_columns(&app, width, height);
            let first = columns[0].1;
            assert!(
                columns.iter().all(|(_, column)| *column == first),
                "day {} at {width}x{height}: {columns:?}",
                day + 1
            );
        }
    }
}

#[test]
fn a_wide_task_list_shows_the_claim_and_the_markers_in_columns_of_their_own() {
    let mut app = live_app();
    app.receive(Msg::Resized {
        width: 200,
        height: 50,
    });
    app.act(Action::NextGroup);
    let screen = text(&screen(&app, 200, 50));
    let rows: Vec<&str> = screen
        .lines()
        .filter(|line| line.contains("OVERCLAIMED") && line.contains("failing"))
        .collect();
    assert_eq!(rows.len(), 3, "{screen}");
    // Claim then marker, each at the same column on every row, the titles cut to make room.
    let at = |row: &str, what: &str| row[..row.find(what).unwrap()].chars().count();
    for row in &rows {
        assert_eq!(
            at(row, "claimed done"),
            at(rows[0], "claimed done"),
            "{screen}"
        );
        assert_eq!(
            at(row, "OVERCLAIMED"),
            at(rows[0], "OVERCLAIMED"),
            "{screen}"
        );
        assert!(at(row, "claimed done") < at(row, "OVERCLAIMED"));
    }
    insta::assert_snapshot!("wide_list_200x50", screen);
}

#[test]
fn reasons_too_long_for_the_header_are_whole_in_the_log_view_and_the_footer_points_there() {
    let reason = "TLS handshake failed: the server's certificate for db.internal.example.com \
                  expired on 2026-11-01, and the connection was closed before authentication \
                  (check the server's certificate or sslmode)";
    let store = "the store's server at store.internal.example.com:5432 refused the connection: \
                 too many clients already; marks made now would be lost";
    let mut app = live_app();
    go_offline(&mut app, reason);
    app.receive(Msg::StoreFailed(store.into()));
    app.notice = None;
    let days = text(&screen(&app, 80, 24));
    let header = days.lines().next().unwrap();
    assert!(
        header.contains("OFFLINE: TLS") && header.contains('…'),
        "{days}"
    );
    let footer = days.lines().last().unwrap();
    assert!(
        footer.starts_with("4 why offline, read-only") && footer.contains("q quit"),
        "the footer points to the whole reasons: {footer:?}"
    );

    app.act(Action::Show(View::Log));
    let log = text(&screen(&app, 80, 24));
    // Every word of both reasons is on screen, in order, however they wrapped.
    let words: Vec<&str> = log
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect();
    for whole in [reason, store] {
        let wanted: Vec<&str> = whole.split_whitespace().collect();
        assert!(
            words.windows(wanted.len()).any(|w| w == wanted.as_slice()),
            "{whole:?} is not whole in:\n{log}"
        );
    }
    assert!(
        !log.lines().last().unwrap().contains("why offline"),
        "no pointer to the view already shown"
    );
    insta::assert_snapshot!("log_with_problems_80x24", log);
}

/// The screen `app` draws at its own size, as text.
pub(crate) fn screen_text(app: &App) -> String {
    text(&screen(app, app.size.0, app.size.1))
}

/// The screen's lines drawn in the selection's style, as text.
pub(crate) fn highlighted_rows(app: &App) -> Vec<String> {
    let terminal = screen(app, app.size.0, app.size.1);
    let buffer = terminal.backend().buffer();
    let selected = app.theme.selected().add_modifier;
    (0..buffer.area.height)
        .filter_map(|y| {
            let cells: Vec<_> = (0..buffer.area.width).map(|x| &buffer[(x, y)]).collect();
            cells
                .iter()
                .any(|cell| cell.modifier.contains(selected) && cell.symbol() != " ")
                .then(|| cells.iter().map(|cell| cell.symbol()).collect())
        })
        .collect()
}

#[test]
fn a_code_check_shows_its_first_places_with_their_text_and_the_footer_offers_e() {
    use crate::check::Verdict;
    let mut app = crate::tui::app::tests::app();
    let mut refresh = crate::tui::app::tests::refresh_where_failing(&app.board.plan, &[]);
    let index = app.board.plan.task_index("fix-session-id-in-code").unwrap();
    refresh.verdicts.tasks[index].checks[0] = Verdict::fail(
        "/session_id/ still in 4 places in 2 files: app/crew.py:2, app/crew.py:3, app/models.py:4, app/models.py:9 · at 3f9c2e1",
    )
    .with_fact(
        "locations",
        serde_json::json!([
            {"file": "app/crew.py", "line": 2, "text": "def run(self, session_id):"},
            {"file": "app/crew.py", "line": 3, "text": "return self.flow(session_id)"},
            {"file": "app/models.py", "line": 4, "text": "session_id = Column(UUID)"},
            {"file": "app/models.py", "line": 9, "text": "…filter_by(session_id=x)"}
        ]),
    );
    crate::tui::app::tests::finished(&mut app, 1, refresh);
    app.act(Action::StartFilter);
    crate::tui::app::tests::type_text_pub(&mut app, "fix-session-id-in-code");
    app.act(Action::Submit);
    app.receive(Msg::Resized {
        width: 160,
        height: 48,
    });
    let screen = text(&screen(&app, 160, 48));
    assert!(
        screen.contains("fail: /session_id/ still in 4 places in 2 files · at 3f9c2e1 (e")
            && !screen.contains("app/crew.py:2, app/crew.py:3"),
        "the list gives way to the lines below:\n{screen}"
    );
    assert!(
        screen.contains("app/crew.py:2  def run(self, session_id):"),
        "{screen}"
    );
    assert!(
        screen.contains("app/models.py:4  session_id = Column(UUID)"),
        "{screen}"
    );
    assert!(
        !screen.contains("app/models.py:9"),
        "three places at most:\n{screen}"
    );
    assert!(
        screen.lines().last().unwrap().contains("e open code"),
        "{screen}"
    );
}

/// Ana's view with bob and carol here: bob on ana's task, carol on day 2.
fn shared_view() -> (
    App,
    crate::serve::presence::Room,
    Vec<crate::serve::presence::Presence>,
) {
    use crate::serve::presence::Room;
    use crate::serve::team::Role;
    let room = Room::new();
    let ana = room.join("ana", Role::Engineer);
    let bob = room.join("bob", Role::Viewer);
    let carol = room.join("Carol Lee", Role::Lead);
    let mut app = live_app();
    app.pairing = Some(crate::tui::app::Pairing::new(ana.id(), Role::Engineer));
    let task = app.selected_task().map(|task| task.id.clone());
    let _ = bob.update(task, "Days", Some(ana.id()));
    let _ = carol.update(Some("master-flow-columns".into()), "Days", None);
    app.receive(Msg::Roster(room.roster()));
    (app, room, vec![ana, bob, carol])
}

#[test]
fn a_shared_view_shows_who_is_here_and_where() {
    let (mut app, _room, _here) = shared_view();
    at_sizes("shared_view", &mut app);
    let screen = text(&screen(&app, 80, 24));
    assert!(
        screen.lines().next().unwrap().ends_with("· ana (engineer)"),
        "{screen}"
    );
    assert!(
        screen.contains("here: ana (you), bob, Carol Lee"),
        "{screen}"
    );
    assert!(screen.contains("also here: bob"), "{screen}");
}

#[test]
fn the_follow_list_names_each_person_their_role_and_where_they_are() {
    let (mut app, _room, _here) = shared_view();
    app.act(Action::FollowPicker);
    at_sizes("follow_list", &mut app);
    let screen = text(&screen(&app, 80, 24));
    assert!(screen.contains("Follow whom?"), "{screen}");
    assert!(
        screen.contains("> bob (viewer) · Days · flow-state-extensions-table · following you"),
        "{screen}"
    );
    assert!(
        screen.contains("Carol Lee (lead) · Days · master-flow-columns"),
        "{screen}"
    );
}

/// An event of the write path as the other sessions' store feed brings it.
fn fix_event(
    id: i64,
    kind: crate::store::EventKind,
    actor: &str,
    note: &str,
) -> crate::store::Event {
    let database = "sqlite:demo.db";
    let evidence = match kind {
        crate::store::EventKind::Applied => serde_json::json!({
            "database": database, "backend": "sqlite", "sql": "ALTER TABLE …",
            "statements": [], "dry_run": null, "duration_ms": 1234, "outcome": "applied",
            "reason": null, "approvers": ["bob"],
            "after": { "all_pass": true, "checks": (0..7).map(|_| serde_json::json!({ "status": "pass" })).collect::<Vec<_>>() },
        }),
        crate::store::EventKind::ApplyFailed => serde_json::json!({
            "database": database, "outcome": "rolled_back", "reason": note,
        }),
        _ => serde_json::json!({ "database": database, "dry_run": {} }),
    };
    crate::store::Event {
        id,
        task_id: "master-flow-columns".into(),
        kind,
        actor: actor.into(),
        at: time::macros::datetime!(2026-11-24 09:00 UTC) + time::Duration::minutes(id),
        note: note.into(),
        evidence,
        fingerprint: "sha256:fix".into(),
    }
}

#[test]
fn the_log_view_tells_applies_and_approvals_in_plain_words() {
    use crate::store::EventKind;
    let mut app = live_app();
    app.receive(Msg::StoreAppended(vec![
        fix_event(1, EventKind::ApprovalRequested, "cy", "for tonight"),
        fix_event(2, EventKind::Approved, "bob", "dry run 7 of 7"),
        fix_event(
            3,
            EventKind::ApplyFailed,
            "cy",
            "check c2 still fails: type would be varchar(100), expected varchar(50)",
        ),
    ]));
    // One made in this view: "you".
    app.receive(Msg::MarkRecorded(fix_event(
        4,
        EventKind::Applied,
        "ana",
        "",
    )));
    assert_eq!(
        app.notice.as_deref(),
        Some(
            "you applied the fix to master-flow-columns (7 of 7 checks pass after, 1.2 s, approved by bob)"
        )
    );
    app.act(Action::Show(View::Log));
    let shown = text(&screen(&app, 120, 24));
    for line in [
        "09:01:00 cy asks for approval of master-flow-columns's fix: for tonight",
        "09:02:00 bob approved the fix of master-flow-columns: dry run 7 of 7",
        "09:03:00 cy's apply of master-flow-columns failed: check c2 still fails: type would be varchar(100), expected",
        "10:00:00 you applied the fix to master-flow-columns (7 of 7 checks pass after, 1.2 s, approved by bob)",
    ] {
        assert!(shown.contains(line), "{line:?} not in:\n{shown}");
    }
    app.receive(Msg::Resized {
        width: 80,
        height: 24,
    });
    insta::assert_snapshot!("log_fix_events_80x24", text(&screen(&app, 80, 24)));
}
