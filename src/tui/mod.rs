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
mod plan_watch;
mod terminal;
pub mod theme;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt as _;
use time::OffsetDateTime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::check::Target;
use crate::engine::{Engine, EngineRequest};
use crate::plan::Plan;
use crate::store::{NewEvent, RefreshKey, Store, StoreChange, StoreLocation, plan_fingerprint};
use action::{Action, Effect, Msg};
use app::{App, AppConfig};
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
}

/// Runs the tracker until the person quits (or the terminal goes away). Returns the exit code.
pub async fn run(options: TuiOptions) -> anyhow::Result<u8> {
    let engine = Engine::spawn(
        options.plan.clone(),
        options.target.clone(),
        options.code.clone(),
        options.refresh_every,
    );
    let mut handle = engine.attach();
    let (msg_tx, mut msg_rx) = mpsc::channel::<Msg>(64);
    let mut refresh_key = RefreshKey {
        plan_fingerprint: plan_fingerprint(&options.plan),
        target: options.target.display_url().to_string(),
    };
    let store = connect_store(options.store.clone(), refresh_key.clone(), msg_tx.clone());

    let mut app = App::new(AppConfig {
        plan: options.plan.clone(),
        database: options.target.display_url().to_string(),
        backend: options.target.backend(),
        user: options.user.clone(),
        theme: Theme::from_env(options.ascii),
        now: OffsetDateTime::now_utc(),
        search_path_override: options.search_path_override.clone(),
        code_root: options.code.root().map(std::path::Path::to_path_buf),
        editor: ["VISUAL", "EDITOR"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.trim().is_empty()),
    });
    if let Some(file) = options.plan_file.clone() {
        tokio::spawn(plan_watch::follow(file, msg_tx.clone()));
    }
    let mut guard = terminal::TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    app.receive(Msg::Resized {
        width: size.width,
        height: size.height,
    });

    let mut events = EventStream::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let inside_tmux = std::env::var_os("TMUX").is_some();
    let mut dirty = true;
    let mut first_frame = true;

    loop {
        if dirty {
            let mut drawn = draw::Drawn::default();
            if let Err(error) = guard
                .terminal
                .draw(|frame| drawn = draw::render(frame, &app))
            {
                if terminal::is_gone(&error) {
                    return Ok(terminal_gone(guard, &app, &error.to_string()));
                }
                return Err(error.into());
            }
            dirty = false;
            // What the frame measured only bounds later keys: it never needs a frame of its own.
            app.receive(Msg::Drawn(drawn));
            if first_frame {
                first_frame = false;
                let ms = crate::since_process_start().as_secs_f64() * 1000.0;
                tracing::info!("first frame drawn {ms:.1} ms after start");
            }
        }
        let effects = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    dirty = true;
                    match terminal_action(&app, event) {
                        Some(Input::Action(action)) => app.act(action),
                        Some(Input::Resize(width, height)) => app.receive(Msg::Resized { width, height }),
                        None => vec![],
                    }
                }
                // The terminal is gone (an SSH connection dropped): nothing left to draw on.
                Some(Err(error)) => return Ok(terminal_gone(guard, &app, &error.to_string())),
                None => return Ok(terminal_gone(guard, &app, "no more input")),
            },
            update = handle.updates.recv() => match update {
                Ok(update) => {
                    dirty = true;
                    app.receive(Msg::Engine(update))
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => vec![],
                Err(tokio::sync::broadcast::error::RecvError::Closed) => vec![Effect::Quit],
            },
            Some(msg) = msg_rx.recv() => {
                dirty = true;
                app.receive(msg)
            }
            _ = ticks.tick() => {
                dirty = true;
                app.receive(Msg::Tick(OffsetDateTime::now_utc()))
            }
            _ = terminate.recv() => vec![Effect::Quit],
            // A hang-up means the terminal is gone: nothing to restore.
            _ = hangup.recv() => return Ok(terminal_gone(guard, &app, "hang-up (SIGHUP)")),
        };
        for effect in effects {
            match effect {
                Effect::Quit => {
                    drop(guard);
                    return Ok(0);
                }
                Effect::Refresh => {
                    let _ = handle.requests.try_send(EngineRequest::RefreshNow);
                }
                Effect::Edit { file, line } => {
                    // The editor reads the terminal now: stop reading it until it is done.
                    drop(events);
                    let editor = app.editor.clone().unwrap_or_default();
                    let outcome = guard.lend(|| run_editor(&editor, &file, line))?;
                    events = EventStream::new();
                    dirty = true;
                    app.receive(Msg::EditorClosed(outcome));
                }
                Effect::UsePlan(plan) => {
                    // Verdicts are remembered under the plan they were made for.
                    refresh_key.plan_fingerprint = plan_fingerprint(&plan);
                    let _ = handle.requests.send(EngineRequest::UsePlan(plan)).await;
                }
                Effect::Remember(refresh) => {
                    let (mut store, key) = (store.clone(), refresh_key.clone());
                    tokio::spawn(async move {
                        let state =
                            match store.wait_for(|s| !matches!(s, StoreState::Opening)).await {
                                Ok(state) => state.clone(),
                                Err(_) => return,
                            };
                        if let StoreState::Open(store) = state
                            && let Err(error) = store
                                .remember(&key, refresh.checked_at, &refresh.verdicts)
                                .await
                        {
                            tracing::warn!("cannot keep the verdicts in the store: {error}");
                        }
                    });
                }
                Effect::Copy(text) => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(clipboard::osc52(&text, inside_tmux).as_bytes());
                    let _ = out.flush();
                }
                Effect::Record(event) => {
                    let (store, msg_tx) = (store.clone(), msg_tx.clone());
                    tokio::spawn(async move {
                        let msg = record(store, (*event).clone()).await;
                        let _ = msg_tx.send(msg).await;
                    });
                }
            }
        }
    }
}

