//! `row_count` and `migration_version`: judged on the data read after the catalog.

use super::{Facts, rows};
use crate::check::Verdict;
use crate::plan::{MigrationVersion, RowCount};

pub(super) fn row_count(facts: &Facts<'_>, spec: &RowCount) -> Verdict {
    let table = &spec.table;
    let relation = match facts.table(spec.schema.as_deref(), table) {
        Ok(relation) => relation,
        Err(evidence) => return Verdict::error(format!("cannot count rows: {evidence}")),
    };
    if !relation.readable {
        return Verdict::error(format!(
            "permission denied for table {}",
            facts.shown(relation)
        ));
    }
    let count = match facts
        .data
        .row_counts
        .get(&(relation.schema.clone(), table.to_string()))
    {
        Some(Ok(count)) => *count,
        Some(Err(reason)) => return Verdict::error(reason.clone()),
        None => return Verdict::error("row count was not read in this refresh"),
    };
    let mut expected = Vec::new();
    let mut ok = true;
    if let Some(n) = spec.equals {
        ok &= count == n;
        expected.push(format!("exactly {n}"));
    }
    if let Some(n) = spec.at_most {
        ok &= count <= n;
        expected.push(format!("at most {n}"));
    }
    if let Some(n) = spec.at_least {
        ok &= count >= n;
        expected.push(format!("at least {n}"));
    }
    let evidence = format!("{} in {}", rows(count), facts.shown(relation));
    let verdict = if ok {
        Verdict::pass(evidence)
    } else {
        Verdict::fail(format!("{evidence}, expected {}", expected.join(" and ")))
    };
    verdict.with_fact("rows", count)
}

pub(super) fn migration_version(facts: &Facts<'_>, spec: &MigrationVersion) -> Verdict {
    let revision = &spec.revision;
    let (table_name, versions) = match recorded(
        facts,
        spec.schema.as_deref(),
        spec.migration_table(),
        spec.migration_column(),
    ) {
        Ok(found) => found,
        Err(unrecorded) => return unrecorded.verdict(&format!("revision {revision} not recorded")),
    };
    revision_verdict(revision, &table_name, versions, None)
}

/// Whether `revision` is applied given the rows of its registry table. `comes_after` is known
/// only with the revision files: whether a recorded revision comes after it.
pub(super) fn revision_verdict(
    revision: &str,
    table_name: &str,
    versions: &[String],
    comes_after: Option<bool>,
) -> Verdict {
    let verdict = if versions.iter().any(|v| v == revision) {
        Verdict::pass(format!(
            "revision {revision} applied ({table_name}: {})",
            versions.join(", ")
        ))
    } else if comes_after == Some(true) {
        Verdict::pass(format!(
            "revision {revision} applied: {table_name} records {}, which comes after it",
            versions.join(", ")
        ))
    } else if versions.is_empty() {
        Verdict::fail(format!(
            "revision {revision} not applied; {table_name} is empty"
        ))
    } else {
        Verdict::fail(format!(
            "revision {revision} not applied; {table_name} holds {}{}",
            versions.join(", "),
            if comes_after.is_some() {
                ", which does not come after it"
            } else {
                ""
            }
        ))
    };
    verdict.with_fact("versions", versions.to_vec())
}

/// Why a registry table's revisions are not at hand.
pub(super) enum Unrecorded {
    /// There is no such table: nothing was ever recorded (the evidence says what is there).
    Missing(String),
    /// It exists but could not be read.
    Unreadable(String),
}

impl Unrecorded {
    /// The verdict: a missing registry fails with `nothing_applied` before its evidence (nothing
    /// was ever recorded); an unreadable one is an error.
    pub(super) fn verdict(self, nothing_applied: &str) -> Verdict {
        match self {
            Unrecorded::Missing(evidence) => {
                Verdict::fail(format!("{nothing_applied}: {evidence}"))
            }
            Unrecorded::Unreadable(why) => Verdict::error(why),
        }
    }
}

/// The revisions a migration registry table records, with the table's name as shown.
pub(super) fn recorded<'a>(
    facts: &'a Facts<'_>,
    schema: Option<&str>,
    table: &str,
    column: &str,
) -> Result<(String, &'a Vec<String>), Unrecorded> {
    let relation = facts.table(schema, table).map_err(Unrecorded::Missing)?;
    let table_name = facts.shown(relation);
    // Several columns read together (a registry row) must all be there.
    if let Some(missing) = column
        .split(crate::plan::REGISTRY_FIELDS)
        .find(|part| !relation.columns.iter().any(|c| c.name == *part))
    {
        return Err(Unrecorded::Unreadable(format!(
            "column {missing} missing from migration table {table_name}"
        )));
    }
    if !relation.readable {
        return Err(Unrecorded::Unreadable(format!(
            "permission denied for table {table_name}"
        )));
    }
    let key = (
        relation.schema.clone(),
        table.to_string(),
        column.to_string(),
    );
    match facts.data.migration_versions.get(&key) {
        Some(Ok(versions)) => Ok((table_name, versions)),
        Some(Err(reason)) => Err(Unrecorded::Unreadable(reason.clone())),
        None => Err(Unrecorded::Unreadable(
            "migration versions were not read in this refresh".into(),
        )),
    }
}
