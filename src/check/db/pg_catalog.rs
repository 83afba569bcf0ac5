//! The PostgreSQL catalog snapshot: one statement returns every relation the plan names (in any
//! schema, of any kind), their columns, the indexes asked about, the session's search path and
//! the types the plan names with a schema.
//!
//! One row per relation, its columns as parallel arrays: building JSON on the server cost 60%
//! more than the floor query on 5,000 tables, and one row per column cost twice as much again
//! in the client, decoding ten times the rows. A first column says what each row is: `p` (the
//! search path and named types, always one row), `c` (a relation and its columns) and `i` (an
//! index and its key columns).

use serde_json::Value;

use super::pg_vocabulary::{oid, text};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::check::facts::{
    Column, Index, NamedType, Relation, RelationKind, SchemaSnapshot, SearchPath,
};

/// The statement, with `$from` and `$filter` choosing the relations: by exact name, or by
/// `lower(relname)` within index ranges for names not found anywhere.
///
/// Every kind of relation is read, because every kind takes part in name resolution; columns
/// only of those that have them. `current_schemas(true)` is the order PostgreSQL really
/// searches: the session's path after the role's and database's settings, or the plan's
/// override sent at connect.
///
/// A default cannot refer to a column, so it is deparsed without the relation (`0`): that skips
/// a relation lookup per default and made the query a third faster on 5,000 tables. Generated
/// columns do refer to columns and keep the relation.
macro_rules! catalog_query {
    ($from:literal, $filter:literal, $vocabulary:literal, $extra_arms:literal) => {
        concat!(
            r#"
WITH rel AS NOT MATERIALIZED (
  SELECT c.oid, n.nspname::text AS schema_name, c.relname::text AS rel_name, c.relkind,
         c.relkind IN ('r', 'p', 'v', 'm', 'f') AND has_schema_privilege(n.oid, 'USAGE')
           AND has_table_privilege(c.oid, 'SELECT') AS readable,
         -- Collations, comments and view definitions only where a check asks for them.
         c.relname = ANY($4::text[]) AS details, c.relname = ANY($5::text[]) AS wants_definition
    FROM "#,
            $from,
            r#" JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE "#,
            $filter,
            r#")
SELECT 'p' AS row_kind, NULL::text AS schema_name, NULL::text AS rel_name, NULL::text AS rel_kind,
       NULL::bool AS readable, NULL::text[] AS names, NULL::text[] AS types,
       NULL::bool[] AS not_nulls, NULL::text[] AS defaults, NULL::int8[] AS type_oids,
       NULL::text[] AS flags,
       current_schemas(true)::text[] AS list, current_schemas(false)::text[] AS shown,
       -- Schemas the path names that exist but this role may not use: PostgreSQL leaves them
       -- out of current_schemas, so a name there resolves to nothing, silently.
       (SELECT array_agg(n.nspname::text) FROM pg_namespace n
         WHERE NOT has_schema_privilege(n.oid, 'USAGE')
           AND n.nspname = ANY (
               SELECT CASE WHEN item = '$user' THEN current_user::text
                           WHEN item LIKE '"%"'
                             THEN replace(substr(item, 2, length(item) - 2), '""', '"')
                           ELSE lower(item) END
                 FROM unnest(string_to_array(current_setting('search_path'), ',')) AS raw(entry),
                      LATERAL (SELECT trim(entry) AS item) AS trimmed)) AS unusable,
       (SELECT json_agg(json_build_array(tn.nspname, t.typname, t.oid::int8, t.typarray::int8))
          FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
         WHERE t.typname = ANY($3::text[])) AS named_types,
       NULL::bool AS index_valid, "#,
            $vocabulary,
            r#" AS detail
UNION ALL
SELECT 'c', rel.schema_name, rel.rel_name, rel.relkind::text, rel.readable,
       col.names, col.types, col.not_nulls, col.defaults, col.type_oids, col.flags,
       NULL, NULL, NULL, NULL, NULL,
       CASE WHEN rel.details OR rel.wants_definition THEN json_build_object(
         'columns', col.details,
         'definition', CASE WHEN rel.wants_definition AND rel.relkind IN ('v', 'm')
                            THEN pg_get_viewdef(rel.oid) END) END
  FROM rel
  LEFT JOIN LATERAL (
    -- One pass, so every array lists the columns in the same (attnum) order.
    SELECT array_agg(a.attname::text) AS names,
           array_agg(format_type(a.atttypid, a.atttypmod)) AS types,
           array_agg(a.attnotnull) AS not_nulls,
           array_agg(CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0)
                          ELSE pg_get_expr(d.adbin, d.adrelid) END) AS defaults,
           array_agg(a.atttypid::int8) AS type_oids,
           -- Identity (a, d) and generation (s, v): 'a', 'd', 's' or 'v'; NULL for the ordinary
           -- column, without building a text for each.
           array_agg(CASE WHEN a.attidentity <> '' OR a.attgenerated <> ''
                          THEN a.attidentity::text || a.attgenerated::text END) AS flags,
           -- FILTER, not CASE: an aggregate under CASE is still computed for every column.
           json_agg(json_build_array(
             (SELECT co.collname FROM pg_collation co
               WHERE co.oid = a.attcollation AND a.attcollation <> 100),
             col_description(a.attrelid, a.attnum)))
             FILTER (WHERE rel.details) AS details
      FROM pg_attribute a
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
       AND rel.relkind IN ('r', 'p', 'v', 'm', 'f')) col ON true
UNION ALL
SELECT 'i', rel.schema_name, rel.rel_name, NULL, NULL, ARRAY[i.relname::text], NULL, NULL, NULL,
       NULL, NULL,
       ARRAY(SELECT a.attname::text
               FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum = k.attnum
              ORDER BY k.ord),
       NULL, NULL, NULL,
       -- A failed CREATE INDEX CONCURRENTLY leaves an index that is not used: not an index.
       x.indisvalid AND x.indisready,
       json_build_array(x.indisunique, x.indisprimary, pg_get_expr(x.indpred, x.indrelid),
         (SELECT am.amname FROM pg_am am WHERE am.oid = i.relam),
         ARRAY(SELECT a.attname::text
                 FROM unnest(x.indkey[x.indnkeyatts:x.indnatts - 1]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum = k.attnum
                ORDER BY k.ord))
  FROM rel
  JOIN pg_index x ON x.indrelid = rel.oid
  JOIN pg_class i ON i.oid = x.indexrelid
 WHERE rel.rel_name = ANY($2::text[])
"#,
            $extra_arms
        )
    };
}

/// Every relation named in `$1`, exactly, in any schema.
pub(crate) const CATALOG_QUERY: &str = catalog_query!(
    "pg_class c",
    "c.relname = ANY($1::text[])",
    r#"json_build_object(
       'types', (SELECT json_agg(json_build_array(tn.nspname, t.typname, t.typtype,
                   CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                                                        WHERE e.enumtypid = t.oid
                                                        ORDER BY e.enumsortorder) END))
                   FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
                  WHERE t.typname = ANY(ARRAY(SELECT jsonb_array_elements_text($7->'types')))),
       'extensions', (SELECT json_agg(json_build_array(w.name, x.extversion, xn.nspname,
                        -- Read from the server's control files, only for the names asked.
                        (SELECT a.default_version FROM pg_available_extensions a
                          WHERE a.name = w.name)))
                        FROM jsonb_array_elements_text($7->'extensions') AS w(name)
                        LEFT JOIN pg_extension x ON x.extname = w.name
                        LEFT JOIN pg_namespace xn ON xn.oid = x.extnamespace),
       'schemas', (SELECT json_agg(json_build_array(s.nspname, pg_get_userbyid(s.nspowner)))
                     FROM pg_namespace s
                    WHERE s.nspname = ANY(ARRAY(SELECT jsonb_array_elements_text($7->'schemas')))),
       'functions', (SELECT json_agg(json_build_array(fnn.nspname, f.proname, f.prokind,
                       ARRAY(SELECT format_type(u.t, NULL)
                               FROM unnest(f.proargtypes::oid[]) WITH ORDINALITY AS u(t, ord)
                              ORDER BY u.ord),
                       pg_get_function_result(f.oid), l.lanname, f.prosecdef))
                       FROM pg_proc f
                       JOIN pg_namespace fnn ON fnn.oid = f.pronamespace
                       JOIN pg_language l ON l.oid = f.prolang
                      WHERE f.proname = ANY(ARRAY(SELECT jsonb_array_elements_text($7->'functions')))),
       'roles', (SELECT json_agg(r.rolname) FROM pg_roles r
                  WHERE r.rolname = ANY(ARRAY(SELECT jsonb_array_elements_text($7->'roles')))),
       -- What each role holds of the privileges asked, on every object of the name asked (the
       -- check resolves the name); only for roles that exist, and privileges the plan's
       -- validation allowed, so no has_*_privilege call can fail.
       'grants', (SELECT json_agg(json_build_array(g.role, g.kind, o.schema_name, o.object_name,
                    o.signature,
                    ARRAY(SELECT p FROM jsonb_array_elements_text(g.privileges) AS p
                           WHERE CASE g.kind
                                   WHEN 'table' THEN has_table_privilege(g.role::name, o.oid, p)
                                   WHEN 'sequence' THEN has_sequence_privilege(g.role::name, o.oid, p)
                                   WHEN 'function' THEN has_function_privilege(g.role::name, o.oid, p)
                                   ELSE has_schema_privilege(g.role::name, o.oid, p) END),
                    o.owner,
                    -- Held on some column only (GRANT SELECT (ssn) …): not the table's, but
                    -- not "cannot" either.
                    ARRAY(SELECT p FROM jsonb_array_elements_text(g.privileges) AS p
                           WHERE g.kind = 'table' AND p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                             AND has_any_column_privilege(g.role::name, o.oid, p))))
                    FROM (SELECT item->>0 AS role, item->>1 AS kind, item->>2 AS name,
                                 item->3 AS privileges
                            FROM jsonb_array_elements($7->'grants') AS item) g
                    JOIN LATERAL (
                      SELECT gc.oid, gn.nspname::text AS schema_name, gc.relname::text AS object_name,
                             NULL::text AS signature, pg_get_userbyid(gc.relowner) AS owner
                        FROM pg_class gc JOIN pg_namespace gn ON gn.oid = gc.relnamespace
                       WHERE gc.relname = g.name
                         AND ((g.kind = 'table' AND gc.relkind IN ('r', 'p', 'v', 'm', 'f'))
                           OR (g.kind = 'sequence' AND gc.relkind = 'S'))
                      UNION ALL
                      SELECT gf.oid, gn.nspname::text, gf.proname::text,
                             pg_get_function_identity_arguments(gf.oid), pg_get_userbyid(gf.proowner)
                        FROM pg_proc gf JOIN pg_namespace gn ON gn.oid = gf.pronamespace
                       WHERE g.kind = 'function' AND gf.proname = g.name
                      UNION ALL
                      SELECT gs.oid, gs.nspname::text, gs.nspname::text, NULL,
                             pg_get_userbyid(gs.nspowner)
                        FROM pg_namespace gs
                       WHERE g.kind = 'schema' AND gs.nspname = g.name) o ON true
                   WHERE lower(g.role) = 'public'
                      OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = g.role)))"#,
    // Constraints and triggers of the tables checks ask about. Not through `rel`: an arm on it
    // evaluates it again (it is not materialized), which cost a tenth of the refresh.
    r#"
