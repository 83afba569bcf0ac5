//! Migration files against the registry: every revision of the files applied, and a revision
//! applied when it is recorded or an ancestor of a recorded one (Alembic keeps only heads).

use super::Facts;
use super::data::{Unrecorded, recorded, revision_verdict};
use crate::check::Verdict;
use crate::check::code::CodeFacts;
use crate::check::migrations::{Graph, MigrationFiles};
use crate::plan::{DEFAULT_MIGRATION_COLUMN, MigrationTool, MigrationVersion, MigrationsApplied};

/// `migrations_applied`: the closure of what the registry records covers every revision of the
/// files, and the registry records nothing the files do not know.
pub fn migrations_applied(
    facts: &Facts<'_>,
    code: &CodeFacts,
    spec: &MigrationsApplied,
) -> Verdict {
    match spec.tool {
        MigrationTool::GolangMigrate => return golang_migrate(facts, code, spec),
        MigrationTool::Flyway => return flyway(facts, code, spec),
        MigrationTool::Sqitch => return sqitch(facts, code, spec),
        MigrationTool::Alembic => {}
    }
    let graph = match graph(code, spec.tool, &spec.dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let total = graph.revisions.len();
    let heads = graph.heads();
    let (table_name, rows) = match recorded(
        facts,
        spec.registry_schema(),
        spec.registry_table(),
        DEFAULT_MIGRATION_COLUMN,
    ) {
        Ok(found) => found,
        Err(unrecorded) => {
            return unrecorded.verdict(&format!("none of the {total} revisions is applied"));
        }
    };
    let applied = graph.closure(rows.iter().map(String::as_str));
    let mut pending: Vec<&str> = graph
        .revisions
        .keys()
        .map(String::as_str)
        .filter(|id| !applied.contains(id))
        .collect();
    let depths = graph.depths();
    pending.sort_by_key(|id| (depths.get(id).copied().unwrap_or(0), *id));
    let unknown: Vec<&str> = rows
        .iter()
        .map(String::as_str)
        .filter(|row| !graph.revisions.contains_key(*row))
        .collect();
    let at = if rows.is_empty() {
        format!("{table_name} is empty")
    } else {
        format!("database at {}", rows.join(", "))
    };
    let heads_note = if heads.len() > 1 {
        format!(
            "; the files have {} heads: {}",
            heads.len(),
            heads.join(", ")
        )
    } else {
        String::new()
    };
    let verdict = if pending.is_empty() && unknown.is_empty() {
        Verdict::pass(format!("all {total} revisions applied · {at}{heads_note}"))
    } else {
        let mut parts = Vec::new();
        if !pending.is_empty() {
            let listed: Vec<String> = pending
                .iter()
                .map(|id| {
                    let head = if heads.contains(id) { " (head)" } else { "" };
                    format!("{id}{head} {}", graph.revisions[*id].file)
                })
                .collect();
            parts.push(format!(
                "{} of {total} revisions not applied: {}",
                pending.len(),
                listed.join(", ")
            ));
        }
        if !unknown.is_empty() {
            parts.push(format!(
                "{} recorded in {table_name} but not in the files (older code, or a deleted file)",
                unknown.join(", ")
            ));
        }
        Verdict::fail(format!("{} · {at}{heads_note}", parts.join("; ")))
    };
    verdict
        .with_fact("pending", pending.clone())
        .with_fact("unknown", unknown.clone())
        .with_fact("heads", heads.clone())
        .with_fact("recorded", rows.clone())
}

/// `migration_version` with `dir`: the revision is applied when the registry records it or a
/// revision after it.
pub fn migration_version_in_files(
    facts: &Facts<'_>,
    code: &CodeFacts,
    spec: &MigrationVersion,
    dir: &str,
) -> Verdict {
    let graph = match graph(code, MigrationTool::Alembic, dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let revision = spec.revision.as_str();
    if !graph.revisions.contains_key(revision) {
        return Verdict::error(format!(
            "revision {revision} is not among the files in {dir}"
        ));
    }
    let (table_name, rows) = match recorded(
        facts,
        spec.schema.as_deref(),
        spec.migration_table(),
        spec.migration_column(),
    ) {
        Ok(found) => found,
        Err(unrecorded) => return unrecorded.verdict(&format!("revision {revision} not recorded")),
    };
    let applied = graph.closure(rows.iter().map(String::as_str));
    revision_verdict(
        revision,
        &table_name,
        rows,
        Some(applied.contains(revision)),
    )
}

/// What the code pass read of `dir` for `tool`, or why there is nothing to judge.
fn files<'a>(
    code: &'a CodeFacts,
    tool: MigrationTool,
    dir: &str,
) -> Result<&'a MigrationFiles, String> {
    code.root.as_ref().map_err(Clone::clone)?;
    match code.migrations.get(&(tool, dir.to_string())) {
        Some(Ok(files)) => Ok(files),
        Some(Err(why)) => Err(why.clone()),
        None => Err(format!("the migration files in {dir} were not read")),
    }
}

