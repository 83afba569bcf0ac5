//! The code as a source of facts: searches of the files under the code root and the paths
//! that exist there, gathered in one pass per refresh, off the UI, without ever following a
//! symlink or reading outside the root.
//!
//! The [`CodeSource`] lives as long as the engine and keeps a per-file cache (modification
//! time, size and matches), so an unchanged tree costs a walk and a `stat` per file.

mod git;
mod paths;
mod search;
#[cfg(test)]
mod tests;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::plan::{CheckSpec, CodeSearch, MigrationTool, Plan};

pub use paths::PathState;
pub use search::{Found, Location};

/// Limits on what one pass may read; each one reached is an `error` verdict naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    pub max_files: usize,
    pub max_file_bytes: u64,
    pub max_pass: Duration,
    /// The compiled size a pattern may reach (a plan's regex cannot exhaust memory).
    pub max_regex_bytes: usize,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            max_files: 200_000,
            max_file_bytes: 1 << 20,
            max_pass: Duration::from_secs(10),
            max_regex_bytes: 1 << 20,
        }
    }
}

/// What a search looks for and where; two checks with the same search share its result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    pub pattern: Option<String>,
    pub literal: Option<String>,
    pub word: bool,
    pub ignore_case: bool,
    pub paths: Vec<String>,
    pub exclude: Vec<String>,
}

impl From<&CodeSearch> for SearchKey {
    fn from(search: &CodeSearch) -> Self {
        SearchKey {
            pattern: search.pattern.clone(),
            literal: search.literal.clone(),
            word: search.word,
            ignore_case: search.ignore_case,
            paths: search.paths.clone(),
            exclude: search.exclude.clone(),
        }
    }
}

/// What the plan asks of the code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeNeeds {
    pub searches: Vec<SearchKey>,
    pub paths: Vec<String>,
    /// Folders of migration files, with the tool that wrote them.
    pub migration_dirs: Vec<(MigrationTool, String)>,
}

impl CodeNeeds {
    pub fn of(plan: &Plan) -> CodeNeeds {
        let mut needs = CodeNeeds::default();
        for check in plan.all_checks() {
            match &check.spec {
                CheckSpec::CodeAbsent(search) | CheckSpec::CodePresent(search) => {
                    let key = SearchKey::from(search);
                    if !needs.searches.contains(&key) {
                        needs.searches.push(key);
                    }
                }
                CheckSpec::PathExists(path) | CheckSpec::PathAbsent(path)
                    if !needs.paths.contains(&path.path) =>
                {
                    needs.paths.push(path.path.clone());
                }
                CheckSpec::MigrationsApplied(applied) => {
                    let wanted = (applied.tool, applied.dir.clone());
                    if !needs.migration_dirs.contains(&wanted) {
                        needs.migration_dirs.push(wanted);
                    }
                }
                CheckSpec::ColumnsUnreferenced(columns) => {
                    for column in &columns.columns {
                        let key = SearchKey::from(&columns.search(column));
                        if !needs.searches.contains(&key) {
                            needs.searches.push(key);
                        }
                    }
                }
                CheckSpec::MigrationVersion(version) => {
                    if let Some(dir) = &version.dir {
                        let wanted = (MigrationTool::Alembic, dir.clone());
                        if !needs.migration_dirs.contains(&wanted) {
                            needs.migration_dirs.push(wanted);
                        }
                    }
                }
                _ => {}
            }
        }
        needs
    }

    pub fn is_empty(&self) -> bool {
        self.searches.is_empty() && self.paths.is_empty() && self.migration_dirs.is_empty()
    }
}

/// Everything one code pass learned, as the judges see it.
#[derive(Debug, Clone)]
pub struct CodeFacts {
    /// Where the code is (shown in evidence), or why no code can be read at all.
    pub root: Result<PathBuf, String>,
    /// The commit checked out at the root, when it is a git checkout.
    pub commit: Option<String>,
    pub searches: HashMap<SearchKey, Result<Found, String>>,
    pub paths: HashMap<String, Result<PathState, String>>,
    /// Each migrations folder's revision graph (by tool and folder), or why it could not be
    /// read.
    pub migrations:
        HashMap<(MigrationTool, String), Result<crate::check::migrations::MigrationFiles, String>>,
}