UNION ALL
SELECT 'k', kn.nspname::text, kc.relname::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL,
       json_build_array(k.conname, k.contype,
         ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
                ORDER BY u.ord),
         fn.nspname, fc.relname,
         ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum
                ORDER BY u.ord),
         k.confdeltype, k.confupdtype, k.convalidated,
         CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid) END,
         pg_get_constraintdef(k.oid))
  FROM pg_class kc
  JOIN pg_namespace kn ON kn.oid = kc.relnamespace
  JOIN pg_constraint k ON k.conrelid = kc.oid
  LEFT JOIN pg_class fc ON fc.oid = k.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE kc.relname = ANY($6::text[])
UNION ALL
SELECT 't', tn.nspname::text, tc.relname::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL,
       json_build_array(t.tgname, pn.nspname, p.proname, t.tgenabled)
  FROM pg_class tc
  JOIN pg_namespace tn ON tn.oid = tc.relnamespace
  JOIN pg_trigger t ON t.tgrelid = tc.oid AND NOT t.tgisinternal
  JOIN pg_proc p ON p.oid = t.tgfoid
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE tc.relname = ANY($6::text[])
UNION ALL
-- Tables and views of a name the plan uses in another case, for names found in no schema:
-- "a table Foo exists (names are case-sensitive)". No index serves lower(), so the name index
-- first narrows pg_class to the ranges of the names' case variants (a scan of all of pg_class
-- took 10-14 ms on 5,000 tables, the range scans 0.2 ms); OFFSET 0 keeps the planner from
-- flattening the lateral subquery into a join it then answers with that same full scan.
SELECT 'v', vn.nspname::text, vc.relname::text, vc.relkind::text, false, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  -- The ranges of missing names only, fenced (OFFSET 0) so that they are found first: a range
  -- like [t0, t1) holds every table of a generated schema.
  FROM (SELECT r.from_name, r.to_name, missing.lower_a, missing.lower_b
          FROM (SELECT o.ord, o.lower_a, o.lower_b
                  FROM unnest($10::text[], $11::text[], $12::text[])
                       WITH ORDINALITY AS o(name, lower_a, lower_b, ord)
                 WHERE NOT EXISTS (SELECT 1 FROM pg_class x WHERE x.relname = o.name::name)
                OFFSET 0) missing
          JOIN unnest($8::text[], $9::text[], $13::int8[]) AS r(from_name, to_name, owner)
            ON r.owner = missing.ord
        OFFSET 0) ranges
 CROSS JOIN LATERAL (SELECT * FROM pg_class
                      WHERE relname >= ranges.from_name::name AND relname < ranges.to_name::name
                     OFFSET 0) vc
  JOIN pg_namespace vn ON vn.oid = vc.relnamespace
 WHERE vc.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND lower(vc.relname) IN (ranges.lower_a, ranges.lower_b)"#
);

