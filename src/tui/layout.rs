//! Where each panel goes, as a pure function of the terminal size and view, shared by drawing
//! and by mouse hit-testing so the two always agree.
//!
//! ```text
//! remtrack · Plan title                           ● live 3s ago · ana      header
//! sqlite:demo.db  DB ████░░ 56% live / 100% claimed  Code 0%  4 overclaimed  progress
//!  Days │ Phases │ Risks │ Log                                              tabs
//!  1 ✓5/5  2 0/3  3 0/2  4 0/1  5 0/4                                        groups
//! ┌Tasks──────────────────────────┐┌Detail─────────────────────────────┐
//! │✗ master-flow-columns  …       ││ checks, evidence, fix, history    │     list | detail
//! └───────────────────────────────┘└───────────────────────────────────┘     (stacked below 120 columns)
//!  j/k move  ←/→ day  n next  v verify  r recheck  / filter  ? help  q quit   footer
//! ```

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::action::View;

/// Below this the app shows only a "terminal too small" message.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this width the task list and the detail sit side by side.
pub const WIDE: u16 = 120;
/// From this width the task list takes the larger share and shows its columns.
pub const WIDER: u16 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub too_small: bool,
    pub header: Rect,
    pub progress: Rect,
    pub tabs: Rect,
    pub groups: Rect,
    pub list: Rect,
    pub detail: Rect,
    /// The whole body, for the risks and log views.
    pub body: Rect,
    pub footer: Rect,
}

impl Areas {
    pub fn compute(width: u16, height: u16, view: View) -> Areas {
        let area = Rect::new(0, 0, width, height);
        if width < MIN_WIDTH || height < MIN_HEIGHT {
            return Areas {
                too_small: true,
                body: area,
                ..Areas::default()
            };
        }
        let has_groups = matches!(view, View::Days | View::Phases);
        let [header, progress, tabs, groups, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(u16::from(has_groups)),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(area);
        let (list, detail) = if !has_groups {
            (Rect::default(), Rect::default())
        } else if width >= WIDE {
            // Wide enough for the list's columns (claim, markers) and a detail that still
            // holds a whole line of evidence: the list takes the larger share.
            let list_share = if width >= WIDER { 55 } else { 45 };
            let [list, detail] = Layout::horizontal([
                Constraint::Percentage(list_share),
                Constraint::Percentage(100 - list_share),
            ])
            .areas(body);
            (list, detail)
        } else {
            let list_height = (body.height * 2 / 5).max(5);
            let [list, detail] =
                Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(body);
            (list, detail)
        };
        Areas {
            too_small: false,
            header,
            progress,
            tabs,
            groups,
            list,
            detail,
            body,
            footer,
        }
    }
}

/// The first visible row of a list of `rows` rows that keeps `selected` in view.
pub fn list_offset(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_stack_list_and_detail_and_wide_ones_split_them() {
        let narrow = Areas::compute(80, 24, View::Days);
        assert!(!narrow.too_small);
        assert_eq!(narrow.list.width, 80);
        assert!(narrow.detail.y > narrow.list.y);
        let wide = Areas::compute(160, 48, View::Days);
        assert_eq!(wide.list.y, wide.detail.y);
        assert!(wide.detail.x > wide.list.x);
    }

    #[test]
    fn every_size_down_to_one_cell_has_a_layout() {
        for width in 0..=130 {
            for height in 0..=40 {
                let areas = Areas::compute(width, height, View::Days);
                let fits = |r: Rect| r.x + r.width <= width && r.y + r.height <= height;
                assert!(
                    fits(areas.list)
                        && fits(areas.detail)
                        && fits(areas.footer)
                        && fits(areas.body),
                    "{width}x{height}"
                );
            }
        }
    }

    #[test]
    fn the_list_scrolls_only_as_far_as_needed() {
        assert_eq!(list_offset(0, 5), 0);
        assert_eq!(list_offset(4, 5), 0);
        assert_eq!(list_offset(7, 5), 3);
        assert_eq!(list_offset(3, 0), 3);
    }
}
