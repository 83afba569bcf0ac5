//! A task's Markdown description as styled lines: emphasis, code, lists and links as text, so
//! the detail pane shows what the author meant rather than the asterisks.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use ratatui::text::{Line, Span};

use crate::printable::printable;
use crate::tui::theme::Theme;

/// The description's lines, styled. Untrusted text stays escaped, as everywhere on screen.
pub fn lines(text: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut strong = 0usize;
    let mut emphasis = 0usize;
    let mut heading = false;
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let flush = |current: &mut Vec<Span<'static>>, lines: &mut Vec<Line<'static>>| {
        if !current.is_empty() {
            lines.push(Line::from(std::mem::take(current)));
        }
    };
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Strong) => strong += 1,
            Event::End(TagEnd::Strong) => strong = strong.saturating_sub(1),
            Event::Start(Tag::Emphasis) => emphasis += 1,
            Event::End(TagEnd::Emphasis) => emphasis = emphasis.saturating_sub(1),
            Event::Start(Tag::Heading { .. }) => heading = true,
            Event::End(TagEnd::Heading(_)) => {
                heading = false;
                flush(&mut current, &mut lines);
            }
            Event::Start(Tag::List(first)) => {
                flush(&mut current, &mut lines);
                if lists.is_empty() && !lines.is_empty() {
                    lines.push(Line::raw(""));
                }
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut current, &mut lines);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                let bullet = match lists.last_mut() {
                    Some(Some(number)) => {
                        let bullet = format!("{indent}{number}. ");
                        *number += 1;
                        bullet
                    }
                    _ => format!("{indent}• "),
                };
                current.push(Span::styled(bullet, theme.dim()));
            }
            Event::End(TagEnd::Item | TagEnd::Paragraph | TagEnd::CodeBlock) => {
                flush(&mut current, &mut lines);
            }
            Event::Start(Tag::Paragraph) if !lines.is_empty() && lists.is_empty() => {
                lines.push(Line::raw(""));
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop() {
                    current.push(Span::styled(format!(" ({})", printable(&url)), theme.dim()));
                }
            }
            Event::Code(code) => {
                current.push(Span::styled(printable(&code).to_string(), theme.key()));
            }
            Event::Text(text) => {
                let style = if strong > 0 || heading {
                    theme.title()
                } else if emphasis > 0 {
                    theme.dim()
                } else {
                    theme.base()
                };
                // A code block's text keeps its lines.
                let mut parts = text.split('\n').peekable();
                while let Some(part) = parts.next() {
                    if !part.is_empty() {
                        current.push(Span::styled(printable(part).to_string(), style));
                    }
                    if parts.peek().is_some() {
                        flush(&mut current, &mut lines);
                    }
                }
            }
            Event::SoftBreak => current.push(Span::raw(" ")),
            Event::HardBreak => flush(&mut current, &mut lines),
            Event::Html(html) | Event::InlineHtml(html) => {
                current.push(Span::styled(printable(&html).to_string(), theme.dim()));
            }
            _ => {}
        }
    }
    flush(&mut current, &mut lines);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Vec<String> {
        let theme = Theme {
            color: false,
            ascii: false,
        };
        lines(text, &theme)
            .iter()
            .map(|line| line.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn markdown_shows_as_text_a_person_reads() {
        assert_eq!(
            plain(
                "Update code to stop using `session_id`; **only after** the [docs](https://x.example/d) say so.\n\n- one\n- two\n\n1. first\n2. second"
            ),
            vec![
                "Update code to stop using session_id; only after the docs (https://x.example/d) say so.",
                "",
                "• one",
                "• two",
                "",
                "1. first",
                "2. second",
            ]
        );
    }

    #[test]
    fn escape_sequences_in_a_description_stay_escaped() {
        let shown = plain("look \u{1b}[2J here");
        assert!(shown[0].contains("\\u{1b}[2J"), "{shown:?}");
    }
}
