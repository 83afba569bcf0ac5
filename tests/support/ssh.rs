//! Serving the tracker over SSH in tests: the real `remtrack serve` on a free port of
//! 127.0.0.1 against the demo database, team files with fresh keys, and a russh client whose
//! terminal is a vt100 parser.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelWriteHalf, client};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};

/// How long a screen may take to show what a test waits for, unless the test says otherwise.
pub const WAIT: Duration = Duration::from_secs(5);

/// The loopback address the server listens on and clients come from by default.
pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A terminal dimension as vt100 takes it (at least 1).
fn cells(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n.max(1)).unwrap()
}

/// A fresh Ed25519 key.
pub fn new_key() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap()
}

/// A key's public half as an OpenSSH line (`ssh-ed25519 AAAA…`), as team files hold it.
pub fn public_line(key: &PrivateKey) -> String {
    key.public_key().to_openssh().unwrap()
}

/// A team file: `anon_access` (`no-access` or `viewer`) and members as (name, role, key line).
pub fn team_toml(anon_access: &str, members: &[(&str, &str, &str)]) -> String {
    let mut toml = format!("anon_access = {anon_access:?}\n");
    for (name, role, key) in members {
        toml.push_str(&format!(
            "\n[[member]]\nname = {name:?}\nrole = {role:?}\nkeys = [{:?}]\n",
            key.trim()
        ));
    }
    toml
}

/// A directory with the shipped plan and a fresh demo database (day 1 passes, day 2 fails).
pub fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let built = remtrack(dir.path(), &["demo", "--db", "demo.db", "--check"]);
    assert_eq!(
        built.status.code(),
        Some(1),
        "remtrack demo --check: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    dir
}

