//! Code checks: what the code pass found under the root, against what the check allows.

use crate::check::Verdict;
use crate::check::code::{CodeFacts, Found, PathState, SearchKey};
use crate::plan::{CodeSearch, ColumnsUnreferenced};

/// `columns_unreferenced`: of the listed columns the database still has, none is named (as a
/// whole word) in the code.
pub fn columns_unreferenced(
    facts: &super::Facts<'_>,
    code: &CodeFacts,
    spec: &ColumnsUnreferenced,
) -> Verdict {
    // Whatever the name means (a view still showing the column counts), as PostgreSQL resolves
    // it; only nothing at all means nothing is left to drop.
    let relation = match facts.resolve(spec.schema.as_deref(), &spec.table) {
        crate::check::facts::Resolved::Relation(relation) => relation,
        crate::check::facts::Resolved::Nothing => {
            return Verdict::pass(format!(
                "nothing left to drop: nothing named {} {}",
                spec.table,
                facts.looked_in(spec.schema.as_deref())
            ));
        }
    };
    let table = facts.shown(relation);
    let mut gone = Vec::new();
    let mut safe = Vec::new();
    let mut referenced = Vec::new();
    let mut searched = 0;
    for column in &spec.columns {
        if !relation.columns.iter().any(|c| &c.name == column) {
            gone.push(format!("{table}.{column}"));
            continue;
        }
        let found = match found(code, &spec.search(column)) {
            Ok(found) => found,
            Err(why) => return Verdict::error(why),
        };
        searched = searched.max(found.files_searched);
        if found.matches == 0
            && let Some(why) = not_searched(found)
        {
            return Verdict::error(format!(
                "cannot say {table}.{column} is unreferenced: {why}"
            ));
        }
        if found.matches == 0 {
            safe.push(format!("{table}.{column}"));
        } else {
            let first = found
                .locations
                .first()
                .map(|l| format!(" (first {}:{})", l.file, l.line))
                .unwrap_or_default();
            referenced.push(format!(
                "{table}.{column} still referenced in {}{first}",
                places(found)
            ));
        }
    }
    let gone_note = if gone.is_empty() {
        String::new()
    } else {
        format!(" · already gone from the database: {}", gone.join(", "))
    };
    if !referenced.is_empty() {
        return Verdict::fail(format!("{}{gone_note}", referenced.join("; ")));
    }
    if safe.is_empty() {
        return Verdict::pass(format!("nothing left to drop{gone_note}"));
    }
    Verdict::pass(format!(
        "{} referenced nowhere in {}: safe to drop{}{gone_note}",
        safe.join(", "),
        files(searched),
        tail_commit(code)
    ))
}

/// " · at 3f9c2e1" when the code is a git checkout.
fn tail_commit(code: &CodeFacts) -> String {
    code.commit
        .as_ref()
        .map(|commit| format!(" · at {}", &commit[..commit.len().min(7)]))
        .unwrap_or_default()
}

/// `code_absent`: at most `max_matches` (default 0) matches remain.
pub fn code_absent(code: &CodeFacts, search: &CodeSearch) -> Verdict {
    let found = match found(code, search) {
        Ok(found) => found,
        Err(why) => return Verdict::error(why),
    };
    let allowed = search.max_matches.unwrap_or(0);
    let what = search.shown();
    // What was not searched may hold the pattern: absence cannot be claimed past it.
    if let Some(why) = not_searched(found)
        && found.matches as u64 <= allowed
    {
        return with_facts(
            Verdict::error(format!("cannot say {what} is absent: {why}")),
            code,
            found,
        );
    }
    let verdict = if found.matches as u64 <= allowed && found.matches == 0 {
        Verdict::pass(format!(
            "no match for {what} in {}{}",
            files(found.files_searched),
            tail(code, found)
        ))
    } else if found.matches as u64 <= allowed {
        Verdict::pass(format!(
            "{what} in {} (at most {allowed} allowed): {}{}",
            places(found),
            locations(found),
            tail(code, found)
        ))
    } else {
        let bound = if allowed == 0 {
            String::new()
        } else {
            format!(" (at most {allowed} allowed)")
        };
        Verdict::fail(format!(
            "{what} still in {}{bound}: {}{}",
            places(found),
            locations(found),
            tail(code, found)
        ))
    };
    with_facts(verdict, code, found)
}

/// `code_present`: at least `min_matches` (default 1) matches.
pub fn code_present(code: &CodeFacts, search: &CodeSearch) -> Verdict {
    let found = match found(code, search) {
        Ok(found) => found,
        Err(why) => return Verdict::error(why),
    };
    let wanted = search.min_matches.unwrap_or(1);
    let what = search.shown();
    let verdict = if found.matches as u64 >= wanted && found.matches > 0 {
        Verdict::pass(format!(
            "{what} found in {}: {}{}",
            places(found),
            locations(found),
            tail(code, found)
        ))
    } else if found.matches == 0 {
        Verdict::fail(format!(
            "no match for {what} in {}{}",
            files(found.files_searched),
            tail(code, found)
        ))
    } else {
        Verdict::fail(format!(
            "{what} in only {} (at least {wanted} wanted): {}{}",
            places(found),
            locations(found),
            tail(code, found)
        ))
    };
    with_facts(verdict, code, found)
}

