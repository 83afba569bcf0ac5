//! The board: what every view of one tracker shows alike — the plan, the connection, the last
//! verdicts, the verification history and the statuses derived from them — kept up to date from
//! the engine, the store and the plan file. The hub keeps one and hands it to every view (so it
//! is derived once per change, not once per person); each view keeps only its own state beside
//! it, and reacts to the [`News`] each change brings (log lines, a dialog waiting for fresh
//! verdicts, a selection to carry into a reloaded plan).

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;

use super::EngineUpdate;
use crate::check::{Refresh, Verdicts};
use crate::plan::Plan;
use crate::status::{Marks, PlanStatus, TaskStatus, Verification, derive};
use crate::store::{Event, to_status_marks};

/// How the database connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// No answer yet.
    Connecting,
    Live,
    /// The database cannot be used; `reason` says why (without its URL, which the header shows).
    Offline {
        reason: String,
    },
}

/// What changes the board.
#[derive(Debug, Clone)]
pub enum Input {
    Engine(EngineUpdate),
    /// Every verification event, oldest first (at start, and after a lost connection).
    StoreLoaded(Vec<Event>),
    /// New events, from any session.
    StoreAppended(Vec<Event>),
    /// The store cannot be read or written.
    StoreFailed(String),
    /// Verdicts the store kept from an earlier session.
    Remembered {
        checked_at: OffsetDateTime,
        verdicts: Verdicts,
    },
    /// What the plan file now says.
    PlanFile(Result<Arc<Plan>, String>),
}

/// What a change meant, for the views to react to.
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    /// The first live verdicts (after none, or after remembered ones).
    FirstCheck {
        done: usize,
        total: usize,
        overclaimed: usize,
        millis: u128,
    },
    BackOnline,
    /// A refresh's verdicts were taken.
    Refreshed,
    /// The database could not be read (`log` is the line to log, when the reason is new).
    Offline {
        reason: String,
        log: Option<String>,
    },
    /// Tasks whose status or verification changed: `task: old -> new`, and whether it regressed.
    Changed(Vec<(String, bool)>),
    /// Events new to the history, oldest first.
    Appended(Vec<Event>),
    /// The store cannot be used (said once per reason).
    StoreFailed(String),
    /// Verdicts kept by the store from `at` are shown until the database answers.
    ShowingRemembered(OffsetDateTime),
    /// The plan file's plan replaced the one shown.
    PlanReloaded {
        summary: String,
    },
    /// The plan file cannot be used; `first` when these problems are new.
    PlanRefused {
        problems: String,
        first: bool,
    },
    /// The plan file is valid again (and the plan shown is what it says).
    PlanValidAgain,
}

/// A change of the board with what it meant, as the hub sends it to every view.
#[derive(Debug, Clone)]
pub struct Update {
    pub board: Arc<Board>,
    pub news: Arc<Vec<News>>,
}

/// The shared part of a tracker.
#[derive(Debug, Clone)]
pub struct Board {
    pub plan: Arc<Plan>,
    /// The database URL, password redacted: marks count for the database they were made on.
    pub database: String,
    /// `--search-path`, which wins over the plan's own (a reloaded plan may change its own).
    pub search_path_override: Option<Vec<String>>,
    pub connection: Connection,
    pub refreshing: bool,
    /// The newest refresh whose result was applied; older results are dropped.
    pub latest_run: u64,
    /// The last successful refresh (kept while offline, shown as old).
    pub last_refresh: Option<Arc<Refresh>>,
    /// `last_refresh` came from the store, from an earlier session: not live.
    pub verdicts_remembered: bool,
    /// When the code checks were last judged (with the database, or alone while it is offline):
    /// a code task's verification needs these fresh, not the database's.
    pub code_checked_at: Option<OffsetDateTime>,
    pub status: PlanStatus,
    /// Every verification event, oldest first (shared: a board is copied on every change).
    pub history: Arc<Vec<Event>>,
    /// Events made against another database than this one, by id, with that database's
    /// identity: their marks do not count here, and the history says where they were made.
    pub made_elsewhere: HashMap<i64, String>,
    pub marks: Marks,
    /// Why the store cannot be used, when it cannot.
    pub store_problem: Option<String>,
    /// Why the plan file on disk cannot replace the plan shown, while it cannot.
    pub plan_problem: Option<String>,
    /// How many times the plan was reloaded (0: the plan the tracker started with).
    pub plan_generation: u64,
    /// Which change of the hub's board this is: a view never goes back to an older one.
    pub seq: u64,
}

