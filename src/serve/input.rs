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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

    /// A name, the chunks as they arrive, and the events expected.
    type Case<'a> = (&'a str, Vec<&'a [u8]>, Vec<Event>);

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    fn plain(code: KeyCode) -> Event {
        key(code, KeyModifiers::NONE)
    }

    fn ch(c: char) -> Event {
        plain(KeyCode::Char(c))
    }

    fn decode(chunks: &[&[u8]]) -> Vec<Event> {
        let mut decoder = InputDecoder::new();
        chunks.iter().flat_map(|c| decoder.feed(c)).collect()
    }

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn table() {
        let paste = Event::Paste("hello world".into());
        let cases: Vec<Case> = vec![
            ("two letters", vec![b"jk"], vec![ch('j'), ch('k')]),
            (
                "two arrows in one chunk",
                vec![b"\x1b[A\x1b[B"],
                vec![plain(KeyCode::Up), plain(KeyCode::Down)],
            ),
            ("lone esc chunk", vec![b"\x1b"], vec![plain(KeyCode::Esc)]),
            (
                "esc, then a key in the next chunk",
                vec![b"\x1b", b"j"],
                vec![plain(KeyCode::Esc), ch('j')],
            ),
            (
                "alt-x",
                vec![b"\x1bx"],
                vec![key(KeyCode::Char('x'), KeyModifiers::ALT)],
            ),
            (
                "csi split across chunks",
                vec![b"\x1b[", b"B"],
                vec![plain(KeyCode::Down)],
            ),
            (
                "modified csi split three ways",
                vec![b"\x1b[1", b";5", b"C"],
                vec![key(KeyCode::Right, KeyModifiers::CONTROL)],
            ),
            (
                "sgr mouse press",
                vec![b"\x1b[<0;10;5M"],
                vec![mouse(MouseEventKind::Down(MouseButton::Left), 9, 4)],
            ),
            (
                "sgr mouse release",
                vec![b"\x1b[<0;10;5m"],
                vec![mouse(MouseEventKind::Up(MouseButton::Left), 9, 4)],
            ),
            (
                "sgr mouse split",
                vec![b"\x1b[<0;1", b"0;5M"],
                vec![mouse(MouseEventKind::Down(MouseButton::Left), 9, 4)],
            ),
            ("e-acute whole", vec!["é".as_bytes()], vec![ch('é')]),
            ("e-acute split", vec![b"\xc3", b"\xa9"], vec![ch('é')]),
            (
                "four-byte char split",
                vec![b"\xf0\x9f", b"\x9a", b"\x80"],
                vec![ch('🚀')],
            ),
            ("enter", vec![b"\r"], vec![plain(KeyCode::Enter)]),
            ("backspace", vec![b"\x7f"], vec![plain(KeyCode::Backspace)]),
            ("tab", vec![b"\t"], vec![plain(KeyCode::Tab)]),
            (
                "shift-tab",
                vec![b"\x1b[Z"],
                vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)],
            ),
            (
                "ctrl-s",
                vec![b"\x13"],
                vec![key(KeyCode::Char('s'), KeyModifiers::CONTROL)],
            ),
            (
                "upper case carries shift",
                vec![b"G"],
                vec![key(KeyCode::Char('G'), KeyModifiers::SHIFT)],
            ),
            ("delete", vec![b"\x1b[3~"], vec![plain(KeyCode::Delete)]),
            ("ss3 arrow", vec![b"\x1bOA"], vec![plain(KeyCode::Up)]),
            (
                "paste in one chunk",
                vec![b"\x1b[200~hello world\x1b[201~"],
                vec![paste.clone()],
            ),
            (
                "paste in two chunks",
                vec![b"\x1b[200~hello ", b"world\x1b[201~"],
                vec![paste.clone()],
            ),
            (
                "paste split inside both markers",
                vec![b"\x1b[20", b"0~hello world\x1b", b"[201", b"~"],
                vec![paste],
            ),
            (
                "paste keeps its escapes and newlines",
                vec![b"\x1b[200~a\x1b[Ab\rc\x1b[201~"],
                vec![Event::Paste("a\x1b[Ab\rc".into())],
            ),
            (
                "keys around a paste",
                vec![b"j\x1b[200~x\x1b[201~k"],
                vec![ch('j'), Event::Paste("x".into()), ch('k')],
            ),
            (
                "sequence then esc ending the chunk",
                vec![b"\x1b[A\x1b"],
                vec![plain(KeyCode::Up), plain(KeyCode::Esc)],
            ),
            (
                "key then esc ending the chunk",
                vec![b"j\x1b"],
                vec![ch('j'), plain(KeyCode::Esc)],
            ),
            (
                "sequence ends exactly at the chunk end",
                vec![b"j\x1b[A", b"\x1b"],
                vec![ch('j'), plain(KeyCode::Up), plain(KeyCode::Esc)],
            ),
            (
                "alt-esc",
                vec![b"\x1b\x1b"],
                vec![key(KeyCode::Esc, KeyModifiers::ALT)],
            ),
        ];
        for (name, chunks, want) in cases {
            assert_eq!(decode(&chunks), want, "case {name}");
        }
    }

    #[test]
    fn key_events_match_what_crossterm_gives_locally() {
        let got = decode(&[b"j"]);
        let Event::Key(k) = &got[0] else {
            panic!("not a key: {got:?}")
        };
        assert_eq!(k.kind, crossterm::event::KeyEventKind::Press);
        assert_eq!(k.state, crossterm::event::KeyEventState::NONE);
    }

    #[test]
    fn bad_input_is_dropped_and_decoding_goes_on() {
        // The `j` ends the runaway sequence (it is a CSI final byte), so only `k` is typed.
        let endless = [b"\x1b[1".as_slice(), &[b'1'; 400], b"jk"].concat();
        let cases: Vec<Case> = vec![
            ("stray continuation byte", vec![b"\x80j"], vec![ch('j')]),
            ("broken utf-8", vec![b"\xc3j"], vec![ch('j')]),
            (
                "unknown csi final byte",
                vec![b"\x1b[?2026;2$yj"],
                vec![ch('j')],
            ),
            (
                "unknown sgr final byte",
                vec![b"\x1b[<1;2Xj"],
                vec![ch('j')],
            ),
            (
                "sgr mouse at column 0",
                vec![b"\x1b[<0;0;5Mj"],
                vec![ch('j')],
            ),
            ("sgr mouse at row 0", vec![b"\x1b[<0;3;0mj"], vec![ch('j')]),
            ("rxvt mouse at 0", vec![b"\x1b[32;0;0Mj"], vec![ch('j')]),
            (
                "esc abandons a half sequence",
                vec![b"\x1b[1\x1b[A"],
                vec![plain(KeyCode::Up)],
            ),
            (
                "an endless parameter list is cut off",
                vec![&endless],
                vec![ch('k')],
            ),
        ];
        for (name, chunks, want) in cases {
            assert_eq!(decode(&chunks), want, "case {name}");
        }
    }

    #[test]
    fn an_oversized_paste_is_discarded_not_typed() {
        let mut decoder = InputDecoder::new();
        assert!(decoder.feed(PASTE_START).is_empty());
        let block = vec![b'v'; 64 * 1024];
        for _ in 0..(MAX_PASTE / block.len() + 2) {
            assert!(decoder.feed(&block).is_empty());
        }
        assert!(decoder.pending.len() <= MAX_PASTE);
        // The end marker split across chunks still ends the discarded paste.
        assert!(decoder.feed(b"vv\x1b[2").is_empty());
        assert_eq!(decoder.feed(b"01~j"), vec![ch('j')]);
        assert_eq!(
            decoder.feed(b"\x1b[200~ok\x1b[201~"),
            vec![Event::Paste("ok".into())]
        );
    }

    #[test]
    fn every_single_byte_is_survivable() {
        for first in 0..=u8::MAX {
            for second in [b'0', b';', b'M', b'm', b'~', 0x1b, 0xff] {
                let mut decoder = InputDecoder::new();
                decoder.feed(&[0x1b, b'[', first, second]);
                decoder.feed(&[0x1b, b'[', b'<', first, b';', second, b'M']);
                decoder.feed(&[0x1b, b'[', b'M', first, second, 0]);
                decoder.feed(&[first, second]);
                assert_eq!(
                    decoder.feed(b"\x1bq"),
                    vec![key(KeyCode::Char('q'), KeyModifiers::ALT)]
                );
            }
        }
    }
}
