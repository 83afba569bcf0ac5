//! Follows the plan file: when it changes on disk (saved in place or replaced by a rename, as
//! editors do), it is read and validated off the UI, and the result is sent as a message.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::action::Msg;
use crate::plan::load_plan;

/// How often the file's size and modification time are looked at: cheap, and the same on every
/// file system (inotify does not cross NFS or a container's bind mount reliably).
const POLL: Duration = Duration::from_millis(500);

/// What identifies a version of the file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(file: &std::path::Path) -> Option<Stamp> {
    std::fs::metadata(file).ok().map(|meta| Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

/// Runs until the app is gone. A file that disappears for a moment (a rename in progress) is
/// simply looked at again; one that stays away is reported like any unreadable plan.
pub async fn follow(file: PathBuf, msgs: mpsc::Sender<Msg>) {
    let mut seen = stamp(&file);
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = stamp(&file);
        if now == seen {
            continue;
        }
        seen = now;
        let path = file.clone();
        let loaded = tokio::task::spawn_blocking(move || load_plan(&path)).await;
        let msg = match loaded {
            Ok(Ok(plan)) => Ok(std::sync::Arc::new(plan)),
            Ok(Err(error)) => Err(crate::printable::printable(&error.to_string()).into_owned()),
            Err(error) => Err(format!("reading the plan failed: {error}")),
        };
        if msgs.send(Msg::PlanFile(msg)).await.is_err() {
            return;
        }
    }
}