/// `path_exists`: a file, a link, or a folder with files that count.
pub fn path_exists(code: &CodeFacts, path: &str) -> Verdict {
    match state(code, path) {
        Err(why) => Verdict::error(why),
        Ok(PathState::File) => Verdict::pass(format!("{path} exists (a file)")),
        Ok(PathState::Symlink) => Verdict::pass(format!("{path} exists (a symbolic link)")),
        Ok(PathState::Folder { files, first }) => Verdict::pass(format!(
            "{path} exists: {} ({})",
            self::files(*files),
            listed(first, *files)
        )),
        Ok(PathState::OnlyIgnored { ignored }) => Verdict::fail(format!(
            "{path} holds only ignored files ({}): nothing that counts is there",
            self::files(*ignored)
        )),
        Ok(PathState::Missing) => Verdict::fail(format!("no {path} under the code root")),
    }
}

/// `path_absent`: nothing there, or a folder of ignored leftovers.
pub fn path_absent(code: &CodeFacts, path: &str) -> Verdict {
    match state(code, path) {
        Err(why) => Verdict::error(why),
        Ok(PathState::Missing) => Verdict::pass(format!("{path} is gone")),
        Ok(PathState::OnlyIgnored { ignored }) => Verdict::pass(format!(
            "{path} is gone ({} ignored leftover{} remain, such as __pycache__)",
            ignored,
            if *ignored == 1 { "" } else { "s" }
        )),
        Ok(PathState::File) => Verdict::fail(format!("{path} still exists (a file)")),
        Ok(PathState::Symlink) => Verdict::fail(format!("{path} still exists (a symbolic link)")),
        Ok(PathState::Folder { files, first }) => Verdict::fail(format!(
            "{path} still exists: {} ({})",
            self::files(*files),
            listed(first, *files)
        )),
    }
}

/// Files in scope that were not searched for a reason other than being binary, if any.
fn not_searched(found: &Found) -> Option<String> {
    let mut reasons = Vec::new();
    if found.too_big_skipped > 0 {
        reasons.push(format!("{} over 1 MiB", files(found.too_big_skipped)));
    }
    if found.unreadable > 0 {
        reasons.push(format!("{} that could not be read", found.unreadable));
    }
    (!reasons.is_empty()).then(|| format!("{} were not searched", reasons.join(" and ")))
}

fn found<'a>(code: &'a CodeFacts, search: &CodeSearch) -> Result<&'a Found, String> {
    code.root.as_ref().map_err(Clone::clone)?;
    match code.searches.get(&SearchKey::from(search)) {
        Some(Ok(found)) => Ok(found),
        Some(Err(why)) => Err(why.clone()),
        None => Err("the code was not searched for this check".into()),
    }
}

fn state<'a>(code: &'a CodeFacts, path: &str) -> Result<&'a PathState, String> {
    code.root.as_ref().map_err(Clone::clone)?;
    match code.paths.get(path) {
        Some(Ok(state)) => Ok(state),
        Some(Err(why)) => Err(why.clone()),
        None => Err("the path was not looked at".into()),
    }
}

/// "1 file", "1,204 files".
fn files(count: usize) -> String {
    format!(
        "{} file{}",
        thousands(count),
        if count == 1 { "" } else { "s" }
    )
}

/// "37 places in 12 files", "1 place in 1 file".
fn places(found: &Found) -> String {
    format!(
        "{} place{} in {}",
        thousands(found.matches),
        if found.matches == 1 { "" } else { "s" },
        files(found.files_with_matches)
    )
}

/// "a.py:42, b.py:17, … (+32)".
fn locations(found: &Found) -> String {
    let shown: Vec<String> = found
        .locations
        .iter()
        .map(|l| format!("{}:{}", l.file, l.line))
        .collect();
    let more = found.matches.saturating_sub(shown.len());
    if more > 0 {
        format!("{}, … (+{more})", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn listed(first: &[String], total: usize) -> String {
    if total > first.len() {
        format!("{}, …", first.join(", "))
    } else {
        first.join(", ")
    }
}

/// " · at 3f9c2e1 · 3 binary, 1 too big skipped".
fn tail(code: &CodeFacts, found: &Found) -> String {
    let mut out = tail_commit(code);
    let mut skipped = Vec::new();
    if found.binary_skipped > 0 {
        skipped.push(format!("{} binary", found.binary_skipped));
    }
    if found.too_big_skipped > 0 {
        skipped.push(format!("{} too big", found.too_big_skipped));
    }
    if !skipped.is_empty() {
        out.push_str(&format!(" · {} skipped", skipped.join(", ")));
    }
    out
}

fn with_facts(verdict: Verdict, code: &CodeFacts, found: &Found) -> Verdict {
    let locations: Vec<serde_json::Value> = found
        .locations
        .iter()
        .map(|l| serde_json::json!({"file": l.file, "line": l.line, "text": l.excerpt}))
        .collect();
    let mut verdict = verdict
        .with_fact("matches", found.matches)
        .with_fact("files_with_matches", found.files_with_matches)
        .with_fact("files_searched", found.files_searched)
        .with_fact("locations", locations);
    if let Some(commit) = &code.commit {
        verdict = verdict.with_fact("commit", commit.clone());
    }
    verdict
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
