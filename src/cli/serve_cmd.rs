//! `remtrack serve`: the tracker over SSH for a team, with its log written to a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ServeArgs, exit};
use crate::check::Target;
use crate::plan::load_plan;
use crate::printable::{one_line, printable};
use crate::serve::{ServeOptions, serve};
use crate::store::StoreLocation;
use crate::tui::TuiOptions;

pub async fn run(args: &ServeArgs) -> u8 {
    let tui = &args.tui;
    let plan = match load_plan(&tui.plan) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let Some(url) = &tui.database_url else {
        eprintln!(
            "remtrack: no database to check: pass --database-url or set DATABASE_URL \
             (postgres://user@host/db or sqlite:path.db)"
        );
        return exit::BAD_INPUT;
    };
    let target = match Target::open_with(url, tui.limits.limits(), tui.limits.search_path(&plan)) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("remtrack: {}", one_line(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    let store = tui.store.location(&tui.plan);
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| super::tui_cmd::plan_dir(&tui.plan).join(".remtrack"));
    let log_dir = match &store {
        StoreLocation::Sqlite(path) => path.parent().map(Path::to_path_buf),
        StoreLocation::Postgres(_) => None,
    }
    .unwrap_or_else(|| state_dir.clone());
    let _log_guard = super::tui_cmd::start_file_log(&log_dir);
    let code = Arc::new(
        crate::check::CodeSource::for_plan(&plan, &tui.plan, tui.limits.code_root.as_deref())
            .watched(),
    );
    let options = ServeOptions {
        tui: TuiOptions {
            target,
            refresh_every: tui.refresh,
            user: tui.actor.actor(),
            ascii: tui.ascii,
            store,
            code,
            plan: Arc::new(plan),
            plan_file: Some(tui.plan.clone()),
            search_path_override: tui.limits.search_path.clone(),
        },
        listen: args.listen,
        team_file: args
            .team
            .clone()
            .unwrap_or_else(|| state_dir.join("team.toml")),
        team_file_given: args.team.is_some(),
        host_key: state_dir.join("ssh_host_ed25519_key"),
        operator_ssh_dir: std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh")),
        operator: tui.actor.actor(),
        plan_file_name: tui.plan.display().to_string(),
        max_sessions: usize::from(args.max_sessions),
    };
    tracing::info!(listen = %args.listen, "serve starting");
    match serve(options).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("serve failed: {error:#}");
            // Whole, not on one line: some of these errors end with an example team file.
            let _ = writeln!(
                std::io::stderr(),
                "remtrack: {}",
                printable(&format!("{error:#}"))
            );
            exit::BAD_INPUT
        }
    }
}
