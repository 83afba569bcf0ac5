//! Migration files as a source of facts: the revisions a tool would apply, read from the files
//! without running the tool (or the application it imports), as a graph to compare with the
//! registry the database keeps.

pub mod alembic;
pub mod flyway;
pub mod golang_migrate;
pub mod sqitch;

use std::collections::{BTreeMap, BTreeSet};

/// The folder `dir` under `root` (resolved), when it is a folder there: not a symlink, and not
/// leading outside the root through one.
fn folder(root: &std::path::Path, dir: &str) -> Result<std::path::PathBuf, String> {
    let folder = root.join(dir.trim_end_matches('/'));
    let meta = folder
        .symlink_metadata()
        .map_err(|error| format!("the migrations folder {dir} cannot be read: {error}"))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(format!(
            "{dir} is not a folder (symbolic links are not followed)"
        ));
    }
    match folder.canonicalize() {
        Ok(resolved) if resolved.starts_with(root) => Ok(folder),
        _ => Err(format!("{dir} leads outside the code root")),
    }
}

/// What a migrations folder holds, as its tool sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationFiles {
    /// Alembic's revisions, or golang-migrate's versions as a line.
    Graph(Graph),
    Flyway(flyway::FlywayFiles),
    Sqitch(sqitch::SqitchPlan),
}

/// One revision read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub id: String,
    /// The revisions it follows (several at a merge; none at a base).
    pub down: Vec<String>,
    /// Revisions it needs without following them (`depends_on`), resolved to ids.
    pub depends: Vec<String>,
    /// The file, relative to the code root.
    pub file: String,
}

/// Every revision of a migrations folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub revisions: BTreeMap<String, Revision>,
}

impl Graph {
    /// Revisions no other revision follows, in id order.
    pub fn heads(&self) -> Vec<&str> {
        let followed: BTreeSet<&str> = self
            .revisions
            .values()
            .flat_map(|r| r.down.iter().map(String::as_str))
            .collect();
        self.revisions
            .keys()
            .map(String::as_str)
            .filter(|id| !followed.contains(id))
            .collect()
    }

    /// `ids` and every revision they follow or depend on: what is applied when the registry
    /// records `ids`.
    pub fn closure<'a>(&'a self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = ids.into_iter().collect();
        while let Some(id) = stack.pop() {
            let Some(revision) = self.revisions.get(id) else {
                continue;
            };
            if seen.insert(revision.id.as_str()) {
                stack.extend(revision.down.iter().map(String::as_str));
                stack.extend(revision.depends.iter().map(String::as_str));
            }
        }
        seen
    }

    /// How many steps from a base each revision is (the longest way), for listing pending
    /// revisions in the order they would be applied.
    pub fn depths(&self) -> BTreeMap<&str, usize> {
        let mut memo = BTreeMap::new();
        for id in self.revisions.keys() {
            self.depth_memo(id, &mut memo, 0);
        }
        memo
    }

    fn depth_memo<'a>(
        &'a self,
        id: &'a str,
        memo: &mut BTreeMap<&'a str, usize>,
        guard: usize,
    ) -> usize {
        if let Some(depth) = memo.get(id) {
            return *depth;
        }
        // A cycle is refused when the graph is read; the guard only keeps a bug finite.
        if guard > self.revisions.len() {
            return 0;
        }
        let depth = self.revisions.get(id).map_or(0, |r| {
            r.down
                .iter()
                .map(|d| self.depth_memo(d, memo, guard + 1) + 1)
                .max()
                .unwrap_or(0)
        });
        memo.insert(id, depth);
        depth
    }
}
