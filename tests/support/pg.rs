//! A throwaway PostgreSQL cluster for the tests, started from the local binaries.
//!
//! One cluster per test binary, started on first use in a temporary directory, listening on a free
//! loopback port with trust authentication. As root, the server runs as the `postgres` user (via
//! `runuser`). Rust never drops statics, so clean-up does not rely on `Drop`: the server runs
//! under a small shell watchdog whose standard input is a pipe held by this process; when the test
//! process exits for any reason (including SIGKILL) the pipe closes and the watchdog stops the
//! server and deletes the directory.

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    /// Keeps the watchdog's stdin open for the life of the process.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static PgCluster {
    CLUSTER.get_or_init(PgCluster::start_new)
}

fn find_bin_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(dir) = candidates
        .into_iter()
        .rev()
        .find(|d| d.join("initdb").exists() && d.join("postgres").exists())
    {
        return dir;
    }
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists()
                && dir.join("pg_ctl").exists()
                && dir.join("postgres").exists()
            {
                return dir;
            }
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under \
         /usr/lib/postgresql/*/bin. The database tests need a real PostgreSQL: install it with \
         `apt-get install -y postgresql` (Debian/Ubuntu) and run the tests again."
    );
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

impl PgCluster {
    fn start_new() -> PgCluster {
        let bin = find_bin_dir();
        let as_postgres_user = is_root();
        let dir =
            std::env::temp_dir().join(format!("remtrack-pg-{}-{}", std::process::id(), nanos()));
        std::fs::create_dir_all(&dir).unwrap();
        if as_postgres_user {
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .unwrap();
            assert!(
                status.success(),
                "cannot chown {} to postgres",
                dir.display()
            );
        }
        let data = dir.join("data");
        let output = command(as_postgres_user, &bin.join("initdb"))
            .args([
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        let settings = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\n\
             synchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_connections = 100\n\
             logging_collector = off\n",
            dir.display()
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap()
            .write_all(settings.as_bytes())
            .unwrap();

        // The watchdog: waits for its stdin to close (this process exiting), then stops the
        // server whatever state it is in and removes the directory.
        let pg_ctl = bin.join("pg_ctl");
        let stop = shell_command(
            as_postgres_user,
            &format!(
                "{} -D {} -m immediate stop",
                pg_ctl.display(),
                data.display()
            ),
        );
        let script = format!(
            "read _ignored; {stop} >/dev/null 2>&1; rm -rf '{}'",
            dir.display()
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let cluster = PgCluster {
            bin,
            dir,
            port,
            as_postgres_user,
            _watchdog: Mutex::new((child, stdin)),
        };
        cluster.start();
        cluster
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Starts the server (again) on the same port and data directory, and waits until it answers.
    pub fn start(&self) {
        let status = command(self.as_postgres_user, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "30", "start"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pg_ctl start failed; server log:\n{}",
            self.server_log()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not accept connections; log:\n{}",
                self.server_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&self) {
        let status = command(self.as_postgres_user, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pg_ctl stop failed; server log:\n{}",
            self.server_log()
        );
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn url_as(&self, role: &str, password: Option<&str>, db: &str) -> String {
        match password {
            Some(password) => format!("postgres://{role}:{password}@127.0.0.1:{}/{db}", self.port),
            None => format!("postgres://{role}@127.0.0.1:{}/{db}", self.port),
        }
    }

    /// Creates a new, empty database and returns its superuser URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::SeqCst)
        );
        exec(&self.url("postgres"), &format!("CREATE DATABASE {name}")).await;
        self.url(&name)
    }
}

/// Runs an SQL script (several statements allowed); panics with the error and the script.
pub async fn exec(url: &str, sql: &str) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    if let Err(error) = sqlx::raw_sql(sql).execute(&mut conn).await {
        panic!("SQL failed: {error}\n--- script ---\n{sql}");
    }
    let _ = conn.close().await;
}

fn command(as_postgres_user: bool, program: &Path) -> Command {
    if as_postgres_user {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn shell_command(as_postgres_user: bool, line: &str) -> String {
    if as_postgres_user {
        format!("runuser -u postgres -- {line}")
    } else {
        line.to_string()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