/// The binary run to completion in `dir` against the demo database, as an operator would.
pub fn remtrack(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remtrack"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", "sqlite:demo.db")
        .env("NO_COLOR", "1")
        .env_remove("REMTRACK_STORE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `remtrack serve` running in a demo directory; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Serve {
    pub dir: tempfile::TempDir,
    home: tempfile::TempDir,
    pub port: u16,
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
    child: Option<Child>,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// Serves the demo to the team described by `team_toml`.
    pub fn start(team_toml: &str) -> Serve {
        Serve::start_with(team_toml, &[])
    }

    /// As `start`, with more arguments for `remtrack serve` (e.g. `--state-dir keys`).
    pub fn start_with(team_toml: &str, extra_args: &[&str]) -> Serve {
        Serve::start_with_env(team_toml, extra_args, &[])
    }

    /// As `start_with`, with variables in the server's environment.
    pub fn start_with_env(team_toml: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Serve {
        let dir = demo_dir();
        std::fs::write(dir.path().join("team.toml"), team_toml).unwrap();
        let mut serve = Serve {
            dir,
            home: tempfile::tempdir().unwrap(),
            port: 0,
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            stdout: Arc::default(),
        };
        serve.launch("127.0.0.1:0");
        serve
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the server's stderr goes (kept across restarts), for failure messages.
    pub fn stderr_file(&self) -> PathBuf {
        self.path().join("serve.stderr")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_file()).unwrap_or_default()
    }

    /// The server's log file (beside the store; `RUST_LOG=remtrack=debug` in the test's
    /// environment makes it say more).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join(".remtrack/remtrack.log")).unwrap_or_default()
    }

    /// Everything the current server process printed to stdout so far.
    pub fn banner(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    /// The `SHA256:…` fingerprint the banner gives for the host key.
    pub fn host_key_fingerprint(&self) -> String {
        let banner = self.banner();
        banner
            .lines()
            .filter(|line| line.contains("host key"))
            .flat_map(|line| line.split_whitespace())
            .find(|word| word.starts_with("SHA256:"))
            .unwrap_or_else(|| panic!("no `host key SHA256:…` line in the banner:\n{banner}"))
            .trim_end_matches([',', '.', ')'])
            .to_string()
    }

    fn launch(&mut self, listen: &str) {
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stderr_file())
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_remtrack"))
            .args([
                "serve",
                "--plan",
                "plan.json",
                "--database-url",
                "sqlite:demo.db",
            ])
            .args(["--team", "team.toml", "--listen", listen, "--refresh", "1s"])
            .args(&self.extra_args)
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env_remove("REMTRACK_STORE")
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        // Read stdout to the end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        self.stdout = lines;
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let banner = self.banner();
            let port = banner.lines().next().and_then(|first| {
                first
                    .strip_prefix("remtrack serve: listening on 127.0.0.1:")
                    .and_then(|port| port.trim().parse::<u16>().ok())
            });
            if let Some(port) = port
                && banner.contains("ssh -p")
            {
                self.port = port;
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "remtrack serve exited ({status}) before its banner; stdout:\n{banner}\nstderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "remtrack serve printed no `remtrack serve: listening on 127.0.0.1:PORT` and \
                 `ssh -p` lines within 20 s; stdout:\n{banner}\nstderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    /// SIGTERM, then the exit status (SIGKILL and a panic after 10 s).
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        signal(&child, "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "remtrack serve did not stop within 10 s of SIGTERM; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (it must exit 0) and starts it again on the same port.
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(
            status.success(),
            "SIGTERM stops the server with exit 0, not {status}; stderr:\n{}",
            self.stderr()
        );
        let listen = format!("127.0.0.1:{}", self.port);
        self.launch(&listen);
    }
}

fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status();
}

impl Drop for Serve {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(&child, "TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Why a login did not happen.
#[derive(Debug)]
pub enum LoginError {
    /// The server answered and refused the key.
    Refused,
    /// The connection failed or was closed before an answer.
    Closed(String),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Refused => write!(f, "the server refused the key"),
            LoginError::Closed(why) => write!(f, "no answer to the login: {why}"),
        }
    }
}

/// Accepts any host key and remembers its fingerprint.
pub struct Trust {
    host_key: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Trust {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let PublicKeyOrCertificate::PublicKey { key, .. } = key {
            *self.host_key.lock().unwrap() = Some(key.fingerprint(HashAlg::Sha256).to_string());
        }
        Ok(true)
    }
}

/// The client's side of the TCP connection; `paused` makes it stop reading for good (the
/// kernel buffers fill, then the server's writes to it stall) while writes still go out.
struct Socket {
    inner: TcpStream,
    paused: Arc<AtomicBool>,
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.paused.load(Ordering::Relaxed) {
            // Never woken: this reader is gone for the rest of the test.
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a channel without a terminal brought back.
#[derive(Debug, Default)]
pub struct Exec {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<u32>,
    /// The replies to the channel's requests, in order (`true`: success).
    pub replies: Vec<bool>,
}

/// What the reader task saw on the terminal channel.
#[derive(Default)]
struct Seen {
    stderr: String,
    exit_status: Option<u32>,
    closed: bool,
    replies: Vec<bool>,
}

/// One SSH connection to the server, from russh in the test process.
pub struct Client {
    pub handle: client::Handle<Trust>,
    host_key: Arc<Mutex<Option<String>>>,
    paused: Arc<AtomicBool>,
    /// The same socket as the connection's, to look at what arrived unread.
    peek: std::net::TcpStream,
    channel: Option<ChannelWriteHalf<client::Msg>>,
    parser: Arc<Mutex<vt100::Parser>>,
    seen: Arc<Mutex<Seen>>,
}

impl Client {
    /// The SSH transport only (key exchange done, nobody authenticated), from `from`.
    pub async fn open(port: u16, from: Ipv4Addr) -> Result<Client, LoginError> {
        let closed = |e: std::io::Error| LoginError::Closed(e.to_string());
        let socket = TcpSocket::new_v4().map_err(closed)?;
        socket.bind(SocketAddr::from((from, 0))).map_err(closed)?;
        let stream = tokio::time::timeout(
            Duration::from_secs(10),
            socket.connect(SocketAddr::from((LOCALHOST, port))),
        )
        .await
        .map_err(|_| LoginError::Closed("TCP connect timed out after 10 s".into()))?
        .map_err(closed)?;
        let std_stream = stream.into_std().map_err(closed)?;
        let peek = std_stream.try_clone().map_err(closed)?;
        let stream = TcpStream::from_std(std_stream).map_err(closed)?;
        let paused = Arc::new(AtomicBool::new(false));
        let host_key = Arc::new(Mutex::new(None));
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        let socket = Socket {
            inner: stream,
            paused: Arc::clone(&paused),
        };
        let trust = Trust {
            host_key: Arc::clone(&host_key),
        };
        let handle = tokio::time::timeout(
            Duration::from_secs(10),
            client::connect_stream(config, socket, trust),
        )
        .await
        .map_err(|_| LoginError::Closed("no SSH handshake within 10 s".into()))?
        .map_err(|e| LoginError::Closed(e.to_string()))?;
        Ok(Client {
            handle,
            host_key,
            paused,
            peek,
            channel: None,
            parser: Arc::new(Mutex::new(vt100::Parser::new(cells(24), cells(80), 0))),
            seen: Arc::default(),
        })
    }

    /// Connects from 127.0.0.1 and authenticates with `key` (the user name says nothing).
    pub async fn connect(port: u16, key: &PrivateKey) -> Result<Client, LoginError> {
        Client::connect_as(port, "remtrack-test", key, LOCALHOST).await
    }

    pub async fn connect_as(
        port: u16,
        user: &str,
        key: &PrivateKey,
        from: Ipv4Addr,
    ) -> Result<Client, LoginError> {
        let mut client = Client::open(port, from).await?;
        let key = PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None);
        let auth = tokio::time::timeout(
            Duration::from_secs(10),
            client.handle.authenticate_publickey(user, key),
        )
        .await
        .map_err(|_| LoginError::Closed("no answer to the public key within 10 s".into()))?;
        match auth {
            Ok(result) if result.success() => Ok(client),
            Ok(_) | Err(russh::Error::NoAuthMethod) => Err(LoginError::Refused),
            Err(e) => Err(LoginError::Closed(e.to_string())),
        }
    }

    /// `connect`, which must succeed.
    pub async fn login(port: u16, key: &PrivateKey) -> Client {
        Client::connect(port, key)
            .await
            .unwrap_or_else(|e| panic!("logging in with a team member's key: {e}"))
    }

    /// The `SHA256:…` fingerprint of the host key the server presented.
    pub fn host_key(&self) -> Option<String> {
        self.host_key.lock().unwrap().clone()
    }

    /// Opens a session channel with a PTY of `cols`×`rows` and a shell; from then on a
    /// background task feeds what arrives into the screen.
    pub async fn shell(&mut self, cols: u16, rows: u16) {
        let channel = self.handle.channel_open_session().await.unwrap();
        channel
            .request_pty(true, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await
            .unwrap();
        channel.request_shell(true).await.unwrap();
        let (mut read, write) = channel.split();
        *self.parser.lock().unwrap() = vt100::Parser::new(cells(rows), cells(cols), 0);
        *self.seen.lock().unwrap() = Seen::default();
        let parser = Arc::clone(&self.parser);
        let seen = Arc::clone(&self.seen);
        tokio::spawn(async move {
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => parser.lock().unwrap().process(&data),
                    ChannelMsg::ExtendedData { data, .. } => seen
                        .lock()
                        .unwrap()
                        .stderr
                        .push_str(&String::from_utf8_lossy(&data)),
                    ChannelMsg::ExitStatus { exit_status } => {
                        seen.lock().unwrap().exit_status = Some(exit_status);
                    }
                    ChannelMsg::Success => seen.lock().unwrap().replies.push(true),
                    ChannelMsg::Failure => seen.lock().unwrap().replies.push(false),
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            seen.lock().unwrap().closed = true;
        });
        self.channel = Some(write);
    }

    /// The terminal's text, one line per row, trailing blanks cut.
    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The rows of the terminal at its full width (blanks kept).
    pub fn rows(&self) -> Vec<String> {
        let parser = self.parser.lock().unwrap();
        let (_, cols) = parser.screen().size();
        parser.screen().rows(0, cols.get()).collect()
    }

    /// True while the terminal is on its alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// Waits until the screen shows `text`; panics with the last screen after `timeout`.
    pub async fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("\"{text}\""), timeout, |screen| {
            screen.contains(text)
        })
        .await
    }

    /// Waits until `ready(screen)`; panics naming `what` with the last screen after `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                // Copied out first: a panic while holding the lock would poison it for the
                // reader task.
                let (closed, exit_status, stderr) = {
                    let seen = self.seen.lock().unwrap();
                    (seen.closed, seen.exit_status, seen.stderr.clone())
                };
                panic!(
                    "{what} never appeared within {timeout:?}; the screen:\n{screen}\n\
                     (channel closed: {closed}, exit status: {exit_status:?}, stderr: {stderr:?})"
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Keys (bytes) to the terminal channel.
    pub async fn send(&self, bytes: &[u8]) {
        self.channel
            .as_ref()
            .expect("shell() first")
            .data(bytes)
            .await
            .unwrap();
    }

    /// A window change to `cols`×`rows`; the local screen takes the new size at once.
    pub async fn resize(&self, cols: u16, rows: u16) {
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(cells(rows), cells(cols));
        self.channel
            .as_ref()
            .expect("shell() first")
            .window_change(cols.into(), rows.into(), 0, 0)
            .await
            .unwrap();
    }

    /// The exit status of the terminal channel, once it came (None after `timeout`).
    pub async fn exit_status(&self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.seen.lock().unwrap().exit_status {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// True once the server closed the terminal channel (waits up to `timeout`).
    pub async fn channel_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.seen.lock().unwrap().closed {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The replies to the terminal channel's requests so far (`true`: success).
    pub fn replies(&self) -> Vec<bool> {
        self.seen.lock().unwrap().replies.clone()
    }

    /// Runs `command` without a PTY; (stdout, exit status). Panics without an exit status.
    pub async fn exec(&self, command: &str) -> (String, u32) {
        let out = self.exec_full(command).await;
        let status = out
            .status
            .unwrap_or_else(|| panic!("`{command}` ended without an exit status: {out:?}"));
        (out.stdout, status)
    }

    /// Runs `command` without a PTY and collects everything the channel brought back.
    pub async fn exec_full(&self, command: &str) -> Exec {
        let channel = self.handle.channel_open_session().await.unwrap();
        channel.exec(true, command).await.unwrap();
        collect(channel).await
    }

    /// A shell request without a PTY, and everything it brought back.
    pub async fn shell_without_pty(&self) -> Exec {
        let channel = self.handle.channel_open_session().await.unwrap();
        channel.request_shell(true).await.unwrap();
        collect(channel).await
    }

    /// From now on this client never reads from its socket again (it still writes).
    pub fn stop_reading(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }

    /// How many bytes the server sent that this client has not read (after `stop_reading`).
    pub fn unread_bytes(&self) -> usize {
        let mut buf = vec![0; 8 << 20];
        match self.peek.peek(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => panic!("peeking at the socket: {e}"),
        }
    }

    /// Closes the connection from this side.
    pub async fn close(self) {
        if let Some(channel) = &self.channel {
            let _ = channel.close().await;
        }
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "bye", "en")
            .await;
    }
}

/// Reads a channel to its end (20 s at most).
async fn collect(mut channel: russh::Channel<client::Msg>) -> Exec {
    let mut out = Exec::default();
    let read = async {
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.stdout.push_str(&String::from_utf8_lossy(&data)),
                ChannelMsg::ExtendedData { data, .. } => {
                    out.stderr.push_str(&String::from_utf8_lossy(&data));
                }
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                ChannelMsg::Success => out.replies.push(true),
                ChannelMsg::Failure => out.replies.push(false),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .is_err()
    {
        panic!("the channel did not close within 20 s; so far: {out:?}");
    }
    out
}

/// A signer that answers for whatever key it is asked about with a signature by `key`, or
/// declines to sign (`key: None`), as an agent without the key does.
pub struct SignWith {
    pub key: Option<PrivateKey>,
}

#[derive(Debug)]
pub enum SignError {
    SessionGone,
    Declined,
}

impl From<russh::SendError> for SignError {
    fn from(_: russh::SendError) -> Self {
        SignError::SessionGone
    }
}

impl russh::Signer for SignWith {
    type Error = SignError;

    fn auth_sign(
        &mut self,
        _key: &russh::keys::agent::AgentIdentity,
        _hash_alg: Option<HashAlg>,
        mut to_sign: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, SignError>> + Send {
        let signed = match &self.key {
            None => Err(SignError::Declined),
            Some(key) => {
                use russh::keys::ssh_encoding::Encode;
                let signature: russh::keys::ssh_key::Signature =
                    russh::keys::signature::Signer::try_sign(key, &to_sign).unwrap();
                // The userauth request ends with the signature blob as an SSH string.
                let blob = signature.encode_vec().unwrap();
                to_sign.extend_from_slice(&u32::try_from(blob.len()).unwrap().to_be_bytes());
                to_sign.extend_from_slice(&blob);
                Ok(to_sign)
            }
        };
        async move { signed }
    }
}

/// The first row of a screen that contains `needle`.
pub fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|line| line.contains(needle))
}

/// The task list's row for task `id` (the first line naming it: the list sits above the
/// detail, whose line 2 also names it).
pub fn task_row<'a>(screen: &'a str, id: &str) -> &'a str {
    line_with(screen, id).unwrap_or_else(|| panic!("no row for {id} on the screen:\n{screen}"))
}

/// True when `line` holds `initials` as a word of its own (e.g. `AN`, not inside `ANALYSE`).
pub fn has_initials(line: &str, initials: &str) -> bool {
    line.split(|c: char| !c.is_alphanumeric())
        .any(|word| word == initials)
}
