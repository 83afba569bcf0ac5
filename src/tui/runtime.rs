//! The view loop, for any terminal: draws the [`App`] when something changed, turns the host's
//! input into actions and the hub's news into messages, and carries out the effects the app
//! returns. The local tracker ([`super::local`]) and each person over SSH (`crate::serve`) run
//! this same loop over their own [`ViewHost`], so a key does the same thing in both.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::Event as TermEvent;
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc};

use super::action::{Action, Effect, Msg};
use super::app::{self, App};
use super::draw::Drawn;
use super::keymap;
use crate::engine::board::{Board, Update};
use crate::engine::fixer::FixJob;
use crate::engine::hub::Hub;
use crate::store::NewEvent;

/// What a host has for the view next.
#[derive(Debug)]
pub enum HostEvent {
    /// A key, the mouse, a paste or a resize from the person's terminal.
    Input(TermEvent),
    /// News only this host knows (who else is here, say).
    Msg(Msg),
    /// The terminal is gone (the connection dropped, the pty closed), or the session was ended.
    Gone(String),
    /// Leave as if the person had quit (SIGTERM, the server shutting down).
    Quit,
}

/// Where one view lives: its terminal, its input, and what only it can do.
pub trait ViewHost {
    /// Draws a frame of `app`; `Err` says why the terminal is gone.
    fn draw(&mut self, app: &App) -> Result<Drawn, String>;
    /// Sends what `draw` wrote, waiting for the person's connection to take it: at most one
    /// frame is ever in flight, so a slow connection sees fewer frames, never a queue.
    fn send_frame(&mut self) -> impl Future<Output = Result<(), String>> + Send {
        async { Ok(()) }
    }
    /// Waits for the next input or host news.
    fn next(&mut self) -> impl Future<Output = HostEvent> + Send;
    /// Puts `text` on the person's clipboard (OSC 52, written to their own terminal).
    fn copy(&mut self, text: &str);
    /// Opens the person's editor on `file` at `line`, lending it the terminal; or says why not.
    fn edit(
        &mut self,
        editor: Option<String>,
        file: &Path,
        line: u64,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// The last word on a mark before it is recorded (defence in depth: the app refused it
    /// already when the person may not make it); may add to its evidence who made it and how.
    fn admit_mark(&self, event: NewEvent) -> Result<NewEvent, String> {
        Ok(event)
    }
    /// The last word on a fix order before it runs (defence in depth, as for marks: the app
    /// refused already what the person's role may not do); may set who asks and their role.
    fn admit_fix(&self, job: FixJob) -> Result<FixJob, String> {
        Ok(job)
    }
    /// Called after every change of the app, to tell others where this person is.
    fn observe(&mut self, _app: &App) {}
    /// Ends another person's session (an admin asked); says what happened.
    fn end_session(&mut self, _session: crate::serve::presence::SessionId) -> String {
        "there are no other sessions here".into()
    }
    /// Reads the team file again (an admin asked); says what changed.
    fn reload_team(&mut self) -> impl Future<Output = String> + Send {
        async { "there is no team file here".to_string() }
    }
}

/// How a view ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewEnd {
    /// The person quit.
    Quit,
    /// The terminal went away (with why).
    Gone(String),
}

/// Runs one view until it ends.
pub async fn run_view(app: &mut App, hub: &Arc<Hub>, host: &mut impl ViewHost) -> ViewEnd {
    let mut feed = Feed::attach(hub);
    let (done_tx, mut done) = mpsc::channel::<Msg>(16);
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending: Vec<Msg> = feed.catch_up();
    let mut dirty = true;
    loop {
        for msg in pending.drain(..) {
            set_clock(app);
            let effects = app.receive(msg);
            if let Some(end) = carry_out(app, effects, hub, host, &done_tx).await {
                return end;
            }
            dirty = true;
        }
        if dirty {
            host.observe(app);
            match host.draw(app) {
                // What the frame measured only bounds later keys: it never needs a frame of its own.
                Ok(drawn) => {
                    app.receive(Msg::Drawn(drawn));
                }
                Err(why) => return ViewEnd::Gone(why),
            }
            if let Err(why) = host.send_frame().await {
                return ViewEnd::Gone(why);
            }
            dirty = false;
        }
        let effects = tokio::select! {
            event = host.next() => match event {
                HostEvent::Input(event) => match input_action(app, event) {
                    Some(Input::Action(action)) => {
                        set_clock(app);
                        app.act(action)
                    }
                    Some(Input::Resize(width, height)) => app.receive(Msg::Resized { width, height }),
                    None => continue,
                },
                HostEvent::Msg(msg) => app.receive(msg),
                HostEvent::Gone(why) => return ViewEnd::Gone(why),
                HostEvent::Quit => return ViewEnd::Quit,
            },
            news = feed.next() => match news {
                Some(msgs) => {
                    pending = msgs;
                    continue;
                }
                None => return ViewEnd::Quit,
            },
            Some(msg) = done.recv() => app.receive(msg),
            _ = ticks.tick() => app.receive(Msg::Tick(OffsetDateTime::now_utc())),
        };
        dirty = true;
        if let Some(end) = carry_out(app, effects, hub, host, &done_tx).await {
            return end;
        }
    }
}