impl Board {
    pub fn new(
        plan: Arc<Plan>,
        database: String,
        search_path_override: Option<Vec<String>>,
    ) -> Board {
        let status = derive(&plan, None, &Marks::new());
        Board {
            plan,
            database,
            search_path_override,
            connection: Connection::Connecting,
            refreshing: false,
            latest_run: 0,
            last_refresh: None,
            verdicts_remembered: false,
            code_checked_at: None,
            status,
            history: Arc::new(Vec::new()),
            made_elsewhere: HashMap::new(),
            marks: Marks::new(),
            store_problem: None,
            plan_problem: None,
            plan_generation: 0,
            seq: 0,
        }
    }

    /// Applies a change at `now`; says what it meant.
    pub fn apply(&mut self, input: Input, now: OffsetDateTime) -> Vec<News> {
        match input {
            Input::Engine(EngineUpdate::RefreshStarted { run }) => {
                if run > self.latest_run {
                    self.refreshing = true;
                }
                vec![]
            }
            Input::Engine(EngineUpdate::RefreshFinished {
                run,
                plan,
                outcome,
                code_only,
                retry_in,
            }) => {
                // A newer refresh has already been shown: this one is stale. One of a plan
                // that was replaced since is of no use either: its verdicts are by position.
                if run <= self.latest_run || !Arc::ptr_eq(&plan, &self.plan) {
                    return vec![];
                }
                self.latest_run = run;
                self.refreshing = false;
                match outcome.as_ref() {
                    Ok(refresh) => self.take_refresh(refresh, now),
                    Err(error) => {
                        if let Some(code) = code_only {
                            self.take_code_verdicts(&code, now);
                        }
                        // The header names the database already; the log says which, too.
                        let mut reason = error.reason().to_string();
                        let retrying = if error.is_refused() {
                            reason.push_str(" · not retrying: r tries again");
                            "not retrying until you press r".to_string()
                        } else {
                            format!("retrying in {} s", retry_in.as_secs().max(1))
                        };
                        let offline = Connection::Offline {
                            reason: reason.clone(),
                        };
                        let log = (self.connection != offline)
                            .then(|| format!("offline: {error}; {retrying}"));
                        self.connection = offline;
                        vec![News::Offline { reason, log }]
                    }
                }
            }
            Input::StoreLoaded(events) => {
                self.history = Arc::new(events);
                self.store_problem = None;
                self.remark();
                vec![]
            }
            Input::StoreAppended(events) => {
                let new: Vec<Event> = events
                    .into_iter()
                    .filter(|event| !self.history.iter().any(|known| known.id == event.id))
                    .collect();
                if new.is_empty() {
                    return vec![];
                }
                Arc::make_mut(&mut self.history).extend(new.iter().cloned());
                self.remark();
                vec![News::Appended(new)]
            }
            Input::StoreFailed(reason) => {
                let first = self.store_problem.as_deref() != Some(reason.as_str());
                self.store_problem = Some(reason.clone());
                if first {
                    vec![News::StoreFailed(reason)]
                } else {
                    vec![]
                }
            }
            Input::Remembered {
                checked_at,
                verdicts,
            } => {
                // Kept for the plan the tracker started with, not for one reloaded since.
                if self.last_refresh.is_none()
                    && self.plan_generation == 0
                    && verdicts.tasks.len() == self.plan.tasks.len()
                {
                    self.last_refresh = Some(Arc::new(Refresh {
                        verdicts,
                        checked_at,
                        duration: std::time::Duration::ZERO,
                        queries: 0,
                        search_path: Default::default(),
                    }));
                    self.verdicts_remembered = true;
                    self.rederive();
                    return vec![News::ShowingRemembered(checked_at)];
                }
                vec![]
            }
            Input::PlanFile(result) => self.plan_file_changed(result),
        }
    }

