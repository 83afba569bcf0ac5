//! A throwaway PostgreSQL cluster for the integration tests, started from the local binaries.
//!
//! [`cluster`] starts one cluster per test binary on first use: `initdb` in a fresh temporary
//! directory, trust authentication, superuser `postgres`, listening on a free port on 127.0.0.1
//! and on a unix socket inside that directory, tuned for speed (no fsync) rather than
//! durability. Run as root, the server runs as the `postgres` user through `runuser`. Missing
//! binaries fail the test with an install hint; nothing is skipped.
//!
//! Rust never drops statics, so clean-up cannot rely on `Drop`. Beside the server runs a small
//! shell watchdog whose standard input is a pipe only this process writes to. When the process
//! ends for any reason (normal exit, panic, SIGKILL) the pipe closes, and the watchdog stops
//! whatever server runs on the data directory and deletes the directory. The watchdog has its own
//! process group and ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT, so a Ctrl-C or a kill of the test
//! process group does not stop it before it has cleaned up.
//!
//! [`PgCluster::stop`] and [`PgCluster::start`] stop and restart the server on the same port and
//! data directory, for tests of a database that goes away mid-session. They affect every test in
//! the binary, so such tests belong in a test file of their own.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};

/// How long starting (or restarting) the server may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Appended to `postgresql.conf`; the port is passed on each start instead.
const SETTINGS: &str = "
# Added by the remtrack test harness: fast and small, not durable.
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 100
max_wal_size = 256MB
TimeZone = 'UTC'
";

static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
static DATABASES_CREATED: AtomicUsize = AtomicUsize::new(0);

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static PgCluster {
    CLUSTER.get_or_init(PgCluster::launch)
}

/// Runs an SQL script (several statements allowed) on `url`; panics with the error and the script.
pub async fn exec(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    if let Err(error) = sqlx::raw_sql(sql).execute(&mut conn).await {
        panic!("SQL failed on {url}: {error}\n--- script ---\n{sql}\n--------------");
    }
    let _ = conn.close().await;
}

/// This test binary's cluster; see the module documentation.
pub struct PgCluster {
    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    bin: PathBuf,
    /// The temporary directory: `data/`, `server.log` and the unix socket.
    dir: PathBuf,
    port: u16,
    /// Whether the server runs as the `postgres` user (the tests run as root).
    as_postgres: bool,
    /// The watchdog, whose standard input stays open until this process ends.
    _watchdog: Child,
}

impl PgCluster {
    fn launch() -> PgCluster {
        let bin = find_bin_dir();
        let as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("remtrack-pg-")
            .tempdir()
            .expect("cannot create a temporary directory for PostgreSQL")
            .keep();
        if as_postgres {
            let (uid, gid) = postgres_user_ids();
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let watchdog = spawn_watchdog(&bin, &dir, as_postgres);
        let mut cluster = PgCluster {
            bin,
            dir,
            port: 0,
            as_postgres,
            _watchdog: watchdog,
        };
        cluster.initdb();
        // Another process may take the free port before the server binds it: try a few.
        for attempt in 1.. {
            cluster.port = free_port();
            match cluster.try_start() {
                Ok(()) => break,
                Err(e) if attempt < 5 && e.contains("Address already in use") => continue,
                Err(e) => panic!("{e}"),
            }
        }
        cluster
    }

    fn initdb(&self) {
        let output = self
            .command("initdb")
            .args([
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(self.data_dir())
            .output()
            .unwrap();
        if !output.status.success() {
            panic!(
                "initdb failed in {} (the user that runs PostgreSQL must be able to use it):\n{}",
                self.dir.display(),
                output_text(&output)
            );
        }
        let socket_dir = self.dir.display().to_string().replace('\'', "''");
        let settings = format!("{SETTINGS}unix_socket_directories = '{socket_dir}'\n");
        std::fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir().join("postgresql.conf"))
            .and_then(|mut conf| conf.write_all(settings.as_bytes()))
            .unwrap();
    }

    /// Starts the server again (after [`PgCluster::stop`]) on the same port and data directory,
    /// and returns once it answers queries.
    pub fn start(&self) {
        if let Err(e) = self.try_start() {
            panic!("{e}");
        }
    }

    /// Stops the server with a fast shutdown: open connections are cut, nothing is lost.
    pub fn stop(&self) {
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "-t", "30", "stop"])
            .output()
            .unwrap();
        if !output.status.success() {
            panic!(
                "pg_ctl stop failed:\n{}\n--- server log ---\n{}",
                output_text(&output),
                self.server_log()
            );
        }
    }