/// The snapshot from the catalog statement's rows.
pub(crate) fn snapshot_from_rows(rows: &[PgRow]) -> Result<SchemaSnapshot, sqlx::Error> {
    let mut search_path = SearchPath::default();
    let mut named_types = Vec::new();
    let mut vocabulary = None;
    for row in rows {
        if row.try_get::<&str, _>("row_kind")? == "p" {
            search_path = SearchPath {
                effective: row.try_get("list")?,
                shown: row.try_get("shown")?,
                unusable: row
                    .try_get::<Option<Vec<String>>, _>("unusable")?
                    .unwrap_or_default(),
            };
            let named: Option<Value> = row.try_get("named_types")?;
            named_types = named
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| NamedType {
                    schema: text(t, 0).unwrap_or_default(),
                    name: text(t, 1).unwrap_or_default(),
                    oid: oid(t, 2).unwrap_or_default(),
                    array_oid: oid(t, 3).unwrap_or_default(),
                })
                .collect();
            vocabulary = row.try_get::<Option<Value>, _>("detail")?;
        }
    }
    let mut schema = SchemaSnapshot::new(relations_from_rows(rows)?, search_path);
    schema.named_types = named_types;
    if let Some(vocabulary) = &vocabulary {
        super::pg_vocabulary::read_vocabulary(vocabulary, &mut schema);
    }
    Ok(schema)
}

