//! The interactive tracker: a ratatui front end over the check engine and the verification store.
//!
//! The runtime here turns terminal events into actions, background results into messages, and
//! carries out the effects the [`app::App`] returns. All state lives in the app; drawing reads it.

pub mod action;
pub mod app;
mod clipboard;
pub mod draw;
pub mod keymap;
pub mod layout;
mod local;
pub mod runtime;
mod terminal;
pub mod theme;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::check::Target;
use crate::engine::hub::{Hub, HubOptions};
use crate::plan::Plan;
use crate::store::StoreLocation;
use action::Msg;
use app::{App, AppConfig};
use runtime::{ViewEnd, run_view};
use theme::Theme;

/// Everything the tracker needs to start.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    pub plan: Arc<Plan>,
    pub target: Target,
    pub refresh_every: Duration,
    pub user: String,
    pub ascii: bool,
    pub store: StoreLocation,
    /// The plan's file, followed for changes (none for the demo's built-in plan).
    pub plan_file: Option<std::path::PathBuf>,
    /// `--search-path`, which wins over the plan's.
    pub search_path_override: Option<Vec<String>>,
    /// The code the plan's code checks read.
    pub code: Arc<crate::check::CodeSource>,
    /// Where a person's fixes are written (`--apply-url`); none: fixes are only shown.
    pub fix_target: Option<crate::apply::WriteTarget>,
}

impl TuiOptions {
    /// The shared part: one engine, one store feed, one plan-file watch.
    pub fn hub_options(&self) -> HubOptions {
        HubOptions {
            plan: self.plan.clone(),
            target: self.target.clone(),
            code: self.code.clone(),
            refresh_every: self.refresh_every,
            store: self.store.clone(),
            plan_file: self.plan_file.clone(),
            search_path_override: self.search_path_override.clone(),
            fix_target: self.fix_target.clone(),
        }
    }

    /// The settings of one person's view of `hub`.
    pub fn app_config(&self, hub: &Hub, user: String, theme: Theme) -> AppConfig {
        AppConfig {
            plan: hub.plan(),
            database: self.target.display_url().to_string(),
            backend: self.target.backend(),
            user,
            theme,
            now: OffsetDateTime::now_utc(),
            search_path_override: self.search_path_override.clone(),
            code_root: self.code.root().map(std::path::Path::to_path_buf),
            editor: None,
            pairing: None,
            apply_to: self.fix_target.as_ref().map(|target| app::ApplyTarget {
                shown: target.display_url().to_string(),
                backend: target.backend(),
            }),
        }
    }
}

/// Runs the tracker until the person quits (or the terminal goes away). Returns the exit code.
pub async fn run(options: TuiOptions) -> anyhow::Result<u8> {
    let hub = Hub::start(options.hub_options());
    let mut config = options.app_config(&hub, options.user.clone(), Theme::from_env(options.ascii));
    config.editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty());
    let mut app = App::new(config);
    let mut host = local::LocalHost::enter()?;
    let (width, height) = host.size()?;
    app.receive(Msg::Resized { width, height });
    let started = std::time::Instant::now();
    let end = run_view(&mut app, &hub, &mut host).await;
    tracing::debug!("the view ran {:?}", started.elapsed());
    match end {
        ViewEnd::Quit => {
            host.leave();
            Ok(0)
        }
        ViewEnd::Gone(why) => Ok(terminal_gone(host, &app, &why)),
    }
}

/// Exits quietly when the terminal is gone (or hung up): one line in the log, with any note
/// still being typed, so that nothing a person wrote is lost.
fn terminal_gone(host: local::LocalHost, app: &App, why: &str) -> u8 {
    let why = if host.let_go() {
        why.to_string()
    } else {
        format!("{why}; it could not be restored")
    };
    let drafts: Vec<String> = app
        .drafts
        .iter()
        .map(|(task, note)| format!("{task}: {note:?}"))
        .collect();
    if drafts.is_empty() {
        tracing::warn!("the terminal is gone or hung up ({why}); exiting");
    } else {
        tracing::warn!(
            "the terminal is gone or hung up ({why}); exiting; unsaved notes: {}",
            drafts.join("; ")
        );
    }
    0
}
