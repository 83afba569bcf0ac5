//! The check engine: refreshes on a timer and on request, in the background, and broadcasts each
//! result to every attached view (one per terminal session: local, or each person over SSH).
//!
//! At most one refresh runs at a time and at most one more is queued, whatever the number of
//! requests; every refresh has a run id, so a view can drop results older than what it has shown.
//! While the database is unreachable, refreshes back off up to [`MAX_BACKOFF`]; when the server
//! refuses the connection (a wrong password, a missing database), they stop until asked.
//! A view that attaches late is handed the last finished refresh at once (see [`hub`], which
//! serves every view of one process from this one engine).

pub mod board;
mod feeds;
pub mod fixer;
pub mod hub;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::check::{
    CodeSource, Refresh, Target, TargetError, Verdicts, judge_code_only, refresh_with,
};
use crate::plan::Plan;

/// The longest wait between retries while the database is down.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The least time between the end of one refresh and the start of one asked for: however many
/// people press `r` (or script `ssh … check`), the database sees at most two refreshes a second.
pub const MIN_GAP: Duration = Duration::from_millis(500);

/// The "next refresh" after the server refused the connection: only a request starts one.
pub const NOT_BY_ITSELF: Duration = Duration::from_secs(86_400);

/// A refresh result, shared by every view.
pub type RefreshOutcome = Result<Refresh, TargetError>;

/// What the engine tells its views.
#[derive(Debug, Clone)]
pub enum EngineUpdate {
    /// A refresh began.
    RefreshStarted { run: u64 },
    /// A refresh ended; `retry_in` is when the next automatic one will start. `plan` is the
    /// plan it checked: verdicts are by position in that plan, so a view showing another plan
    /// (it was reloaded meanwhile) must not apply them.
    RefreshFinished {
        run: u64,
        plan: Arc<Plan>,
        outcome: Arc<RefreshOutcome>,
        /// When the database could not be read and the plan has code checks: every verdict
        /// judged from the code alone (the code stays live while the database is offline).
        code_only: Option<Arc<Verdicts>>,
        retry_in: Duration,
    },
}

/// What a view can ask of the engine.
#[derive(Debug, Clone)]
pub enum EngineRequest {
    RefreshNow,
    /// Check this plan from now on (the plan file changed and still validates); a refresh
    /// starts at once, after the one in flight if there is one.
    UsePlan(Arc<Plan>),
}

/// A running engine. Dropping every handle (and the engine) stops it.
#[derive(Debug, Clone)]
pub struct Engine {
    requests: mpsc::Sender<EngineRequest>,
    updates: broadcast::Sender<EngineUpdate>,
    /// The last `RefreshFinished`, for views that attach after it.
    finished: watch::Receiver<Option<EngineUpdate>>,
}

/// One view's connection to the engine.
#[derive(Debug)]
pub struct EngineHandle {
    pub requests: mpsc::Sender<EngineRequest>,
    pub updates: broadcast::Receiver<EngineUpdate>,
    /// The last refresh that finished before this view attached (it may also arrive on
    /// `updates`; views drop a run they have already shown).
    pub last_finished: Option<EngineUpdate>,
}

impl Engine {
    /// Starts the engine on the current tokio runtime; the first refresh starts at once.
    pub fn spawn(
        plan: Arc<Plan>,
        target: Target,
        code: Arc<CodeSource>,
        interval: Duration,
    ) -> Engine {
        let (requests, request_rx) = mpsc::channel(16);
        let (updates, _) = broadcast::channel(64);
        let (finished_tx, finished) = watch::channel(None);
        tokio::spawn(run(
            plan,
            target,
            code,
            interval,
            request_rx,
            updates.clone(),
            finished_tx,
        ));
        Engine {
            requests,
            updates,
            finished,
        }
    }

    /// Attaches a view: it receives every update from now on, and the last finished one.
    pub fn attach(&self) -> EngineHandle {
        // Subscribed first: a refresh finishing in between is then seen twice, never missed.
        let updates = self.updates.subscribe();
        EngineHandle {
            requests: self.requests.clone(),
            updates,
            last_finished: self.finished.borrow().clone(),
        }
    }

    /// The last finished refresh, if any.
    pub fn last_finished(&self) -> Option<EngineUpdate> {
        self.finished.borrow().clone()
    }

    /// Asks for a refresh now (coalesced with any in flight or queued).
    pub fn refresh_now(&self) {
        let _ = self.requests.try_send(EngineRequest::RefreshNow);
    }
}

