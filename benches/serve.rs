//! The `remtrack serve` benchmark: the real server binary, a throwaway PostgreSQL, and real
//! OpenSSH clients with a pty each (one tmux session per viewer, on a private tmux server).
//!
//! It measures:
//! 1. the statements per minute the database sees with 1 and with 20 viewers connected (one
//!    engine for everyone: the number must not grow with viewers), counted on the server side by
//!    `pg_stat_statements` for the role the tracker checks as;
//! 2. the serve process's RSS with 0, 1, 20 and 50 viewers, each with its tracker drawn, and the
//!    cost of each extra session;
//! 3. a soak: 10 viewers, the server refreshing back to back (`--refresh 1ms`) until 20,000
//!    refreshes have run; RSS after the first 1,000 and at the end;
//! 4. a client that stops reading (SIGSTOP): the other viewer's key-to-screen time while it is
//!    stopped, the server's RSS meanwhile, and how long the server takes to end the session once
//!    the stopped client is killed;
//! 5. a client killed mid-frame (right after a resize): the other viewer keeps updating, and how
//!    long until the server logs the session's end.
//!
//! `cargo bench --bench serve` runs it in full (several minutes; it installs openssh-client and
//! tmux with apt-get when they are missing and it runs as root); `cargo bench --bench serve --
//! --small` runs a shorter version (10 s windows, 1 vs 5 viewers, a 1,000-refresh soak with 3
//! viewers) in under two minutes, for CI. Nothing is asserted about timing: every figure is
//! printed with what produced it. Everything runs on 127.0.0.1, and the server, the tmux server
//! and the cluster are stopped at the end, on failure too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/machine.rs"]
mod machine;
#[path = "../tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection as _;

const BIN: &str = env!("CARGO_BIN_EXE_remtrack");
/// The role the tracker checks as: `pg_stat_statements` counts its statements apart from ours.
const CHECKER: &str = "remtrack_checker";
/// The viewers' terminal size.
const COLUMNS: u16 = 100;
const ROWS: u16 = 30;
/// Viewers logging in at once: the server lets at most 4 connections from one address be in
/// the middle of logging in.
const LOGIN_BATCH: usize = 3;

struct Config {
    small: bool,
    /// The measured window of the statement counts.
    window: Duration,
    /// Viewers connected in the two statement windows.
    statement_viewers: [usize; 2],
    /// Viewers connected at each RSS reading.
    rss_viewers: Vec<usize>,
    soak_refreshes: u64,
    soak_viewers: usize,
    /// The soak stops here even if it has not reached its count.
    soak_limit: Duration,
    /// How long the stalled client's other viewer keeps pressing `j`.
    stall: Duration,
    /// How long to wait for the server to notice a killed client.
    gone_limit: Duration,
}

impl Config {
    fn from_args() -> Config {
        if std::env::args().any(|a| a == "--small") {
            Config {
                small: true,
                window: Duration::from_secs(10),
                statement_viewers: [1, 5],
                rss_viewers: vec![0, 1, 20],
                soak_refreshes: 1_000,
                soak_viewers: 3,
                soak_limit: Duration::from_secs(40),
                stall: Duration::from_secs(20),
                gone_limit: Duration::from_secs(20),
            }
        } else {
            Config {
                small: false,
                window: Duration::from_secs(60),
                statement_viewers: [1, 20],
                rss_viewers: vec![0, 1, 20, 50],
                soak_refreshes: 20_000,
                soak_viewers: 10,
                soak_limit: Duration::from_secs(900),
                stall: Duration::from_secs(20),
                // Longer than the server's keepalive limit (3 x 30 s), should it come to that.
                gone_limit: Duration::from_secs(150),
            }
        }
    }

    /// The most viewers any measure needs.
    fn most_viewers(&self) -> usize {
        self.rss_viewers
            .iter()
            .chain(&self.statement_viewers)
            .copied()
            .max()
            .unwrap_or(0)
            .max(self.soak_viewers)
            // The mid-frame test: one viewer that stays and four that are killed.
            .max(5)
    }
}

/// One row of the printed table.
struct Row {
    measure: String,
    value: String,
    how: String,
}

fn row(measure: impl Into<String>, value: impl Into<String>, how: impl Into<String>) -> Row {
    Row {
        measure: measure.into(),
        value: value.into(),
        how: how.into(),
    }
}

fn main() {
    let config = Config::from_args();
    install_missing_tools();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let bench = Bench::prepare(&runtime, &config);
    eprintln!(
        "bench: cluster, schema, plan and {} keys ready in {:.1} s",
        config.most_viewers(),
        started.elapsed().as_secs_f64()
    );
    statements_and_memory(&bench, &config, &mut rows, &mut notes);
    soak(&bench, &config, &mut rows, &mut notes);
    stalled_client(&bench, &config, &mut rows, &mut notes);
    killed_mid_frame(&bench, &config, &mut rows, &mut notes);
    let breakdown = bench.db.breakdown();
    let version = bench.db.version();
    drop(bench);
    pg::cluster().stop();
    print_report(
        &config,
        &version,
        &rows,
        &breakdown,
        &notes,
        started.elapsed(),
    );
}