impl Default for CodeFacts {
    fn default() -> Self {
        CodeFacts {
            root: Err("the code was not read".into()),
            commit: None,
            searches: HashMap::new(),
            paths: HashMap::new(),
            migrations: HashMap::new(),
        }
    }
}

/// The code of one plan: where it is, which globs never count, and the per-file cache.
#[derive(Debug)]
pub struct CodeSource {
    /// `None`: the plan has no code root (a plan without a file, as in some tests).
    root: Option<PathBuf>,
    exclude: Vec<String>,
    limits: CodeLimits,
    cache: Mutex<search::Cache>,
    /// Whether to watch the root (a long-lived source: the tracker's engine).
    watching: bool,
    /// The watch, once started, and the last pass's needs and facts with when they were had.
    watch: Mutex<Option<watch::RootWatch>>,
    last: Mutex<Option<(CodeNeeds, CodeFacts, std::time::Instant)>>,
    /// One gather at a time, from taking the watch's flag to saving the facts: a second gather
    /// (the database failed, the code is judged alone) waits for the first and reuses what it
    /// found, rather than reading a flag the first already took and serving older facts.
    gate: Mutex<()>,
}

impl CodeSource {
    /// The code under `root` (made absolute and resolved once), never reading what `exclude`
    /// matches.
    pub fn new(root: PathBuf, exclude: Vec<String>, limits: CodeLimits) -> CodeSource {
        // Absolute, so that a location handed to an editor means the same from anywhere.
        let root = std::path::absolute(&root).unwrap_or(root);
        CodeSource {
            root: Some(root),
            exclude,
            limits,
            cache: Mutex::new(search::Cache::default()),
            watching: false,
            watch: Mutex::new(None),
            last: Mutex::new(None),
            gate: Mutex::new(()),
        }
    }

    /// Watches the root as well, so that a refresh over an unchanged tree reads nothing at all
    /// (for a source that lives as long as the tracker).
    pub fn watched(mut self) -> CodeSource {
        self.watching = true;
        self
    }

    /// No code at hand: every code check is an `error` saying so.
    pub fn unset() -> CodeSource {
        CodeSource {
            root: None,
            exclude: Vec::new(),
            limits: CodeLimits::default(),
            cache: Mutex::new(search::Cache::default()),
            watching: false,
            watch: Mutex::new(None),
            last: Mutex::new(None),
            gate: Mutex::new(()),
        }
    }

