//! Command-line interface: arguments, and the commands they run. Exit codes are a contract:
//! 0 nothing overclaimed, 1 overclaimed (or, with `--strict`, anything not done), 2 bad plan or
//! usage, 3 database unreachable.

mod check_cmd;
mod demo_cmd;
mod fix_cmd;
mod log_cmd;
mod mark_cmd;
mod plan_cmd;
mod serve_cmd;
mod tui_cmd;

pub(crate) use check_cmd::{exit_code, render_report};

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::Limits;
use crate::store::StoreLocation;

#[derive(Debug, Parser)]
#[command(
    name = "remtrack",
    version,
    about = "Track a database remediation plan, checking every item live against the database"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no command, remtrack opens the interactive tracker.
    #[command(flatten)]
    pub tui: TuiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the interactive tracker (the default when no command is given).
    Tui(TuiArgs),
    /// Check the plan against the database and print a report (no terminal UI).
    Check(CheckArgs),
    /// Work with plan files.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Build a fresh SQLite database reproducing the seed report's reality and check the plan against it.
    Demo(DemoArgs),
    /// Mark a task verified, recording who, when, the note and the evidence (refused unless every check passes).
    Verify(MarkArgs),
    /// Withdraw a task's verification (a note saying why is required).
    Unverify(MarkArgs),
    /// Add a note to a task's history without changing its verification.
    Note(MarkArgs),
    /// Print the verification history, newest first.
    Log(LogArgs),
    /// Prove a task's fix in a transaction that is rolled back (--dry-run), approve it, or
    /// apply it (--apply --confirm TASK): committed only when every check passes inside it.
    Fix(FixArgs),
    /// Serve the tracker over SSH to a team: one engine, a view per person, identity from the key.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub tui: TuiArgs,
    /// Where to listen. Anything beyond loopback is an explicit choice: the banner warns.
    #[arg(long, default_value = "127.0.0.1:2222")]
    pub listen: std::net::SocketAddr,
    /// The team file: who may log in, with which keys, as what role (default: STATE_DIR/team.toml;
    /// without one, your own ~/.ssh/*.pub keys are admitted as admin).
    #[arg(long, value_name = "FILE")]
    pub team: Option<PathBuf>,
    /// Where the host key is kept (default: .remtrack beside the plan).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Logged-in connections at most; one more is told the server is full.
    #[arg(long, default_value_t = crate::serve::MAX_SESSIONS, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub max_sessions: u16,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Report every problem in a plan file; exit 2 if there are any.
    Validate {
        /// The plan file.
        #[arg(default_value = "plan.json")]
        file: PathBuf,
        /// Also warn about checks that cannot be judged on this backend (enums, sequences,
        /// functions, privileges… do not exist on SQLite).
        #[arg(long, value_name = "postgres|sqlite")]
        backend: Option<crate::Backend>,
    },
    /// Print the JSON Schema of the plan format (committed as plan.schema.json).
    Schema,
    /// Print the demo's plan (the seed report's remediation), a starting point for your own:
    /// `remtrack plan example > plan.json`.
    Example,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
    Markdown,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when anything is not done, not only when something is overclaimed.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Longest a single query may run (e.g. 5s, 500ms).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub statement_timeout: Duration,
    /// Longest a query may wait for a lock held by someone else.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub lock_timeout: Duration,
    /// Longest to wait for a connection.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub connect_timeout: Duration,
    /// Schemas to resolve names without a schema in, in order (e.g. migration,public); overrides
    /// the plan's `search_path` and the session's own.
    #[arg(long, value_delimiter = ',')]
    pub search_path: Option<Vec<String>>,
    /// The folder code checks read (default: the plan's "code.root", relative to the plan
    /// file's folder, else that folder).
    #[arg(long, env = "REMTRACK_CODE_ROOT")]
    pub code_root: Option<PathBuf>,
}

impl LimitArgs {
    /// The code the plan's code checks read.
    pub fn code_source(
        &self,
        plan: &crate::plan::Plan,
        plan_file: &std::path::Path,
    ) -> std::sync::Arc<crate::check::CodeSource> {
        std::sync::Arc::new(crate::check::CodeSource::for_plan(
            plan,
            plan_file,
            self.code_root.as_deref(),
        ))
    }

    pub fn limits(&self) -> Limits {
        Limits {
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            connect_timeout: self.connect_timeout,
        }
    }