fn graph<'a>(code: &'a CodeFacts, tool: MigrationTool, dir: &str) -> Result<&'a Graph, String> {
    match files(code, tool, dir)? {
        MigrationFiles::Graph(graph) => Ok(graph),
        _ => Err(format!("{dir} holds no revision graph")),
    }
}

/// golang-migrate: one `schema_migrations` row, `version` and `dirty`. Applied when it is not
/// dirty and its version is the last of the files; a dirty row is a failure of its own (a
/// migration stopped halfway and the tool will not go on until someone forces the version).
fn golang_migrate(facts: &Facts<'_>, code: &CodeFacts, spec: &MigrationsApplied) -> Verdict {
    let graph = match graph(code, spec.tool, &spec.dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let total = graph.revisions.len();
    let table = spec.registry_table();
    let schema = spec.registry_schema();
    let (table_name, versions) = match recorded(facts, schema, table, "version") {
        Ok(found) => found,
        Err(unrecorded) => {
            return unrecorded.verdict(&format!("none of the {total} migrations is applied"));
        }
    };
    let dirty = match recorded(facts, schema, table, "dirty") {
        // PostgreSQL's boolean as text, or SQLite's 0/1.
        Ok((_, values)) => values
            .iter()
            .any(|v| matches!(v.as_str(), "true" | "t" | "1")),
        Err(Unrecorded::Missing(evidence) | Unrecorded::Unreadable(evidence)) => {
            return Verdict::error(evidence);
        }
    };
    let Some(version) = versions.first() else {
        return Verdict::fail(format!(
            "none of the {total} migrations is applied: {table_name} is empty"
        ));
    };
    let version = version.trim_start_matches('0');
    let version = if version.is_empty() { "0" } else { version };
    if dirty {
        return Verdict::fail(format!(
            "{table_name} is dirty at version {version}: that migration stopped halfway; fix the \
             database, then force the version"
        ))
        .with_fact("dirty", true);
    }
    if !graph.revisions.contains_key(version) {
        return Verdict::fail(format!(
            "{table_name} records version {version}, which no file in {} has (older code, or a \
             deleted file)",
            spec.dir
        ));
    }
    let applied = graph.closure([version]);
    let mut pending: Vec<&str> = graph
        .revisions
        .keys()
        .map(String::as_str)
        .filter(|id| !applied.contains(id))
        .collect();
    pending.sort_by_key(|id| id.parse::<u128>().unwrap_or(u128::MAX));
    if pending.is_empty() {
        Verdict::pass(format!(
            "all {total} migrations applied · database at version {version}"
        ))
    } else {
        let listed: Vec<String> = pending
            .iter()
            .map(|id| graph.revisions[*id].file.clone())
            .collect();
        Verdict::fail(format!(
            "{} of {total} migrations not applied: {} · database at version {version}",
            pending.len(),
            listed.join(", ")
        ))
        .with_fact("pending", pending.clone())
    }
}

/// One row of `flyway_schema_history`, as read.
struct HistoryRow<'a> {
    version: Option<&'a str>,
    checksum: Option<i32>,
    success: bool,
    kind: &'a str,
    script: &'a str,
    rank: i64,
}