/// Runs the person's editor on `file` at `line` (`+LINE FILE`, which vi, vim, nano, emacs and
/// helix all take). The editor's own words come from its variable; the file and line are passed
/// as arguments, never spliced into the command.
fn run_editor(editor: &str, file: &std::path::Path, line: u64) -> Result<(), String> {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg("remtrack-editor")
        .arg(format!("+{line}"))
        .arg(file)
        .status()
        .map_err(|error| error.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{editor} exited with {status}"))
    }
}

/// Exits quietly when the terminal is gone (or hung up): one line in the log, with any note
/// still being typed, so that nothing a person wrote is lost.
fn terminal_gone(guard: terminal::TerminalGuard, app: &App, why: &str) -> u8 {
    let why = if guard.leave() {
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

enum Input {
    Action(Action),
    Resize(u16, u16),
}

fn terminal_action(app: &App, event: TermEvent) -> Option<Input> {
    inject_panic_for_tests(&event);
    match event {
        TermEvent::Key(key) => keymap::key_action(&app.mode, key).map(Input::Action),
        TermEvent::Mouse(mouse) => keymap::mouse_action(&app.mode, mouse).map(Input::Action),
        TermEvent::Resize(width, height) => Some(Input::Resize(width, height)),
        TermEvent::Paste(text) => matches!(app.mode, app::Mode::Dialog(_) | app::Mode::Filter)
            .then_some(Input::Action(Action::Paste(text))),
        TermEvent::FocusGained | TermEvent::FocusLost => None,
    }
}

/// Debug builds only: panics on the key named by `REMTRACK_TEST_PANIC_KEY`, so a test can prove
/// the terminal is restored after a panic.
#[cfg(debug_assertions)]
fn inject_panic_for_tests(event: &TermEvent) {
    if let TermEvent::Key(key) = event
        && let crossterm::event::KeyCode::Char(c) = key.code
        && std::env::var("REMTRACK_TEST_PANIC_KEY").is_ok_and(|k| k == c.to_string())
    {
        panic!("injected panic (REMTRACK_TEST_PANIC_KEY)");
    }
}

#[cfg(not(debug_assertions))]
fn inject_panic_for_tests(_: &TermEvent) {}

/// The interval the store's retries back off from (as the engine's from `--refresh`).
const STORE_RETRY: Duration = Duration::from_secs(5);

/// The store as the runtime sees it: still opening, open, or not available.
#[derive(Clone)]
enum StoreState {
    Opening,
    Open(Box<Store>),
    Unavailable(String),
}

/// Opens the store in the background so a slow or unreachable store never delays the screen,
/// then forwards every change any session makes. Returns where to find the store for recording.
fn connect_store(
    location: StoreLocation,
    refresh_key: RefreshKey,
    msg_tx: mpsc::Sender<Msg>,
) -> watch::Receiver<StoreState> {
    let (state_tx, state_rx) = watch::channel(StoreState::Opening);
    tokio::spawn(async move {
        // A store that cannot be opened now (its server down, its disk full) is tried again
        // with the same backoff as the database, and the tracker says so meanwhile.
        let mut failures = 0u32;
        let store = loop {
            match Store::open(&location).await {
                Ok(store) => break store,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let retry_in = crate::engine::delay_after(failures, STORE_RETRY);
                    let reason = format!("{error}; retrying in {} s", retry_in.as_secs().max(1));
                    let _ = state_tx.send(StoreState::Unavailable(reason.clone()));
                    if msg_tx.send(Msg::StoreFailed(reason)).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(retry_in).await;
                }
            }
        };
        if failures > 0 {
            tracing::info!("the verification store is open again");
        }
        let _ = state_tx.send(StoreState::Open(Box::new(store.clone())));
        let loaded = store.events(None).await;
        let last_id = loaded
            .as_ref()
            .ok()
            .and_then(|events| events.last())
            .map_or(0, |e| e.id);
        let _ = msg_tx
            .send(match loaded {
                Ok(events) => Msg::StoreLoaded(events),
                Err(error) => Msg::StoreFailed(error.to_string()),
            })
            .await;
        match store.remembered(&refresh_key).await {
            Ok(Some((checked_at, verdicts))) => {
                let _ = msg_tx
                    .send(Msg::Remembered {
                        checked_at,
                        verdicts,
                    })
                    .await;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!("cannot read the remembered verdicts: {error}"),
        }
        let mut changes = store.subscribe(last_id);
        while let Some(change) = changes.recv().await {
            let msg = match change {
                StoreChange::Appended(events) => Msg::StoreAppended(events),
                StoreChange::ReloadAll => match store.events(None).await {
                    Ok(events) => Msg::StoreLoaded(events),
                    Err(error) => Msg::StoreFailed(error.to_string()),
                },
                StoreChange::Failed(reason) => Msg::StoreFailed(reason),
            };
            if msg_tx.send(msg).await.is_err() {
                break;
            }
        }
    });
    state_rx
}

/// Records a mark once the store has finished opening, and reports the outcome as a message.
async fn record(mut store: watch::Receiver<StoreState>, event: NewEvent) -> Msg {
    let task_id = event.task_id.clone();
    let state = match store
        .wait_for(|state| !matches!(state, StoreState::Opening))
        .await
    {
        Ok(state) => state.clone(),
        Err(_) => StoreState::Unavailable("the verification store stopped".into()),
    };
    match state {
        StoreState::Open(store) => match store.append(event).await {
            Ok(recorded) => Msg::MarkRecorded(recorded),
            Err(error) => Msg::MarkFailed {
                task_id,
                error: error.to_string(),
            },
        },
        StoreState::Unavailable(reason) => Msg::MarkFailed {
            task_id,
            error: reason,
        },
        StoreState::Opening => Msg::MarkFailed {
            task_id,
            error: "the verification store is still opening".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_store_that_cannot_open_at_start_is_tried_again_until_it_opens() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // Its folder cannot be made while a file has that name.
        let blocker = dir.path().join("remtrack-state");
        std::fs::write(&blocker, "in the way").unwrap_or_else(|e| panic!("{e}"));
        let location = StoreLocation::Sqlite(blocker.join("state.db"));
        let key = RefreshKey {
            plan_fingerprint: "p".into(),
            target: "sqlite:demo.db".into(),
        };
        let (msg_tx, mut msg_rx) = mpsc::channel(16);
        let state = connect_store(location, key, msg_tx);
        let first = tokio::time::timeout(Duration::from_secs(5), msg_rx.recv()).await;
        assert!(
            matches!(&first, Ok(Some(Msg::StoreFailed(why))) if why.contains("retrying in 1 s")),
            "{first:?}"
        );
        assert!(matches!(*state.borrow(), StoreState::Unavailable(_)));

        std::fs::remove_file(&blocker).unwrap_or_else(|e| panic!("{e}"));
        let opened = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match msg_rx.recv().await {
                    Some(Msg::StoreLoaded(events)) => break events,
                    Some(_) => continue,
                    None => panic!("the store task ended"),
                }
            }
        })
        .await;
        assert!(
            matches!(opened, Ok(ref events) if events.is_empty()),
            "{opened:?}"
        );
        assert!(matches!(*state.borrow(), StoreState::Open(_)));
    }
}
