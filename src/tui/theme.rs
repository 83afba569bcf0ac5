//! Every style and glyph the screen uses, in one place: `NO_COLOR` and `--ascii` are one switch each.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::check::CheckStatus;
use crate::status::{RiskLevel, TaskStatus, Verification};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (to anything non-empty).
    pub fn from_env(ascii: bool) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            ascii,
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn base(&self) -> Style {
        Style::new()
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn pass(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn fail(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// The overclaimed and regressed markers: loud whatever the colours.
    pub fn alarm(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn check(&self, status: CheckStatus) -> Style {
        match status {
            CheckStatus::Pass => self.pass(),
            CheckStatus::Fail => self.fail(),
            CheckStatus::Error => self.warn(),
        }
    }

    pub fn task(&self, status: TaskStatus) -> Style {
        match status {
            TaskStatus::Done => self.pass(),
            TaskStatus::Failing => self.fail(),
            TaskStatus::Blocked | TaskStatus::Unknown => self.warn(),
            TaskStatus::Manual => self.base(),
        }
    }

    pub fn risk(&self, level: RiskLevel) -> Style {
        match level {
            RiskLevel::Clear => self.pass(),
            RiskLevel::Active => self.fail(),
            RiskLevel::Unknown => self.warn(),
        }
    }

    pub fn check_glyph(&self, status: CheckStatus) -> &'static str {
        match (status, self.ascii) {
            (CheckStatus::Pass, false) => "✓",
            (CheckStatus::Fail, false) => "✗",
            (CheckStatus::Error, false) => "!",
            (CheckStatus::Pass, true) => "+",
            (CheckStatus::Fail, true) => "x",
            (CheckStatus::Error, true) => "!",
        }
    }

    pub fn task_glyph(&self, status: TaskStatus) -> &'static str {
        match (status, self.ascii) {
            (TaskStatus::Done, false) => "✓",
            (TaskStatus::Failing, false) => "✗",
            (TaskStatus::Blocked, false) => "⧗",
            (TaskStatus::Manual, false) => "○",
            (TaskStatus::Unknown, false) => "?",
            (TaskStatus::Done, true) => "+",
            (TaskStatus::Failing, true) => "x",
            (TaskStatus::Blocked, true) => "#",
            (TaskStatus::Manual, true) => "o",
            (TaskStatus::Unknown, true) => "?",
        }
    }

    pub fn verification_glyph(&self, verification: Verification) -> &'static str {
        match (verification, self.ascii) {
            (Verification::Verified, false) => "★",
            (Verification::Stale, false) => "☆",
            (Verification::Regressed, false) => "‼",
            (Verification::Verified, true) => "*",
            (Verification::Stale, true) => "~",
            (Verification::Regressed, true) => "!!",
        }
    }

    pub fn live_dot(&self) -> &'static str {
        if self.ascii { "*" } else { "●" }
    }

    pub fn separator(&self) -> &'static str {
        if self.ascii { "|" } else { "│" }
    }

    pub fn gauge_chars(&self) -> (char, char) {
        if self.ascii {
            ('#', '.')
        } else {
            ('█', '░')
        }
    }

    /// A bordered panel with its title, in this theme's borders.
    pub fn panel(&self, title: impl Into<String>) -> Block<'static> {
        Block::default()
            .borders(Borders::ALL)
            .border_set(self.border_set())
            .title(Span::styled(title.into(), self.title()))
    }

    pub fn border_set(&self) -> ratatui::symbols::border::Set<'static> {
        if self.ascii {
            ratatui::symbols::border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            }
        } else {
            ratatui::symbols::border::PLAIN
        }
    }
}
