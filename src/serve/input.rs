//! Turns the raw bytes an SSH client types into the crossterm events the local tracker reads.
//!
//! crossterm only reads its own tty, so a remote session gets keys as bytes on the channel.
//! `terminput::Event::parse_from` is crossterm's own parser, but it returns one event and not
//! how many bytes it used, so bytes are fed one at a time into a carry-over buffer, the way
//! crossterm's reader does it.

use crossterm::event::{Event, KeyCode, KeyEvent};

const ESC: u8 = 0x1b;
const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// A paste is held whole until its end marker arrives; past this a client is only trying to
/// make the server hold memory.
const MAX_PASTE: usize = 1 << 20;

/// Real key and mouse sequences are a few dozen bytes. A stray unterminated one (say
/// `ESC [ 1 1 1 …`) must not swallow the keys typed after it for long.
const MAX_SEQUENCE: usize = 256;

/// Decodes one session's input stream; keep one per channel, since a sequence can be split
/// across `feed` calls.
#[derive(Debug, Default)]
pub struct InputDecoder {
    pending: Vec<u8>,
    skip: Skip,
    /// The last bytes seen while skipping a paste, to spot its end marker across chunks.
    skip_tail: Vec<u8>,
}

/// After an oversized paste or sequence is dropped, the rest of it is thrown away too:
/// letting it through would type the tail of it as commands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Skip {
    #[default]
    Nothing,
    /// Up to the paste end marker.
    Paste,
    /// Up to the end of the CSI sequence: anything but a parameter or intermediate byte.
    Sequence,
}

impl InputDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one chunk as it came off the channel. Incomplete sequences wait for the next
    /// chunk; bytes that make no sense are dropped, never an error.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        for &byte in bytes {
            self.push(byte, &mut events);
        }
        // A lone Esc key arrives as its own chunk. Within a chunk an ESC is the start of a
        // sequence or of Alt-x, which is why it is only resolved here.
        if self.pending == [ESC] {
            self.pending.clear();
            events.push(Event::Key(KeyEvent::from(KeyCode::Esc)));
        }
        events
    }

    fn push(&mut self, byte: u8, events: &mut Vec<Event>) {
        match self.skip {
            Skip::Nothing => {}
            Skip::Paste => {
                self.skip_paste(byte);
                return;
            }
            Skip::Sequence => {
                if (0x20..=0x3f).contains(&byte) {
                    return;
                }
                self.skip = Skip::Nothing;
                if (0x40..=0x7e).contains(&byte) {
                    return;
                }
            }
        }
        let in_paste = self.pending.starts_with(PASTE_START);
        // ESC cannot occur inside a sequence (ECMA-48), so one arriving mid-sequence means the
        // terminal gave up on the old one; start afresh instead of losing both. `ESC ESC` is
        // Alt-Esc and is left to the parser.
        if byte == ESC && !in_paste && !self.pending.is_empty() && self.pending != [ESC] {
            self.pending.clear();
        }
        self.pending.push(byte);

        if in_paste {
            if self.pending.len() > MAX_PASTE {
                self.start_skipping();
                return;
            }
        } else if self.pending.len() > MAX_SEQUENCE {
            self.pending.clear();
            self.skip = Skip::Sequence;
            return;
        }
        if self.pending == [ESC] {
            // terminput reports a lone ESC as Esc at once; wait to see what follows.
            return;
        }
        // Inside a paste the mouse check would rescan the whole paste on every `M`.
        if !in_paste && !mouse_coordinates_ok(&self.pending) {
            self.pending.clear();
            return;
        }
        match terminput::Event::parse_from(&self.pending) {
            Ok(Some(event)) => {
                self.pending.clear();
                // Events crossterm has no counterpart for (an unknown mouse button) are dropped.
                if let Ok(event) = terminput_crossterm::to_crossterm(event) {
                    events.push(event);
                }
            }
            Ok(None) => {
                if is_unknown_complete_csi(&self.pending) {
                    self.pending.clear();
                }
            }
            Err(_) => {
                // A broken UTF-8 prefix should not take the next, valid key down with it. Not
                // done for escape sequences: the tail of an unknown one would be typed as keys.
                let retry = self.pending.len() > 1 && self.pending[0] != ESC;
                self.pending.clear();
                if retry {
                    self.push(byte, events);
                }
            }
        }
    }

    fn start_skipping(&mut self) {
        let keep = self.pending.len().saturating_sub(PASTE_END.len() - 1);
        self.skip_tail = self.pending.split_off(keep);
        self.pending = Vec::new();
        self.skip = Skip::Paste;
    }

    fn skip_paste(&mut self, byte: u8) {
        self.skip_tail.push(byte);
        if self.skip_tail.len() > PASTE_END.len() {
            self.skip_tail.remove(0);
        }
        if self.skip_tail == PASTE_END {
            self.skip_tail.clear();
            self.skip = Skip::Nothing;
        }
    }
}

/// terminput computes `coordinate - 1` on mouse reports, which overflows (a panic in debug
/// builds) for a coordinate of 0; only a broken or hostile client sends one.
fn mouse_coordinates_ok(buf: &[u8]) -> bool {
    let Some(&last) = buf.last() else {
        return true;
    };
    if last != b'M' && last != b'm' {
        return true;
    }
    let params = if let Some(rest) = buf.strip_prefix(b"\x1b[<") {
        rest
    } else if buf.len() > 3 && buf.starts_with(b"\x1b[") && buf[2].is_ascii_digit() && last == b'M'
    {
        &buf[2..]
    } else {
        return true;
    };
    let Some((_, params)) = params.split_last() else {
        return true;
    };
    let Ok(params) = std::str::from_utf8(params) else {
        return true;
    };
    !params
        .split(';')
        .skip(1)
        .take(2)
        .any(|field| field.parse::<u16>() == Ok(0))
}

/// terminput waits forever on some complete CSI sequences it does not know, such as mode
/// reports (`ESC [ ? 2026 ; 2 $ y`); a final byte (0x40..=0x7E) ends any CSI, so drop them.
fn is_unknown_complete_csi(buf: &[u8]) -> bool {
    let (Some(&third), Some(&last)) = (buf.get(2), buf.last()) else {
        return false;
    };
    buf.starts_with(b"\x1b[")
        // X10 mouse reports carry three raw bytes after `ESC [ M`.
        && third != b'M'
        // `ESC [ [ A` is the Linux console's F1.
        && !(buf.len() == 3 && third == b'[')
        && !buf.starts_with(PASTE_START)
        && (0x40..=0x7e).contains(&last)
}

#[cfg(test)]
mod tests;