/// The app's clock, set before it judges anything by it (how fresh the verdicts are, when a
/// mark is made): a view that waited on a slow connection missed its ticks meanwhile.
fn set_clock(app: &mut App) {
    let effects = app.receive(Msg::Tick(OffsetDateTime::now_utc()));
    debug_assert!(effects.is_empty(), "a tick asks for nothing");
}

/// Carries out effects; returns how the view ends when one of them ends it.
async fn carry_out(
    app: &mut App,
    effects: Vec<Effect>,
    hub: &Arc<Hub>,
    host: &mut impl ViewHost,
    done: &mpsc::Sender<Msg>,
) -> Option<ViewEnd> {
    for effect in effects {
        match effect {
            Effect::Quit => return Some(ViewEnd::Quit),
            Effect::Refresh => hub.engine().refresh_now(),
            Effect::Copy(text) => host.copy(&text),
            Effect::Edit { file, line } => {
                let outcome = host.edit(app.editor.clone(), &file, line).await;
                let more = app.receive(Msg::EditorClosed(outcome));
                debug_assert!(more.is_empty(), "closing the editor asks for nothing");
            }
            Effect::EndSession(session) => {
                let said = host.end_session(session);
                app.receive(Msg::HostSaid(said));
            }
            Effect::ReloadTeam => {
                let said = host.reload_team().await;
                app.receive(Msg::HostSaid(said));
            }
            Effect::Fix(job) => {
                let (task_id, action) = (job.task_id.clone(), job.action);
                match host.admit_fix(job) {
                    Ok(job) => {
                        let (hub, done) = (hub.clone(), done.clone());
                        tokio::spawn(async move {
                            // A task of its own, so that even a run that panicked is answered
                            // (the view allows one run at a time and waits for this answer).
                            let run = tokio::spawn(async move { hub.fix(job).await });
                            let outcome = match run.await {
                                Ok(outcome) => outcome.map(Arc::new),
                                Err(error) => Err(format!(
                                    "the fix run stopped unexpectedly ({error}); \
                                     r rechecks what the database holds"
                                )),
                            };
                            let msg = Msg::FixFinished {
                                task_id,
                                action,
                                outcome,
                            };
                            let _ = done.send(msg).await;
                        });
                    }
                    Err(error) => {
                        let more = app.receive(Msg::FixFinished {
                            task_id,
                            action,
                            outcome: Err(error),
                        });
                        debug_assert!(more.is_empty(), "a refused fix asks for nothing");
                    }
                }
            }
            Effect::Record(event) => {
                let task_id = event.task_id.clone();
                match host.admit_mark((*event).clone()) {
                    Ok(event) => {
                        let (hub, done) = (hub.clone(), done.clone());
                        tokio::spawn(async move {
                            let msg = match hub.record(event).await {
                                Ok(recorded) => Msg::MarkRecorded(recorded),
                                Err(error) => Msg::MarkFailed { task_id, error },
                            };
                            let _ = done.send(msg).await;
                        });
                    }
                    Err(error) => {
                        let more = app.receive(Msg::MarkFailed { task_id, error });
                        debug_assert!(more.is_empty(), "a refused mark asks for nothing");
                    }
                }
            }
        }
    }
    None
}

enum Input {
    Action(Action),
    Resize(u16, u16),
}

fn input_action(app: &App, event: TermEvent) -> Option<Input> {
    inject_panic_for_tests(&event);
    match event {
        TermEvent::Key(key) => keymap::key_action(&app.mode, key).map(Input::Action),
        TermEvent::Mouse(mouse) => keymap::mouse_action(&app.mode, mouse).map(Input::Action),
        TermEvent::Resize(width, height) => Some(Input::Resize(width, height)),
        TermEvent::Paste(text) => match &app.mode {
            app::Mode::Dialog(_) | app::Mode::Filter => true,
            app::Mode::Fix(dialog) => dialog.typing(),
            _ => false,
        }
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

/// One view's subscription to the hub: the board as it changes, with what each change meant.
struct Feed {
    hub: Arc<Hub>,
    updates: broadcast::Receiver<Update>,
    joined_on: Option<Arc<Board>>,
}

impl Feed {
    fn attach(hub: &Arc<Hub>) -> Feed {
        let (board, updates) = hub.board();
        Feed {
            hub: hub.clone(),
            updates,
            joined_on: Some(board),
        }
    }

    /// What a view that just joined must be told: the board as it stands, and what its
    /// verdicts say at a glance when it has live ones.
    fn catch_up(&mut self) -> Vec<Msg> {
        self.joined_on
            .take()
            .map(|board| {
                let news = board.first_check().into_iter().collect();
                Msg::Board(Update {
                    board,
                    news: Arc::new(news),
                })
            })
            .into_iter()
            .collect()
    }

    /// Waits for the next change; `None` when the hub is gone.
    async fn next(&mut self) -> Option<Vec<Msg>> {
        match self.updates.recv().await {
            Ok(update) => Some(vec![Msg::Board(update)]),
            // Behind by more than the channel holds (a view stalled on a slow connection): the
            // board as it stands now is what matters; what the skipped changes meant is lost.
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!("a view missed {missed} board changes");
                // From now on, not from the oldest change still queued.
                self.updates = self.updates.resubscribe();
                Some(vec![Msg::Board(Update {
                    board: self.hub.board_now(),
                    news: Arc::new(Vec::new()),
                })])
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