    fn try_start(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let log_before = self.server_log().len();
        let failure = |what: String| {
            let log = self.server_log();
            format!(
                "PostgreSQL did not start: {what}\n--- server log ---\n{}",
                log.get(log_before..).unwrap_or(&log)
            )
        };
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .arg("-o")
            .arg(format!("-p {}", self.port))
            .args(["-w", "-t", &START_TIMEOUT.as_secs().to_string(), "start"])
            .output()
            .unwrap();
        if !output.status.success() {
            return Err(failure(format!(
                "pg_ctl start failed:\n{}",
                output_text(&output)
            )));
        }
        wait_until_ready(&self.url("postgres"), deadline)
            .map_err(|e| failure(format!("no answer on port {}: {e}", self.port)))
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    /// This cluster's own `psql`, to ask PostgreSQL's client what it makes of something.
    #[allow(dead_code)]
    pub fn psql(&self) -> PathBuf {
        self.bin.join("psql")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the data directory, the server log and the unix socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the server has logged so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// The URL of database `db` as the superuser `postgres`, over TCP.
    pub fn url(&self, db: &str) -> String {
        self.url_as("postgres", None, db)
    }

    /// The URL of database `db` as `role` (any password is accepted: authentication is `trust`).
    pub fn url_as(&self, role: &str, password: Option<&str>, db: &str) -> String {
        let password = password
            .map(|p| format!(":{}", percent_encode(p)))
            .unwrap_or_default();
        format!(
            "postgres://{}{password}@127.0.0.1:{}/{}",
            percent_encode(role),
            self.port,
            percent_encode(db)
        )
    }

    /// Creates a new, empty database with a unique name and returns its superuser URL.
    pub async fn fresh_database(&self) -> String {
        let number = DATABASES_CREATED.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{number}", std::process::id());
        exec(
            &self.url("postgres"),
            &format!("CREATE DATABASE \"{name}\""),
        )
        .await;
        self.url(&name)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// A command running one of the server binaries as the user that owns the cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join(program));
            runuser
        } else {
            Command::new(self.bin.join(program))
        };
        // The postgres user may not be allowed into the test's working directory.
        command.current_dir(&self.dir).stdin(Stdio::null());
        command
    }
}

/// Starts the watchdog that stops the server and deletes `dir` once its standard input closes.
fn spawn_watchdog(bin: &Path, dir: &Path, as_postgres: bool) -> Child {
    let run_as = if as_postgres {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let pg_ctl = shell_quote(&bin.join("pg_ctl").display().to_string());
    let data = shell_quote(&dir.join("data").display().to_string());
    let script = format!(
        "trap '' INT TERM HUP QUIT\n\
         read _ || :\n\
         if [ -f {data}/postmaster.pid ]; then\n\
           {run_as}{pg_ctl} -D {data} -m immediate -w -t 30 stop\n\
         fi\n\
         rm -rf -- {}\n",
        shell_quote(&dir.display().to_string())
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("cannot start the watchdog shell (sh)")
}

/// Connects and runs `SELECT 1` until it works or `deadline` passes. The server is started from
/// synchronous code that may itself run inside a runtime, so this polls on a thread of its own.
fn wait_until_ready(url: &str, deadline: Instant) -> Result<(), String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    loop {
                        let attempt = tokio::time::timeout(Duration::from_secs(5), async {
                            let mut conn = PgConnection::connect(url).await?;
                            sqlx::query("SELECT 1").execute(&mut conn).await?;
                            conn.close().await
                        })
                        .await;
                        let error = match attempt {
                            Ok(Ok(())) => return Ok(()),
                            Ok(Err(e)) => e.to_string(),
                            Err(_) => "timed out".to_string(),
                        };
                        if Instant::now() >= deadline {
                            return Err(error);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            })
            .join()
            .unwrap()
    })
}

/// The directory of the newest PostgreSQL server binaries, from PATH or /usr/lib/postgresql.
fn find_bin_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(versions.flatten().map(|v| v.path().join("bin")));
    }
    candidates
        .into_iter()
        .filter(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| dir.join(b).is_file())
        })
        .filter_map(|dir| Some((server_version(&dir)?, dir)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, dir)| dir)
        .unwrap_or_else(|| {
            panic!(
                "The PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on \
                 PATH or in /usr/lib/postgresql/*/bin. The tests start a real PostgreSQL; \
                 install it with `apt-get install -y postgresql` (Debian/Ubuntu) and run them \
                 again."
            )
        })
}

/// The version `postgres --version` reports, as numbers (`15.14` → `[15, 14]`).
fn server_version(bin: &Path) -> Option<Vec<u32>> {
    let output = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split(')').nth(1)?.split_whitespace().next()?;
    let numbers: Vec<u32> = version
        .split('.')
        .map_while(|part| {
            part.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect();
    (output.status.success() && !numbers.is_empty()).then_some(numbers)
}

fn running_as_root() -> bool {
    match id(&["-u"]) {
        Some(uid) => uid == 0,
        None => std::fs::metadata("/proc/self").is_ok_and(|proc_self| proc_self.uid() == 0),
    }
}

fn postgres_user_ids() -> (u32, u32) {
    match (id(&["-u", "postgres"]), id(&["-g", "postgres"])) {
        (Some(uid), Some(gid)) => (uid, gid),
        _ => panic!(
            "The tests run as root, so they run PostgreSQL as the `postgres` user, which does \
             not exist. Installing the server (`apt-get install -y postgresql`) creates it; or \
             run the tests as an ordinary user."
        ),
    }
}

fn id(args: &[&str]) -> Option<u32> {
    let output = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn percent_encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut encoded, byte| {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
        encoded
    })
}