    /// Where a plan file's code is: `--code-root` (or `REMTRACK_CODE_ROOT`) when given, else
    /// the plan's `code.root` relative to the plan file's folder, else that folder.
    pub fn for_plan(plan: &Plan, plan_file: &Path, code_root: Option<&Path>) -> CodeSource {
        let folder = plan_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let root = match (
            code_root,
            plan.code.as_ref().and_then(|c| c.root.as_deref()),
        ) {
            (Some(root), _) => root.to_path_buf(),
            (None, Some(root)) => folder.join(root),
            (None, None) => folder.to_path_buf(),
        };
        let exclude = plan
            .code
            .as_ref()
            .map(|c| c.exclude.clone())
            .unwrap_or_default();
        CodeSource::new(root, exclude, CodeLimits::default())
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// One pass: every search and path the plan needs. Blocking (file I/O): run it on a
    /// blocking thread.
    pub fn gather(&self, needs: &CodeNeeds) -> CodeFacts {
        if needs.is_empty() {
            return CodeFacts {
                root: Err("no code check in the plan".into()),
                ..CodeFacts::default()
            };
        }
        let root = match self.root.as_deref() {
            None => Err("no code root: give the plan's \"code\" or --code-root".to_string()),
            Some(root) => std::fs::canonicalize(root)
                .map_err(|error| {
                    format!("the code root {} cannot be read: {error}", root.display())
                })
                .and_then(|resolved| {
                    if resolved.is_dir() {
                        Ok(resolved)
                    } else {
                        Err(format!("the code root {} is not a folder", root.display()))
                    }
                }),
        };
        let Ok(resolved) = root.clone() else {
            return CodeFacts {
                root,
                ..CodeFacts::default()
            };
        };
        let _one_at_a_time = lock(&self.gate);
        if self.watching
            && let Some(mut facts) = self.unchanged_since_last(&resolved, needs)
        {
            // The checkout can move without a file under the root changing (a root below the
            // repository's top): the commit is read again every time.
            facts.commit = git::head_commit(&resolved);
            return facts;
        }
        let facts = self.pass(&resolved, needs);
        if self.watching {
            *lock(&self.last) = Some((needs.clone(), facts.clone(), std::time::Instant::now()));
        }
        facts
    }

    /// The last pass's facts, when the watch says nothing changed since and they are under a
    /// minute old (the backstop for events a watch can miss).
    fn unchanged_since_last(&self, resolved: &Path, needs: &CodeNeeds) -> Option<CodeFacts> {
        let mut watch = lock(&self.watch);
        if watch.is_none() {
            *watch = watch::RootWatch::start(resolved);
        }
        // Taken first: a change during the pass that follows marks the next one stale.
        let changed = watch.as_ref().is_none_or(watch::RootWatch::take_changed);
        let last = lock(&self.last);
        match &*last {
            Some((last_needs, facts, at))
                if !changed && last_needs == needs && at.elapsed() < search::FULL_PASS_EVERY =>
            {
                lock(&self.cache).last_reads = 0;
                Some(facts.clone())
            }
            _ => None,
        }
    }

    /// One pass over the tree (the cache spares the files that did not change).
    fn pass(&self, resolved: &Path, needs: &CodeNeeds) -> CodeFacts {
        let searches = {
            let mut cache = lock(&self.cache);
            search::run(
                resolved,
                &needs.searches,
                &self.exclude,
                self.limits,
                &mut cache,
            )
        };
        let paths = needs
            .paths
            .iter()
            .map(|path| (path.clone(), paths::state(resolved, path, &self.exclude)))
            .collect();
        let migrations = needs
            .migration_dirs
            .iter()
            .map(|(tool, dir)| {
                use crate::check::migrations::{
                    MigrationFiles, alembic, flyway, golang_migrate, sqitch,
                };
                let files = match tool {
                    MigrationTool::Alembic => {
                        alembic::read(resolved, dir).map(MigrationFiles::Graph)
                    }
                    MigrationTool::GolangMigrate => {
                        golang_migrate::read(resolved, dir).map(MigrationFiles::Graph)
                    }
                    MigrationTool::Flyway => {
                        flyway::read(resolved, dir).map(MigrationFiles::Flyway)
                    }
                    MigrationTool::Sqitch => {
                        sqitch::read(resolved, dir).map(MigrationFiles::Sqitch)
                    }
                };
                ((*tool, dir.clone()), files)
            })
            .collect();
        CodeFacts {
            migrations,
            commit: git::head_commit(resolved),
            root: Ok(self.root.clone().unwrap_or_else(|| resolved.to_path_buf())),
            searches,
            paths,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a plan path may not be read, if it may not: it must be relative, `/`-separated, without
/// `..`, so a plan from someone else only ever reads under the code root.
pub fn path_problem(path: &str) -> Option<String> {
    if path.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Some(format!(
            "\"{path}\" is not relative to the code root: paths in a plan may only name files under it"
        ));
    }
    if path.contains('\\') {
        return Some(format!("\"{path}\": separate folders with '/', not '\\'"));
    }
    if path.split('/').any(|part| part == "..") {
        return Some(format!(
            "\"{path}\" leaves the code root (..): paths in a plan may only name files under it"
        ));
    }
    None
}

/// A code location from a verdict's `locations` fact (`{"file", "line", "text"}`, as the code
/// judges write it): the file under the code root and the line.
pub fn location_of(location: &serde_json::Value) -> Option<(&str, u64)> {
    Some((
        location.get("file")?.as_str()?,
        location.get("line")?.as_u64()?,
    ))
}
