//! Whether a path exists under the code root, as a person cleaning up a tree means it: a
//! folder left holding only ignored leftovers (`__pycache__`, build output) is gone.

use std::path::Path;

use super::search::{files_under, globs};

/// What is at a path under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathState {
    Missing,
    File,
    /// A symbolic link (never followed: where it points is not looked at).
    Symlink,
    /// A folder with files that count: how many, and the first few.
    Folder {
        files: usize,
        first: Vec<String>,
    },
    /// A folder whose every file is ignored (by `.gitignore` and the like) or excluded.
    OnlyIgnored {
        ignored: usize,
    },
}

/// The first files named in evidence.
const FIRST_FILES: usize = 3;

/// A path is only proven gone where the tree it would be in is there: with not even its first
/// folder under the root (`backend/` for `backend/app/api/v1`), the root is most likely the
/// wrong folder, and "gone" would be a false "done".
fn top_folder_present(root: &Path, path: &str) -> Result<(), String> {
    let mut parts = Path::new(path.trim_end_matches('/')).components();
    let (Some(first), Some(_)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let first = Path::new(first.as_os_str());
    match root.join(first).symlink_metadata() {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "neither {path} nor {}/ is under the code root {}: is that the right folder? \
             (--code-root, or \"code\": {{\"root\": …}} in the plan)",
            first.display(),
            root.display()
        )),
        Err(error) => Err(format!("{} cannot be looked at: {error}", first.display())),
    }
}

/// What is at `path` (relative, checked by validation) under `root` (resolved).
pub fn state(root: &Path, path: &str, exclude: &[String]) -> Result<PathState, String> {
    let full = root.join(path.trim_end_matches('/'));
    let meta = match full.symlink_metadata() {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return top_folder_present(root, path).map(|()| PathState::Missing);
        }
        Err(error) => return Err(format!("{path} cannot be looked at: {error}")),
    };
    if meta.file_type().is_symlink() {
        return Ok(PathState::Symlink);
    }
    // A parent that is a symlink would lead outside the root: resolve and compare.
    match full.canonicalize() {
        Ok(resolved) if resolved.starts_with(root) => {}
        Ok(_) => {
            return Err(format!(
                "{path} leads outside the code root through a symlink"
            ));
        }
        Err(error) => return Err(format!("{path} cannot be resolved: {error}")),
    }
    if !meta.is_dir() {
        return Ok(PathState::File);
    }
    let plan_exclude = globs(root, exclude);
    // The root's own ignore files apply inside the folder too (the walker reads parents').
    let mut counted = Vec::new();
    for entry in files_under(root, &full, &plan_exclude) {
        // A part of the folder that cannot be read may hold files that count.
        let (_, relative) =
            entry.map_err(|error| format!("{path} cannot be read whole: {error}"))?;
        counted.push(relative.to_string_lossy().replace('\\', "/"));
    }
    if !counted.is_empty() {
        return Ok(PathState::Folder {
            files: counted.len(),
            first: counted.into_iter().take(FIRST_FILES).collect(),
        });
    }
    Ok(PathState::OnlyIgnored {
        ignored: count_files(&full)
            .map_err(|error| format!("{path} cannot be read whole: {error}"))?,
    })
}

/// Every file under `dir`, ignored or not (symlinks counted, never followed).
fn count_files(dir: &Path) -> std::io::Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        count += if entry.file_type()?.is_dir() {
            count_files(&entry.path())?
        } else {
            1
        };
    }
    Ok(count)
}
