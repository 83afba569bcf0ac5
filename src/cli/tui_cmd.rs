//! `remtrack` / `remtrack tui`: the interactive tracker, with its log written to a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{TuiArgs, exit};
use crate::apply::{FixLimits, WriteTarget};
use crate::check::Target;
use crate::plan::{Plan, load_plan};
use crate::printable::{one_line, printable};
use crate::store::StoreLocation;
use crate::tui::{TuiOptions, run};

pub async fn run_tui(args: &TuiArgs) -> u8 {
    let plan = match plan_of(args) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let Some(url) = &args.database_url else {
        eprintln!(
            "remtrack: no database to check: pass --database-url or set DATABASE_URL \
             (or try the embedded demo: remtrack demo)"
        );
        return exit::BAD_INPUT;
    };
    let store = args.store.location(&args.plan);
    let log_dir = log_dir(&store, plan_dir(&args.plan).join(".remtrack"));
    open_tracker(plan, Some(&args.plan), url, store, &log_dir, args).await
}

/// The tracker's plan, or the exit code after saying what is wrong with it.
pub(super) fn plan_of(args: &TuiArgs) -> Result<Plan, u8> {
    load_plan(&args.plan).map_err(|error| {
        eprintln!("{}", printable(&error.to_string()));
        exit::BAD_INPUT
    })
}

/// Where the log goes: beside a SQLite store, else `otherwise`.
pub(super) fn log_dir(store: &StoreLocation, otherwise: PathBuf) -> PathBuf {
    match store {
        StoreLocation::Sqlite(path) => path.parent().map(Path::to_path_buf),
        StoreLocation::Postgres(_) => None,
    }
    .unwrap_or(otherwise)
}

/// What a tracker (local or served) runs on: the target opened from `url`, and `plan` with its
/// code source, which watches the tree (the tracker lives long, so an unchanged tree costs a
/// refresh nothing). When `plan_file` is given, the tracker follows its changes. Or the exit
/// code after saying why the target cannot be opened.
pub(super) fn tracker_options(
    plan: Plan,
    plan_file: Option<&Path>,
    url: &str,
    store: StoreLocation,
    log_dir: &Path,
    args: &TuiArgs,
) -> Result<TuiOptions, u8> {
    let target = Target::open_with(url, args.limits.limits(), args.limits.search_path(&plan))
        .map_err(|error| {
            eprintln!("remtrack: {}", one_line(&error.to_string()));
            exit::BAD_INPUT
        })?;
    let code = crate::check::CodeSource::for_plan(
        &plan,
        plan_file.unwrap_or(log_dir),
        args.limits.code_root.as_deref(),
    )
    .watched();
    // Checked now, connected only when a person asks for a fix: a bad URL is said at start.
    let fix_target = args
        .apply_url
        .as_deref()
        .filter(|url| !url.trim().is_empty())
        .map(|url| WriteTarget::open(url, FixLimits::default(), args.limits.search_path(&plan)))
        .transpose()
        .map_err(|error| {
            eprintln!("remtrack: --apply-url: {}", one_line(&error.to_string()));
            exit::BAD_INPUT
        })?;
    Ok(TuiOptions {
        target,
        refresh_every: args.refresh,
        user: args.actor.actor(),
        ascii: args.ascii,
        store,
        code: Arc::new(code),
        plan: Arc::new(plan),
        plan_file: plan_file.map(Path::to_path_buf),
        search_path_override: args.limits.search_path.clone(),
        fix_target,
    })
}

/// Opens the tracker on `plan` against `url`; shared with `remtrack demo`. When `plan_file` is
/// given, the tracker follows its changes.
pub(crate) async fn open_tracker(
    plan: Plan,
    plan_file: Option<&Path>,
    url: &str,
    store: StoreLocation,
    log_dir: &Path,
    args: &TuiArgs,
) -> u8 {
    let options = match tracker_options(plan, plan_file, url, store, log_dir, args) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let _log_guard = start_file_log(log_dir);
    tracing::info!(
        database = options.target.display_url(),
        store = options.store.display(),
        "tracker starting"
    );
    match run(options).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("tracker failed: {error:#}");
            // Not eprintln!: a stderr that is gone with the terminal would make it panic.
            let _ = writeln!(
                std::io::stderr(),
                "remtrack: {}",
                one_line(&format!("{error:#}"))
            );
            exit::UNREACHABLE
        }
    }
}

pub(super) fn plan_dir(plan: &Path) -> PathBuf {
    plan.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Logs go to `remtrack.log` in `dir`, never to the screen. `RUST_LOG` sets the level.
pub(super) fn start_file_log(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::create_dir_all(dir).ok()?;
    let appender = tracing_appender::rolling::never(dir, "remtrack.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("remtrack=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
