//! One SSH connection: who it is (from the verified key only), what it asked for (a tracker on a
//! terminal, or a report without one), and an answer to every request — PuTTY and others wait
//! for one. Nothing but the tracker and the report runs: no shell, no forwarding, no agent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use russh::keys::{HashAlg, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, Pty};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};

use super::Shared;
use super::exec;
use super::session::{self, ClientTerminal, LEAVE_SCREEN, SessionInput};
use crate::tui::runtime::ViewEnd;

/// How long a logged-in connection has to open a session channel.
const OPEN_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Session channels one connection may open (OpenSSH's multiplexing opens one per `ssh`).
const MAX_CHANNELS: usize = 4;

/// How many chunks of typing may wait for a busy session; more are dropped.
const INPUT_QUEUE: usize = 64;

pub struct Handler {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// Told once the client has logged in (the login deadline stops then), and whether it
    /// has a place among the live sessions.
    logged_in: Option<oneshot::Sender<bool>>,
    /// The key that logged in: who it belongs to is asked again at every start, so that a
    /// reloaded team file applies to new channels of a connection already open.
    key: Option<PublicKey>,
    /// This connection among the logged-in ones (for a reloaded team file to disconnect it).
    login: Option<super::Login>,
    /// Places among the logged-in connections (and, for a guest, among the guests'), or why
    /// this connection has none.
    live: Result<Vec<OwnedSemaphorePermit>, String>,
    /// Whether a session channel was ever opened (a connection that opens none is closed).
    opened: Arc<std::sync::atomic::AtomicBool>,
    channels: HashMap<ChannelId, ChannelState>,
}

#[derive(Default)]
struct ChannelState {
    terminal: Option<ClientTerminal>,
    no_color: bool,
    /// Where a running tracker takes its input, and its size.
    input: Option<mpsc::Sender<Vec<u8>>>,
    size: Option<watch::Sender<(u16, u16)>>,
    started: bool,
}

impl Handler {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, logged_in: oneshot::Sender<bool>) -> Handler {
        Handler {
            shared,
            peer,
            logged_in: Some(logged_in),
            key: None,
            login: None,
            live: Ok(Vec::new()),
            opened: Arc::default(),
            channels: HashMap::new(),
        }
    }

    /// Starts what the channel asked for, once; refuses a second start.
    fn start(&mut self, channel: ChannelId, session: &mut Session, exec: Option<String>) {
        let handle = session.handle();
        let Some(state) = self.channels.get_mut(&channel) else {
            let _ = session.channel_failure(channel);
            return;
        };
        if state.started {
            let _ = session.channel_failure(channel);
            return;
        }
        state.started = true;
        let _ = session.channel_success(channel);
        // Who the key is now: the team file may have been reloaded since the login.
        let Some(identity) = self.key.as_ref().and_then(|key| self.shared.identify(key)) else {
            let text = b"remtrack: this key is no longer in the team file\r\n".to_vec();
            tokio::spawn(finish(handle, channel, text, 1));
            return;
        };
        if let Err(why) = &self.live {
            let text = format!("{why}\r\n");
            tokio::spawn(async move {
                finish(handle.clone(), channel, text.into_bytes(), 1).await;
                disconnect(&handle, "no place for this connection").await;
            });
            return;
        }
        let shared = self.shared.clone();
        if let Some(command) = exec {
            tracing::info!(member = identity.name, command, "exec");
            // `ssh -t host check`: the client's terminal is raw, and nothing here turns a line
            // feed into a new line as a real pty would.
            let on_terminal = state.terminal.is_some();
            tokio::spawn(async move {
                let (mut output, status) = exec::run(&shared, &command).await;
                if on_terminal {
                    output = output.replace('\n', "\r\n");
                }
                finish(handle, channel, output.into_bytes(), status).await;
            });
            return;
        }
        let Some(mut terminal) = state.terminal.clone() else {
            let text = "needs a terminal: ssh -t (or run a command: ssh … check --format text)\r\n";
            tokio::spawn(finish(handle, channel, text.as_bytes().to_vec(), 1));
            return;
        };
        terminal.no_color |= state.no_color;
        let (input_tx, bytes) = mpsc::channel(INPUT_QUEUE);
        let (size_tx, size) = watch::channel((terminal.columns, terminal.rows));
        state.input = Some(input_tx);
        state.size = Some(size_tx);
        let input_rx = SessionInput { bytes, size };
        let login = self.login.as_ref().map_or(0, |login| login.id());
        tokio::spawn(async move {
            // A panic ends this one session: the others go on, and this person's terminal is
            // put back as far as the server can.
            let view = tokio::spawn(session::run(
                shared,
                login,
                identity.clone(),
                terminal,
                handle.clone(),
                channel,
                input_rx,
            ));
            let (text, status) = match view.await {
                Ok(ViewEnd::Quit) => (Vec::new(), 0),
                Ok(ViewEnd::Gone(why)) => {
                    tracing::info!(member = identity.name, "session ended: {why}");
                    (format!("remtrack: {why}\r\n").into_bytes(), 0)
                }
                Err(error) => {
                    tracing::error!(member = identity.name, "session failed: {error}");
                    let mut text = LEAVE_SCREEN.to_vec();
                    text.extend_from_slice(
                        b"remtrack: this session failed (an internal error, logged); the others go on\r\n",
                    );
                    (text, 70)
                }
            };
            finish(handle, channel, text, status).await;
        });
    }
}

