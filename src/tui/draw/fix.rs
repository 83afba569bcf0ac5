//! The fix dialog: the run's report (scrolling when it does not fit), and under it, always in
//! view, its verdict and what can happen next — the run on its way, the keys the verdict allows,
//! the typed confirmation, or the note of an approval. The footer stays uncovered: the notice
//! there says how the last run ended even after the dialog closes.
//!
//! ```text
//! ┌ Fix master-flow-columns ──────────────────────────────┐
//! │ fix master-flow-columns — dry run on sqlite:demo.db    │  the report, j/k scroll
//! │ ran 7 statements in one transaction: …                 │
//! │ checks after the fix, inside the transaction: 7 of 7 … │
//! │                                                        │
//! │ proven: after this fix, 7 of 7 checks pass …           │  the verdict
//! │ a apply · A approve · R ask for approval · p · Esc     │  what comes next
//! └────────────────────────────────────────────────────────┘
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::overlays::{centered, more_hint};
use super::wrap::hanging;
use crate::apply::FixAction;
use crate::printable::one_line;
use crate::tui::app::{App, FixDialog, FixStage};
use crate::tui::theme::Theme;

/// The widest the dialog grows: a report's lines are up to about this long.
const MAX_WIDTH: u16 = 120;
/// Rows the note of an approval gets.
const NOTE_ROWS: u16 = 4;

/// Draws the dialog; returns how far its report can scroll.
pub fn dialog(frame: &mut Frame, app: &App, dialog: &FixDialog, area: Rect) -> u16 {
    let theme = &app.theme;
    let width = MAX_WIDTH.min(area.width);
    let inner_width = usize::from(width.saturating_sub(2));
    let body = report_lines(app, dialog, inner_width);
    let outcome = Paragraph::new(outcome_lines(app, dialog)).wrap(Wrap { trim: false });
    let stage = Paragraph::new(stage_lines(app, dialog)).wrap(Wrap { trim: false });
    let note_rows = if matches!(dialog.stage, FixStage::Note { .. }) {
        NOTE_ROWS + 2
    } else {
        0
    };
    let rows = |paragraph: &Paragraph| paragraph.line_count(width.saturating_sub(2)) as u16;
    let (outcome_rows, stage_rows) = (rows(&outcome), rows(&stage));
    let body_rows = body.len() as u16;
    // A blank row between the report and what comes next.
    let wanted = body_rows + 1 + outcome_rows + note_rows + stage_rows + 2;
    // The header's first row and the footer stay in view.
    let popup = centered(area, width, wanted.min(area.height.saturating_sub(2)));
    let mut block = theme.panel(format!(" Fix {} ", one_line(&dialog.task_id)));
    let inner = block.inner(popup);
    // What comes next keeps its rows; the report takes the rest and scrolls.
    let tail = (outcome_rows + note_rows + stage_rows).min(inner.height);
    let gap = u16::from(inner.height > tail + 1);
    let body_height = inner.height - tail - gap;
    let [body_area, _, outcome_area, note_area, stage_area] = Layout::vertical([
        Constraint::Length(body_height),
        Constraint::Length(gap),
        Constraint::Length(outcome_rows),
        Constraint::Length(note_rows),
        Constraint::Min(0),
    ])
    .areas(inner);
    let limit = body_rows.saturating_sub(body_height);
    let scroll = app.overlay_scroll.min(limit);
    let keys = if dialog.typing() { "PgDn/PgUp" } else { "j/k" };
    if let Some(hint) = more_hint(scroll, limit, keys) {
        block = block.title_bottom(hint);
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(Paragraph::new(body).scroll((scroll, 0)), body_area);
    frame.render_widget(outcome, outcome_area);
    if let FixStage::Note { action, note } = &dialog.stage {
        let what = if *action == FixAction::Approve {
            " Note for the approval "
        } else {
            " Note for the request (what to look at) "
        };
        let mut note = (**note).clone();
        note.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_set(theme.border_set())
                .title(what),
        );
        frame.render_widget(&note, note_area);
    }
    frame.render_widget(stage, stage_area);
    limit
}

/// The report, wrapped under itself, each line in the style its meaning asks for.
fn report_lines(app: &App, dialog: &FixDialog, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    if dialog.report.is_empty() && dialog.said.is_empty() {
        let shown = app.apply_to.as_ref().map_or("", |to| to.shown.as_str());
        lines.push(Line::from(Span::styled(
            format!("fix {} on {}", one_line(&dialog.task_id), one_line(shown)),
            theme.title(),
        )));
    }
    let (body, verdict) = split_verdict(dialog);
    for (number, text) in body.iter().enumerate() {
        let style = if number == 0 {
            theme.title()
        } else {
            line_style(theme, text)
        };
        let indent = text.len() - text.trim_start().len();
        lines.extend(hanging(vec![], &one_line(text), style, width, indent + 4));
    }
    // While the next run is on its way, the last one's verdict is only part of the record.
    if let Some(verdict) = verdict.filter(|_| matches!(dialog.stage, FixStage::Running(_))) {
        let style = verdict_style(theme, dialog.report_proven);
        lines.extend(hanging(vec![], &one_line(verdict), style, width, 2));
    }
    lines
}

