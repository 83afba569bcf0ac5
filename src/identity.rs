//! Which database a URL names, whoever connects to it: a verification made against one database
//! says nothing about another checked with the same plan (staging is not production).

use std::path::Path;

use url::Url;

/// A stable name for the database `url` points at: `postgres://host:port/dbname` (no user, no
/// password, no options) or `sqlite:/absolute/path`. Redacted URLs give the same identity.
pub fn database_identity(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        return sqlite_identity(rest);
    }
    let Ok(parsed) = Url::parse(url) else {
        return url.to_string();
    };
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return url.to_string();
    }
    let parameter = |name: &str| {
        parsed
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .map(str::to_string)
        .or_else(|| parameter("host"))
        .or_else(|| std::env::var("PGHOST").ok())
        .unwrap_or_else(|| "localhost".into())
        .to_lowercase();
    let port = parsed
        .port()
        .map(|port| port.to_string())
        .or_else(|| parameter("port"))
        .or_else(|| std::env::var("PGPORT").ok())
        .unwrap_or_else(|| "5432".into());
    let database = Some(parsed.path().trim_start_matches('/').to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| parameter("dbname"))
        .or_else(|| std::env::var("PGDATABASE").ok())
        .unwrap_or_default();
    format!("postgres://{host}:{port}/{database}")
}

fn sqlite_identity(rest: &str) -> String {
    let without_query = rest.split('?').next().unwrap_or_default();
    let path = without_query.strip_prefix("//").unwrap_or(without_query);
    let path = Path::new(path);
    let absolute = std::fs::canonicalize(path)
        .ok()
        .or_else(|| std::path::absolute(path).ok())
        .unwrap_or_else(|| path.to_path_buf());
    format!("sqlite:{}", absolute.display())
}

#[cfg(test)]
mod tests {
    use super::database_identity;

    #[test]
    fn the_same_postgres_database_has_one_identity_whoever_connects() {
        let a = database_identity("postgres://ana:secret@DB.example.com:5433/app?sslmode=require");
        let b = database_identity("postgresql://ro@db.example.com:5433/app");
        let redacted = database_identity("postgres://ana:***@db.example.com:5433/app");
        assert_eq!(a, "postgres://db.example.com:5433/app");
        assert_eq!(a, b);
        assert_eq!(a, redacted);
    }

    #[test]
    fn other_hosts_ports_and_databases_differ() {
        let prod = database_identity("postgres://u@db:5432/app");
        assert_ne!(prod, database_identity("postgres://u@staging:5432/app"));
        assert_ne!(prod, database_identity("postgres://u@db:5433/app"));
        assert_ne!(prod, database_identity("postgres://u@db:5432/app_test"));
        assert_eq!(prod, database_identity("postgres://u@db/app"));
    }

    #[test]
    fn sqlite_paths_are_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("demo.db");
        std::fs::write(&file, b"").unwrap();
        let absolute = format!("sqlite:{}", file.display());
        let canonical = format!("sqlite:{}", file.canonicalize().unwrap().display());
        assert_eq!(database_identity(&absolute), canonical);
        assert_eq!(database_identity(&format!("{absolute}?mode=ro")), canonical);
        assert_ne!(database_identity("sqlite:other.db"), canonical);
    }
}