/// Ends the whole connection.
pub async fn disconnect(handle: &russh::server::Handle, why: &str) {
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, why.into(), String::new())
        .await;
}

/// Writes the last words, the exit status, and closes the channel.
async fn finish(handle: russh::server::Handle, channel: ChannelId, text: Vec<u8>, status: u32) {
    if !text.is_empty() {
        let _ = handle.data(channel, text).await;
    }
    let _ = handle.exit_status_request(channel, status).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

impl russh::server::Handler for Handler {
    type Error = russh::Error;

    /// Probes with keys nobody knows are turned down before the client signs anything; a known
    /// key still has to prove itself with a signature before it means anyone.
    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.shared.reload_team_if_changed();
        Ok(if self.shared.identify(offer.public_key).is_some() {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    /// Identity comes from the key whose signature russh checked, never from an offer or from
    /// the SSH user name (the same key as `alice` and as `bob` is one person).
    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let fingerprint = key.public_key.fingerprint(HashAlg::Sha256).to_string();
        self.shared.reload_team_if_changed();
        let Some(identity) = self.shared.identify(key.public_key) else {
            tracing::info!(peer = %self.peer, key = fingerprint, "refused: unknown key");
            return Ok(Auth::reject());
        };
        tracing::info!(
            peer = %self.peer,
            user,
            key = fingerprint,
            member = identity.name,
            role = identity.role.as_str(),
            "logged in"
        );
        // A full server still lets the login through, to say so on the first channel; the
        // connection is then closed (and closed anyway soon if it opens none).
        self.live = self.shared.take_places(&identity);
        if let Err(why) = &self.live {
            tracing::warn!(peer = %self.peer, member = identity.name, "no place: {why}");
        }
        self.key = Some(key.public_key.clone());
        self.login = Some(self.shared.logged_in(key.public_key, &identity));
        if let Some(logged_in) = self.logged_in.take() {
            let _ = logged_in.send(self.live.is_ok());
        }
        Ok(Auth::Accept)
    }

    async fn auth_succeeded(&mut self, session: &mut Session) -> Result<(), Self::Error> {
        if let Some(login) = &self.login {
            login.attach(session.handle());
        }
        // A connection that holds a place but never opens a session (`ssh -N`: nothing is
        // forwarded here) would keep it for ever: it is closed.
        let (handle, opened) = (session.handle(), self.opened.clone());
        tokio::spawn(async move {
            tokio::time::sleep(OPEN_WITHIN).await;
            if !opened.load(std::sync::atomic::Ordering::Relaxed) {
                disconnect(&handle, "no session was opened").await;
            }
        });
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.key.is_none() || self.channels.len() >= MAX_CHANNELS {
            // Dropping the reply refuses the channel.
            return Ok(());
        }
        let id = channel.id();
        reply.accept().await;
        self.opened
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.channels.insert(id, ChannelState::default());
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(state) if !state.started => {
                let (columns, rows) = clamp_size(col_width, row_height);
                state.terminal = Some(ClientTerminal {
                    term: crate::printable::one_line(term),
                    columns,
                    rows,
                    no_color: false,
                });
                session.channel_success(channel)?;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Only what changes how we draw is taken; the rest is refused (and said so).
        match (self.channels.get_mut(&channel), variable_name) {
            (Some(state), "NO_COLOR") => {
                state.no_color = !variable_value.is_empty();
                session.channel_success(channel)?;
            }
            // Taken and answered; the tracker's sixteen colours look the same either way.
            (Some(_), "COLORTERM") => session.channel_success(channel)?,
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.start(channel, session, None);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(data).into_owned();
        self.start(channel, session, Some(command));
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // No sftp, no anything else.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // No reply: window-change never wants one (RFC 4254 §6.7).
        if let Some(state) = self.channels.get_mut(&channel) {
            let (columns, rows) = clamp_size(col_width, row_height);
            if let Some(size) = &state.size {
                size.send_replace((columns, rows));
            } else if let Some(terminal) = &mut state.terminal {
                terminal.columns = columns;
                terminal.rows = rows;
            }
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(input) = self.channels.get(&channel).and_then(|s| s.input.as_ref()) {
            pass_on(input, data.to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(state) = self.channels.get_mut(&channel) {
            state.input = None;
            state.size = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }
}

/// Hands input to the session without waiting. Waiting here would stop this connection's
/// reading, window adjustments included, while the session may be waiting for exactly those to
/// send its frame: a client that types ahead of a screen it does not read loses keys instead.
fn pass_on(input: &mpsc::Sender<Vec<u8>>, what: Vec<u8>) {
    if let Err(mpsc::error::TrySendError::Full(_)) = input.try_send(what) {
        tracing::warn!("a session is {INPUT_QUEUE} inputs behind: input dropped");
    }
}

/// The largest screen drawn for a client: two buffers of cells are kept per session, so a
/// client asking for a million cells would cost the server tens of megabytes.
const MAX_COLUMNS: u32 = 500;
const MAX_ROWS: u32 = 200;

/// A terminal size as a client sent it, within what is drawn.
fn clamp_size(columns: u32, rows: u32) -> (u16, u16) {
    let fit = |cells: u32, max: u32| u16::try_from(cells.clamp(1, max)).unwrap_or(1);
    (fit(columns, MAX_COLUMNS), fit(rows, MAX_ROWS))
}
