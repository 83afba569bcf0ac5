//! Text fitted to the cells it has: lines that wrap under their own text (a hanging indent,
//! which ratatui's `Wrap` cannot do) so evidence, notes and log entries stay readable as a block
//! beside their label; and single lines cut with an ellipsis.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// `label` (already styled) followed by `text`, wrapped at `width` columns; every line after the
/// first starts `indent` columns in. When the label leaves too little room on its line, the text
/// starts on the next one instead, so a long label never squeezes it into a narrow column.
pub fn hanging(
    label: Vec<Span<'static>>,
    text: &str,
    style: Style,
    width: usize,
    indent: usize,
) -> Vec<Line<'static>> {
    let label_width: usize = label.iter().map(Span::width).sum();
    let indent = indent.min(width.saturating_sub(1));
    let pad = " ".repeat(indent);
    let too_narrow = label_width + MIN_ROOM > width.max(1) && label_width > indent;
    let first_indent = if too_narrow {
        pad.clone()
    } else {
        " ".repeat(label_width)
    };
    let options = textwrap::Options::new(width.max(indent + 1))
        .initial_indent(&first_indent)
        .subsequent_indent(&pad)
        .break_words(true);
    let mut lines = Vec::new();
    let mut label = Some(label);
    if too_narrow {
        lines.push(Line::from(label.take().unwrap_or_default()));
    }
    for (number, wrapped) in textwrap::wrap(text, &options).into_iter().enumerate() {
        let indent_here = if number == 0 { &first_indent } else { &pad };
        let body = wrapped
            .strip_prefix(indent_here.as_str())
            .unwrap_or(&wrapped)
            .to_string();
        let mut spans = match label.take() {
            Some(label) => label,
            None => vec![Span::raw(if number == 0 {
                first_indent.clone()
            } else {
                pad.clone()
            })],
        };
        spans.push(Span::styled(body, style));
        lines.push(Line::from(spans));
    }
    if let Some(label) = label {
        // Nothing to say beside it.
        lines.push(Line::from(label));
    }
    lines
}

/// `text` cut to `width` columns, ending in an ellipsis when cut.
pub fn shorten(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// The fewest columns the text may have beside its label before it moves below it.
const MIN_ROOM: usize = 24;

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrapped_text_keeps_its_indent() {
        let lines = hanging(
            vec![Span::raw("  ✗ current-phase  ")],
            "fail: column current_phase missing from crewai_flow_state_extensions",
            Style::default(),
            50,
            6,
        );
        assert_eq!(
            plain(&lines),
            [
                "  ✗ current-phase  fail: column current_phase",
                "      missing from crewai_flow_state_extensions",
            ]
        );
        assert!(lines.iter().all(|l| l.width() <= 50));
    }

    #[test]
    fn a_long_label_puts_the_text_on_the_lines_below() {
        let lines = hanging(
            vec![Span::raw("  ✓ a-check-with-a-rather-long-identifier  ")],
            "table exists",
            Style::default(),
            50,
            6,
        );
        assert_eq!(
            plain(&lines),
            [
                "  ✓ a-check-with-a-rather-long-identifier  ",
                "      table exists"
            ]
        );
    }

    #[test]
    fn words_longer_than_the_line_are_broken_and_nothing_is_lost() {
        let word = "x".repeat(120);
        let lines = hanging(vec![Span::raw("  ")], &word, Style::default(), 40, 4);
        let joined: String = plain(&lines).iter().map(|l| l.trim()).collect();
        assert_eq!(joined, word);
        assert!(lines.iter().all(|l| l.width() <= 40));
    }

    #[test]
    fn empty_text_still_shows_its_label() {
        let lines = hanging(vec![Span::raw("label")], "", Style::default(), 40, 2);
        assert_eq!(plain(&lines), ["label"]);
    }
}