impl HistoryRow<'_> {
    /// A row that takes a version back out: `flyway repair` marks it deleted, an undo undoes it.
    fn withdraws(&self) -> bool {
        self.kind == "DELETE" || self.kind.starts_with("UNDO")
    }
}

/// Flyway: every versioned file's version stands applied (its newest row, by installed rank, a
/// successful forward one, or the version below a baseline) with the file's checksum; every
/// repeatable file's newest successful run was of its current text; no row failed; no applied
/// version lacks its file.
fn flyway(facts: &Facts<'_>, code: &CodeFacts, spec: &MigrationsApplied) -> Verdict {
    use crate::check::migrations::flyway::version_key;
    use crate::plan::{FLYWAY_ROW, REGISTRY_FIELDS};
    let files = match files(code, spec.tool, &spec.dir) {
        Ok(MigrationFiles::Flyway(files)) => files,
        Ok(_) => return Verdict::error(format!("{} was not read as Flyway files", spec.dir)),
        Err(why) => return Verdict::error(why),
    };
    let total = files.versioned.len() + files.repeatable.len();
    let (table_name, rows) = match recorded(
        facts,
        spec.registry_schema(),
        spec.registry_table(),
        FLYWAY_ROW,
    ) {
        Ok(found) => found,
        Err(unrecorded) => {
            return unrecorded.verdict(&format!("none of the {total} migrations is applied"));
        }
    };
    fn value(field: &str) -> Option<&str> {
        (field != crate::plan::REGISTRY_NULL).then_some(field)
    }
    let mut history: Vec<HistoryRow> = rows
        .iter()
        .filter_map(|row| {
            let fields: Vec<&str> = row.split(REGISTRY_FIELDS).collect();
            let [version, checksum, success, kind, script, rank] = fields[..] else {
                return None;
            };
            Some(HistoryRow {
                version: value(version),
                checksum: value(checksum).and_then(|c| c.parse().ok()),
                success: matches!(success, "true" | "t" | "1"),
                kind,
                script,
                rank: rank.parse().unwrap_or(0),
            })
        })
        .collect();
    // In the order Flyway wrote them: for a version or a script, the last row has the say.
    history.sort_by_key(|row| row.rank);
    let baseline = history
        .iter()
        .filter(|row| row.kind == "BASELINE" && row.success)
        .filter_map(|row| row.version.and_then(version_key))
        .max();
    // Each version's newest successful row, found once (the history is in rank order, so the
    // last one kept is the newest).
    let mut newest: std::collections::BTreeMap<Vec<u128>, &HistoryRow> =
        std::collections::BTreeMap::new();
    for row in history
        .iter()
        .filter(|row| row.kind != "BASELINE" && row.success)
    {
        if let Some(key) = row.version.and_then(version_key) {
            newest.insert(key, row);
        }
    }
    let newest_for = |key: &Vec<u128>| newest.get(key).copied();
    let mut problems = Vec::new();
    let mut pending = Vec::new();
    for (key, file) in &files.versioned {
        match newest_for(key) {
            Some(row) if row.withdraws() => pending.push(file.file.clone()),
            Some(row) if row.checksum.is_some_and(|c| c != file.checksum) => {
                problems.push(format!(
                    "{} changed after it was applied (checksum {} recorded, {} on disk)",
                    file.file,
                    row.checksum.unwrap_or_default(),
                    file.checksum
                ))
            }
            Some(_) => {}
            None if baseline.as_ref().is_some_and(|b| key <= b) => {}
            None => pending.push(file.file.clone()),
        }
    }
    for file in &files.repeatable {
        let newest = history
            .iter()
            .rfind(|row| row.success && row.script == file.script && !row.withdraws());
        if newest.is_none_or(|row| row.checksum != Some(file.checksum)) {
            pending.push(format!(
                "{} (repeatable: its current text was never applied)",
                file.file
            ));
        }
    }
    for row in history.iter().filter(|row| !row.success) {
        problems.push(format!(
            "{} failed (version {}): Flyway will not go on until it is repaired",
            row.script,
            row.version.unwrap_or("repeatable")
        ));
    }
    let mut unknown: Vec<&str> = history
        .iter()
        .filter(|row| row.kind != "BASELINE" && row.success)
        .filter_map(|row| row.version)
        .filter(|version| {
            version_key(version).is_some_and(|key| {
                !files.versioned.contains_key(&key)
                    && newest_for(&key).is_some_and(|row| !row.withdraws())
            })
        })
        .collect();
    unknown.dedup();
    if !unknown.is_empty() {
        problems.push(format!(
            "version {} recorded in {table_name} but no file has it",
            unknown.join(", ")
        ));
    }
    if !pending.is_empty() {
        problems.insert(
            0,
            format!(
                "{} of {total} migrations not applied: {}",
                pending.len(),
                pending.join(", ")
            ),
        );
    }
    if problems.is_empty() {
        Verdict::pass(format!(
            "all {total} migrations applied, checksums as on disk · {table_name}: {} rows",
            history.len()
        ))
    } else {
        Verdict::fail(problems.join("; "))
    }
}