async fn run(
    mut plan: Arc<Plan>,
    target: Target,
    code: Arc<CodeSource>,
    interval: Duration,
    mut requests: mpsc::Receiver<EngineRequest>,
    updates: broadcast::Sender<EngineUpdate>,
    last_finished: watch::Sender<Option<EngineUpdate>>,
) {
    let mut run_id = 0u64;
    type Finished = (RefreshOutcome, Option<Arc<Verdicts>>);
    let mut in_flight: Option<(u64, Arc<Plan>, JoinHandle<Finished>)> = None;
    let mut busy = false;
    let mut queued = false;
    let mut failures = 0u32;
    let mut next_auto = Instant::now();
    let mut last_done: Option<Instant> = None;
    let soonest = |last_done: Option<Instant>| {
        last_done.map_or_else(Instant::now, |done| (done + MIN_GAP).max(Instant::now()))
    };

    loop {
        let finished = async {
            match &mut in_flight {
                Some((_, _, handle)) => handle.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            request = requests.recv() => match request {
                Some(EngineRequest::RefreshNow) => {
                    if busy {
                        queued = true;
                    } else {
                        next_auto = next_auto.min(soonest(last_done));
                    }
                }
                Some(EngineRequest::UsePlan(new_plan)) => {
                    plan = new_plan;
                    if busy {
                        queued = true;
                    } else {
                        next_auto = next_auto.min(soonest(last_done));
                    }
                }
                None => break,
            },
            () = tokio::time::sleep_until(next_auto), if !busy => {
                run_id += 1;
                let _ = updates.send(EngineUpdate::RefreshStarted { run: run_id });
                let (checked, target, code) = (plan.clone(), target.clone(), code.clone());
                in_flight = Some((run_id, plan.clone(), tokio::spawn(async move {
                    let outcome = refresh_with(&checked, &target, &code).await;
                    // The database said nothing: the code still can.
                    let code_only = match &outcome {
                        Err(error) if checked.all_checks().any(|c| c.spec.is_code()) => {
                            let why = format!("the database is offline ({})", error.reason());
                            tokio::task::spawn_blocking(move || judge_code_only(&checked, &code, &why))
                                .await
                                .ok()
                                .map(Arc::new)
                        }
                        _ => None,
                    };
                    (outcome, code_only)
                })));
                busy = true;
                // Until this one finishes, the timer does not fire again.
                next_auto = Instant::now() + Duration::from_secs(86_400);
            }
            joined = finished => {
                let (run, checked) = in_flight
                    .take()
                    .map_or((run_id, plan.clone()), |(run, checked, _)| (run, checked));
                busy = false;
                let (outcome, code_only) = joined.unwrap_or_else(|error| {
                    (Err(TargetError::Unreachable { url: target.display_url().to_string(), reason: format!("refresh task failed: {error}") }), None)
                });
                failures = if outcome.is_ok() { 0 } else { failures.saturating_add(1) };
                let refused = outcome.as_ref().is_err_and(TargetError::is_refused);
                last_done = Some(Instant::now());
                let retry_in = if queued {
                    queued = false;
                    MIN_GAP
                } else if refused {
                    // A server that said no is asked again only when a person says so.
                    NOT_BY_ITSELF
                } else {
                    delay_after(failures, interval)
                };
                next_auto = Instant::now() + retry_in;
                let update = EngineUpdate::RefreshFinished { run, plan: checked, outcome: Arc::new(outcome), code_only, retry_in };
                last_finished.send_replace(Some(update.clone()));
                let _ = updates.send(update);
            }
        }
        if updates.receiver_count() == 0 && requests.is_closed() {
            break;
        }
    }
    target.close().await;
}

/// The wait before the next automatic refresh: the interval while healthy, doubling from one
/// second up to [`MAX_BACKOFF`] while the database keeps failing.
pub fn delay_after(failures: u32, interval: Duration) -> Duration {
    if failures == 0 {
        return interval;
    }
    let backoff = Duration::from_secs(1u64 << failures.saturating_sub(1).min(5));
    backoff
        .min(MAX_BACKOFF)
        .min(interval.max(Duration::from_secs(1)) * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let interval = Duration::from_secs(5);
        assert_eq!(delay_after(0, interval), interval);
        assert_eq!(delay_after(1, interval), Duration::from_secs(1));
        assert_eq!(delay_after(2, interval), Duration::from_secs(2));
        assert_eq!(delay_after(4, interval), Duration::from_secs(8));
        assert_eq!(delay_after(30, interval), MAX_BACKOFF);
    }
}
