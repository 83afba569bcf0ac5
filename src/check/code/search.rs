//! Searching the files under the root: one gitignore-aware walk for every search of the plan,
//! each file read at most once per pass, and not at all when the cache says it is unchanged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use grep_matcher::Matcher as _;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{SearcherBuilder, sinks::Lossy};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{CodeLimits, SearchKey};
use crate::printable::one_line;

/// The locations shown (the count says how many more there are).
pub const LOCATIONS_SHOWN: usize = 20;
/// How much of a line evidence shows around a match: lines can hold secrets, and evidence is
/// stored.
const CONTEXT_CHARS: usize = 40;
/// A file changed this recently may change again within the same tick of its clock: it is
/// read again rather than trusted to the cache.
const RACY: Duration = Duration::from_secs(2);
/// However quiet the tree, the cache is dropped this often (a backstop for clocks and file
/// systems that do not move a file's modification time).
pub(super) const FULL_PASS_EVERY: Duration = Duration::from_secs(60);

/// One match, as evidence shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Relative to the root, `/`-separated.
    pub file: String,
    pub line: u64,
    /// The matched span with a little context, on one line.
    pub excerpt: String,
}

/// What one search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub matches: usize,
    pub files_with_matches: usize,
    /// The first [`LOCATIONS_SHOWN`], in path order.
    pub locations: Vec<Location>,
    /// Files in the search's scope that were searched.
    pub files_searched: usize,
    pub binary_skipped: usize,
    pub too_big_skipped: usize,
    /// Files or folders in scope (or possibly in scope) that could not be read.
    pub unreadable: usize,
}

/// What is known of each file from earlier passes.
#[derive(Debug, Default)]
pub struct Cache {
    files: HashMap<PathBuf, CachedFile>,
    last_full: Option<Instant>,
    /// For the benchmark and the tests: files read in the last pass.
    pub last_reads: usize,
}

#[derive(Debug)]
struct CachedFile {
    modified: Option<SystemTime>,
    len: u64,
    /// Inode and change time: a file replaced by one of the same size and an older, equal
    /// modification time (`cp -p`, `rsync -t`, `tar x`) still differs in these.
    identity: (u64, i64, i64),
    /// When it was read: a change within [`RACY`] of that is not trusted.
    read_at: SystemTime,
    binary: bool,
    /// Matching lines per search: line number and excerpt.
    lines: HashMap<SearchKey, Vec<(u64, String)>>,
}

/// A search made ready for a pass.
struct Prepared<'a> {
    key: &'a SearchKey,
    matcher: Result<RegexMatcher, String>,
    include: Option<Gitignore>,
    exclude: Gitignore,
    found: Found,
    in_scope: usize,
}

