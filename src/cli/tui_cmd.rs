//! `remtrack` / `remtrack tui`: the interactive tracker, with its log written to a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{TuiArgs, exit};
use crate::check::Target;
use crate::plan::{Plan, load_plan};
use crate::printable::{one_line, printable};
use crate::store::StoreLocation;
use crate::tui::{TuiOptions, run};

pub async fn run_tui(args: &TuiArgs) -> u8 {
    let plan = match load_plan(&args.plan) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let Some(url) = &args.database_url else {
        eprintln!(
            "remtrack: no database to check: pass --database-url or set DATABASE_URL \
             (or try the embedded demo: remtrack demo)"
        );
        return exit::BAD_INPUT;
    };
    let store = args.store.location(&args.plan);
    let log_dir = match &store {
        StoreLocation::Sqlite(path) => path.parent().map(Path::to_path_buf),
        StoreLocation::Postgres(_) => None,
    }
    .unwrap_or_else(|| plan_dir(&args.plan).join(".remtrack"));
    open_tracker(plan, Some(&args.plan), url, store, &log_dir, args).await
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
    let target = match Target::open_with(url, args.limits.limits(), args.limits.search_path(&plan))
    {
        Ok(target) => target,
        Err(error) => {
            eprintln!("remtrack: {}", one_line(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let _log_guard = start_file_log(log_dir);
    tracing::info!(
        database = target.display_url(),
        store = store.display(),
        "tracker starting"
    );
    let options = TuiOptions {
        target,
        refresh_every: args.refresh,
        user: args.actor.actor(),
        ascii: args.ascii,
        store,
        // The tracker lives long: its code source watches the tree, so an unchanged one
        // costs a refresh nothing.
        code: Arc::new(
            crate::check::CodeSource::for_plan(
                &plan,
                plan_file.unwrap_or(log_dir),
                args.limits.code_root.as_deref(),
            )
            .watched(),
        ),
        plan: Arc::new(plan),
        plan_file: plan_file.map(Path::to_path_buf),
        search_path_override: args.limits.search_path.clone(),
    };
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

fn plan_dir(plan: &Path) -> PathBuf {
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
