//! The selected task in full: description, every check with its verdict and evidence, the fix and
//! its guards, dependencies, and who verified it when.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::age;
use super::wrap::hanging;
use crate::check::{CheckStatus, Verdict};
use crate::plan::{Check, Claimed};
use crate::printable::{one_line, printable};
use crate::status::TaskStatus;
use crate::tui::app::App;

/// The selected task's whole detail, unscrolled.
/// `width` is the panel's inner width, for the lines that wrap under their own text.
pub fn paragraph(app: &App, width: usize) -> Paragraph<'static> {
    let theme = &app.theme;
    let block = theme.panel(" Detail (J/K scroll) ");
    let Some(index) = app.selected_task_index() else {
        return Paragraph::new(Span::styled("no task selected", theme.dim())).block(block);
    };
    let task = &app.board.plan.tasks[index];
    let state = &app.board.status.tasks[index];
    let verdicts = app.verdicts_of(index);
    let mut lines: Vec<Line> = Vec::new();

    lines.push(Line::from(vec![
        Span::styled(
            format!("{} ", theme.task_glyph(state.status)),
            theme.task(state.status),
        ),
        Span::styled(one_line(&task.title), theme.title()),
    ]));
    let claimed = match task.claimed {
        Some(Claimed::Done) => "claimed done",
        Some(Claimed::InProgress) => "claimed in progress",
        Some(Claimed::NotStarted) => "claimed not started",
        None => "no claim",
    };
    let mut meta = vec![
        Span::styled(
            format!(
                "{} · day {} · {} · {} priority · {claimed} · ",
                one_line(&task.id),
                task.day,
                one_line(&task.phase),
                task.priority.as_str()
            ),
            theme.dim(),
        ),
        Span::styled(state.status.as_str(), theme.task(state.status)),
    ];
    if state.overclaimed {
        meta.push(Span::raw(" "));
        let why = if task.is_manual() {
            "claimed done, nobody has verified it"
        } else if task.is_code_work() {
            "the code says it is not done"
        } else if task.checks.iter().any(|check| check.spec.is_code()) {
            "its checks say it is not done"
        } else {
            "the database says it is not done"
        };
        meta.push(Span::styled(format!(" OVERCLAIMED: {why} "), theme.alarm()));
    }
    lines.push(Line::from(meta));
    let here: Vec<String> = app
        .others_on(&task.id)
        .iter()
        .map(|peer| one_line(&peer.name))
        .collect();
    if !here.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("also here: {}", here.join(", ")),
            theme.key(),
        )));
    }
    if let Some(verification) = state.verification {
        let last = app
            .history_of(&task.id)
            .rev()
            .find(|e| e.kind == crate::store::EventKind::Verified);
        let who = last
            .map(|e| format!(" by {} {}", one_line(&e.actor), age(app.now, e.at)))
            .unwrap_or_default();
        let style = if verification == crate::status::Verification::Regressed {
            theme.alarm()
        } else {
            theme.pass()
        };
        let glyph = theme.verification_glyph(verification);
        let text = match verification {
            crate::status::Verification::Verified => format!("{glyph} verified{who}"),
            crate::status::Verification::Stale => format!(
                "{glyph} stale: verified{who}, but its checks changed in the plan since: verify again"
            ),
            crate::status::Verification::Regressed => {
                format!("{glyph} REGRESSED: verified{who}, but its checks FAIL now")
            }
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if !state.blocked_by.is_empty() && state.status == TaskStatus::Blocked {
        lines.push(Line::from(Span::styled(
            format!("blocked by {}", state.blocked_by.join(", ")),
            theme.warn(),
        )));
    }
    if let Some(description) = &task.description {
        lines.push(Line::raw(""));
        lines.extend(super::markdown::lines(description, theme));
    }

    lines.push(Line::raw(""));
    if task.is_manual() {
        lines.push(Line::from(Span::styled(
            "Manual task: no database check; a person verifies it (v).",
            theme.dim(),
        )));
    } else {
        let mut heading = vec![Span::styled("Checks", theme.title())];
        if let Some(refresh) = app
            .board
            .last_refresh
            .as_ref()
            // SQLite has no search path to speak of: names resolve in `main`.
            .filter(|r| app.backend == crate::Backend::Postgres && !r.search_path.shown.is_empty())
        {
            heading.push(Span::styled(
                format!(
                    "  names resolved on search path {}",
                    one_line(&refresh.search_path.display())
                ),
                theme.dim(),
            ));
        }
        lines.push(Line::from(heading));
        let none: &[Verdict] = &[];
        let checks = verdicts.map_or(none, |v| v.checks.as_slice());
        push_checks(app, &mut lines, &task.checks, checks, width);
    }

    lines.extend(super::detail_fix::lines(app, index, verdicts, width));

    if !task.depends_on.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Depends on", theme.title())));
        for dep in &task.depends_on {
            let dep_status = app
                .board
                .plan
                .tasks
                .iter()
                .position(|t| &t.id == dep)
                .map(|i| app.board.status.tasks[i].status);
            let status = dep_status.unwrap_or(TaskStatus::Unknown);
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {} {:<8} ", theme.task_glyph(status), status.as_str()),
                    theme.task(status),
                ),
                Span::raw(one_line(dep)),
            ]));
        }
    }

    let history: Vec<_> = app.history_of(&task.id).collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Verification history",
        theme.title(),
    )));
    if history.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", theme.dim())));
    }
    for event in history.iter().rev() {
        let mut line = vec![
            Span::styled(format!("  {} ", event.kind.as_str()), theme.title()),
            Span::raw(format!(
                "by {} at {}",
                one_line(&event.actor),
                crate::store::utc_text(event.at)
            )),
        ];
        if let Some(there) = app
            .board
            .made_elsewhere
            .get(&event.id)
            .filter(|_| !task.is_manual())
        {
            line.push(Span::styled(
                format!(" on {} (not this database)", one_line(there)),
                theme.warn(),
            ));
        }
        lines.push(Line::from(line));
        for text in printable(&event.note).lines() {
            lines.extend(hanging(
                vec![Span::raw("    ")],
                text,
                theme.dim(),
                width,
                4,
            ));
        }
    }

    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
}

