//! The local tracker's host: this process's own terminal (raw mode, the alternate screen, its
//! event stream), its signals, its clipboard through stdout, and the editor it can lend the
//! terminal to.

use std::io::Write as _;
use std::path::Path;

use crossterm::event::EventStream;
use futures_util::StreamExt as _;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::app::App;
use super::draw::{self, Drawn};
use super::runtime::{HostEvent, ViewHost};
use super::{clipboard, terminal};

pub struct LocalHost {
    guard: Option<terminal::TerminalGuard>,
    events: Option<EventStream>,
    terminate: Signal,
    hangup: Signal,
    inside_tmux: bool,
    first_frame: bool,
}

impl LocalHost {
    /// Takes over the terminal (restored on drop, on a panic, and on every way out).
    pub fn enter() -> std::io::Result<LocalHost> {
        let guard = terminal::TerminalGuard::enter()?;
        Ok(LocalHost {
            guard: Some(guard),
            events: Some(EventStream::new()),
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            inside_tmux: std::env::var_os("TMUX").is_some(),
            first_frame: true,
        })
    }

    pub fn size(&self) -> std::io::Result<(u16, u16)> {
        match &self.guard {
            Some(guard) => guard.terminal.size().map(|s| (s.width, s.height)),
            None => Ok((80, 24)),
        }
    }

    /// Leaves the terminal as a normal exit does.
    pub fn leave(mut self) {
        self.guard.take();
    }

    /// Lets go of a terminal that is gone (or hung up); says whether it could be restored.
    pub fn let_go(mut self) -> bool {
        self.guard.take().is_none_or(terminal::TerminalGuard::leave)
    }
}

impl ViewHost for LocalHost {
    fn draw(&mut self, app: &App) -> Result<Drawn, String> {
        let Some(guard) = &mut self.guard else {
            return Err("the terminal was let go".into());
        };
        let mut drawn = Drawn::default();
        match guard
            .terminal
            .draw(|frame| drawn = draw::render(frame, app))
        {
            Ok(_) => {
                if std::mem::take(&mut self.first_frame) {
                    let ms = crate::since_process_start().as_secs_f64() * 1000.0;
                    tracing::info!("first frame drawn {ms:.1} ms after start");
                }
                Ok(drawn)
            }
            Err(error) if terminal::is_gone(&error) => Err(error.to_string()),
            // Not a vanished terminal, but one that cannot be drawn on all the same.
            Err(error) => Err(format!("cannot draw: {error}")),
        }
    }

    async fn next(&mut self) -> HostEvent {
        let Some(events) = &mut self.events else {
            return HostEvent::Gone("no more input".into());
        };
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => HostEvent::Input(event),
                // The terminal is gone (an SSH connection dropped): nothing left to draw on.
                Some(Err(error)) => HostEvent::Gone(error.to_string()),
                None => HostEvent::Gone("no more input".into()),
            },
            _ = self.terminate.recv() => HostEvent::Quit,
            // A hang-up means the terminal is gone: nothing to restore.
            _ = self.hangup.recv() => HostEvent::Gone("hang-up (SIGHUP)".into()),
        }
    }

    fn copy(&mut self, text: &str) {
        let mut out = std::io::stdout();
        let _ = out.write_all(clipboard::osc52(text, self.inside_tmux).as_bytes());
        let _ = out.flush();
    }

    async fn edit(&mut self, editor: Option<String>, file: &Path, line: u64) -> Result<(), String> {
        let Some(guard) = &mut self.guard else {
            return Err("the terminal was let go".into());
        };
        // The editor reads the terminal now: stop reading it until it is done.
        self.events = None;
        let editor = editor.unwrap_or_default();
        // The editor owns the terminal meanwhile: nothing else of this view may run.
        let outcome =
            tokio::task::block_in_place(|| guard.lend(|| run_editor(&editor, file, line)));
        self.events = Some(EventStream::new());
        outcome.map_err(|error| format!("the terminal could not be taken back: {error}"))?
    }
}

/// Runs the person's editor on `file` at `line` (`+LINE FILE`, which vi, vim, nano, emacs and
/// helix all take). The editor's own words come from its variable; the file and line are passed
/// as arguments, never spliced into the command.
fn run_editor(editor: &str, file: &Path, line: u64) -> Result<(), String> {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg("remtrack-editor")
        .arg(format!("+{line}"))
        .arg(file)
        .status()
        .map_err(|error| error.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{editor} exited with {status}"))
    }
}
