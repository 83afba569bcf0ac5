//! Copying text to the clipboard with OSC 52: the terminal does the copying, so it works over SSH
//! and, with passthrough, inside tmux.

use base64::Engine as _;

/// The escape sequence that asks the terminal to put `text` on the clipboard. Inside tmux it is
/// wrapped in tmux's passthrough so it reaches the outer terminal.
pub fn osc52(text: &str, inside_tmux: bool) -> String {
    let sequence = format!(
        "\u{1b}]52;c;{}\u{7}",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    );
    if inside_tmux {
        format!(
            "\u{1b}Ptmux;{}\u{1b}\\",
            sequence.replace('\u{1b}', "\u{1b}\u{1b}")
        )
    } else {
        sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_base64_and_is_wrapped_for_tmux() {
        assert_eq!(osc52("DROP", false), "\u{1b}]52;c;RFJPUA==\u{7}");
        let wrapped = osc52("DROP", true);
        assert!(wrapped.starts_with("\u{1b}Ptmux;\u{1b}\u{1b}]52;c;RFJPUA=="));
        assert!(wrapped.ends_with("\u{1b}\\"));
    }
}
