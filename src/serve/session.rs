//! One person's tracker over SSH: their own [`App`] over the shared hub, drawn on their terminal
//! through the channel, fed by the bytes they type. The same view loop as the local tracker.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use crossterm::event::Event as TermEvent;
use ratatui::Terminal;
use russh::ChannelId;
use russh::server::Handle;
use tokio::sync::{mpsc, watch};

use super::Shared;
use super::backend::SshBackend;
use super::input::InputDecoder;
use super::presence::{Presence, Roster, SessionId};
use super::team::Identity;
use crate::engine::fixer::FixJob;
use crate::store::NewEvent;
use crate::tui::action::Msg;
use crate::tui::app::{App, Pairing, role_refusal};
use crate::tui::draw::{self, Drawn};
use crate::tui::runtime::{HostEvent, ViewEnd, ViewHost, run_view};
use crate::tui::theme::Theme;

/// What the connection hands the session after it started: the bytes the person types (or
/// pastes, or the mouse sends), in order, and their terminal's size, newest only (a resize is
/// never lost behind typing).
pub struct SessionInput {
    pub bytes: mpsc::Receiver<Vec<u8>>,
    pub size: watch::Receiver<(u16, u16)>,
}

/// What the client said about its terminal.
#[derive(Debug, Clone, Default)]
pub struct ClientTerminal {
    pub term: String,
    pub columns: u16,
    pub rows: u16,
    /// Variables the client sent (`SendEnv`): only the few that change how we draw are kept.
    pub no_color: bool,
}

impl ClientTerminal {
    /// Colour unless the client asked for none (`NO_COLOR`) or its terminal cannot show it.
    /// Nothing on screen depends on colour alone, so a wrong guess costs looks, not meaning.
    pub fn theme(&self, ascii: bool) -> Theme {
        Theme {
            color: !self.no_color && self.term != "dumb",
            ascii,
        }
    }
}

/// The screen a session draws on, set up and put back as the local tracker does its own.
const ENTER_SCREEN: &[u8] = b"\x1b[?1049h\x1b[?1000h\x1b[?1002h\x1b[?1006h\x1b[?2004h\x1b[?25l";
pub const LEAVE_SCREEN: &[u8] = b"\x1b[?2004l\x1b[?1006l\x1b[?1002l\x1b[?1000l\x1b[?25h\x1b[?1049l";

/// Runs one person's tracker until they quit or the connection goes; says how it ended.
pub async fn run(
    shared: Arc<Shared>,
    login: u64,
    identity: Identity,
    terminal: ClientTerminal,
    handle: Handle,
    channel: ChannelId,
    input: SessionInput,
) -> ViewEnd {
    let presence = shared.room.join(identity.name.clone(), identity.role);
    let _registration = shared.register(login, presence.id());
    let hub = shared.hub.clone();
    let mut config =
        shared
            .tui
            .app_config(&hub, identity.name.clone(), terminal.theme(shared.ascii));
    config.pairing = Some(Pairing::new(presence.id(), identity.role));
    let mut app = App::new(config);
    app.receive(Msg::Resized {
        width: terminal.columns,
        height: terminal.rows,
    });
    let backend = SshBackend::new(terminal.columns, terminal.rows);
    let terminal = match Terminal::new(backend) {
        Ok(terminal) => terminal,
        Err(error) => return ViewEnd::Gone(format!("cannot set up the screen: {error}")),
    };
    let mut host = SshHost {
        terminal,
        handle,
        channel,
        input,
        decoder: InputDecoder::new(),
        pending: VecDeque::new(),
        roster: shared.room.subscribe(),
        presence,
        identity,
        shared: shared.clone(),
        shutdown: shared.shutdown.subscribe(),
    };
    host.terminal.backend_mut().write_raw(ENTER_SCREEN);
    tracing::info!(
        member = host.identity.name,
        key = host.identity.fingerprint,
        "tracker session started"
    );
    let end = run_view(&mut app, &hub, &mut host).await;
    // Put the person's terminal back; a gone connection simply drops it.
    host.terminal.backend_mut().write_raw(LEAVE_SCREEN);
    if *shared.shutdown.borrow() {
        host.terminal
            .backend_mut()
            .write_raw(b"remtrack: the server is shutting down; goodbye\r\n");
    }
    // Not raced against the end or the shutdown as frames are (those have happened): a
    // client that does not take it in a moment is left as it is.
    let last = host.terminal.backend_mut().take_frame();
    let _ = tokio::time::timeout(LAST_FRAME_WITHIN, host.handle.data(host.channel, last)).await;
    end
}

/// How long the words that put a person's terminal back may wait for a slow client.
const LAST_FRAME_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

struct SshHost {
    terminal: Terminal<SshBackend>,
    handle: Handle,
    channel: ChannelId,
    input: SessionInput,
    decoder: InputDecoder,
    /// Events decoded from one chunk beyond the first, given out one by one.
    pending: VecDeque<TermEvent>,
    roster: watch::Receiver<Arc<Roster>>,
    presence: Presence,
    identity: Identity,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
}

impl ViewHost for SshHost {
    fn draw(&mut self, app: &App) -> Result<Drawn, String> {
        let mut drawn = Drawn::default();
        self.terminal
            .draw(|frame| drawn = draw::render(frame, app))
            .map_err(|error| format!("cannot draw: {error}"))?;
        Ok(drawn)
    }

