//! Taking over the terminal and always giving it back: on a normal exit, on an error, on a panic,
//! and on SIGTERM or SIGHUP (an SSH connection dropping).

use std::io::{Stdout, Write as _, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped, whatever the way out.
pub struct TerminalGuard {
    pub terminal: Tui,
}

/// The screen the tracker draws on: alternate, with mouse and paste reported, no cursor. What
/// `restore` undoes, set up at start and again after lending the terminal.
fn enter_screen(out: &mut Stdout) -> std::io::Result<()> {
    execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        cursor::Hide
    )
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = stdout();
        if let Err(error) = enter_screen(&mut out) {
            restore();
            return Err(error);
        }
        let terminal = Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore())?;
        Ok(TerminalGuard { terminal })
    }
}

impl TerminalGuard {
    /// Hands the terminal to another program (an editor) until `run` returns, then takes it
    /// back and has the next frame drawn whole.
    pub fn lend<T>(&mut self, run: impl FnOnce() -> T) -> std::io::Result<T> {
        restore();
        let result = run();
        enable_raw_mode()?;
        enter_screen(&mut stdout())?;
        // Not `Terminal::clear`, which asks the terminal where its cursor is: the reply would
        // race the event stream being set up again. A blank frame makes the next one whole.
        self.terminal.draw(|frame| {
            frame.render_widget(ratatui::widgets::Clear, frame.area());
        })?;
        Ok(result)
    }

    /// Leaves the terminal: restored when it is still there (a hang-up sent by hand), let go of
    /// when it is gone. Says which.
    pub fn leave(mut self) -> bool {
        // Showing the cursor first also spares ratatui's drop from trying (and printing).
        match self.terminal.show_cursor() {
            Ok(()) => {
                drop(self);
                true
            }
            Err(_) => {
                self.abandon();
                false
            }
        }
    }

    /// Lets go of a terminal that is gone (a closed pty, a dropped SSH connection): there is
    /// nothing to restore, and writing to it only fails. Ratatui's own clean-up would print
    /// "Failed to show the cursor" to a stderr that is gone too, which panics.
    pub fn abandon(self) {
        let _ = disable_raw_mode();
        std::mem::forget(self);
    }
}

/// Whether an I/O error means the terminal itself is gone rather than one write failing.
pub fn is_gone(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, NotConnected, UnexpectedEof, WriteZero};
    // EIO (5) is what a write to a pty whose other end closed returns; ENXIO (6) a vanished
    // device; EPIPE (32) a closed pipe.
    matches!(
        error.kind(),
        BrokenPipe | NotConnected | UnexpectedEof | WriteZero
    ) || matches!(error.raw_os_error(), Some(5 | 6 | 32))
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}
