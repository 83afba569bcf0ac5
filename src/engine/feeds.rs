//! What feeds the hub: the store (opened in the background, retried while it cannot be, its
//! changes kept in the ledger), the plan file (followed, validated off the views) and the store's
//! copy of the last verdicts (written once per refresh for the whole process).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

use super::hub::{Ledger, PlanFileState, StoreState};
use super::{EngineUpdate, delay_after};
use crate::check::Verdicts;
use crate::plan::load_plan;
use crate::store::{RefreshKey, Store, StoreChange, StoreLocation};

/// The interval the store's retries back off from (as the engine's from `--refresh`).
const STORE_RETRY: Duration = Duration::from_secs(5);

/// How often the plan file's size and modification time are looked at: cheap, and the same on
/// every file system (inotify does not cross NFS or a container's bind mount reliably).
const PLAN_POLL: Duration = Duration::from_millis(500);

/// Verdicts that did not change are remembered again at most this often (so that a session
/// started while the database is down shows how recent they are).
const REMEMBER_EVERY: time::Duration = time::Duration::minutes(1);

/// Opens the store in the background so a slow or unreachable store never delays a screen, then
/// keeps the ledger up to date with every change any session makes.
pub(super) fn open_store(
    location: StoreLocation,
    refresh_key: RefreshKey,
    ledger: watch::Sender<Arc<Ledger>>,
) -> watch::Receiver<StoreState> {
    let (state_tx, state_rx) = watch::channel(StoreState::Opening);
    tokio::spawn(async move {
        let update = |change: &dyn Fn(&mut Ledger)| {
            ledger.send_modify(|shared| {
                let mut next = (**shared).clone();
                change(&mut next);
                *shared = Arc::new(next);
            });
        };
        // A store that cannot be opened now (its server down, its disk full) is tried again
        // with the same backoff as the database, and the views say so meanwhile.
        let mut failures = 0u32;
        let store = loop {
            match Store::open(&location).await {
                Ok(store) => break store,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let retry_in = delay_after(failures, STORE_RETRY);
                    let reason = format!("{error}; retrying in {} s", retry_in.as_secs().max(1));
                    let _ = state_tx.send(StoreState::Unavailable(reason.clone()));
                    update(&|l| l.problem = Some(reason.clone()));
                    if ledger.is_closed() && state_tx.is_closed() {
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
        let remembered = match store.remembered(&refresh_key).await {
            Ok(found) => found.map(Arc::new),
            Err(error) => {
                tracing::warn!("cannot read the remembered verdicts: {error}");
                None
            }
        };
        let mut last_id = load_all(&store, &update, remembered).await;
        let mut changes = store.subscribe(last_id);
        while let Some(change) = changes.recv().await {
            match change {
                StoreChange::Appended(events) => {
                    last_id = events.last().map_or(last_id, |e| e.id);
                    update(&|l| {
                        let mut all = (*l.events).clone();
                        all.extend(events.iter().cloned());
                        l.events = Arc::new(all);
                        l.problem = None;
                    });
                }
                StoreChange::ReloadAll => {
                    last_id = load_all(&store, &update, None).await.max(last_id);
                }
                StoreChange::Failed(reason) => update(&|l| l.problem = Some(reason.clone())),
            }
            if ledger.is_closed() {
                break;
            }
        }
    });
    state_rx
}

/// Reads every event into the ledger; returns the newest id (0 when it could not).
async fn load_all(
    store: &Store,
    update: &impl Fn(&dyn Fn(&mut Ledger)),
    remembered: Option<Arc<(OffsetDateTime, Verdicts)>>,
) -> i64 {
    match store.events(None).await {
        Ok(events) => {
            let last = events.last().map_or(0, |e| e.id);
            let events = Arc::new(events);
            update(&|l| {
                l.events = events.clone();
                l.loads += 1;
                l.problem = None;
                if remembered.is_some() {
                    l.remembered = remembered.clone();
                }
            });
            last
        }
        Err(error) => {
            let reason = error.to_string();
            update(&|l| l.problem = Some(reason.clone()));
            0
        }
    }
}

/// Keeps the verdicts of each refresh in the store, for a session that starts while the database
/// is down: when they changed, and otherwise once a minute. Once per refresh for the process,
/// however many views show it.
pub(super) async fn remember_verdicts(
    mut engine: super::EngineHandle,
    mut store: watch::Receiver<StoreState>,
    target: String,
) {
    let mut last: Option<(Arc<Verdicts>, OffsetDateTime)> = None;
    // A refresh that finished before this task was attached is the first to keep.
    let mut missed = engine.last_finished.take();
    loop {
        let update = match missed.take() {
            Some(update) => update,
            None => match engine.updates.recv().await {
                Ok(update) => update,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        let EngineUpdate::RefreshFinished { plan, outcome, .. } = update else {
            continue;
        };
        let Ok(refresh) = outcome.as_ref() else {
            continue;
        };
        let now = OffsetDateTime::now_utc();
        let due = last.as_ref().is_none_or(|(verdicts, at)| {
            **verdicts != refresh.verdicts || now - *at >= REMEMBER_EVERY
        });
        if !due {
            continue;
        }
        last = Some((Arc::new(refresh.verdicts.clone()), now));
        let state = match store.wait_for(|s| !matches!(s, StoreState::Opening)).await {
            Ok(state) => state.clone(),
            Err(_) => return,
        };
        if let StoreState::Open(store) = state {
            // Verdicts are remembered under the plan they were made for.
            let key = RefreshKey {
                plan_fingerprint: crate::store::plan_fingerprint(&plan),
                target: target.clone(),
            };
            if let Err(error) = store
                .remember(&key, refresh.checked_at, &refresh.verdicts)
                .await
            {
                tracing::warn!("cannot keep the verdicts in the store: {error}");
            }
        }
    }
}

/// What identifies a version of the file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

fn stamp(file: &std::path::Path) -> Option<Stamp> {
    std::fs::metadata(file).ok().map(|meta| Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

/// Follows the plan file (saved in place or replaced by a rename, as editors do): when it
/// changes it is read and validated off the views, and what it says is published. A file that
/// disappears for a moment (a rename in progress) is simply looked at again; one that stays away
/// is reported like any unreadable plan.
pub(super) async fn follow_plan_file(file: PathBuf, state: watch::Sender<PlanFileState>) {
    let mut seen = stamp(&file);
    let mut ticks = tokio::time::interval(PLAN_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if state.is_closed() {
            return;
        }
        let now = stamp(&file);
        if now == seen {
            continue;
        }
        seen = now;
        let path = file.clone();
        let loaded = tokio::task::spawn_blocking(move || load_plan(&path)).await;
        let said = match loaded {
            Ok(Ok(plan)) => Ok(Arc::new(plan)),
            Ok(Err(error)) => Err(crate::printable::printable(&error.to_string()).into_owned()),
            Err(error) => Err(format!("reading the plan failed: {error}")),
        };
        state.send_replace(Some(said));
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
        let (ledger_tx, mut ledger) = watch::channel(Arc::new(Ledger::default()));
        let state = open_store(location, key, ledger_tx);
        let first = tokio::time::timeout(
            Duration::from_secs(5),
            ledger.wait_for(|l| l.problem.is_some()),
        )
        .await
        .map(|seen| seen.map(|l| l.problem.clone()));
        assert!(
            matches!(&first, Ok(Ok(Some(problem))) if problem.contains("retrying in 1 s")),
            "{first:?}"
        );
        assert!(matches!(*state.borrow(), StoreState::Unavailable(_)));

        std::fs::remove_file(&blocker).unwrap_or_else(|e| panic!("{e}"));
        let opened =
            tokio::time::timeout(Duration::from_secs(10), ledger.wait_for(|l| l.loads == 1))
                .await
                .map(|seen| seen.map(|l| (l.events.len(), l.problem.clone())));
        assert!(
            matches!(&opened, Ok(Ok((0, None)))),
            "the store never opened: {opened:?}"
        );
        assert!(matches!(*state.borrow(), StoreState::Open(_)));
    }
}
