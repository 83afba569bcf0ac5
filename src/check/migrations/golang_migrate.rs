//! golang-migrate's files: `<version>_<name>.up.<ext>` (and `.down.`), versions compared as
//! numbers. They form a line: each version follows the one before it, so the graph's closure of
//! the recorded version is every version up to it.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Graph, Revision};

/// The versions of the migrations folder `dir` under `root` (resolved), as a line.
pub fn read(root: &Path, dir: &str) -> Result<Graph, String> {
    let folder = super::folder(root, dir)?;
    let mut versions: BTreeMap<u128, String> = BTreeMap::new();
    for entry in std::fs::read_dir(&folder)
        .map_err(|error| format!("the migrations folder {dir} cannot be read: {error}"))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type();
        if kind.as_ref().is_ok_and(|t| t.is_symlink()) && name.contains(".up.") {
            return Err(format!(
                "{}/{name} is a symbolic link: not followed, so its migration cannot be judged",
                dir.trim_end_matches('/')
            ));
        }
        if !kind.is_ok_and(|t| t.is_file()) {
            continue;
        }
        // golang-migrate's own pattern: ^([0-9]+)_(.*)\.(down|up)\.(.*)$
        let Some((version, rest)) = name.split_once('_') else {
            continue;
        };
        let is_up = rest.contains(".up.");
        if !is_up && !rest.contains(".down.") {
            continue;
        }
        let Ok(number) = version.parse::<u128>() else {
            continue;
        };
        if !is_up {
            continue;
        }
        let shown = format!("{}/{name}", dir.trim_end_matches('/'));
        if let Some(other) = versions.insert(number, shown.clone()) {
            return Err(format!(
                "version {number} is defined twice: {other} and {shown}"
            ));
        }
    }
    if versions.is_empty() {
        return Err(format!(
            "no .up. migration file in {dir}: a migrations check of nothing proves nothing"
        ));
    }
    let mut graph = Graph::default();
    let mut previous: Option<String> = None;
    for (number, file) in versions {
        let id = number.to_string();
        graph.revisions.insert(
            id.clone(),
            Revision {
                id: id.clone(),
                down: previous.iter().cloned().collect(),
                depends: Vec::new(),
                file,
            },
        );
        previous = Some(id);
    }
    Ok(graph)
}
