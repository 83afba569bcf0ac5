//! `remtrack serve`: the tracker as an SSH server, one engine for everyone. Each person who logs
//! in with a key of the team file gets their own view (selection, filter, dialogs), sees who else
//! is here and where, and may follow one of them; marks carry the name the key belongs to.
//!
//! Limits are ours to keep, since russh leaves them to the server: connections not yet logged
//! in are capped (in total and per address) and given a deadline, live sessions are capped,
//! keepalives find dead peers, and every request gets an answer.

pub mod backend;
mod exec;
mod handler;
pub mod hostkey;
pub mod input;
pub mod presence;
mod session;
mod shared;
pub mod team;

pub use shared::{Login, Shared};

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::engine::hub::Hub;
use crate::tui::TuiOptions;
use team::Team;

/// Connections not yet logged in, at most, in all and from one address (OpenSSH's MaxStartups
/// idea: a flood of idle connections must not keep the team out).
pub const MAX_UNAUTHENTICATED: usize = 16;
pub const MAX_UNAUTHENTICATED_PER_ADDRESS: usize = 4;
/// How long a connection has to log in.
pub const LOGIN_DEADLINE: Duration = Duration::from_secs(20);
/// How long a connection that logged in to a full server has to read why before it is closed.
const FULL_GRACE: Duration = Duration::from_secs(5);
/// Live sessions at most, unless `--max-sessions` says otherwise.
pub const MAX_SESSIONS: u16 = 64;

/// How `remtrack serve` was started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tui: TuiOptions,
    pub listen: SocketAddr,
    pub team_file: PathBuf,
    /// Whether the team file was named (a missing one is then an error, not the fallback).
    pub team_file_given: bool,
    pub host_key: PathBuf,
    /// Where the operator's own public keys are, for the no-team-file fallback (`~/.ssh`).
    pub operator_ssh_dir: Option<PathBuf>,
    pub operator: String,
    pub plan_file_name: String,
    /// Logged-in connections at most.
    pub max_sessions: usize,
}

