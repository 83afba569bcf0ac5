//! The commit checked out at the code root, read from `.git` without running git: evidence and
//! verifications name the code they saw.

use std::path::{Path, PathBuf};

/// The full hash `HEAD` points to, in the repository holding `root`, if there is one.
pub fn head_commit(root: &Path) -> Option<String> {
    let git = git_dir(root)?;
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_hash(head).then(|| head.to_string());
    };
    // A worktree keeps its refs in the common folder.
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|dir| git.join(dir.trim()))
        .unwrap_or_else(|| git.clone());
    for folder in [&git, &common] {
        if let Ok(hash) = std::fs::read_to_string(folder.join(reference)) {
            let hash = hash.trim();
            if is_hash(hash) {
                return Some(hash.to_string());
            }
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        (name == reference && is_hash(hash)).then(|| hash.to_string())
    })
}

/// The `.git` folder of the repository holding `start` (a `.git` file points elsewhere, as in a
/// worktree or a submodule).
fn git_dir(start: &Path) -> Option<PathBuf> {
    for folder in start.ancestors() {
        let candidate = folder.join(".git");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if let Ok(text) = std::fs::read_to_string(&candidate)
            && let Some(target) = text.trim().strip_prefix("gitdir: ")
        {
            return Some(folder.join(target));
        }
    }
    None
}

fn is_hash(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.chars().all(|c| c.is_ascii_hexdigit())
}
