//! The top lines: plan and connection, progress live beside claimed, view tabs, day or phase strip.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::age;
use super::wrap::shorten;
use crate::printable::one_line;
use crate::status::Progress;
use crate::tui::action::View;
use crate::tui::app::{App, Connection};
use crate::tui::layout::Areas;

pub fn render(frame: &mut Frame, app: &App, areas: &Areas) {
    let theme = &app.theme;
    let checked = match &app.last_refresh {
        Some(refresh) => {
            let old =
                matches!(app.connection, Connection::Offline { .. }) || app.verdicts_remembered;
            let text = format!(
                " · checked {}{}",
                age(app.now, refresh.checked_at),
                if old { " (old)" } else { "" }
            );
            Span::styled(text, if old { theme.warn() } else { theme.dim() })
        }
        None => Span::raw(""),
    };
    let user = match &app.pairing {
        Some(pairing) => format!(" · {} ({})", one_line(&app.user), pairing.role.as_str()),
        None => format!(" · {}", one_line(&app.user)),
    };
    let user = Span::styled(user, theme.dim());
    // The reason for being offline gets what is left after the title's first word, the age and
    // the user; the whole reason is in the log view.
    let fixed = "remtrack ".len() + checked.width() + user.width();
    let room = usize::from(areas.header.width).saturating_sub(fixed);
    let connection = match (&app.connection, app.refreshing) {
        (Connection::Connecting, _) => Span::styled("connecting…", theme.warn()),
        (Connection::Live, true) => Span::styled(
            format!("{} live · refreshing…", theme.live_dot()),
            theme.pass(),
        ),
        (Connection::Live, false) => {
            Span::styled(format!("{} live", theme.live_dot()), theme.pass())
        }
        (Connection::Offline { reason }, _) => Span::styled(
            shorten(&format!("OFFLINE: {}", one_line(reason)), room),
            theme.fail(),
        ),
    };
    let right = Line::from(vec![connection, checked, user]);
    let right_width = right.width() as u16;
    let title_area = Rect {
        width: areas.header.width.saturating_sub(right_width + 1),
        ..areas.header
    };
    // The title gives way to the status, and says so with an ellipsis when it does.
    let title_room = usize::from(title_area.width).saturating_sub("remtrack · ".chars().count());
    let title = Line::from(vec![
        Span::styled("remtrack", theme.key()),
        Span::raw(" · "),
        Span::styled(
            shorten(&one_line(&app.plan.title), title_room),
            theme.title(),
        ),
    ]);
    frame.render_widget(Paragraph::new(title), title_area);
    let right_area = Rect {
        x: areas.header.x + areas.header.width.saturating_sub(right_width),
        width: right_width.min(areas.header.width),
        ..areas.header
    };
    frame.render_widget(Paragraph::new(right), right_area);

    let progress = &app.status.progress;
    let gauge = if areas.progress.width >= 120 { 10 } else { 6 };
    let mut bars = progress_spans(app, "DB", &progress.database, gauge);
    bars.push(Span::raw("  "));
    bars.extend(progress_spans(app, "Code", &progress.code, 0));
    // The database URL gets what the progress leaves, cut with an ellipsis rather than pushing
    // the progress off the line.
    let bars_width: usize = bars.iter().map(Span::width).sum();
    let room = usize::from(areas.progress.width).saturating_sub(bars_width + 2);
    let full = one_line(&app.database);
    let shown = if full.chars().count() <= room {
        full
    } else {
        shorten(&one_line(&compact_database(&app.database)), room)
    };
    let mut spans = vec![Span::styled(shown, theme.dim()), Span::raw("  ")];
    spans.extend(bars);
    frame.render_widget(Paragraph::new(Line::from(spans)), areas.progress);

    let mut tabs = Vec::new();
    for (index, view) in View::ALL.iter().enumerate() {
        let style = if *view == app.view {
            theme.selected().patch(theme.title())
        } else {
            theme.base()
        };
        tabs.push(Span::styled(format!(" {} ", view.title()), style));
        if index + 1 < View::ALL.len() {
            tabs.push(Span::styled(theme.separator(), theme.dim()));
        }
    }
    let overclaimed = app.status.overclaimed().count();
    if overclaimed > 0 {
        tabs.push(Span::raw("  "));
        tabs.push(Span::styled(
            format!(" {overclaimed} OVERCLAIMED "),
            theme.alarm(),
        ));
    }
    let regressed = app.status.regressed().count();
    if regressed > 0 {
        tabs.push(Span::raw(" "));
        tabs.push(Span::styled(
            format!(" {regressed} REGRESSED "),
            theme.alarm(),
        ));
    }
    if !app.filter.is_empty() {
        tabs.push(Span::styled(
            format!("   filter: {}", one_line(&app.filter)),
            theme.warn(),
        ));
    }
    if app.only_open {
        tabs.push(Span::styled("   only not done", theme.warn()));
    }
    if let Some(pairing) = &app.pairing {
        if let Some((_, driver)) = &pairing.following {
            tabs.push(Span::styled(
                format!("   following {}", one_line(driver)),
                theme.warn(),
            ));
        }
        let others: Vec<String> = pairing.others().map(|p| one_line(&p.name)).collect();
        if !others.is_empty() {
            tabs.push(Span::styled(
                format!(
                    "   here: {} (you), {}",
                    one_line(&app.user),
                    others.join(", ")
                ),
                theme.dim(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(tabs)), areas.tabs);

    if areas.groups.height > 0 {
        frame.render_widget(
            Paragraph::new(group_strip(app, usize::from(areas.groups.width))),
            areas.groups,
        );
    }
}

fn progress_spans(
    app: &App,
    label: &str,
    progress: &Progress,
    gauge_width: usize,
) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let mut spans = vec![Span::styled(format!("{label} "), theme.title())];
    // Nothing of this kind in the plan: not "100%", which would read as work done.
    if progress.total == 0 {
        spans.push(Span::styled("— no tasks", theme.dim()));
        return spans;
    }
    if gauge_width > 0 {
        let (full, empty) = theme.gauge_chars();
        let filled = (progress.live_ratio() * gauge_width as f64).round() as usize;
        spans.push(Span::styled(full.to_string().repeat(filled), theme.pass()));
        spans.push(Span::styled(
            empty
                .to_string()
                .repeat(gauge_width - filled.min(gauge_width)),
            theme.dim(),
        ));
        spans.push(Span::raw(" "));
    }
    let live_style = if progress.done < progress.claimed_done {
        theme.fail()
    } else {
        theme.base()
    };
    spans.push(Span::styled(
        format!("{}% live", progress.live_percent()),
        live_style,
    ));
    spans.push(Span::styled(
        format!("/{}% claimed", progress.claimed_percent()),
        theme.dim(),
    ));
    spans
}

/// Where the database is, for a narrow header: `host:port/name` without scheme or user, or the
/// SQLite file's name.
fn compact_database(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.split('?').next().unwrap_or_default();
        return std::path::Path::new(path).file_name().map_or_else(
            || url.to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{host}{port}{}", parsed.path())
}

/// The days (or phases) with their gauges; when they do not all fit, the window slides so that
/// the selected one is always on screen, with `‹` and `›` saying more lie beyond.
fn group_strip(app: &App, width: usize) -> Line<'static> {
    let theme = &app.theme;
    let (full, empty) = theme.gauge_chars();
    let mut spans = Vec::new();
    let groups: Vec<(String, Progress, bool)> = match app.view {
        View::Days => app
            .plan
            .days
            .iter()
            .zip(&app.status.progress.days)
            .enumerate()
            .map(|(i, (day, p))| (format!("Day {}", day.day), *p, i == app.day))
            .collect(),
        _ => app
            .plan
            .phases
            .iter()
            .zip(&app.status.progress.phases)
            .enumerate()
            .map(|(i, (phase, p))| (one_line(&phase.id), *p, i == app.phase))
            .collect(),
    };
    // Each group takes its label, a count and a 4-cell gauge, and a space before it.
    let widths: Vec<usize> = groups
        .iter()
        .map(|(label, p, _)| {
            let count = if p.total == 0 {
                2
            } else {
                format!(" {}/{} ", p.done, p.total).chars().count() + 4
            };
            1 + label.chars().count() + count
        })
        .collect();
    let selected = groups.iter().position(|(_, _, s)| *s).unwrap_or(0);
    let (mut first, mut last) = (0, groups.len());
    if widths.iter().sum::<usize>() > width {
        let room = width.saturating_sub(2);
        first = selected;
        last = selected + 1;
        let mut used = widths.get(selected).copied().unwrap_or(0);
        // Grow to the right first, then to the left, while there is room.
        while last < groups.len() && used + widths[last] <= room {
            used += widths[last];
            last += 1;
        }
        while first > 0 && used + widths[first - 1] <= room {
            first -= 1;
            used += widths[first];
        }
    }
    if first > 0 {
        spans.push(Span::styled("‹", theme.dim()));
    }
    let more = last < groups.len();
    for (label, progress, selected) in groups.into_iter().skip(first).take(last - first) {
        let gauge_width = 4usize;
        let filled = (progress.live_ratio() * gauge_width as f64).round() as usize;
        let label_style = if selected {
            theme.selected().patch(theme.title())
        } else {
            theme.base()
        };
        spans.push(Span::raw(" "));
        if progress.total == 0 {
            spans.push(Span::styled(format!("{label} —"), label_style));
            continue;
        }
        spans.push(Span::styled(
            format!("{label} {}/{}", progress.done, progress.total),
            label_style,
        ));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(full.to_string().repeat(filled), theme.pass()));
        spans.push(Span::styled(
            empty
                .to_string()
                .repeat(gauge_width - filled.min(gauge_width)),
            theme.dim(),
        ));
    }
    if more {
        spans.push(Span::styled(" ›", theme.dim()));
    }
    Line::from(spans)
}
