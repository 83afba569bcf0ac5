//! The hub: one engine, one store connection and one plan-file watch, shared by every view of
//! this process (the local tracker's one, or one per person over SSH).
//!
//! What views share reaches them as data: the engine's broadcast for refreshes, watch channels
//! for the store's events and the plan file, so a view that joins late starts from the current
//! state and a slow one sees the newest, never a queue. What must happen once whatever the number
//! of views (remember the verdicts, tell the engine about a reloaded plan) happens here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

use super::board::{Board, Input, News, Update};
use super::feeds::{follow_plan_file, open_store, remember_verdicts};
use super::fixer::{FixJob, FixReport, FixSetup, carry_out};
use super::{Engine, EngineRequest};
use crate::apply::{FixAction, NO_APPLY_URL, WriteTarget};
use crate::check::{CodeSource, Target, Verdicts};
use crate::plan::Plan;
use crate::store::{Event, NewEvent, RefreshKey, Store, StoreLocation};

/// Everything the hub needs to start.
#[derive(Debug, Clone)]
pub struct HubOptions {
    pub plan: Arc<Plan>,
    pub target: Target,
    pub code: Arc<CodeSource>,
    pub refresh_every: Duration,
    pub store: StoreLocation,
    /// The plan's file, followed for changes (none for the demo's built-in plan).
    pub plan_file: Option<PathBuf>,
    /// `--search-path`, which wins over the plan's (a reloaded plan may not change the path).
    pub search_path_override: Option<Vec<String>>,
    /// Where a person's fixes are written (`--apply-url`); none: fixes are only shown.
    pub fix_target: Option<WriteTarget>,
}

/// The store as the hub sees it: still opening, open, or not available.
#[derive(Clone)]
pub enum StoreState {
    Opening,
    Open(Box<Store>),
    Unavailable(String),
}

/// What the store holds, as every view needs it.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Every event, oldest first.
    pub events: Arc<Vec<Event>>,
    /// How many times the events were read whole (at open, and after a lost connection): a view
    /// that saw fewer loads takes them whole, otherwise only the events it has not seen.
    pub loads: u64,
    /// Why the store cannot be used, while it cannot.
    pub problem: Option<String>,
    /// Verdicts kept from an earlier session for this plan and database, to show (as old) until
    /// the database answers.
    pub remembered: Option<Arc<(OffsetDateTime, Verdicts)>>,
}

/// What the plan file last said: a plan that validated, or why it did not.
pub type PlanFileState = Option<Result<Arc<Plan>, String>>;