/// Runs every search over the tree under `root` (already resolved), returning each one's
/// result or why it could not be had.
pub fn run(
    root: &Path,
    searches: &[SearchKey],
    exclude: &[String],
    limits: CodeLimits,
    cache: &mut Cache,
) -> HashMap<SearchKey, Result<Found, String>> {
    let started = Instant::now();
    if searches.is_empty() {
        return HashMap::new();
    }
    if cache
        .last_full
        .is_none_or(|at| at.elapsed() >= FULL_PASS_EVERY)
    {
        cache.files.clear();
        cache.last_full = Some(Instant::now());
    }
    cache.last_reads = 0;
    let mut prepared: Vec<Prepared> = searches
        .iter()
        .map(|key| Prepared {
            key,
            matcher: matcher(key, limits),
            include: (!key.paths.is_empty()).then(|| globs(root, &key.paths)),
            exclude: globs(root, &key.exclude),
            found: Found::default(),
            in_scope: 0,
        })
        .collect();
    let plan_exclude = globs(root, exclude);
    let mut searcher = SearcherBuilder::new().line_number(true).build();
    let mut seen = HashSet::new();
    let mut files = 0usize;
    let mut stopped: Option<String> = None;
    // A folder that cannot be listed may hold anything: every search counts it as unread.
    let mut unreadable_folders = 0usize;
    for entry in files_under(root, root, &plan_exclude) {
        let Ok((entry, relative)) = entry else {
            unreadable_folders += 1;
            continue;
        };
        let relative = relative.as_path();
        files += 1;
        if files > limits.max_files {
            stopped = Some(format!(
                "the code pass stopped after {} files (max_files): narrow the code root or add \
                 \"exclude\" globs",
                limits.max_files
            ));
            break;
        }
        if started.elapsed() > limits.max_pass {
            stopped = Some(format!(
                "the code pass took longer than {} s (max_pass) and stopped",
                limits.max_pass.as_secs()
            ));
            break;
        }
        let wanted: Vec<usize> = prepared
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.matcher.is_ok()
                    && p.include.as_ref().is_none_or(|include| {
                        include
                            .matched_path_or_any_parents(relative, false)
                            .is_ignore()
                    })
                    && !p
                        .exclude
                        .matched_path_or_any_parents(relative, false)
                        .is_ignore()
            })
            .map(|(index, _)| index)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let path = entry.path().to_path_buf();
        seen.insert(path.clone());
        for &index in &wanted {
            prepared[index].in_scope += 1;
        }
        if meta.len() > limits.max_file_bytes {
            for &index in &wanted {
                prepared[index].found.too_big_skipped += 1;
            }
            continue;
        }
        let modified = meta.modified().ok();
        let identity = {
            use std::os::unix::fs::MetadataExt as _;
            (meta.ino(), meta.ctime(), meta.ctime_nsec())
        };
        let now = SystemTime::now();
        let fresh = cache.files.get(&path).is_some_and(|cached| {
            cached.modified == modified
                && cached.len == meta.len()
                && cached.identity == identity
                && modified.is_some_and(|m| {
                    cached
                        .read_at
                        .duration_since(m)
                        .is_ok_and(|since| since >= RACY)
                })
                && (cached.binary
                    || wanted
                        .iter()
                        .all(|&i| cached.lines.contains_key(prepared[i].key)))
        });
        if !fresh {
            cache.last_reads += 1;
            let Ok(bytes) = std::fs::read(&path) else {
                for &index in &wanted {
                    prepared[index].found.unreadable += 1;
                }
                continue;
            };
            // A file is binary at its first NUL byte, as ripgrep decides.
            let binary = bytes.contains(&0);
            let mut lines = HashMap::new();
            if !binary {
                for &index in &wanted {
                    let Ok(matcher) = &prepared[index].matcher else {
                        continue;
                    };
                    lines.insert(
                        prepared[index].key.clone(),
                        search_bytes(&mut searcher, matcher, &bytes),
                    );
                }
            }
            cache.files.insert(
                path.clone(),
                CachedFile {
                    modified,
                    len: meta.len(),
                    identity,
                    read_at: now,
                    binary,
                    lines,
                },
            );
        }
        let Some(cached) = cache.files.get(&path) else {
            continue;
        };
        let shown_path = relative.to_string_lossy().replace('\\', "/");
        for &index in &wanted {
            let key = prepared[index].key;
            let found = &mut prepared[index].found;
            if cached.binary {
                found.binary_skipped += 1;
                continue;
            }
            found.files_searched += 1;
            let Some(lines) = cached.lines.get(key) else {
                continue;
            };
            if lines.is_empty() {
                continue;
            }
            found.files_with_matches += 1;
            found.matches += lines.len();
            for (line, excerpt) in lines {
                if found.locations.len() < LOCATIONS_SHOWN {
                    found.locations.push(Location {
                        file: one_line(&shown_path),
                        line: *line,
                        excerpt: excerpt.clone(),
                    });
                }
            }
        }
    }
    // Files gone from the tree (or from every scope) leave the cache.
    if stopped.is_none() {
        cache.files.retain(|path, _| seen.contains(path));
    }
    prepared
        .into_iter()
        .map(|mut p| {
            p.found.unreadable += unreadable_folders;
            let result = match (&stopped, p.matcher) {
                (Some(why), _) => Err(why.clone()),
                (None, Err(why)) => Err(why),
                (None, Ok(_)) if p.in_scope == 0 => Err(empty_scope(p.key)),
                (None, Ok(_)) => Ok(p.found),
            };
            (p.key.clone(), result)
        })
        .collect()
}

/// The walk: `.gitignore`, `.ignore`, `.git/info/exclude` and `.remtrackignore` honoured, the
/// person's global gitignore not (two teammates get the same verdict), hidden files and `.git`
/// skipped, symlinks never followed, one file system, in a stable order.
pub(super) fn walker(root: &Path) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(true)
        .follow_links(false)
        .git_global(false)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .same_file_system(true)
        .add_custom_ignore_filename(".remtrackignore")
        .sort_by_file_name(|a, b| a.cmp(b));
    builder
}