/// What every part shares: the database, the working directory with plan and team file, and
/// the viewers' keys.
struct Bench<'r> {
    db: Db<'r>,
    /// The checker's URL, as the server is given it.
    checker_url: String,
    work: tempfile::TempDir,
    home: tempfile::TempDir,
    members: Vec<Member>,
}

struct Member {
    name: String,
    key: PathBuf,
}

impl<'r> Bench<'r> {
    fn prepare(runtime: &'r tokio::runtime::Runtime, config: &Config) -> Bench<'r> {
        let cluster = pg::cluster();
        // pg_stat_statements needs to be loaded at start: restart the cluster with it. It counts
        // utility statements (BEGIN, ROLLBACK) too, by default.
        let admin = cluster.url("postgres");
        runtime.block_on(pg::exec(
            &admin,
            "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
        ));
        cluster.stop();
        cluster.start();
        let url = runtime.block_on(cluster.fresh_database());
        let db_name = url.rsplit('/').next().unwrap().to_string();
        let (tables, created, tasks) = (30, 20, 150);
        let mut schema = format!(
            "CREATE EXTENSION pg_stat_statements; \
             DO $$ BEGIN CREATE ROLE {CHECKER} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
        );
        // Two thirds of the tables the plan names exist: some checks pass and some fail.
        for t in 0..created {
            let _ = write!(
                schema,
                "CREATE TABLE t{t:02} (id bigint PRIMARY KEY, name text, status text DEFAULT 'new');"
            );
        }
        runtime.block_on(pg::exec(&url, &schema));
        let db = Db::connect(runtime, &url);

        let work = tempfile::Builder::new()
            .prefix("remtrack-serve-bench-")
            .tempdir()
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            work.path().join("plan.json"),
            generate_plan(tasks, tables).to_string(),
        )
        .unwrap();
        let keys = work.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let mut team = String::new();
        let mut members = Vec::new();
        for n in 0..config.most_viewers() {
            let name = format!("viewer{n:02}");
            let key = keys.join(&name);
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &name, "-f"])
                .arg(&key)
                .output()
                .expect("ssh-keygen is needed (apt-get install -y openssh-client)");
            assert!(made.status.success(), "{}", text(&made));
            let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
            let _ = write!(
                team,
                "[[member]]\nname = \"{name}\"\nrole = \"viewer\"\nkeys = [\"{}\"]\n\n",
                public.trim()
            );
            members.push(Member { name, key });
        }
        std::fs::write(work.path().join("team.toml"), team).unwrap();
        Bench {
            db,
            checker_url: cluster.url_as(CHECKER, None, &db_name),
            work,
            home,
            members,
        }
    }

    fn serve(&self, refresh: &str) -> Server {
        Server::start(
            self.work.path(),
            self.home.path(),
            &self.checker_url,
            refresh,
        )
    }
}

/// 150 tasks on one day (so that `j` keeps moving for 100 presses), one check each on 30
/// tables of which 20 exist: catalog checks only, so that each refresh is the same few
/// statements.
fn generate_plan(tasks: usize, tables: usize) -> Value {
    let tasks: Vec<Value> = (0..tasks)
        .map(|i| {
            let t = format!("t{:02}", i % tables);
            let check = match i % 3 {
                0 => json!({ "id": "c", "kind": "table_exists", "table": t }),
                1 => {
                    json!({ "id": "c", "kind": "column_exists", "table": t, "column": "status", "type": "text" })
                }
                _ => json!({ "id": "c", "kind": "table_absent", "table": format!("legacy_{i}") }),
            };
            json!({
                "id": format!("task-{i:03}"),
                "title": format!("Task {i} on {t}"),
                "day": 1,
                "phase": "db",
                "priority": "medium",
                "claimed": "done",
                "checks": [check],
            })
        })
        .collect();
    json!({
        "version": 1,
        "title": "Serve benchmark plan",
        "days": [{ "day": 1, "title": "Day 1" }],
        "phases": [{ "id": "db", "title": "Database" }],
        "tasks": tasks,
        "risks": [],
    })
}

/// Our own connection to the benchmark's database, as `postgres`.
///
/// How statements are counted: the cluster runs with `pg_stat_statements`, and the server checks
/// as a role of its own (`remtrack_checker`); the counts are the summed `calls` of that role's
/// entries in this database, read before and after a window. Our measuring queries run as
/// `postgres` and so never count, and nothing has to be subtracted. `pg_stat_statements` counts
/// every statement executed (BEGIN and ROLLBACK too), not only those that took time.
struct Db<'r> {
    runtime: &'r tokio::runtime::Runtime,
    conn: std::cell::RefCell<sqlx::PgConnection>,
}

