//! Bytes from an SSH channel into key events: several in a chunk, split across chunks, paste, mouse, garbage.

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
