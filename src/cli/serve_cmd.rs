//! `remtrack serve`: the tracker over SSH for a team, with its log written to a file.

use std::io::Write as _;
use std::path::PathBuf;

use super::{ServeArgs, exit, tui_cmd};
use crate::printable::printable;
use crate::serve::{ServeOptions, serve};

pub async fn run(args: &ServeArgs) -> u8 {
    let tui = &args.tui;
    let plan = match tui_cmd::plan_of(tui) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let Some(url) = &tui.database_url else {
        eprintln!(
            "remtrack: no database to check: pass --database-url or set DATABASE_URL \
             (postgres://user@host/db or sqlite:path.db)"
        );
        return exit::BAD_INPUT;
    };
    let store = tui.store.location(&tui.plan);
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| tui_cmd::plan_dir(&tui.plan).join(".remtrack"));
    let log_dir = tui_cmd::log_dir(&store, state_dir.clone());
    let tracker = match tui_cmd::tracker_options(plan, Some(&tui.plan), url, store, &log_dir, tui) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let _log_guard = tui_cmd::start_file_log(&log_dir);
    let options = ServeOptions {
        tui: tracker,
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