/// What the database saw from the checker, cumulative.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    /// Every statement the checker ran (calls summed over all its pg_stat_statements entries).
    statements: i64,
    /// Calls of the checker's longest statement, the catalog statement every refresh runs
    /// exactly once (the plan has only catalog checks): the refreshes.
    refreshes: i64,
}

impl<'r> Db<'r> {
    fn connect(runtime: &'r tokio::runtime::Runtime, url: &str) -> Db<'r> {
        let conn = runtime.block_on(sqlx::PgConnection::connect(url)).unwrap();
        Db {
            runtime,
            conn: std::cell::RefCell::new(conn),
        }
    }

    fn counts(&self) -> Counts {
        let filter = format!(
            "userid = '{CHECKER}'::regrole::oid AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        );
        let mut conn = self.conn.borrow_mut();
        let statements: i64 = self
            .runtime
            .block_on(
                sqlx::query_scalar(&format!(
                    "SELECT coalesce(sum(calls), 0)::int8 FROM pg_stat_statements WHERE {filter}"
                ))
                .fetch_one(&mut *conn),
            )
            .unwrap();
        let refreshes: Option<i64> = self
            .runtime
            .block_on(
                sqlx::query_scalar(&format!(
                    "SELECT calls FROM pg_stat_statements WHERE {filter} ORDER BY length(query) DESC LIMIT 1"
                ))
                .fetch_optional(&mut *conn),
            )
            .unwrap();
        Counts {
            statements,
            refreshes: refreshes.unwrap_or(0),
        }
    }

    /// The checker's statements, most called first: what a refresh is made of.
    fn breakdown(&self) -> Vec<(String, i64)> {
        let mut conn = self.conn.borrow_mut();
        self.runtime
            .block_on(
                sqlx::query_as(&format!(
                    "SELECT regexp_replace(left(query, 60), '\\s+', ' ', 'g'), calls FROM pg_stat_statements \
                     WHERE userid = '{CHECKER}'::regrole::oid \
                       AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     ORDER BY calls DESC, query"
                ))
                .fetch_all(&mut *conn),
            )
            .unwrap()
    }

    fn version(&self) -> String {
        let mut conn = self.conn.borrow_mut();
        self.runtime
            .block_on(
                sqlx::query_scalar("SELECT 'PostgreSQL ' || current_setting('server_version')")
                    .fetch_one(&mut *conn),
            )
            .unwrap()
    }
}

/// A running `remtrack serve`; stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    /// The log's length when this server started: its own lines come after.
    log_from: usize,
}

impl Server {
    fn start(dir: &Path, home: &Path, url: &str, refresh: &str) -> Server {
        let log = dir.join(".remtrack/remtrack.log");
        let log_from = std::fs::read_to_string(&log).map_or(0, |l| l.len());
        let out_file = dir.join("serve.out");
        let mut child = Command::new(BIN)
            .args(["serve", "--plan", "plan.json", "--database-url", url])
            .args(["--team", "team.toml", "--listen", "127.0.0.1:0"])
            .args(["--refresh", refresh])
            .current_dir(dir)
            .env("HOME", home)
            .env("RUST_LOG", "remtrack=info")
            .env_remove("REMTRACK_STORE")
            .env_remove("DATABASE_URL")
            .env_remove("REMTRACK_CODE_ROOT")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(std::fs::File::create(dir.join("serve.err")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            let out = std::fs::read_to_string(&out_file).unwrap_or_default();
            if let Some(first) = out.lines().next()
                && let Some(address) = first.strip_prefix("remtrack serve: listening on ")
            {
                break address.rsplit(':').next().unwrap().parse().unwrap();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "remtrack serve exited ({status}) before listening:\n{out}{}",
                    std::fs::read_to_string(dir.join("serve.err")).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("remtrack serve did not say where it listens within 20 s:\n{out}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            port,
            log,
            log_from,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The serve process's resident memory, in KiB (VmRSS).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// This server's log lines so far.
    fn log_text(&self) -> String {
        let all = std::fs::read_to_string(&self.log).unwrap_or_default();
        all.get(self.log_from..).unwrap_or_default().to_string()
    }

    /// Whether this server logged a session of `name` ending (after `from` bytes of its log).
    fn session_end_logged(&self, name: &str, from: usize) -> Option<String> {
        let log = self.log_text();
        log.get(from..)
            .unwrap_or_default()
            .lines()
            .find_map(|line| {
                (line.contains("session ended")
                    || line.contains("session failed")
                    || line.contains("connection ended"))
                .then_some(())
                .filter(|()| line.contains(name))
                .map(|()| line.to_string())
            })
    }

    /// SIGTERM, and how long until the process exited (None: not within 10 s; Drop kills it).
    fn stop(&mut self) -> Option<Duration> {
        let sent = Instant::now();
        signal("TERM", self.pid());
        while sent.elapsed() < Duration::from_secs(10) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return Some(sent.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already reaped (by `stop`): its pid may belong to someone else by now.
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ = signal("TERM", self.pid());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("bench: remtrack serve did not stop within 5 s of SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(name: &str, pid: u32) -> bool {
    Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success())
}

/// A private tmux server, one session per viewer; killed (with every ssh in it) when dropped.
struct Tmux {
    socket: String,
    count: std::cell::Cell<usize>,
}

static TMUX_SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One connected viewer: an OpenSSH client with a pty, in tmux session `session`.
struct Viewer {
    name: String,
    session: String,
}

impl Tmux {
    fn start(dir: &Path) -> Tmux {
        let tmux = Tmux {
            // A socket of its own each time: the last server may still be going away.
            socket: format!(
                "remtrack-serve-bench-{}-{}",
                std::process::id(),
                TMUX_SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            count: std::cell::Cell::new(0),
        };
        // A placeholder keeps the server up between viewers; dead panes stay, to be read.
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "keep",
            "-c",
            dir.to_str().unwrap(),
            "sleep 3600",
        ]);
        assert!(out.status.success(), "tmux did not start: {}", text(&out));
        tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts an ssh client for `member` in a session of its own.
    fn connect(&self, member: &Member, port: u16) -> Viewer {
        let n = self.count.get();
        self.count.set(n + 1);
        let session = format!("v{n}");
        // Not `exec`: tmux sends SIGCONT to a pane's process that stops (unless by SIGTTIN or
        // SIGTTOU), so a SIGSTOPped ssh must be the shell's child, not tmux's.
        let command = format!(
            "ssh -F /dev/null -tt -p {port} -i {} -o IdentitiesOnly=yes -o BatchMode=yes \
             -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
             -l {} 127.0.0.1; exit",
            member.key.display(),
            member.name
        );
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &COLUMNS.to_string(),
            "-y",
            &ROWS.to_string(),
            &command,
        ]);
        assert!(out.status.success(), "tmux new-session: {}", text(&out));
        Viewer {
            name: member.name.clone(),
            session,
        }
    }

    fn screen(&self, viewer: &Viewer) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-t", &viewer.session])
                .stdout,
        )
        .into_owned()
    }

    /// The screen with its attributes (the selection is shown by style only), without the lines
    /// that change by themselves ("checked 3s ago"): what a key press changes.
    fn selection(&self, viewer: &Viewer) -> String {
        let out = self.run(&["capture-pane", "-p", "-e", "-t", &viewer.session]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.contains(" ago"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn flag(&self, viewer: &Viewer, name: &str) -> String {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            &viewer.session,
            &format!("#{{{name}}}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The viewer's ssh process: the child of the pane's shell.
    fn ssh_pid(&self, viewer: &Viewer) -> u32 {
        let shell = self.flag(viewer, "pane_pid");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
            if let Some(pid) = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .and_then(|l| l.trim().parse().ok())
            {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no ssh runs in {}'s pane",
                viewer.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&self, viewer: &Viewer, keys: &str) {
        self.run(&["send-keys", "-t", &viewer.session, keys]);
    }

    fn close(&self, viewer: &Viewer) {
        self.run(&["kill-session", "-t", &viewer.session]);
    }

    /// Waits until every one of `viewers` shows its tracker, live.
    fn wait_live(&self, viewers: &[Viewer], limit: Duration) {
        let deadline = Instant::now() + limit;
        for viewer in viewers {
            loop {
                let screen = self.screen(viewer);
                if screen.contains("● live") {
                    break;
                }
                assert!(
                    self.flag(viewer, "pane_dead") != "1",
                    "{}'s ssh exited; its screen:\n{screen}",
                    viewer.name
                );
                assert!(
                    Instant::now() < deadline,
                    "{}'s tracker was not drawn within {limit:?}; its screen:\n{screen}",
                    viewer.name
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Connects `members` in small batches, each batch logged in before the next.
    fn connect_all(&self, members: &[Member], port: u16) -> Vec<Viewer> {
        let mut viewers = Vec::new();
        for batch in members.chunks(LOGIN_BATCH) {
            let started: Vec<Viewer> = batch.iter().map(|m| self.connect(m, port)).collect();
            self.wait_live(&started, Duration::from_secs(30));
            viewers.extend(started);
        }
        viewers
    }

    /// Presses `j` and returns how long until the screen changed (None: not within 3 s).
    fn key_to_change(&self, viewer: &Viewer, key: &str) -> Option<Duration> {
        let before = self.selection(viewer);
        let pressed = Instant::now();
        self.keys(viewer, key);
        while pressed.elapsed() < Duration::from_secs(3) {
            if self.selection(viewer) != before {
                return Some(pressed.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// 1 and 2: statement counts with 1 and 20 viewers, RSS with 0, 1, 20 and 50.
fn statements_and_memory(
    bench: &Bench,
    config: &Config,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) {
    let server = bench.serve("1s");
    let tmux = Tmux::start(bench.work.path());
    // The first refreshes (the connection, the plan's first check) are not the steady state.
    wait_for_refreshes(&bench.db, 2, Duration::from_secs(20));
    let mut steps: Vec<usize> = config
        .rss_viewers
        .iter()
        .chain(&config.statement_viewers)
        .copied()
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let mut viewers = Vec::new();
    let mut rss = Vec::new();
    let mut windows = Vec::new();
    for &n in &steps {
        let started = Instant::now();
        viewers.extend(tmux.connect_all(&bench.members[viewers.len()..n], server.port));
        if n > 0 {
            eprintln!(
                "bench: {n} viewers connected and drawn ({:.1} s for the last {})",
                started.elapsed().as_secs_f64(),
                n - steps.iter().copied().filter(|&s| s < n).max().unwrap_or(0)
            );
        }
        std::thread::sleep(Duration::from_secs(1));
        if config.rss_viewers.contains(&n) {
            rss.push((n, server.rss_kib()));
        }
        if config.statement_viewers.contains(&n) {
            let before = bench.db.counts();
            let started = Instant::now();
            std::thread::sleep(config.window);
            let after = bench.db.counts();
            let elapsed = started.elapsed();
            let live = viewers
                .iter()
                .filter(|v| tmux.screen(v).contains("● live"))
                .count();
            windows.push((n, before, after, elapsed, live));
        }
    }
    for (n, before, after, elapsed, live) in &windows {
        let minutes = elapsed.as_secs_f64() / 60.0;
        let statements = (after.statements - before.statements) as f64;
        let refreshes = (after.refreshes - before.refreshes) as f64;
        rows.push(row(
            format!(
                "statements/min the database sees, {n} viewer{} connected",
                if *n == 1 { "" } else { "s" }
            ),
            format!(
                "{:.0}/min ({:.0} refreshes/min, {:.1} statements per refresh)",
                statements / minutes,
                refreshes / minutes,
                statements / refreshes.max(1.0)
            ),
            format!(
                "pg_stat_statements calls of the checker role over a {:.0} s window, --refresh 1s; {live}/{n} screens live at the end",
                elapsed.as_secs_f64()
            ),
        ));
    }
    if let [(a, b1, a1, e1, _), (b, b2, a2, e2, _)] = windows.as_slice() {
        let per_min = |before: &Counts, after: &Counts, elapsed: &Duration| {
            (after.statements - before.statements) as f64 / (elapsed.as_secs_f64() / 60.0)
        };
        let ratio = per_min(b2, a2, e2) / per_min(b1, a1, e1);
        rows.push(row(
            format!("statements with {b} viewers / with {a}"),
            format!("{ratio:.2}x"),
            "one engine for everyone: ~1.00x expected",
        ));
    }
    let base = rss.first().map_or(0, |(_, kib)| *kib);
    for (i, (n, kib)) in rss.iter().enumerate() {
        let per = if i == 0 {
            String::new()
        } else {
            let (m, before) = rss[i - 1];
            format!(
                "; +{:.2} MB per session from {m} to {n}",
                (*kib as f64 - before as f64) / 1024.0 / (n - m) as f64
            )
        };
        rows.push(row(
            format!(
                "serve RSS, {n} viewer{} connected and drawn",
                if *n == 1 { "" } else { "s" }
            ),
            format!("{:.1} MB{per}", *kib as f64 / 1024.0),
            "VmRSS of the serve process, 1 s after the last tracker was drawn, --refresh 1s",
        ));
    }
    if let (Some((n, last)), true) = (rss.last(), rss.len() > 1) {
        notes.push(format!(
            "Memory: {:.1} MB with no viewer, {:.1} MB with {n}: {:.2} MB per session on average.",
            base as f64 / 1024.0,
            *last as f64 / 1024.0,
            (*last as f64 - base as f64) / 1024.0 / *n as f64
        ));
    }
    drop(viewers);
}

/// Waits until the checker has run `count` more refreshes; returns the counts then.
fn wait_for_refreshes(db: &Db, count: i64, limit: Duration) -> Counts {
    let start = db.counts().refreshes;
    let deadline = Instant::now() + limit;
    loop {
        let now = db.counts();
        if now.refreshes >= start + count || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 3: viewers connected while the server refreshes back to back.
fn soak(bench: &Bench, config: &Config, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    // The CLI takes any duration above zero; 1 ms is as good as back to back.
    let mut server = bench.serve("1ms");
    let tmux = Tmux::start(bench.work.path());
    let viewers = tmux.connect_all(&bench.members[..config.soak_viewers], server.port);
    let start = bench.db.counts();
    let started = Instant::now();
    let (mut at_1000, mut peak, mut last) = (None, 0u64, start);
    let mut samples = Vec::new();
    while started.elapsed() < config.soak_limit {
        std::thread::sleep(Duration::from_millis(100));
        last = bench.db.counts();
        let done = last.refreshes - start.refreshes;
        let kib = server.rss_kib();
        peak = peak.max(kib);
        if at_1000.is_none() && done >= 1_000 {
            at_1000 = Some((kib, started.elapsed()));
        }
        if samples
            .last()
            .is_none_or(|(d, _)| done >= d + config.soak_refreshes as i64 / 10)
        {
            samples.push((done, kib));
        }
        if done >= config.soak_refreshes as i64 {
            break;
        }
    }
    let elapsed = started.elapsed();
    let end = server.rss_kib();
    let done = last.refreshes - start.refreshes;
    let live = viewers
        .iter()
        .filter(|v| tmux.screen(v).contains("● live"))
        .count();
    let alive = server.alive();
    let how = format!(
        "--refresh 1ms, {} viewers; refreshes = calls of the catalog statement (pg_stat_statements); VmRSS sampled every 100 ms",
        config.soak_viewers
    );
    rows.push(row(
        "soak: refreshes run",
        format!(
            "{done} in {:.1} s ({:.0}/s; {:.1} statements per refresh){}",
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64(),
            (last.statements - start.statements) as f64 / (done.max(1) as f64),
            if done < config.soak_refreshes as i64 {
                format!(
                    "; stopped at the {:.0} s limit before {}",
                    config.soak_limit.as_secs_f64(),
                    config.soak_refreshes
                )
            } else {
                String::new()
            }
        ),
        how.clone(),
    ));
    match at_1000 {
        Some((first, when)) => {
            let growth = end as f64 / first as f64 - 1.0;
            rows.push(row(
                "soak: serve RSS after the first 1,000 refreshes",
                format!(
                    "{:.1} MB (at {:.1} s)",
                    first as f64 / 1024.0,
                    when.as_secs_f64()
                ),
                how.clone(),
            ));
            rows.push(row(
                format!("soak: serve RSS at the end ({done} refreshes)"),
                format!(
                    "{:.1} MB ({:+.1}% of the first reading; peak {:.1} MB) — {}",
                    end as f64 / 1024.0,
                    growth * 100.0,
                    peak as f64 / 1024.0,
                    if growth <= 0.10 { "PASS" } else { "MISS" }
                ),
                "PASS: the end within 10% of the reading after 1,000",
            ));
        }
        None => rows.push(row(
            "soak: serve RSS",
            "not measured: fewer than 1,000 refreshes ran",
            how,
        )),
    }
    rows.push(row(
        "soak: state at the end",
        format!(
            "{live}/{} screens still live; server {}",
            viewers.len(),
            if alive { "running" } else { "EXITED" }
        ),
        "capture-pane of each viewer",
    ));
    notes.push(format!(
        "Soak RSS by refreshes done (MB): {}.",
        samples
            .iter()
            .map(|(d, kib)| format!("{d}: {:.1}", *kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

/// 4: one client stops reading (SIGSTOP); the other keeps working; then the stopped one dies.
fn stalled_client(bench: &Bench, config: &Config, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    let mut server = bench.serve("1s");
    let tmux = Tmux::start(bench.work.path());
    let viewers = tmux.connect_all(&bench.members[..2], server.port);
    let (active, stopped) = (&viewers[0], &viewers[1]);
    tmux.wait_for_screen(
        active,
        |s| s.contains(&stopped.name),
        Duration::from_secs(10),
    );
    // The stopped one follows the other (`f`, Enter on the only peer): every `j` then changes
    // its screen too, so frames keep coming for a client that takes none of them.
    tmux.keys(stopped, "f");
    tmux.wait_for_screen(
        stopped,
        |s| s.contains("Follow whom?"),
        Duration::from_secs(5),
    );
    tmux.keys(stopped, "Enter");
    let following = tmux.wait_for_screen(
        stopped,
        |s| s.contains(&format!("following {}", active.name)),
        Duration::from_secs(5),
    );
    if !following {
        notes.push(format!(
            "The stalled client did not manage to follow the other viewer; its frames then change only with the other's marker. Its screen:\n```\n{}\n```",
            tmux.screen(stopped)
        ));
    }
    std::thread::sleep(Duration::from_secs(1));
    let rss_before = server.rss_kib();
    let stopped_pid = tmux.ssh_pid(stopped);
    assert!(signal("STOP", stopped_pid), "cannot stop the ssh client");
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut missed = 0;
    let mut rss_peak = rss_before;
    let mut presses = 0;
    while started.elapsed() < config.stall {
        let tick = started + Duration::from_millis(200) * (presses + 1);
        presses += 1;
        match tmux.key_to_change(active, "j") {
            Some(latency) => latencies.push(latency),
            None => missed += 1,
        }
        rss_peak = rss_peak.max(server.rss_kib());
        if let Some(wait) = tick.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let rss_after = server.rss_kib();
    let stalled_for = started.elapsed();
    let queued = describe_queues(socket_queues(server.pid(), stopped_pid));
    // Now the stopped client dies, as a laptop closed mid-session would.
    let log_from = server.log_text().len();
    assert!(signal("KILL", stopped_pid), "cannot kill the ssh client");
    let killed = Instant::now();
    let (mut logged, mut unlisted) = (None, None);
    while killed.elapsed() < config.gone_limit && (logged.is_none() || unlisted.is_none()) {
        if logged.is_none() && server.session_end_logged(&stopped.name, log_from).is_some() {
            logged = Some(killed.elapsed());
        }
        if unlisted.is_none() && !here_line(&tmux.screen(active)).contains(&stopped.name) {
            unlisted = Some(killed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let after_kill = tmux.key_to_change(active, "j");
    let how = format!(
        "2 viewers at 100x30, --refresh 1s; the other ssh client SIGSTOPped; `j` every 200 ms for {:.0} s via tmux send-keys; time until capture-pane (with attributes, less the \"checked … ago\" line) differs",
        config.stall.as_secs_f64()
    );
    rows.push(row(
        "stalled client: the other viewer's key-to-screen time",
        format!(
            "median {}, max {} over {} presses{}",
            ms_opt(median(&latencies)),
            ms_opt(latencies.iter().max().copied()),
            latencies.len() + missed,
            if missed > 0 {
                format!("; {missed} presses changed nothing within 3 s")
            } else {
                String::new()
            }
        ),
        how,
    ));
    rows.push(row(
        "stalled client: serve RSS",
        format!(
            "{:.1} MB before, {:.1} MB after {:.0} s stopped (peak {:.1} MB, {:+.1} MB)",
            rss_before as f64 / 1024.0,
            rss_after as f64 / 1024.0,
            stalled_for.as_secs_f64(),
            rss_peak as f64 / 1024.0,
            (rss_after as f64 - rss_before as f64) / 1024.0
        ),
        format!("VmRSS after each press; {queued}"),
    ));
    rows.push(row(
        "stalled client SIGKILLed: until the server logs its session's end",
        ms_opt(logged).replace(
            "n/a",
            &format!("not within {:.0} s", config.gone_limit.as_secs_f64()),
        ),
        "polling .remtrack/remtrack.log for \"session ended\" with the member's name, every 20 ms",
    ));
    rows.push(row(
        "stalled client SIGKILLed: until the other viewer's `here:` no longer lists it",
        ms_opt(unlisted).replace(
            "n/a",
            &format!("not within {:.0} s", config.gone_limit.as_secs_f64()),
        ),
        format!(
            "capture-pane every 20 ms; then `j` changed the screen after {}",
            ms_opt(after_kill)
        ),
    ));
    if !server.alive() {
        notes.push("The server EXITED during the stalled-client test.".into());
    }
    if let Some(line) = server.session_end_logged(&stopped.name, log_from) {
        notes.push(format!(
            "Stalled client's end, as logged: `{}`",
            line.trim()
        ));
    }
}

/// 5: a client killed right after a resize, while its full redraw is on the way: 0, 10 and 40 ms
/// after the resize; and once following the other viewer, stopped 2 ms after the resize, sent
/// three more frames by the other's `j` (they land unread in its socket), then killed.
fn killed_mid_frame(bench: &Bench, config: &Config, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    let mut server = bench.serve("1s");
    let tmux = Tmux::start(bench.work.path());
    let viewers = tmux.connect_all(&bench.members[..1], server.port);
    let other = &viewers[0];
    let rounds = [(0u64, false), (10, false), (40, false), (2, true)];
    let mut results = Vec::new();
    for (round, (delay_ms, stop_first)) in rounds.into_iter().enumerate() {
        let member = &bench.members[1 + round];
        let victim = tmux.connect(member, server.port);
        tmux.wait_live(std::slice::from_ref(&victim), Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(300));
        let pid = tmux.ssh_pid(&victim);
        if stop_first {
            tmux.keys(&victim, "f");
            tmux.wait_for_screen(
                &victim,
                |s| s.contains("Follow whom?"),
                Duration::from_secs(5),
            );
            tmux.keys(&victim, "Enter");
            tmux.wait_for_screen(&victim, |s| s.contains("following"), Duration::from_secs(5));
        }
        let log_from = server.log_text().len();
        tmux.run(&[
            "resize-window",
            "-t",
            &victim.session,
            "-x",
            "180",
            "-y",
            "55",
        ]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let mut unread = None;
        if stop_first {
            signal("STOP", pid);
            for _ in 0..3 {
                tmux.keys(other, "j");
                std::thread::sleep(Duration::from_millis(100));
            }
            unread = socket_queues(server.pid(), pid).map(|(recv, _)| recv);
        }
        assert!(signal("KILL", pid), "cannot kill the ssh client");
        let killed = Instant::now();
        let mut logged = None;
        while killed.elapsed() < config.gone_limit {
            if server.session_end_logged(&member.name, log_from).is_some() {
                logged = Some(killed.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let presses: Vec<Option<Duration>> =
            (0..5).map(|_| tmux.key_to_change(other, "j")).collect();
        let changed = presses.iter().flatten().count();
        let how = if stop_first {
            format!(
                "following the other, SIGSTOPped {delay_ms} ms after a resize to 180x55, SIGKILLed after the other's 3 `j` with {} bytes unread in its socket",
                unread.map_or("?".into(), |b| b.to_string())
            )
        } else {
            format!("SIGKILLed {delay_ms} ms after a resize to 180x55")
        };
        results.push((how.clone(), logged, changed, presses));
        if let Some(line) = server.session_end_logged(&member.name, log_from) {
            notes.push(format!("Client {how}; as logged: `{}`", line.trim()));
        }
        tmux.close(&victim);
    }
    for (how, logged, changed, presses) in results {
        let worst = presses.iter().flatten().max().copied();
        rows.push(row(
            format!("client {how}: until the server logs its session's end"),
            ms_opt(logged).replace(
                "n/a",
                &format!("not within {:.0} s", config.gone_limit.as_secs_f64()),
            ),
            format!(
                "log polled every 10 ms; the other viewer then: {changed}/5 `j` presses changed its screen (slowest {})",
                ms_opt(worst)
            ),
        ));
    }
    rows.push(row(
        "server after the killed clients",
        if server.alive() { "running" } else { "EXITED" },
        "try_wait on the serve process",
    ));
    let stopped = server.stop();
    let goodbye = tmux.wait_for_screen(other, |s| !s.contains("● live"), Duration::from_secs(2));
    rows.push(row(
        "SIGTERM with 1 viewer connected: until the serve process exited",
        ms_opt(stopped).replace("n/a", "not within 10 s"),
        format!(
            "try_wait every 10 ms; the viewer's tracker {} its screen",
            if goodbye { "left" } else { "did NOT leave" }
        ),
    ));
}

impl Tmux {
    /// Waits until `test` holds for the viewer's screen; says whether it did within `limit`.
    fn wait_for_screen(
        &self,
        viewer: &Viewer,
        test: impl Fn(&str) -> bool,
        limit: Duration,
    ) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if test(&self.screen(viewer)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "bench: {}'s screen did not show what was waited for:\n{}",
            viewer.name,
            self.screen(viewer)
        );
        false
    }
}

/// The screen's `here:` line (who else is connected), or nothing.
fn here_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains("here:"))
        .unwrap_or_default()
        .to_string()
}

/// The bytes unread in the client's socket and unsent in the server's, for the connection
/// between `server_pid` and `client_pid` (by `ss`).
fn socket_queues(server_pid: u32, client_pid: u32) -> Option<(u64, u64)> {
    let out = Command::new("ss").args(["-tnpH"]).output().ok()?;
    let listing = String::from_utf8_lossy(&out.stdout);
    // State, Recv-Q, Send-Q, local address, peer address, process.
    let fields = |pid: u32| -> Vec<Vec<String>> {
        listing
            .lines()
            .filter(|l| l.contains(&format!("pid={pid},")))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect()
    };
    let client = fields(client_pid).into_iter().next()?;
    let server = fields(server_pid)
        .into_iter()
        .find(|f| f.get(4) == client.get(3))?;
    Some((client[1].parse().ok()?, server[2].parse().ok()?))
}

fn describe_queues(queues: Option<(u64, u64)>) -> String {
    match queues {
        Some((recv, send)) => format!(
            "at the end the stopped client's socket held {recv} unread bytes and the server's {send} unsent (ss)"
        ),
        None => "the socket queues could not be read (ss)".into(),
    }
}

fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

fn ms_opt(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.0} ms", d.as_secs_f64() * 1000.0),
        None => "n/a".into(),
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn print_report(
    config: &Config,
    server: &str,
    rows: &[Row],
    breakdown: &[(String, i64)],
    notes: &[String],
    took: Duration,
) {
    let (cpu, cores) = machine::processor();
    let ssh = Command::new("ssh")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
        .unwrap_or_default();
    let tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "\nremtrack serve benchmark{}: a 150-task plan of catalog checks on 30 tables; {server} on loopback; \
         {ssh}, {tmux}, viewers at {COLUMNS}x{ROWS}; {cores} cores ({cpu}); {:.0} s in all\n",
        if config.small { " (small)" } else { "" },
        took.as_secs_f64()
    );
    println!("| measure | value | how |");
    println!("|---|---|---|");
    for row in rows {
        println!("| {} | {} | {} |", row.measure, row.value, row.how);
    }
    println!("\nThe checker's statements over the whole run (pg_stat_statements):\n");
    println!("| statement | calls |");
    println!("|---|---|");
    for (query, calls) in breakdown {
        println!("| `{}` | {calls} |", query.replace('|', "\\|"));
    }
    if !notes.is_empty() {
        println!();
        for note in notes {
            println!("- {note}");
        }
    }
}

fn install_missing_tools() {
    let missing: Vec<&str> = [
        ("ssh", "openssh-client"),
        ("ssh-keygen", "openssh-client"),
        ("tmux", "tmux"),
    ]
    .into_iter()
    .filter(|(tool, _)| {
        Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
    })
    .map(|(_, package)| package)
    .collect();
    if missing.is_empty() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        eprintln!("bench: missing {missing:?}; install them (apt-get install -y ...)");
        return;
    }
    eprintln!("bench: installing {missing:?}");
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
}
