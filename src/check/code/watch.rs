//! Watching the code root, so that a refresh over an unchanged tree costs nothing: any change
//! under the root marks the last pass's facts stale. When the watch cannot be had (too many
//! folders for inotify, a file system without events) or reports an error, every refresh walks
//! the tree, as it would without a watch; a full pass every minute remains the backstop.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use notify::{Config, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

/// A live watch on one root.
pub struct RootWatch {
    _watcher: RecommendedWatcher,
    changed: Arc<AtomicBool>,
    broken: Arc<AtomicBool>,
}

impl std::fmt::Debug for RootWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootWatch")
            .field("changed", &self.changed.load(Ordering::SeqCst))
            .field("broken", &self.broken.load(Ordering::SeqCst))
            .finish()
    }
}

impl RootWatch {
    /// Watches `root` (resolved) recursively, never through symlinks; `None` when that cannot
    /// be had, with the reason logged.
    pub fn start(root: &Path) -> Option<RootWatch> {
        let changed = Arc::new(AtomicBool::new(true));
        let broken = Arc::new(AtomicBool::new(false));
        let (on_change, on_error) = (changed.clone(), broken.clone());
        let handler = move |event: notify::Result<notify::Event>| match event {
            Ok(event) if matches!(event.kind, EventKind::Access(_)) => {}
            Ok(_) => on_change.store(true, Ordering::SeqCst),
            Err(error) => {
                tracing::warn!(
                    "watching the code stopped working ({error}); walking it on every refresh"
                );
                on_error.store(true, Ordering::SeqCst);
                on_change.store(true, Ordering::SeqCst);
            }
        };
        let mut watcher =
            match RecommendedWatcher::new(handler, Config::default().with_follow_symlinks(false)) {
                Ok(watcher) => watcher,
                Err(error) => {
                    tracing::info!("cannot watch the code ({error}); walking it on every refresh");
                    return None;
                }
            };
        if let Err(error) = watcher.watch(root, RecursiveMode::Recursive) {
            tracing::info!(
                "cannot watch {} ({error}); walking it on every refresh",
                root.display()
            );
            return None;
        }
        Some(RootWatch {
            _watcher: watcher,
            changed,
            broken,
        })
    }

    /// Whether anything changed since the last call (or the watch cannot be trusted).
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::SeqCst) || self.broken.load(Ordering::SeqCst)
    }
}