    async fn send_frame(&mut self) -> Result<(), String> {
        let bytes = self.terminal.backend_mut().take_frame();
        if bytes.is_empty() {
            return Ok(());
        }
        // Waits while the client is slow to take what it was sent: this session draws its next
        // frame only after that, so a slow client sees fewer frames and nobody else waits. An
        // admin ending the session, or the server stopping, does not wait for a stalled client.
        let ended = tokio::select! {
            sent = self.handle.data(self.channel, bytes) => {
                return sent.map_err(|_| "the connection closed".to_string());
            }
            () = self.presence.ended() => true,
            _ = self.shutdown.wait_for(|stopping| *stopping) => false,
        };
        Err(if ended {
            self.why_ended()
        } else {
            "the server is shutting down".into()
        })
    }

    async fn next(&mut self) -> HostEvent {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return HostEvent::Input(event);
            }
            tokio::select! {
                input = self.input.bytes.recv() => match input {
                    Some(bytes) => self.pending.extend(self.decoder.feed(&bytes)),
                    None => return HostEvent::Gone("the connection closed".into()),
                },
                changed = self.input.size.changed() => {
                    if changed.is_err() {
                        return HostEvent::Gone("the connection closed".into());
                    }
                    let (columns, rows) = *self.input.size.borrow_and_update();
                    self.terminal.backend_mut().resize(columns, rows);
                    // The next frame is drawn whole at the new size.
                    let _ = self.terminal.clear();
                    return HostEvent::Input(TermEvent::Resize(columns, rows));
                }
                changed = self.roster.changed() => {
                    if changed.is_err() {
                        return HostEvent::Gone("the server stopped".into());
                    }
                    let roster = self.roster.borrow_and_update().clone();
                    return HostEvent::Msg(Msg::Roster(roster));
                }
                () = self.presence.ended() => return HostEvent::Gone(self.why_ended()),
                changed = self.shutdown.changed() => {
                    if changed.is_err() || *self.shutdown.borrow() {
                        return HostEvent::Quit;
                    }
                }
            }
        }
    }

    fn copy(&mut self, text: &str) {
        // To this person's own terminal, never the server's.
        let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        self.terminal
            .backend_mut()
            .write_raw(format!("\x1b]52;c;{encoded}\x07").as_bytes());
    }

    async fn edit(
        &mut self,
        _editor: Option<String>,
        file: &Path,
        line: u64,
    ) -> Result<(), String> {
        // An editor would run on the server, as the server's user: never on a client's key.
        Err(format!(
            "editors do not open over SSH; the location is {}:{line}",
            file.display()
        ))
    }

    fn admit_mark(&self, mut event: NewEvent) -> Result<NewEvent, String> {
        let Some(role) = self.role_now() else {
            return Err("this session has ended".into());
        };
        if !role.may_mark() {
            return Err(format!(
                "{} is {}: marks need the engineer role",
                self.identity.name,
                role.with_article()
            ));
        }
        // Who made it comes from the verified key, never from anything the client typed.
        event.actor = self.identity.name.clone();
        if let Some(evidence) = event.evidence.as_object_mut() {
            evidence.insert("ssh_key".into(), self.identity.fingerprint.clone().into());
        }
        Ok(event)
    }

    fn admit_fix(&self, mut job: FixJob) -> Result<FixJob, String> {
        let Some(role) = self.role_now() else {
            return Err("this session has ended".into());
        };
        // The role now, not the one the view knew: a reloaded team file may have changed it.
        if let Some(refused) = role_refusal(&self.identity.name, role, job.action) {
            return Err(refused);
        }
        // Who asks, and as what, come from the verified key and the team file, never from
        // anything the client typed.
        job.actor = self.identity.name.clone();
        job.role = Some(role.as_str().to_string());
        Ok(job)
    }

    fn observe(&mut self, app: &App) {
        let (task, view, following) = app.whereabouts();
        // Two people choosing to follow each other at the same moment: the room refuses the
        // second, and that view follows nobody for the others.
        if let Err(refused) = self.presence.update(task, view, following) {
            tracing::info!(member = self.identity.name, "follow refused: {refused}");
        }
    }

    fn end_session(&mut self, session: SessionId) -> String {
        // The app refused it already for anyone else; the host refuses it again.
        if !self.role_now().is_some_and(|role| role.may_administer()) {
            return "ending a session needs the admin role".into();
        }
        let name = self
            .shared
            .room
            .roster()
            .get(session)
            .map(|peer| peer.name.clone());
        match name {
            Some(name)
                if self.shared.end_session(
                    session,
                    format!("{} ended this session", self.identity.name),
                ) =>
            {
                tracing::info!(by = self.identity.name, "ended {name}'s session");
                format!("ended {name}'s session")
            }
            _ => "that session has already ended".into(),
        }
    }

    async fn reload_team(&mut self) -> String {
        if !self.role_now().is_some_and(|role| role.may_administer()) {
            return "reloading the team file needs the admin role".into();
        }
        self.shared.reload_team(&self.identity.name)
    }
}

impl SshHost {
    fn why_ended(&self) -> String {
        self.shared
            .end_reason(self.presence.id())
            .unwrap_or_else(|| "an admin ended this session".into())
    }

    /// This person's role now (a reloaded team file may have changed it); none once they left.
    fn role_now(&self) -> Option<super::team::Role> {
        self.shared
            .room
            .roster()
            .get(self.presence.id())
            .map(|peer| peer.role)
    }
}