    /// The search path to set on the checking session, if any: the flag, else the plan's.
    pub fn search_path<'a>(&'a self, plan: &'a crate::plan::Plan) -> Option<&'a [String]> {
        plan.search_path_with(self.search_path.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plan file.
    #[arg(long, default_value = "plan.json")]
    pub plan: PathBuf,
    /// The database to check: postgres://user@host/db or sqlite:path.db. The password is never printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Check only the code (code_absent, code_present, path_exists, path_absent), without a
    /// database: for a code repository's CI.
    #[arg(long)]
    pub code_only: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Where verification marks are kept: a postgres:// URL a team shares, or a SQLite file.
    /// Default: .remtrack/state.db beside the plan.
    #[arg(
        long,
        env = "REMTRACK_STORE",
        hide_env_values = true,
        value_name = "URL|FILE"
    )]
    pub store: Option<String>,
}

impl StoreArgs {
    pub fn location(&self, plan_file: &Path) -> StoreLocation {
        match &self.store {
            Some(store) => StoreLocation::parse(store),
            None => StoreLocation::beside_plan(plan_file),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ActorArgs {
    /// Who is making marks (default: the OS user).
    #[arg(
        long = "as",
        env = "REMTRACK_USER",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub actor: Option<String>,
}

impl ActorArgs {
    pub fn actor(&self) -> String {
        self.actor
            .clone()
            .filter(|name| !name.trim().is_empty())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|name| !name.trim().is_empty())
            // Sessions started by sshd without a login shell, cron or tmux may lack both.
            .or_else(|| whoami::fallible::username().ok())
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| "unknown".into())
    }
}

#[derive(Debug, Clone, Args)]
pub struct TuiArgs {
    /// The plan file.
    #[arg(long, default_value = "plan.json")]
    pub plan: PathBuf,
    /// The database to check: postgres://user@host/db or sqlite:path.db. The password is never shown.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// How often to check the database again (e.g. 5s, 1m).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub refresh: Duration,
    /// Plain ASCII glyphs, for terminals without Unicode.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub actor: ActorArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The database a fix may be written to (p in the tracker: a dry run, then a confirmed
    /// apply), as a role that may run the fix; never the checks' read-only connection. Without
    /// it fixes are only shown and copied. The password is never shown.
    #[arg(long, env = "REMTRACK_APPLY_URL", hide_env_values = true)]
    pub apply_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The task's id in the plan.
    pub task: String,
    /// What you checked and how (required for manual tasks and for unverify).
    #[arg(long, short, default_value = "")]
    pub note: String,
    /// The plan file.
    #[arg(long, default_value = "plan.json")]
    pub plan: PathBuf,
    /// The database whose checks back the mark (needed to verify a task that has checks).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub actor: ActorArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this task's history.
    #[arg(long)]
    pub task: Option<String>,
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
    /// The plan file (locates the default store, and tells which verifications are stale).
    #[arg(long, default_value = "plan.json")]
    pub plan: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The task whose fix to run.
    pub task: String,
    /// Run the fix and the task's checks in one transaction, then roll it back: nothing changes.
    #[arg(long)]
    pub dry_run: bool,
    /// Run it again and commit, only if every check passes inside the transaction.
    #[arg(long)]
    pub apply: bool,
    /// The task's id, typed again: applying changes the database.
    #[arg(long, value_name = "TASK")]
    pub confirm: Option<String>,
    /// Approve the fix (after a dry run that proves it), for a plan whose fix_policy asks for
    /// approvals.
    #[arg(long)]
    pub approve: bool,
    /// Ask for an approval (after a dry run that proves it).
    #[arg(long)]
    pub request_approval: bool,
    /// Why you approve, or what you ask.
    #[arg(long, short, default_value = "")]
    pub note: String,
    /// The plan file.
    #[arg(long, default_value = "plan.json")]
    pub plan: PathBuf,
    /// The database to write to, as a role that may run the fix: never the checks' read-only
    /// connection. The password is never printed.
    #[arg(long, env = "REMTRACK_APPLY_URL", hide_env_values = true)]
    pub apply_url: Option<String>,
    /// The checks' own read-only connection, when you have it: the fix is refused if the write
    /// connection resolves names on another search path, and after an apply the task is
    /// checked again through it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub format: FixFormat,
    /// Longest one statement of the fix (or a check inside it) may run.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub statement_timeout: Duration,
    /// Longest a statement may wait for a lock held by someone else (the application).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub lock_timeout: Duration,
    /// Longest to wait for the connection.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub connect_timeout: Duration,
    /// Schemas to resolve names without a schema in (overrides the plan's search_path).
    #[arg(long, value_delimiter = ',')]
    pub search_path: Option<Vec<String>>,
    /// The folder code checks (and code guards) read.
    #[arg(long, env = "REMTRACK_CODE_ROOT")]
    pub code_root: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo database (must not exist); default: a temporary file removed on exit.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// The plan to check; default: the plan shipped with remtrack.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Print the headless report instead of opening the tracker (the default when not on a terminal).
    #[arg(long)]
    pub check: bool,
    /// Let the tracker run the plan's fixes (p dry runs one, then a applies it) on the demo's
    /// database, which is a throwaway copy.
    #[arg(long)]
    pub fixes: bool,
    /// How often the tracker checks the demo database again.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub refresh: Duration,
    /// Plain ASCII glyphs, for terminals without Unicode.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub actor: ActorArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Exit codes, as documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const NOT_DONE: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const UNREACHABLE: u8 = 3;
}

pub fn run(mut cli: Cli) -> ExitCode {
    // libpq's `host=… dbname=…` strings, as psql takes them, become URLs once, here, so that
    // every later use (the target, marks' database identity, reports) sees one spelling.
    let urls = match &mut cli.command {
        None => vec![&mut cli.tui.database_url, &mut cli.tui.apply_url],
        Some(Command::Tui(args)) => vec![&mut args.database_url, &mut args.apply_url],
        Some(Command::Serve(args)) => vec![&mut args.tui.database_url, &mut args.tui.apply_url],
        Some(Command::Check(args)) => vec![&mut args.database_url],
        Some(Command::Fix(args)) => vec![&mut args.apply_url],
        Some(Command::Verify(args) | Command::Unverify(args) | Command::Note(args)) => {
            vec![&mut args.database_url]
        }
        _ => vec![],
    };
    for url in urls {
        if let Some(text) = url.as_deref()
            && crate::check::conninfo::is_conninfo(text)
        {
            match crate::check::conninfo::to_url(text) {
                Ok(converted) => *url = Some(converted),
                Err(reason) => {
                    eprintln!("remtrack: bad connection string: {reason}");
                    return ExitCode::from(exit::BAD_INPUT);
                }
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("remtrack: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Headless commands log to stderr, and only when asked (RUST_LOG); the tracker logs to a file.
    let tracker = matches!(
        cli.command,
        None | Some(Command::Tui(_)) | Some(Command::Demo(_)) | Some(Command::Serve(_))
    );
    if !tracker && let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let code = match cli.command {
        Some(Command::Tui(args)) => runtime.block_on(tui_cmd::run_tui(&args)),
        None => runtime.block_on(tui_cmd::run_tui(&cli.tui)),
        Some(Command::Check(args)) => runtime.block_on(check_cmd::run(&args)),
        Some(Command::Plan(PlanCommand::Validate { file, backend })) => {
            plan_cmd::validate(&file, backend)
        }
        Some(Command::Plan(PlanCommand::Schema)) => plan_cmd::schema(),
        Some(Command::Plan(PlanCommand::Example)) => {
            print!("{}", crate::demo::SHIPPED_PLAN);
            exit::OK
        }
        Some(Command::Demo(args)) => runtime.block_on(demo_cmd::run(&args)),
        Some(Command::Verify(args)) => {
            runtime.block_on(mark_cmd::run(&args, mark_cmd::MarkKind::Verify))
        }
        Some(Command::Unverify(args)) => {
            runtime.block_on(mark_cmd::run(&args, mark_cmd::MarkKind::Unverify))
        }
        Some(Command::Note(args)) => {
            runtime.block_on(mark_cmd::run(&args, mark_cmd::MarkKind::Note))
        }
        Some(Command::Log(args)) => runtime.block_on(log_cmd::run(&args)),
        Some(Command::Fix(args)) => runtime.block_on(fix_cmd::run(&args)),
        Some(Command::Serve(args)) => runtime.block_on(serve_cmd::run(&args)),
    };
    ExitCode::from(code)
}

/// `5s`, `500ms`, `1.5s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("expected a duration like 5s or 500ms, got \"{text}\""))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" | "sec" => value,
        "m" | "min" => value * 60.0,
        other => return Err(format!("unknown unit \"{other}\"; use ms, s or m")),
    };
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!(
            "\"{text}\" is out of range: give a duration above 0 and at most 24 hours"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