/// The shared part of a running tracker. Cheap to share: views hold an `Arc<Hub>`.
pub struct Hub {
    engine: Engine,
    store: watch::Receiver<StoreState>,
    ledger: watch::Receiver<Arc<Ledger>>,
    /// The board as it stands, for a view that joins.
    board: watch::Receiver<Arc<Board>>,
    /// Every change of the board with what it meant, for the views that are here.
    updates: broadcast::Sender<Update>,
    target: Target,
    refresh_every: Duration,
    fix: Option<FixSetup>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("target", &self.target.display_url())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts the engine, opens the store and follows the plan file, on the current runtime.
    pub fn start(options: HubOptions) -> Arc<Hub> {
        let engine = Engine::spawn(
            options.plan.clone(),
            options.target.clone(),
            options.code.clone(),
            options.refresh_every,
        );
        let key = RefreshKey {
            plan_fingerprint: crate::store::plan_fingerprint(&options.plan),
            target: options.target.display_url().to_string(),
        };
        let (ledger_tx, ledger) = watch::channel(Arc::new(Ledger::default()));
        let store = open_store(options.store.clone(), key, ledger_tx);
        let (plan_file_tx, plan_file) = watch::channel(None);
        if let Some(file) = options.plan_file.clone() {
            tokio::spawn(follow_plan_file(file, plan_file_tx));
        }
        tokio::spawn(remember_verdicts(
            engine.attach(),
            store.clone(),
            options.target.display_url().to_string(),
        ));
        let first = Arc::new(Board::new(
            options.plan.clone(),
            options.target.display_url().to_string(),
            options.search_path_override.clone(),
        ));
        let (board_tx, board) = watch::channel(first);
        let (updates, _) = broadcast::channel(64);
        tokio::spawn(keep_board(
            BoardSources {
                engine: engine.attach(),
                requests: engine.requests.clone(),
                ledger: ledger.clone(),
                plan_file,
            },
            board_tx,
            updates.clone(),
        ));
        Arc::new(Hub {
            engine,
            store,
            ledger,
            board,
            updates,
            target: options.target,
            refresh_every: options.refresh_every,
            fix: options.fix_target.map(|target| FixSetup {
                target,
                code: options.code,
            }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn refresh_every(&self) -> Duration {
        self.refresh_every
    }

    /// The plan shown and checked now (a view starts on it).
    pub fn plan(&self) -> Arc<Plan> {
        self.board.borrow().plan.clone()
    }

    pub fn ledger(&self) -> watch::Receiver<Arc<Ledger>> {
        self.ledger.clone()
    }

    /// The board as it stands, and every change from now on (subscribed first, so that none
    /// falls between the two).
    pub fn board(&self) -> (Arc<Board>, broadcast::Receiver<Update>) {
        let updates = self.updates.subscribe();
        (self.board.borrow().clone(), updates)
    }

    /// The board as it stands.
    pub fn board_now(&self) -> Arc<Board> {
        self.board.borrow().clone()
    }

    /// Records a mark once the store has finished opening; says why not when it cannot.
    pub async fn record(&self, event: NewEvent) -> Result<Event, String> {
        let store = self.open_store().await?;
        store.append(event).await.map_err(|e| e.to_string())
    }

    /// The store, once it has finished opening; or why it cannot be used.
    async fn open_store(&self) -> Result<Store, String> {
        let mut store = self.store.clone();
        let state = match store
            .wait_for(|state| !matches!(state, StoreState::Opening))
            .await
        {
            Ok(state) => state.clone(),
            Err(_) => StoreState::Unavailable("the verification store stopped".into()),
        };
        match state {
            StoreState::Open(store) => Ok(*store),
            StoreState::Unavailable(reason) => Err(reason),
            StoreState::Opening => Err("the verification store is still opening".into()),
        }
    }

    /// Carries out a person's fix order with the plan shown now. An apply, an approval and a
    /// request are recorded in the store (and refused without it: the approvals live there);
    /// a dry run writes nothing anywhere. After a run that committed, or may have, the engine
    /// checks again at once, so every view sees the task turn done.
    pub async fn fix(&self, job: FixJob) -> Result<FixReport, String> {
        let Some(setup) = &self.fix else {
            return Err(NO_APPLY_URL.into());
        };
        let store = match job.action {
            FixAction::DryRun => None,
            _ => Some(self.open_store().await.map_err(|reason| {
                format!("nothing ran: the store that keeps approvals and applies is unavailable: {reason}")
            })?),
        };
        let plan = self.plan();
        // The names the checks resolve, as the last live refresh saw them: a write
        // connection resolving them elsewhere is refused.
        let board = self.board_now();
        let checks_search_path = board
            .last_refresh
            .as_ref()
            .filter(|_| {
                !board.verdicts_remembered && self.target().backend() == crate::Backend::Postgres
            })
            .map(|refresh| refresh.search_path.shown.clone());
        let report = carry_out(setup, &plan, store.as_ref(), &job, checks_search_path).await;
        if let Ok(report) = &report {
            let run = &report.performed.run;
            tracing::info!(
                actor = job.actor,
                task = job.task_id,
                action = ?job.action,
                outcome = run.conclusion.as_str(),
                "fix run"
            );
            if run.conclusion.may_have_changed() {
                self.engine.refresh_now();
            }
        }
        report
    }
}

/// What the board is kept from.
struct BoardSources {
    engine: super::EngineHandle,
    requests: tokio::sync::mpsc::Sender<EngineRequest>,
    ledger: watch::Receiver<Arc<Ledger>>,
    plan_file: watch::Receiver<PlanFileState>,
}

/// Keeps the one board: every refresh, store change and plan-file change is applied once, here,
/// and the new board goes to every view with what it meant. A plan the board took is the one
/// the engine checks from then on.
async fn keep_board(
    mut sources: BoardSources,
    board: watch::Sender<Arc<Board>>,
    updates: broadcast::Sender<Update>,
) {
    let mut seen = LedgerSeen::default();
    let (mut ledger_open, mut plan_file_open) = (true, true);
    // A refresh can finish before this task is first polled: it is not waited for again (with
    // a long --refresh, that wait was the whole interval, the screen saying "connecting…").
    let mut missed = sources.engine.last_finished.take();
    loop {
        let inputs: Vec<Input> = if let Some(update) = missed.take() {
            vec![Input::Engine(update)]
        } else {
            tokio::select! {
            update = sources.engine.updates.recv() => match update {
                Ok(update) => vec![Input::Engine(update)],
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            changed = sources.ledger.changed(), if ledger_open => match changed {
                Ok(()) => seen.news(&sources.ledger.borrow_and_update()),
                Err(_) => {
                    ledger_open = false;
                    continue;
                }
            },
            changed = sources.plan_file.changed(), if plan_file_open => match changed {
                Ok(()) => sources.plan_file.borrow_and_update().clone().map(Input::PlanFile).into_iter().collect(),
                // The demo's built-in plan has no file.
                Err(_) => {
                    plan_file_open = false;
                    continue;
                }
            },
            }
        };
        let now = OffsetDateTime::now_utc();
        let mut current = board.borrow().clone();
        let mut news = Vec::new();
        let next = Arc::make_mut(&mut current);
        for input in inputs {
            news.extend(next.apply(input, now));
        }
        next.seq += 1;
        if news.iter().any(|n| matches!(n, News::PlanReloaded { .. })) {
            let _ = sources
                .requests
                .send(EngineRequest::UsePlan(current.plan.clone()))
                .await;
        }
        board.send_replace(current.clone());
        let _ = updates.send(Update {
            board: current,
            news: Arc::new(news),
        });
    }
}

/// What of the ledger the board has been given.
#[derive(Default)]
struct LedgerSeen {
    loads: u64,
    last_event: i64,
    problem: Option<String>,
    remembered: bool,
}

impl LedgerSeen {
    /// The ledger's change as board inputs: the events whole after a (re)load, else the new ones.
    fn news(&mut self, ledger: &Ledger) -> Vec<Input> {
        let mut inputs = Vec::new();
        if ledger.loads > self.loads {
            self.loads = ledger.loads;
            inputs.push(Input::StoreLoaded(ledger.events.to_vec()));
        } else {
            let new: Vec<Event> = ledger
                .events
                .iter()
                .filter(|e| e.id > self.last_event)
                .cloned()
                .collect();
            if !new.is_empty() {
                inputs.push(Input::StoreAppended(new));
            }
        }
        self.last_event = ledger.events.last().map_or(self.last_event, |e| e.id);
        if ledger.problem != self.problem {
            self.problem = ledger.problem.clone();
            if let Some(problem) = &ledger.problem {
                inputs.push(Input::StoreFailed(problem.clone()));
            }
        }
        if !self.remembered
            && let Some(remembered) = &ledger.remembered
        {
            self.remembered = true;
            inputs.push(Input::Remembered {
                checked_at: remembered.0,
                verdicts: remembered.1.clone(),
            });
        }
        inputs
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Limits;
    use crate::engine::EngineUpdate;

    const PLAN: &str = r#"{
        "version": 1, "title": "Plan",
        "days": [{ "day": 1, "title": "Day one" }],
        "phases": [{ "id": "p1", "title": "Phase one" }],
        "tasks": [
            { "id": "a", "title": "Task A", "day": 1, "phase": "p1", "priority": "high",
              "checks": [{ "id": "c1", "kind": "table_exists", "table": "t" }] }
        ]
    }"#;

    /// A hub over a fresh SQLite database holding table `t`, its plan in a file.
    async fn hub_in(dir: &std::path::Path) -> Arc<Hub> {
        hub_every(dir, Duration::from_millis(200)).await
    }

    async fn hub_every(dir: &std::path::Path, refresh_every: Duration) -> Arc<Hub> {
        let db = dir.join("app.db");
        let url = format!("sqlite:{}", db.display());
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("{url}?mode=rwc"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("CREATE TABLE t (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let plan_file = dir.join("plan.json");
        std::fs::write(&plan_file, PLAN).unwrap_or_else(|e| panic!("{e}"));
        let plan = Arc::new(crate::plan::load_plan(&plan_file).unwrap_or_else(|e| panic!("{e}")));
        let target = Target::open(&url, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        Hub::start(HubOptions {
            code: Arc::new(CodeSource::for_plan(&plan, &plan_file, None)),
            plan,
            target,
            refresh_every,
            store: StoreLocation::Sqlite(dir.join("state.db")),
            plan_file: Some(plan_file),
            search_path_override: None,
            fix_target: None,
        })
    }

    async fn next_live(updates: &mut broadcast::Receiver<Update>) -> Update {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match updates.recv().await {
                    Ok(update) if update.news.contains(&News::Refreshed) => return update,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => panic!("the hub stopped"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no refresh within 10 s"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_view_gets_the_one_board_derived_once_per_change() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let hub = hub_in(dir.path()).await;
        let mut views: Vec<_> = (0..5).map(|_| hub.board().1).collect();
        let first = next_live(&mut views[0]).await;
        assert_eq!(
            first.board.status.tasks[0].status,
            crate::status::TaskStatus::Done
        );
        for view in &mut views[1..] {
            let seen = next_live(view).await;
            assert!(
                Arc::ptr_eq(&seen.board, &first.board)
                    || seen.board.latest_run > first.board.latest_run,
                "every view is handed the same board, not one derived for it"
            );
        }
        // A view that joins later starts from the board as it stands.
        assert!(hub.board_now().last_refresh.is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn however_many_ask_the_database_sees_at_most_two_refreshes_a_second() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // The interval alone would refresh once in those two seconds.
        let hub = hub_every(dir.path(), Duration::from_secs(5)).await;
        let mut updates = hub.engine().attach().updates;
        // Twenty people pressing r as fast as they can for two seconds.
        let started = tokio::time::Instant::now();
        let mut refreshes = 0;
        while started.elapsed() < Duration::from_secs(2) {
            for _ in 0..20 {
                hub.engine().refresh_now();
            }
            while let Ok(update) = updates.try_recv() {
                if matches!(update, EngineUpdate::RefreshStarted { .. }) {
                    refreshes += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The first at once, then one per MIN_GAP at the most (and the 200 ms interval's own
        // are folded into those).
        assert!((2..=6).contains(&refreshes), "{refreshes} refreshes in 2 s");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refresh_that_finished_before_the_board_was_kept_is_not_waited_for_again() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // The next refresh a minute away: only the first one can make the board live.
        let hub = hub_every(dir.path(), Duration::from_secs(60)).await;
        tokio::time::timeout(Duration::from_secs(10), async {
            while hub.engine().last_finished().is_none() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no first refresh"));
        // A board kept from now on, as if its task had been attached after that refresh.
        let plan = hub.plan();
        let (board_tx, mut board) =
            watch::channel(Arc::new(Board::new(plan, "sqlite".into(), None)));
        let (updates, _) = broadcast::channel(8);
        let (_ledger_tx, ledger) = watch::channel(Arc::new(Ledger::default()));
        let (_plan_file_tx, plan_file) = watch::channel(None);
        tokio::spawn(keep_board(
            BoardSources {
                engine: hub.engine().attach(),
                requests: hub.engine().requests.clone(),
                ledger,
                plan_file,
            },
            board_tx,
            updates,
        ));
        let live = tokio::time::timeout(
            Duration::from_secs(2),
            board.wait_for(|b| b.last_refresh.is_some()),
        )
        .await;
        assert!(
            matches!(live, Ok(Ok(_))),
            "the board waited for the next refresh"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reloaded_plan_is_taken_by_the_board_and_checked_by_the_engine() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let hub = hub_in(dir.path()).await;
        let (_, mut updates) = hub.board();
        next_live(&mut updates).await;
        // The task now also wants a table that is not there.
        let changed = PLAN.replace(
            r#"{ "id": "c1", "kind": "table_exists", "table": "t" }"#,
            r#"{ "id": "c1", "kind": "table_exists", "table": "t" }, { "id": "c2", "kind": "table_exists", "table": "u" }"#,
        );
        // A different length, so the watch sees a change even within one mtime tick.
        std::fs::write(dir.path().join("plan.json"), changed).unwrap_or_else(|e| panic!("{e}"));
        let live = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let update = next_live(&mut updates).await;
                if update.board.plan_generation == 1 {
                    return update;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the new plan was never checked"));
        assert_eq!(live.board.plan.tasks[0].checks.len(), 2);
        assert_eq!(
            live.board.status.tasks[0].status,
            crate::status::TaskStatus::Failing,
            "checked against the new plan: table u is missing"
        );
    }
}