pub(super) fn push_checks(
    app: &App,
    lines: &mut Vec<Line>,
    checks: &[Check],
    verdicts: &[Verdict],
    width: usize,
) {
    let theme = &app.theme;
    for (position, check) in checks.iter().enumerate() {
        let (glyph, style, evidence) = match verdicts.get(position) {
            Some(v) => (
                theme.check_glyph(v.status),
                theme.check(v.status),
                one_line(&v.evidence),
            ),
            None => ("·", theme.dim(), "not checked yet".to_string()),
        };
        let status = verdicts.get(position).map_or("", |v| match v.status {
            CheckStatus::Pass => "",
            CheckStatus::Fail => "fail: ",
            CheckStatus::Error => "error: ",
        });
        // The id stands apart from what was found: its own style, two spaces, and the evidence
        // wrapping under itself rather than under the id.
        let label = vec![
            Span::styled(format!("  {glyph} "), style),
            Span::styled(one_line(&check.id), theme.title()),
            Span::raw("  "),
        ];
        // Where the code still says it: the first few places, with the matched text, in place
        // of the evidence's list of them.
        let locations = verdicts
            .get(position)
            .and_then(|v| v.facts.get("locations"))
            .and_then(serde_json::Value::as_array);
        let evidence = match locations.and_then(|l| l.first()) {
            Some(first) => without_location_list(&evidence, first),
            None => evidence,
        };
        lines.extend(hanging(
            label,
            &format!("{status}{evidence}"),
            style,
            width,
            EVIDENCE_INDENT,
        ));
        for location in locations.into_iter().flatten().take(LOCATIONS_SHOWN) {
            let (Some((file, line)), Some(text)) = (
                crate::check::code::location_of(location),
                location.get("text").and_then(serde_json::Value::as_str),
            ) else {
                continue;
            };
            lines.extend(hanging(
                vec![Span::styled(
                    format!("      {}:{line}  ", one_line(file)),
                    theme.key(),
                )],
                &one_line(text),
                theme.dim(),
                width,
                EVIDENCE_INDENT + 2,
            ));
        }
        if let Some(warning) = verdicts.get(position).and_then(|v| v.warning.as_deref()) {
            lines.extend(hanging(
                vec![Span::styled("      warning: ", theme.warn())],
                &one_line(warning),
                theme.warn(),
                width,
                EVIDENCE_INDENT,
            ));
        }
    }
}

/// Evidence with its `file:line, …` list left out (the lines under it show the places), keeping
/// what follows the list (` · at 3f9c2e1 · 1 binary skipped`).
fn without_location_list(evidence: &str, first: &serde_json::Value) -> String {
    let Some((file, line)) = crate::check::code::location_of(first) else {
        return evidence.to_string();
    };
    let Some(start) = evidence.find(&format!(": {}:{line}", one_line(file))) else {
        return evidence.to_string();
    };
    let tail = evidence[start..]
        .find(" · ")
        .map_or("", |at| &evidence[start + at..]);
    format!("{}{tail} (e opens the first)", &evidence[..start])
}

/// The code locations shown under a code check (`e` opens the first in the editor).
const LOCATIONS_SHOWN: usize = 3;

/// Where evidence continues when it wraps: under the check's id, past its glyph.
const EVIDENCE_INDENT: usize = 6;