/// Counts connections not yet logged in, in all and per address.
#[derive(Default)]
struct Unauthenticated {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// A connection's place among those not yet logged in; given back on drop.
struct LoginSlot {
    slots: Arc<Mutex<Unauthenticated>>,
    address: IpAddr,
}

impl LoginSlot {
    fn take(slots: &Arc<Mutex<Unauthenticated>>, address: IpAddr) -> Option<LoginSlot> {
        let mut counts = slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let from_here = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= MAX_UNAUTHENTICATED || from_here >= MAX_UNAUTHENTICATED_PER_ADDRESS {
            return None;
        }
        counts.total += 1;
        *counts.by_address.entry(address).or_default() += 1;
        Some(LoginSlot {
            slots: slots.clone(),
            address,
        })
    }
}

impl Drop for LoginSlot {
    fn drop(&mut self) {
        let mut counts = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(count) = counts.by_address.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// The SSH settings: keys only, keepalives that find a dead peer in about two minutes, and an
/// inactivity limit long enough never to kick someone who is only watching.
fn ssh_config(host_key: russh::keys::PrivateKey) -> russh::server::Config {
    russh::server::Config {
        server_id: russh::SshId::Standard(
            format!("SSH-2.0-remtrack_{}", env!("CARGO_PKG_VERSION")).into(),
        ),
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_secs(1),
        // The first "none" probe every client sends is not a guess: no need to make it wait.
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        keys: vec![host_key],
        inactivity_timeout: Some(Duration::from_secs(3600)),
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        // Few frames waiting per client: a slow one blocks only its own session.
        event_buffer_size: 4,
        ..Default::default()
    }
}

/// Runs the server until SIGTERM or SIGINT. Returns the exit code.
pub async fn serve(options: ServeOptions) -> anyhow::Result<u8> {
    let host_key = hostkey::load_or_create(&options.host_key)?;
    let (team, team_file) = if options.team_file.exists() || options.team_file_given {
        (
            Team::load(&options.team_file)?,
            Some(options.team_file.clone()),
        )
    } else {
        let Some(ssh_dir) = &options.operator_ssh_dir else {
            anyhow::bail!(
                "no team file ({}) and no home folder to find your own keys in: write a team file",
                options.team_file.display()
            );
        };
        (Team::operator_keys(ssh_dir, &options.operator)?, None)
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", options.listen))?;
    let local = listener.local_addr()?;
    print_banner(local, &host_key, &team);

    let hub = Hub::start(options.tui.hub_options());
    let shared = Arc::new(Shared::new(
        hub,
        options.tui.clone(),
        options.plan_file_name.clone(),
        team,
        team_file,
        options.max_sessions,
    ));
    let config = Arc::new(ssh_config(host_key.key));
    let slots = Arc::new(Mutex::new(Unauthenticated::default()));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    bound_dead_peers(&stream);
                    let Some(slot) = LoginSlot::take(&slots, peer.ip()) else {
                        tracing::warn!(%peer, "refused: too many connections not logged in");
                        drop(stream);
                        continue;
                    };
                    tokio::spawn(connection(shared.clone(), config.clone(), stream, peer, slot));
                }
                // Out of file descriptors, say: wait a moment rather than spin.
                Err(error) => {
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    // Every session leaves as if its person had quit: terminals put back, then goodbye.
    shared.shutdown.send_replace(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !shared.room.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("remtrack serve: stopped");
    Ok(0)
}

/// A peer that vanished (a laptop lid closed, a network cut) is noticed by TCP itself within
/// about a minute and a half: SSH keepalives alone cannot, once a write to it blocks.
fn bound_dead_peers(stream: &TcpStream) {
    let socket = socket2::SockRef::from(stream);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(60))
        .with_interval(Duration::from_secs(10))
        .with_retries(3);
    if let Err(error) = socket
        .set_tcp_keepalive(&keepalive)
        .and_then(|()| socket.set_tcp_user_timeout(Some(Duration::from_secs(90))))
    {
        tracing::debug!("cannot bound dead peers on this socket: {error}");
    }
}

/// One connection, from the first byte to the last.
async fn connection(
    shared: Arc<Shared>,
    config: Arc<russh::server::Config>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: LoginSlot,
) {
    let (logged_in_tx, logged_in) = oneshot::channel();
    let handler = handler::Handler::new(shared.clone(), peer, logged_in_tx);
    let started = tokio::time::Instant::now();
    // The version exchange happens inside: a connection that never speaks is dropped here.
    let running = match tokio::time::timeout(
        LOGIN_DEADLINE,
        russh::server::run_stream(config, stream, handler),
    )
    .await
    {
        Ok(Ok(running)) => running,
        Ok(Err(error)) => {
            tracing::info!(%peer, "connection failed before login: {error}");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "dropped: did not log in within {LOGIN_DEADLINE:?}");
            return;
        }
    };
    let handle = running.handle();
    tokio::pin!(running);
    let remaining = LOGIN_DEADLINE.saturating_sub(started.elapsed());
    tokio::select! {
        ended = &mut running => {
            if let Err(error) = ended {
                tracing::info!(%peer, "connection ended before login: {error}");
            }
            return;
        }
        said = logged_in => match said {
            Ok(true) => {}
            // Logged in to a full server: the first channel is told so and the connection
            // closed; one that opens none is closed all the same.
            Ok(false) => {
                drop(slot);
                let _ = tokio::time::timeout(FULL_GRACE, &mut running).await;
                handler::disconnect(&handle, "the server is full").await;
                return;
            }
            Err(_) => return,
        },
        () = tokio::time::sleep(remaining) => {
            tracing::info!(%peer, "disconnected: did not log in within {LOGIN_DEADLINE:?}");
            handler::disconnect(&handle, "login took too long").await;
            return;
        }
    }
    drop(slot);
    if let Err(error) = running.await {
        tracing::debug!(%peer, "connection ended: {error}");
    }
}

fn print_banner(local: SocketAddr, host_key: &hostkey::HostKey, team: &Team) {
    let mut out = std::io::stdout().lock();
    let host = match local.ip() {
        ip if ip.is_unspecified() => "HOST".to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let _ = writeln!(out, "remtrack serve: listening on {local}");
    let _ = writeln!(
        out,
        "  host key {} ({} {})",
        host_key.fingerprint(),
        if host_key.created {
            "created"
        } else {
            "kept in"
        },
        host_key.path.display()
    );
    let _ = writeln!(out, "  connect: ssh -p {} {host}", local.port());
    let _ = writeln!(out, "  {}", team.describe());
    if !local.ip().is_loopback() {
        let _ = writeln!(
            out,
            "  WARNING: listening beyond this machine ({}): anyone who can reach it may try to log in; only the team file's keys get in",
            local.ip()
        );
    }
    let _ = out.flush();
}
