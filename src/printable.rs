//! Making text from plans, databases and people safe to print on a terminal.
//!
//! Names, values and notes can carry escape sequences, bells, carriage returns or bidirectional
//! overrides. Anything remtrack prints to a terminal goes through [`printable`] first.

use std::borrow::Cow;

/// `text` with every control character and bidi override shown as a visible `\u{..}` escape.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` on one line: like [`printable`], with line breaks and tabs shown as spaces.
pub fn one_line(text: &str) -> String {
    printable(&text.replace(['\n', '\t'], " ").replace('\r', "")).into_owned()
}

/// Control characters (but line breaks and tabs) and bidi overrides: never sent to a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bells_and_bidi_overrides_are_made_visible() {
        let nasty = "drop\u{1b}[2J\u{7}table\r\u{202E}txt";
        let shown = printable(nasty);
        assert!(
            !shown
                .chars()
                .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\r' || c == '\u{202E}')
        );
        assert!(shown.contains("\\u{1b}[2J"), "{shown}");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        assert!(matches!(printable("café — ok\nnext"), Cow::Borrowed(_)));
    }
}
