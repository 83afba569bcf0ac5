//! What SQLite keeps only in the text of a `CREATE TABLE` or `CREATE INDEX`: check
//! constraints, constraint names, generated-column expressions, collations and partial-index
//! predicates. Read with `sqlparser` (never run); anything it cannot read is left out and the
//! check that needed it says it found none.

use std::collections::HashMap;

use sqlparser::ast::{ColumnOption, Expr, Statement, TableConstraint};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

/// A check constraint from a table's SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CheckClause {
    pub name: Option<String>,
    pub expression: String,
    /// The column it is written on, for a column constraint.
    pub column: Option<String>,
}

/// What a `CREATE TABLE` says that the pragmas do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TableDdl {
    pub checks: Vec<CheckClause>,
    /// Constraint names by kind (`p`, `u`, `f`) and columns.
    pub names: Vec<(char, Vec<String>, String)>,
    pub generated: HashMap<String, String>,
    pub collations: HashMap<String, String>,
    /// Why the statement could not be read: then nothing above is known.
    pub unreadable: Option<String>,
}

fn parse(sql: &str) -> Option<Statement> {
    Parser::parse_sql(&SQLiteDialect {}, sql)
        .ok()?
        .into_iter()
        .next()
}

fn expression(expr: &Expr) -> String {
    expr.to_string()
}

pub(super) fn table_ddl(sql: &str) -> TableDdl {
    let mut ddl = TableDdl::default();
    let table = match Parser::parse_sql(&SQLiteDialect {}, sql) {
        Ok(statements) => match statements.into_iter().next() {
            Some(Statement::CreateTable(table)) => table,
            _ => {
                ddl.unreadable = Some("it is not one CREATE TABLE".into());
                return ddl;
            }
        },
        Err(error) => {
            ddl.unreadable = Some(error.to_string());
            return ddl;
        }
    };
    for column in &table.columns {
        let column_name = column.name.value.clone();
        for option in &column.options {
            let name = option.name.as_ref().map(|n| n.value.clone());
            match &option.option {
                ColumnOption::Check(check) => ddl.checks.push(CheckClause {
                    name: name.or_else(|| check.name.as_ref().map(|n| n.value.clone())),
                    expression: expression(&check.expr),
                    column: Some(column_name.clone()),
                }),
                ColumnOption::PrimaryKey(_) => {
                    if let Some(name) = name {
                        ddl.names.push(('p', vec![column_name.clone()], name));
                    }
                }
                ColumnOption::Unique(_) => {
                    if let Some(name) = name {
                        ddl.names.push(('u', vec![column_name.clone()], name));
                    }
                }
                ColumnOption::ForeignKey(_) => {
                    if let Some(name) = name {
                        ddl.names.push(('f', vec![column_name.clone()], name));
                    }
                }
                ColumnOption::Generated {
                    generation_expr: Some(expr),
                    ..
                } => {
                    ddl.generated.insert(column_name.clone(), expression(expr));
                }
                ColumnOption::Collation(collation) => {
                    let text = collation.to_string();
                    ddl.collations
                        .insert(column_name.clone(), text.trim_matches('"').to_string());
                }
                _ => {}
            }
        }
    }
    for constraint in &table.constraints {
        match constraint {
            TableConstraint::Check(check) => ddl.checks.push(CheckClause {
                name: check.name.as_ref().map(|n| n.value.clone()),
                expression: expression(&check.expr),
                column: None,
            }),
            TableConstraint::PrimaryKey(key) => {
                if let Some(name) = &key.name {
                    ddl.names
                        .push(('p', key_columns(&key.columns), name.value.clone()));
                }
            }
            TableConstraint::Unique(key) => {
                if let Some(name) = &key.name {
                    ddl.names
                        .push(('u', key_columns(&key.columns), name.value.clone()));
                }
            }
            TableConstraint::ForeignKey(key) => {
                if let Some(name) = &key.name {
                    let columns = key.columns.iter().map(|c| c.value.clone()).collect();
                    ddl.names.push(('f', columns, name.value.clone()));
                }
            }
            _ => {}
        }
    }
    ddl
}

fn key_columns(columns: &[sqlparser::ast::IndexColumn]) -> Vec<String> {
    columns.iter().map(|c| c.column.expr.to_string()).collect()
}

/// A partial index's `WHERE`, as written.
pub(super) fn index_predicate(sql: &str) -> Option<String> {
    match parse(sql)? {
        Statement::CreateIndex(index) => index.predicate.as_ref().map(expression),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_s_checks_names_generated_columns_and_collations_are_read() {
        let ddl = table_ddl(
            r#"CREATE TABLE "Assets" (
                 id INTEGER CONSTRAINT pk_assets PRIMARY KEY,
                 status TEXT NOT NULL CHECK (status IN ('a', 'b')) COLLATE NOCASE,
                 price REAL, qty INTEGER,
                 total REAL GENERATED ALWAYS AS (price * qty) STORED,
                 flow_id INTEGER,
                 CONSTRAINT positive CHECK (qty > 0),
                 CONSTRAINT fk_flow FOREIGN KEY (flow_id) REFERENCES flows (id) ON DELETE CASCADE,
                 CONSTRAINT uq_pair UNIQUE (price, qty))"#,
        );
        assert_eq!(ddl.checks.len(), 2, "{ddl:?}");
        assert_eq!(ddl.checks[0].column.as_deref(), Some("status"));
        assert_eq!(ddl.checks[1].name.as_deref(), Some("positive"));
        assert_eq!(ddl.checks[1].expression, "qty > 0");
        assert_eq!(
            ddl.generated.get("total").map(String::as_str),
            Some("price * qty")
        );
        assert_eq!(
            ddl.collations.get("status").map(String::as_str),
            Some("NOCASE")
        );
        assert!(
            ddl.names
                .contains(&('p', vec!["id".into()], "pk_assets".into()))
        );
        assert!(
            ddl.names
                .contains(&('f', vec!["flow_id".into()], "fk_flow".into()))
        );
        assert!(
            ddl.names
                .contains(&('u', vec!["price".into(), "qty".into()], "uq_pair".into()))
        );
    }

    #[test]
    fn a_partial_index_s_predicate_is_read_and_a_full_one_has_none() {
        assert_eq!(
            index_predicate("CREATE INDEX ix ON t (a) WHERE deleted_at IS NULL").as_deref(),
            Some("deleted_at IS NULL")
        );
        assert_eq!(index_predicate("CREATE UNIQUE INDEX ix ON t (a, b)"), None);
        assert_eq!(index_predicate("not sql at all"), None);
    }

    #[test]
    fn a_table_statement_that_cannot_be_read_says_so_rather_than_having_no_checks() {
        let ddl = table_ddl("CREATE TABLE t (a INTEGER CHECK (a >), b TEXT)");
        assert!(ddl.unreadable.is_some(), "{ddl:?}");
        assert!(ddl.checks.is_empty());
    }
}
