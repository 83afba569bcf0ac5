//! Alembic's revision files, read as text: `revision`, `down_revision`, `branch_labels` and
//! `depends_on` taken only when they are literals, after comments and docstrings are set aside
//! (a docstring's `revision = '…'` is not code). Importing the files, as Alembic does, would run
//! the application's imports; a value that is not a literal is an error naming `file:line`,
//! never a guess, since one unread revision changes which revisions are heads.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use super::{Graph, Revision};

/// The most a revision file may hold to be read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What one file assigns (the last assignment wins, as in Python).
#[derive(Debug, Default)]
struct Assigned {
    revision: Option<Value>,
    down_revision: Option<Value>,
    branch_labels: Option<Value>,
    depends_on: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    None,
    Strings(Vec<String>),
}

impl Value {
    fn strings(&self) -> Vec<String> {
        match self {
            Value::None => Vec::new(),
            Value::Strings(items) => items.clone(),
        }
    }
}

/// The revision graph of the versions folder `dir` under `root` (resolved).
pub fn read(root: &Path, dir: &str) -> Result<Graph, String> {
    let folder = super::folder(root, dir)?;
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .map_err(|error| format!("the migrations folder {dir} cannot be read: {error}"))?
        .flatten()
        .filter(|entry| {
            entry
                .file_type()
                .is_ok_and(|t| t.is_file() || t.is_symlink())
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        // Alembic's own rule: `.py` files, not editor locks, not `__init__`.
        .filter(|name| {
            name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__")
        })
        .collect();
    names.sort();
    let mut graph = Graph::default();
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut pending_depends: Vec<(String, Vec<String>, String)> = Vec::new();
    for name in names {
        let shown = format!("{}/{name}", dir.trim_end_matches('/'));
        let path = folder.join(&name);
        if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(format!(
                "{shown} is a symbolic link: not followed, so its revision cannot be read"
            ));
        }
        let size = path.symlink_metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "{shown} is over 1 MiB: not read as a revision file"
            ));
        }
        let bytes =
            std::fs::read(&path).map_err(|error| format!("{shown} cannot be read: {error}"))?;
        let text = String::from_utf8_lossy(&bytes);
        let assigned = parse(&text).map_err(|(line, why)| format!("{shown}:{line}: {why}"))?;
        let id = match assigned.revision {
            Some(Value::Strings(ids)) if ids.len() == 1 => ids[0].clone(),
            Some(_) => return Err(format!("{shown}: revision must be one string")),
            None => return Err(format!("{shown}: no revision = '…' in the file")),
        };
        if let Some(other) = graph.revisions.get(&id) {
            return Err(format!(
                "revision {id} is defined twice: {} and {shown}",
                other.file
            ));
        }
        for label in assigned
            .branch_labels
            .as_ref()
            .map(Value::strings)
            .unwrap_or_default()
        {
            labels.insert(label, id.clone());
        }
        pending_depends.push((
            id.clone(),
            assigned
                .depends_on
                .as_ref()
                .map(Value::strings)
                .unwrap_or_default(),
            shown.clone(),
        ));
        graph.revisions.insert(
            id.clone(),
            Revision {
                id,
                down: assigned
                    .down_revision
                    .as_ref()
                    .map(Value::strings)
                    .unwrap_or_default(),
                depends: Vec::new(),
                file: shown,
            },
        );
    }
    if graph.revisions.is_empty() {
        return Err(format!(
            "no revision file in {dir}: a migrations check of nothing proves nothing"
        ));
    }
    for (id, depends, file) in pending_depends {
        let mut resolved = Vec::new();
        for target in depends {
            let target = if graph.revisions.contains_key(&target) {
                target
            } else if let Some(revision) = labels.get(&target) {
                revision.clone()
            } else {
                return Err(format!(
                    "{file}: depends_on {target} is neither a revision nor a branch label in {dir}"
                ));
            };
            resolved.push(target);
        }
        if let Some(revision) = graph.revisions.get_mut(&id) {
            revision.depends = resolved;
        }
    }
    for revision in graph.revisions.values() {
        for down in &revision.down {
            if !graph.revisions.contains_key(down) {
                return Err(format!(
                    "{}: down_revision {down} is not among the files in {dir}",
                    revision.file
                ));
            }
        }
    }
    // A cycle would make every revision both applied and pending.
    for id in graph.revisions.keys() {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![id.as_str()];
        while let Some(at) = stack.pop() {
            for down in &graph.revisions[at].down {
                if down == id {
                    return Err(format!(
                        "revision {id} follows itself through down_revision"
                    ));
                }
                if seen.insert(down.as_str()) {
                    stack.push(down);
                }
            }
        }
    }
    Ok(graph)
}