/// The relations in the rows, with their columns (in `attnum` order) and indexes.
fn relations_from_rows(rows: &[PgRow]) -> Result<Vec<Relation>, sqlx::Error> {
    let mut relations: Vec<Relation> = Vec::new();
    let mut extras: Vec<(String, String, Extra)> = Vec::new();
    // Other-case namesakes of names found nowhere; never one already read whole.
    let mut variants: Vec<Relation> = Vec::new();
    for row in rows {
        let kind: &str = row.try_get("row_kind")?;
        let schema: Option<String> = row.try_get("schema_name")?;
        let name: Option<String> = row.try_get("rel_name")?;
        let (Some(schema), Some(name)) = (schema, name) else {
            continue;
        };
        let names: Vec<String> = row.try_get::<Option<_>, _>("names")?.unwrap_or_default();
        let detail: Option<Value> = row.try_get("detail")?;
        match kind {
            "i" => {
                let mut index = Index {
                    name: names.into_iter().next().unwrap_or_default(),
                    columns: row.try_get::<Option<_>, _>("list")?.unwrap_or_default(),
                    valid: row
                        .try_get::<Option<bool>, _>("index_valid")?
                        .unwrap_or(false),
                    ..Index::default()
                };
                if let Some(detail) = &detail {
                    super::pg_vocabulary::read_index_detail(detail, &mut index);
                }
                extras.push((schema, name, Extra::Index(index)));
                continue;
            }
            "k" => {
                if let Some(constraint) = detail
                    .as_ref()
                    .and_then(super::pg_vocabulary::read_constraint)
                {
                    extras.push((schema, name, Extra::Constraint(constraint)));
                }
                continue;
            }
            "v" => {
                variants.push(Relation {
                    schema,
                    name,
                    kind: relation_kind(row.try_get::<Option<&str>, _>("rel_kind")?),
                    ..Relation::default()
                });
                continue;
            }
            "t" => {
                if let Some(trigger) = detail.as_ref().and_then(super::pg_vocabulary::read_trigger)
                {
                    extras.push((schema, name, Extra::Trigger(trigger)));
                }
                continue;
            }
            _ => {}
        }
        let types: Vec<String> = row.try_get::<Option<_>, _>("types")?.unwrap_or_default();
        let not_nulls: Vec<bool> = row
            .try_get::<Option<_>, _>("not_nulls")?
            .unwrap_or_default();
        let defaults: Vec<Option<String>> =
            row.try_get::<Option<_>, _>("defaults")?.unwrap_or_default();
        let type_oids: Vec<i64> = row
            .try_get::<Option<_>, _>("type_oids")?
            .unwrap_or_default();
        let flags: Vec<Option<String>> = row.try_get::<Option<_>, _>("flags")?.unwrap_or_default();
        let columns = names
            .into_iter()
            .enumerate()
            .map(|(at, name)| {
                let flag = flags.get(at).cloned().flatten().unwrap_or_default();
                Column {
                    name,
                    data_type: types.get(at).cloned().unwrap_or_default(),
                    not_null: not_nulls.get(at).copied().unwrap_or(false),
                    default: defaults.get(at).cloned().flatten(),
                    type_oid: type_oids.get(at).and_then(|oid| u32::try_from(*oid).ok()),
                    identity: flag.contains(['a', 'd']),
                    identity_kind: if flag.contains('a') {
                        Some(crate::plan::Identity::Always)
                    } else if flag.contains('d') {
                        Some(crate::plan::Identity::ByDefault)
                    } else {
                        None
                    },
                    // `s`tored, or `v`irtual (PostgreSQL 18).
                    generated: flag.contains(['s', 'v']),
                    details: None,
                }
            })
            .collect();
        let mut relation = Relation {
            schema,
            name,
            kind: relation_kind(row.try_get::<Option<&str>, _>("rel_kind")?),
            readable: row.try_get::<Option<bool>, _>("readable")?.unwrap_or(false),
            columns,
            ..Relation::default()
        };
        if let Some(detail) = &detail {
            super::pg_vocabulary::read_relation_detail(detail, &mut relation);
        }
        relations.push(relation);
    }
    for (schema, name, extra) in extras {
        if let Some(relation) = relations
            .iter_mut()
            .find(|r| r.schema == schema && r.name == name)
        {
            match extra {
                Extra::Index(index) => relation.indexes.push(index),
                Extra::Constraint(constraint) => relation.constraints.push(constraint),
                Extra::Trigger(trigger) => relation.triggers.push(trigger),
            }
        }
    }
    for variant in variants {
        if !relations
            .iter()
            .any(|r| r.schema == variant.schema && r.name == variant.name)
        {
            relations.push(variant);
        }
    }
    Ok(relations)
}

/// What belongs to a relation but comes in rows of its own.
enum Extra {
    Index(Index),
    Constraint(crate::check::facts::Constraint),
    Trigger(crate::check::facts::Trigger),
}

fn relation_kind(kind: Option<&str>) -> RelationKind {
    match kind.unwrap_or_default() {
        "r" => RelationKind::Table,
        "p" => RelationKind::PartitionedTable,
        "v" => RelationKind::View,
        "m" => RelationKind::MaterializedView,
        "f" => RelationKind::ForeignTable,
        "S" => RelationKind::Sequence,
        "i" | "I" => RelationKind::Index,
        "c" => RelationKind::CompositeType,
        _ => RelationKind::Other,
    }
}