/// sqitch: every change of the plan (each rework an instance of its own) has a deployed row
/// in the registry for the plan's project, and no deployed change is unknown to the plan.
fn sqitch(facts: &Facts<'_>, code: &CodeFacts, spec: &MigrationsApplied) -> Verdict {
    use crate::plan::{REGISTRY_FIELDS, SQITCH_ROW};
    let plan = match files(code, spec.tool, &spec.dir) {
        Ok(MigrationFiles::Sqitch(plan)) => plan,
        Ok(_) => return Verdict::error(format!("{} was not read as a sqitch plan", spec.dir)),
        Err(why) => return Verdict::error(why),
    };
    let total = plan.changes.len();
    let (table_name, rows) = match recorded(
        facts,
        spec.registry_schema(),
        spec.registry_table(),
        SQITCH_ROW,
    ) {
        Ok(found) => found,
        Err(unrecorded) => {
            return unrecorded.verdict(&format!("none of the {total} changes is deployed"));
        }
    };
    let mut deployed: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        if let Some((change, project)) = row.split_once(REGISTRY_FIELDS)
            && project == plan.project
        {
            *deployed.entry(change).or_insert(0) += 1;
        }
    }
    let pending: Vec<String> = plan
        .changes
        .iter()
        .filter(|change| deployed.get(change.name.as_str()).copied().unwrap_or(0) < change.instance)
        .map(|change| {
            if change.instance > 1 {
                format!("{} (reworked, {})", change.name, change.at)
            } else {
                change.name.clone()
            }
        })
        .collect();
    let unknown: Vec<&str> = deployed
        .keys()
        .copied()
        .filter(|name| !plan.changes.iter().any(|c| c.name == *name))
        .collect();
    let mut problems = Vec::new();
    if !pending.is_empty() {
        problems.push(format!(
            "{} of {total} changes not deployed: {}",
            pending.len(),
            pending.join(", ")
        ));
    }
    if !unknown.is_empty() {
        let mut unknown = unknown;
        unknown.sort_unstable();
        problems.push(format!(
            "{} deployed ({table_name}) but not in the plan",
            unknown.join(", ")
        ));
    }
    if problems.is_empty() {
        Verdict::pass(format!(
            "all {total} changes of {} deployed ({table_name})",
            plan.project
        ))
    } else {
        Verdict::fail(problems.join("; "))
    }
}