/// The four assignments of a revision file, or the line and reason of the first one that is
/// not a literal.
fn parse(text: &str) -> Result<Assigned, (usize, String)> {
    let code = code_only(text);
    // Compiled once for every file of every pass.
    static ASSIGNMENT: std::sync::LazyLock<Option<Regex>> = std::sync::LazyLock::new(|| {
        Regex::new(
            r"(?m)^(revision|down_revision|branch_labels|depends_on)[ \t]*(?::[^=\n]*)?=[ \t]*",
        )
        .ok()
    });
    let assignment = ASSIGNMENT
        .as_ref()
        .ok_or((0, "the assignment pattern does not compile".to_string()))?;
    let mut assigned = Assigned::default();
    for found in assignment.captures_iter(&code) {
        let (Some(whole), Some(name)) = (found.get(0), found.get(1)) else {
            continue;
        };
        // `revision == x` is a comparison, not an assignment.
        if code[whole.end()..].starts_with('=') {
            continue;
        }
        let line = code[..whole.start()].matches('\n').count() + 1;
        let value = literal(&code[whole.end()..]).map_err(|why| {
            let shown: String = code[whole.start()..]
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect();
            (
                line,
                format!(
                    "{} is not a literal ({why}); the heads cannot be computed",
                    shown.trim()
                ),
            )
        })?;
        match name.as_str() {
            "revision" => assigned.revision = Some(value),
            "down_revision" => assigned.down_revision = Some(value),
            "branch_labels" => assigned.branch_labels = Some(value),
            _ => assigned.depends_on = Some(value),
        }
    }
    Ok(assigned)
}

/// A literal at the start of `text`: `None`, a string, or a tuple or list of strings (which may
/// span lines); anything after it on its line must be nothing.
fn literal(text: &str) -> Result<Value, String> {
    let mut rest = text;
    let value = if let Some(after) = rest.strip_prefix("None") {
        rest = after;
        Value::None
    } else if rest.starts_with('(') || rest.starts_with('[') {
        let close = if rest.starts_with('(') { ')' } else { ']' };
        rest = &rest[1..];
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(close) {
                rest = after;
                break;
            }
            let (item, after) = string(rest).ok_or("only strings may be listed")?;
            items.push(item);
            rest = after.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with(close) {
                return Err("expected , or the closing bracket".into());
            }
        }
        Value::Strings(items)
    } else {
        let (item, after) = string(rest).ok_or("expected a string, None, or a tuple of strings")?;
        rest = after;
        Value::Strings(vec![item])
    };
    let tail = rest.lines().next().unwrap_or_default().trim();
    if !tail.is_empty() && !tail.starts_with(';') && !tail.starts_with('#') {
        return Err(format!("{tail} follows the value"));
    }
    Ok(value)
}

/// A one-line string literal at the start of `text` (an `r`, `u` or `b` prefix allowed), and
/// what follows it.
fn string(text: &str) -> Option<(String, &str)> {
    let text = text.strip_prefix(['r', 'R', 'u', 'U']).unwrap_or(text);
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut value = String::new();
    let mut chars = text[1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => value.extend(chars.next().map(|(_, c)| c)),
            '\n' => return None,
            c if c == quote => return Some((value, &text[1 + at + 1..])),
            c => value.push(c),
        }
    }
    None
}