    fn take_refresh(&mut self, refresh: &Refresh, now: OffsetDateTime) -> Vec<News> {
        let mut news = Vec::new();
        let was_offline = matches!(self.connection, Connection::Offline { .. });
        let first = self.last_refresh.is_none() || self.verdicts_remembered;
        let before = self.status.clone();
        self.last_refresh = Some(Arc::new(refresh.clone()));
        // When the refresh began: the code was read after that, never before.
        self.code_checked_at = Some(refresh.checked_at.min(now));
        self.verdicts_remembered = false;
        self.connection = Connection::Live;
        self.rederive();
        if was_offline {
            news.push(News::BackOnline);
        }
        if first {
            news.extend(self.first_check());
        }
        let changes = self.changes_since(&before);
        if !changes.is_empty() {
            news.push(News::Changed(changes));
        }
        news.push(News::Refreshed);
        news
    }

    /// What the live verdicts on the board say at a glance, for a view that starts on them.
    pub fn first_check(&self) -> Option<News> {
        let refresh = self
            .last_refresh
            .as_ref()
            .filter(|_| !self.verdicts_remembered)?;
        Some(News::FirstCheck {
            done: self
                .status
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Done)
                .count(),
            total: self.plan.tasks.len(),
            overclaimed: self.status.overclaimed().count(),
            millis: refresh.duration.as_millis(),
        })
    }

    /// The database could not be read, the code could: the code checks' verdicts are live,
    /// the database checks keep what they last said (or say they were not read).
    fn take_code_verdicts(&mut self, code: &Verdicts, now: OffsetDateTime) {
        let mut merged = match &self.last_refresh {
            Some(last) => (**last).clone(),
            None => Refresh {
                verdicts: code.clone(),
                checked_at: now,
                duration: std::time::Duration::ZERO,
                queries: 0,
                search_path: Default::default(),
            },
        };
        let plan = self.plan.clone();
        for ((task, old), new) in plan
            .tasks
            .iter()
            .zip(merged.verdicts.tasks.iter_mut())
            .zip(&code.tasks)
        {
            let checks = task
                .checks
                .iter()
                .zip(old.checks.iter_mut())
                .zip(&new.checks);
            let guards = task
                .fix
                .iter()
                .flat_map(|fix| fix.guards.iter())
                .zip(old.guards.iter_mut())
                .zip(&new.guards);
            for ((check, old), new) in checks.chain(guards) {
                if check.spec.is_code() {
                    *old = new.clone();
                }
            }
        }
        self.code_checked_at = Some(now);
        if self.last_refresh.as_deref() != Some(&merged) {
            self.last_refresh = Some(Arc::new(merged));
            self.rederive();
        }
    }

    /// Tasks whose status changed between two derivations.
    fn changes_since(&self, before: &PlanStatus) -> Vec<(String, bool)> {
        if self.latest_run <= 1 || before.tasks.len() != self.status.tasks.len() {
            return vec![];
        }
        self.plan
            .tasks
            .iter()
            .zip(before.tasks.iter().zip(&self.status.tasks))
            .filter(|(_, (old, new))| {
                old.status != new.status || old.verification != new.verification
            })
            .map(|(task, (old, new))| {
                let regressed = new.verification == Some(Verification::Regressed);
                let line = format!(
                    "{}: {} -> {}{}",
                    task.id,
                    old.status.as_str(),
                    new.status.as_str(),
                    if regressed {
                        " (REGRESSED: was verified)"
                    } else {
                        ""
                    }
                );
                (line, regressed)
            })
            .collect()
    }

    /// Marks from the history, for this database; then statuses.
    pub fn remark(&mut self) {
        self.marks = to_status_marks(&self.plan, &self.history, &self.database);
        let here = crate::identity::database_identity(&self.database);
        self.made_elsewhere = self
            .history
            .iter()
            .zip(crate::store::event_databases(&self.history))
            .filter_map(|(event, there)| {
                let there = there?;
                (!there.is_empty() && there != here).then_some((event.id, there))
            })
            .collect();
        self.rederive();
    }

    fn rederive(&mut self) {
        let verdicts = self.last_refresh.as_ref().map(|refresh| &refresh.verdicts);
        self.status = derive(&self.plan, verdicts, &self.marks);
    }

    /// Applies what the plan file now says: a plan that validated replaces the one shown, unless
    /// it changed what the running checks were set up with; one that did not stays out, with
    /// its problems said.
    fn plan_file_changed(&mut self, result: Result<Arc<Plan>, String>) -> Vec<News> {
        let plan = match result {
            Ok(plan) => plan,
            Err(problems) => return self.refuse_plan(problems),
        };
        if *plan == *self.plan {
            // Saved again unchanged, or a problem fixed back to what is shown.
            return self.clear_plan_problem();
        }
        let flag = self.search_path_override.as_deref();
        let (old_path, new_path) = (
            self.plan.search_path_with(flag),
            plan.search_path_with(flag),
        );
        if old_path != new_path {
            // The connection's search path was set from the plan when it opened: checking the
            // new plan under the old path could call a table done that the new path would not.
            return self.refuse_plan(format!(
                "its search_path changed ({} → {}): quit and start remtrack again to check \
                 under the new one",
                describe_path(old_path),
                describe_path(new_path)
            ));
        }
        if plan.code != self.plan.code {
            // The code source (its root, its excludes and its cache) was made for the old one.
            return self.refuse_plan(
                "its \"code\" settings changed: quit and start remtrack again to read the code \
                 where it now says"
                    .into(),
            );
        }
        let summary = describe_change(&self.plan, &plan);
        self.plan = plan;
        self.plan_generation += 1;
        // The verdicts shown are by position in the old plan: none of them may be read against
        // the new one (that could show a false "done"). The engine checks the new plan at once.
        self.last_refresh = None;
        self.verdicts_remembered = false;
        self.refreshing = true;
        self.remark();
        let mut news = self.clear_plan_problem();
        news.insert(0, News::PlanReloaded { summary });
        news
    }

    fn refuse_plan(&mut self, problems: String) -> Vec<News> {
        let first = self.plan_problem.as_deref() != Some(problems.as_str());
        self.plan_problem = Some(problems.clone());
        vec![News::PlanRefused { problems, first }]
    }

    fn clear_plan_problem(&mut self) -> Vec<News> {
        match self.plan_problem.take() {
            Some(_) => vec![News::PlanValidAgain],
            None => vec![],
        }
    }
}

fn describe_path(path: Option<&[String]>) -> String {
    match path {
        Some(schemas) => schemas.join(", "),
        None => "the database's default".into(),
    }
}

/// "16 tasks (1 added, 0 removed, 2 changed)".
fn describe_change(old: &Plan, new: &Plan) -> String {
    let added = new
        .tasks
        .iter()
        .filter(|task| old.task(&task.id).is_none())
        .count();
    let removed = old
        .tasks
        .iter()
        .filter(|task| new.task(&task.id).is_none())
        .count();
    let changed = new
        .tasks
        .iter()
        .filter(|task| old.task(&task.id).is_some_and(|before| before != *task))
        .count();
    format!(
        "{} tasks ({added} added, {removed} removed, {changed} changed)",
        new.tasks.len()
    )
}
