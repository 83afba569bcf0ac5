//! `remtrack fix`, `check` and `log` run as a person runs them: the binary, on a copy of the
//! shipped plan (edited where a test needs another fix), with a store and a code root of the
//! test's own. A fix still running when its test ends (or panics) is killed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use remtrack::demo::SHIPPED_PLAN;
use serde_json::Value;

/// The environment a person's shell may carry that would change what a command does.
const AMBIENT: &[&str] = &[
    "REMTRACK_APPLY_URL",
    "REMTRACK_STORE",
    "REMTRACK_USER",
    "REMTRACK_CODE_ROOT",
    "DATABASE_URL",
    "NO_COLOR",
];

/// The remtrack binary with `args`, no ambient settings, no terminal.
pub fn remtrack<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_remtrack"));
    command.args(args).stdin(Stdio::null());
    for name in AMBIENT {
        command.env_remove(name);
    }
    command
}

/// What a finished command said.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    fn of(output: std::process::Output) -> Ran {
        Ran {
            code: output
                .status
                .code()
                .unwrap_or_else(|| panic!("remtrack ended by a signal: {:?}", output.status)),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code; returns the output to look into.
    #[track_caller]
    pub fn exits(&self, code: i32) -> &Ran {
        assert_eq!(self.code, code, "exit code of remtrack:\n{self}");
        self
    }

    /// Asserts that stdout holds `text`.
    #[track_caller]
    pub fn says(&self, text: &str) -> &Ran {
        assert!(self.stdout.contains(text), "expected {text:?} in:\n{self}");
        self
    }

    /// Asserts that stdout does not hold `text`.
    #[track_caller]
    pub fn never_says(&self, text: &str) -> &Ran {
        assert!(
            !self.stdout.contains(text),
            "did not expect {text:?} in:\n{self}"
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--- exit {} --- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn run(mut command: Command) -> Ran {
    Ran::of(command.output().expect("cannot run remtrack"))
}

/// The shipped plan, as JSON to edit.
pub fn shipped_plan() -> Value {
    serde_json::from_str(SHIPPED_PLAN).unwrap()
}

pub fn task_mut<'a>(plan: &'a mut Value, id: &str) -> &'a mut Value {
    plan["tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|task| task["id"] == id)
        .unwrap_or_else(|| panic!("the plan has no task {id}"))
}

/// The fix SQL of `task` for `backend` ("postgres" or "sqlite").
pub fn fix_sql(plan: &Value, task: &str, backend: &str) -> String {
    let task = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task)
        .unwrap_or_else(|| panic!("the plan has no task {task}"));
    task["fix"]["sql"][backend]
        .as_str()
        .unwrap_or_else(|| panic!("no {backend} fix in {task}"))
        .to_string()
}

pub fn set_fix_sql(plan: &mut Value, task: &str, backend: &str, sql: &str) {
    task_mut(plan, task)["fix"]["sql"][backend] = Value::from(sql);
}

/// A folder of the test's own holding a plan file, a store and the database's write URL: the
/// commands a person types, with those three filled in.
pub struct Desk {
    dir: tempfile::TempDir,
    pub plan: PathBuf,
    pub store: String,
    pub url: String,
    code_root: Option<PathBuf>,
}

impl Desk {
    /// `plan` written to a fresh folder; the store a SQLite file beside it.
    pub fn new(url: &str, plan: &Value) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.db").display().to_string();
        Desk::with_store(url, plan, dir, store)
    }

    /// The same with the store `store` (a `postgres://` URL a team shares, say).
    pub fn sharing_store(url: &str, plan: &Value, store: &str) -> Desk {
        Desk::with_store(url, plan, tempfile::tempdir().unwrap(), store.to_string())
    }

    fn with_store(url: &str, plan: &Value, dir: tempfile::TempDir, store: String) -> Desk {
        let desk = Desk {
            plan: dir.path().join("plan.json"),
            dir,
            store,
            url: url.to_string(),
            code_root: None,
        };
        desk.write_plan(plan);
        desk
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Code checks and guards read `root` (`--code-root`).
    pub fn with_code_root(mut self, root: &Path) -> Desk {
        self.code_root = Some(root.to_path_buf());
        self
    }

    /// Replaces the plan file (a person editing it).
    pub fn write_plan(&self, plan: &Value) {
        std::fs::write(&self.plan, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    }

    fn common(&self, command: &mut Command) {
        command.arg("--plan").arg(&self.plan);
        command.arg("--store").arg(&self.store);
        if let Some(root) = &self.code_root {
            command.arg("--code-root").arg(root);
        }
    }

    /// `remtrack fix TASK --apply-url URL --as WHO ARGS…`.
    pub fn fix_command(&self, task: &str, who: &str, args: &[&str]) -> Command {
        let mut command = remtrack(["fix", task, "--apply-url", &self.url, "--as", who]);
        self.common(&mut command);
        command.args(args);
        command
    }

    pub fn fix(&self, task: &str, who: &str, args: &[&str]) -> Ran {
        run(self.fix_command(task, who, args))
    }

    pub fn dry_run(&self, task: &str) -> Ran {
        self.fix(task, "ana", &["--dry-run"])
    }

    pub fn apply(&self, task: &str, who: &str) -> Ran {
        self.fix(task, who, &["--apply", "--confirm", task])
    }

    /// An apply started in a child process, left running.
    pub fn spawn_apply(&self, task: &str, who: &str, args: &[&str]) -> Running {
        let mut all = vec!["--apply", "--confirm", task];
        all.extend_from_slice(args);
        self.spawn_fix(task, who, &all)
    }

    /// `remtrack fix` with `args` started in a child process, left running.
    pub fn spawn_fix(&self, task: &str, who: &str, args: &[&str]) -> Running {
        let mut command = self.fix_command(task, who, args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        Running {
            child: Some(command.spawn().expect("cannot start remtrack")),
        }
    }

    /// `remtrack check --format json` on `database_url` (a read-only connection).
    pub fn check(&self, database_url: &str) -> Value {
        let mut command = remtrack(["check", "--format", "json", "--database-url", database_url]);
        self.common(&mut command);
        let ran = run(command);
        assert!(ran.code == 0 || ran.code == 1, "remtrack check:\n{ran}");
        ran.json()
    }

    /// `remtrack log` in `format` ("text" or "json").
    pub fn log(&self, format: &str) -> Ran {
        let mut command = remtrack(["log", "--format", format]);
        command.arg("--plan").arg(&self.plan);
        command.arg("--store").arg(&self.store);
        let ran = run(command);
        ran.exits(0);
        ran
    }

    /// Every event in the store, oldest first, as `remtrack log --format json` gives them.
    pub fn events(&self) -> Vec<Value> {
        let mut events = self.log("json").json().as_array().unwrap().clone();
        events.reverse();
        events
    }

    /// The events of `kind` ("applied", "apply_failed", …).
    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|event| event["kind"] == kind)
            .collect()
    }
}

/// The status `remtrack check --format json` gives `task`.
pub fn task_status(report: &Value, task: &str) -> String {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task)
        .unwrap_or_else(|| panic!("no task {task} in the report"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A remtrack process still running; killed if the test ends first.
pub struct Running {
    child: Option<Child>,
}

impl Running {
    fn child(&mut self) -> &mut Child {
        self.child.as_mut().unwrap()
    }

    pub fn pid(&mut self) -> u32 {
        self.child().id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child().try_wait().unwrap().is_none()
    }

    /// SIGKILL, as `kill -9` sends it; waits for the process to end.
    pub fn kill_9(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap()
    }

    /// Waits for it to end on its own, at most `patience` (then the test fails).
    pub fn finish_within(mut self, patience: Duration) -> Ran {
        let deadline = Instant::now() + patience;
        while self.running() {
            assert!(
                Instant::now() < deadline,
                "remtrack was still running after {patience:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ran::of(self.child.take().unwrap().wait_with_output().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `ready` every 50 ms until it holds, at most `patience`; `what` says what was awaited.
pub async fn wait_until<F, Fut>(what: &str, patience: Duration, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + patience;
    while !ready().await {
        assert!(Instant::now() < deadline, "waited {patience:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