/// `text` with comments and triple-quoted strings blanked (newlines kept, so line numbers
/// stay), and one-line strings kept as they are.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let triple = |at: usize, q: char| {
            chars
                .get(at..at + 3)
                .is_some_and(|s| s.iter().all(|c| *c == q))
        };
        if (c == '"' || c == '\'') && triple(at, c) {
            let mut end = at + 3;
            while end < chars.len() && !triple(end, c) {
                end += if chars[end] == '\\' { 2 } else { 1 };
            }
            for skipped in &chars[at..(end + 3).min(chars.len())] {
                out.push(if *skipped == '\n' { '\n' } else { ' ' });
            }
            at = end + 3;
        } else if c == '"' || c == '\'' {
            out.push(c);
            at += 1;
            while at < chars.len() && chars[at] != c && chars[at] != '\n' {
                if chars[at] == '\\' && at + 1 < chars.len() {
                    out.push(chars[at]);
                    at += 1;
                }
                out.push(chars[at]);
                at += 1;
            }
            if at < chars.len() {
                out.push(chars[at]);
                at += 1;
            }
        } else if c == '#' {
            while at < chars.len() && chars[at] != '\n' {
                out.push(' ');
                at += 1;
            }
        } else {
            out.push(c);
            at += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn graph(files: &[(&str, &str)]) -> Result<Graph, String> {
        let root = tempfile::tempdir().unwrap();
        let versions = root.path().join("alembic/versions");
        for (name, text) in files {
            write(&versions, name, text);
        }
        read(&root.path().canonicalize().unwrap(), "alembic/versions")
    }

    #[test]
    fn heads_merges_depends_on_and_branch_labels_as_alembic_computes_them() {
        let graph = graph(&[
            ("a_base.py", "\"\"\"base\n\nrevision = 'zzz'  (a docstring is not code)\n\"\"\"\nrevision = 'a'\ndown_revision = None\nbranch_labels = ('core',)\n"),
            ("b.py", "revision: str = \"b\"\ndown_revision: Union[str, None] = 'a'  # after a\n"),
            ("c.py", "revision = 'c'\ndown_revision = 'a'\n"),
            ("d.py", "revision = 'd'\ndown_revision = 'a'\n"),
            // A three-parent merge.
            ("m.py", "revision = 'm'\ndown_revision = (\n    'b',\n    'c',\n    'd',\n)\n"),
            // Another branch that depends on `core` without following it: a second head.
            ("x.py", "revision = 'x'\ndown_revision = None\ndepends_on = ['core']\n"),
            ("__init__.py", "revision = 'not a revision file'\n"),
        ])
        .unwrap();
        assert_eq!(graph.heads(), ["m", "x"]);
        assert_eq!(graph.revisions["m"].down, ["b", "c", "d"]);
        assert_eq!(
            graph.revisions["x"].depends,
            ["a"],
            "the label resolves to its revision"
        );
        let applied: Vec<&str> = graph.closure(["x"]).into_iter().collect();
        assert_eq!(
            applied,
            ["a", "x"],
            "depends_on is applied with what needs it"
        );
        assert_eq!(graph.depths()["m"], 2);
    }

    #[test]
    fn a_revision_that_is_not_a_literal_is_an_error_naming_file_and_line() {
        let error = graph(&[
            ("a.py", "revision = 'a'\ndown_revision = None\n"),
            (
                "f6_var.py",
                "REV = 'f6'\nrevision = REV\ndown_revision = 'a'\n",
            ),
        ])
        .unwrap_err();
        assert!(
            error.starts_with("alembic/versions/f6_var.py:2: revision = REV is not a literal"),
            "{error}"
        );
        let dangling = graph(&[("b.py", "revision = 'b'\ndown_revision = 'gone'\n")]).unwrap_err();
        assert!(
            dangling.contains("down_revision gone is not among the files"),
            "{dangling}"
        );
        let twice =
            graph(&[("a.py", "revision = 'a'\n"), ("b.py", "revision = 'a'\n")]).unwrap_err();
        assert!(twice.contains("defined twice"), "{twice}");
        let none = graph(&[("README.py", "# nothing\n")]).unwrap_err();
        assert!(none.contains("no revision = "), "{none}");
    }

    #[test]
    fn literals_are_read_exactly() {
        assert_eq!(literal("'abc' # x"), Ok(Value::Strings(vec!["abc".into()])));
        assert_eq!(
            literal("r\"a\\\"b\""),
            Ok(Value::Strings(vec!["a\"b".into()]))
        );
        assert_eq!(literal("None\n"), Ok(Value::None));
        assert_eq!(
            literal("('a', \"b\",)"),
            Ok(Value::Strings(vec!["a".into(), "b".into()]))
        );
        assert!(literal("'a' + 'b'").is_err());
        assert!(literal("get_rev()").is_err());
        assert!(literal("('a', REV)").is_err());
    }
}