/// The regular files under `start` (inside `root`) that count, with their path relative to the
/// root: symlinks passed over (never followed), the plan's `exclude` left out. An entry that
/// cannot be read is an `Err`: a folder that cannot be listed may hold anything.
pub(super) fn files_under<'a>(
    root: &'a Path,
    start: &Path,
    exclude: &'a Gitignore,
) -> impl Iterator<Item = Result<(ignore::DirEntry, PathBuf), ignore::Error>> + 'a {
    walker(start).build().filter_map(move |entry| {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => return Some(Err(error)),
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            return None;
        }
        let relative = entry.path().strip_prefix(root).ok()?.to_path_buf();
        if exclude
            .matched_path_or_any_parents(&relative, false)
            .is_ignore()
        {
            return None;
        }
        Some(Ok((entry, relative)))
    })
}

/// gitignore-style globs under `root`: a plain name matches at any depth, a folder matches
/// everything in it.
pub(super) fn globs(root: &Path, patterns: &[String]) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        // Validation rejected bad globs already; a bad one here matches nothing.
        let _ = builder.add_line(None, pattern);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

fn matcher(key: &SearchKey, limits: CodeLimits) -> Result<RegexMatcher, String> {
    let (text, literal) = match (&key.literal, &key.pattern) {
        (Some(literal), _) => (literal.as_str(), true),
        (None, Some(pattern)) => (pattern.as_str(), false),
        (None, None) => return Err("the check gives neither \"pattern\" nor \"literal\"".into()),
    };
    RegexMatcherBuilder::new()
        .fixed_strings(literal)
        .word(key.word)
        .case_insensitive(key.ignore_case)
        .size_limit(limits.max_regex_bytes)
        .dfa_size_limit(limits.max_regex_bytes)
        .build(text)
        .map_err(|error| {
            format!(
                "the pattern cannot be used: {}",
                one_line(&error.to_string())
            )
        })
}

/// Every matching line of `bytes`: its number and the match with a little context.
fn search_bytes(
    searcher: &mut grep_searcher::Searcher,
    matcher: &RegexMatcher,
    bytes: &[u8],
) -> Vec<(u64, String)> {
    let mut lines = Vec::new();
    let _ = searcher.search_slice(
        matcher,
        bytes,
        Lossy(|number, line| {
            let excerpt = match matcher.find(line.as_bytes()) {
                Ok(Some(span)) => excerpt(line, span.start(), span.end()),
                _ => one_line(line.trim()),
            };
            lines.push((number, excerpt));
            Ok(true)
        }),
    );
    lines
}

/// The match at `start..end` of `line` with up to [`CONTEXT_CHARS`] on each side. A byte-level
/// pattern may match inside a character: the span widens to whole characters.
fn excerpt(line: &str, start: usize, end: usize) -> String {
    let mut start = start.min(line.len());
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = end.clamp(start, line.len());
    while !line.is_char_boundary(end) {
        end += 1;
    }
    let before: String = line[..start]
        .chars()
        .rev()
        .take(CONTEXT_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = line[end..].chars().take(CONTEXT_CHARS).collect();
    let cut_before = before.len() < start;
    let cut_after = after.len() < line.len() - end;
    one_line(&format!(
        "{}{}{}{}{}",
        if cut_before { "…" } else { "" },
        before.trim_start(),
        &line[start..end],
        after.trim_end(),
        if cut_after { "…" } else { "" }
    ))
}

fn empty_scope(key: &SearchKey) -> String {
    if key.paths.is_empty() {
        "no file to search under the code root (everything is ignored or excluded)".into()
    } else {
        format!(
            "no file under the code root matches {}: a search of nothing proves nothing",
            key.paths.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn an_excerpt_never_cuts_a_character_even_for_a_byte_level_match() {
        let line = "café = session_id";
        // A match that starts and ends inside `é` (bytes 3..5).
        for (start, end) in [(4, 5), (3, 4), (4, 4), (0, 100), (100, 100)] {
            let shown = excerpt(line, start, end);
            assert!(shown.contains("caf"), "{start}..{end}: {shown}");
        }
    }
}