/// The report without its verdict (its last line), and the verdict.
fn split_verdict(dialog: &FixDialog) -> (&[String], Option<&String>) {
    match dialog.report.split_last() {
        Some((verdict, body)) => (body, Some(verdict)),
        None => (&[], None),
    }
}

fn verdict_style(theme: &Theme, proven: bool) -> Style {
    if proven { theme.pass() } else { theme.fail() }
}

/// `  pass …`, `  fail …`, `  error …`: a verdict's colour; anything else plain.
fn line_style(theme: &Theme, text: &str) -> Style {
    let trimmed = text.trim_start();
    if trimmed.starts_with("pass ") {
        theme.pass()
    } else if trimmed.starts_with("fail ") {
        theme.fail()
    } else if trimmed.starts_with("error ") {
        theme.warn()
    } else {
        theme.base()
    }
}

/// How the last run ended, always in view: its verdict, what else it said, and why the last
/// key was refused.
fn outcome_lines(app: &App, dialog: &FixDialog) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    let running = matches!(dialog.stage, FixStage::Running(_));
    if let (Some(verdict), false) = (split_verdict(dialog).1, running) {
        let style = verdict_style(theme, dialog.report_proven);
        lines.push(Line::from(Span::styled(one_line(verdict), style)));
    }
    for text in dialog.said.iter().filter(|_| !running) {
        lines.push(Line::from(Span::styled(one_line(text), theme.warn())));
    }
    if let Some(why) = &dialog.refusal {
        lines.push(Line::from(Span::styled(one_line(why), theme.fail())));
    }
    lines
}

/// What comes next: the run on its way, the keys, the confirmation being typed.
fn stage_lines(app: &App, dialog: &FixDialog) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    match &dialog.stage {
        FixStage::Running(action) => {
            let doing = match action {
                FixAction::DryRun => {
                    "running the dry run… (in one transaction that is rolled back)"
                }
                FixAction::Apply => {
                    "applying… (one transaction, committed only if every check passes inside it)"
                }
                FixAction::Approve => "approving… (the dry run again first: its evidence is kept)",
                FixAction::RequestApproval => {
                    "asking for approval… (the dry run again first: its evidence is kept)"
                }
            };
            lines.push(Line::from(Span::styled(doing, theme.warn())));
            lines.push(Line::from(Span::styled(
                "Esc closes this; the answer still comes",
                theme.dim(),
            )));
        }
        FixStage::Report => {
            if let Some(policy) = policy_line(app, dialog) {
                lines.push(Line::from(Span::styled(policy, theme.dim())));
            }
            lines.push(keys_line(app, dialog));
        }
        FixStage::Confirm { typed } => {
            lines.push(Line::from(vec![
                Span::styled("Type the task id to apply it: ", theme.title()),
                Span::styled(one_line(typed), theme.key()),
                Span::styled("▏", theme.key()),
            ]));
            lines.push(Line::from(Span::styled(
                format!(
                    "Enter applies {} on {} (committed only if every check passes inside it) · Esc goes back",
                    one_line(&dialog.task_id),
                    app.apply_to.as_ref().map_or("", |to| to.shown.as_str())
                ),
                theme.dim(),
            )));
        }
        FixStage::Note { .. } => lines.push(Line::from(Span::styled(
            format!(
                "as {} · Ctrl-S sends (after the dry run again) · Esc goes back",
                one_line(&app.user)
            ),
            theme.dim(),
        ))),
    }
    lines
}

/// "the plan asks for 1 approval before an apply: 0 given for this fix text".
fn policy_line(app: &App, dialog: &FixDialog) -> Option<String> {
    let history = app.fix_history(dialog.task_index);
    (history.required > 0).then(|| {
        let names: Vec<String> = history
            .approvals
            .iter()
            .map(|event| one_line(&event.actor))
            .collect();
        let current = app.fix_fingerprint_of(dialog.task_index);
        let spent = history.last_apply.is_some_and(|event| {
            event.kind == crate::store::EventKind::Applied
                && current.as_deref() == Some(event.fingerprint.as_str())
        });
        let given = match names.len() {
            // The apply that just committed spent them: say so, not "none given".
            0 if spent => "none left (the last apply here spent the ones given)".to_string(),
            0 => "none given yet".to_string(),
            _ => format!("given by {}", names.join(", ")),
        };
        format!(
            "the plan asks for {} approval{} before an apply: {given} for this fix text",
            history.required,
            if history.required == 1 { "" } else { "s" }
        )
    })
}

/// The keys the report allows this person, in order of need.
fn keys_line(app: &App, dialog: &FixDialog) -> Line<'static> {
    let theme = &app.theme;
    let mut keys: Vec<(&str, &str)> = Vec::new();
    if dialog.proven.is_some() {
        if app.refuse_fix(FixAction::Apply).is_none() {
            keys.push(("a", "apply"));
        }
        if app.refuse_fix(FixAction::Approve).is_none() {
            keys.push(("A", "approve"));
        }
        if app.refuse_fix(FixAction::RequestApproval).is_none() {
            keys.push(("R", "ask for approval"));
        }
    }
    keys.push(("p", "dry run again"));
    keys.push(("Esc", "close"));
    let mut spans = Vec::new();
    for (key, what) in keys {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}
