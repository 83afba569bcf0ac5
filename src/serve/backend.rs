//! A ratatui backend for one SSH client: crossterm's escape sequences, written into a buffer that
//! the session sends as one frame, at the size the client said.
//!
//! `CrosstermBackend` alone asks the *server's* terminal for its size and cursor (its `/dev/tty`,
//! then `tput`): a daemon has none, so a resize fails, and a server started from a terminal would
//! draw at its own size. Here size and cursor are what the client told us.

use std::io::Write;

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// The bytes of the frame being drawn, until the session sends them.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl FrameBuffer {
    /// What was written since the last take.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

impl Write for FrameBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draws with crossterm's sequences into a [`FrameBuffer`], at the client's size.
pub struct SshBackend {
    inner: CrosstermBackend<FrameBuffer>,
    size: Size,
    cursor: Position,
}

impl SshBackend {
    pub fn new(columns: u16, rows: u16) -> SshBackend {
        SshBackend {
            inner: CrosstermBackend::new(FrameBuffer::default()),
            size: Size::new(columns.max(1), rows.max(1)),
            cursor: Position::ORIGIN,
        }
    }

    /// The client's terminal changed size (a window-change request).
    pub fn resize(&mut self, columns: u16, rows: u16) {
        self.size = Size::new(columns.max(1), rows.max(1));
    }

    /// The bytes drawn since the last call, to send.
    pub fn take_frame(&mut self) -> Vec<u8> {
        self.inner.writer_mut().take()
    }

    /// Writes raw bytes (mode switches before the first frame and after the last).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        let _ = self.inner.writer_mut().write_all(bytes);
    }
}

impl Backend for SshBackend {
    type Error = std::io::Error;

    fn draw<'a, I>(&mut self, content: I) -> std::io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> std::io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> std::io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> std::io::Result<()> {
        self.inner.show_cursor()
    }

    /// Where we last put it: asking the client would need its answer from the input stream.
    fn get_cursor_position(&mut self) -> std::io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> std::io::Result<()> {
        let position = position.into();
        self.cursor = position;
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> std::io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> std::io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> std::io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> std::io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size,
            // Pixels are not used; clients rarely send them.
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    #[test]
    fn frames_are_drawn_at_the_clients_size_and_resize_with_it() {
        let mut terminal =
            Terminal::new(SshBackend::new(100, 30)).unwrap_or_else(|e| panic!("{e}"));
        let frame = terminal
            .draw(|frame| frame.render_widget(Paragraph::new("hello"), frame.area()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((frame.area.width, frame.area.height), (100, 30));
        let bytes = terminal.backend_mut().take_frame();
        assert!(String::from_utf8_lossy(&bytes).contains("hello"));
        assert!(terminal.backend_mut().take_frame().is_empty(), "taken once");

        terminal.backend_mut().resize(40, 10);
        let frame = terminal
            .draw(|frame| frame.render_widget(Paragraph::new("again"), frame.area()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((frame.area.width, frame.area.height), (40, 10));
    }
}
