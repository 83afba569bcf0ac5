//! libpq's `key=value` connection strings (`host=db port=5432 dbname=app user=ana`), as psql
//! accepts them, turned into the `postgres://` URL the driver reads. The password is carried,
//! never shown.

use url::Url;

/// Whether `text` is a `key=value` connection string rather than a URL.
pub fn is_conninfo(text: &str) -> bool {
    !text.contains("://") && !text.starts_with("sqlite:") && text.contains('=')
}

/// The URL for a `key=value` connection string, or what is wrong with it (never quoting a
/// password).
pub fn to_url(text: &str) -> Result<String, String> {
    let mut url = Url::parse("postgres://localhost").map_err(|e| e.to_string())?;
    let mut host = None;
    let mut query: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs(text)? {
        match key.as_str() {
            "host" | "hostaddr" => host = Some(value),
            "port" => {
                let port: u16 = value
                    .parse()
                    .map_err(|_| format!("port {value:?} is not a port number"))?;
                url.set_port(Some(port))
                    .map_err(|()| "the port cannot be set".to_string())?;
            }
            "dbname" => url.set_path(&format!("/{}", encode(&value))),
            "user" => url
                .set_username(&encode(&value))
                .map_err(|()| "the user cannot be set".to_string())?,
            "password" => url
                .set_password(Some(&encode(&value)))
                .map_err(|()| "the password cannot be set".to_string())?,
            "service" => {
                return Err(
                    "service= names (pg_service.conf) are not read yet: give host=, port=, \
                     dbname= and user= instead"
                        .into(),
                );
            }
            "sslmode" | "application_name" | "options" | "sslrootcert" | "sslcert" | "sslkey" => {
                query.push((key, value));
            }
            "connect_timeout" => {}
            other => return Err(format!("unknown connection parameter {other:?}")),
        }
    }
    match host {
        // A socket directory, as libpq takes it: the driver reads it from the `host` parameter.
        Some(dir) if dir.starts_with('/') => query.push(("host".into(), dir)),
        Some(name) => url
            .set_host(Some(&name))
            .map_err(|e| format!("host {name:?}: {e}"))?,
        None => {}
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url.to_string())
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `key = value` pairs; a value may be single-quoted, with `\'` and `\\` inside.
fn pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("expected key=value after {key:?}"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("the quoted value of {key:?} is not closed")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_strings_become_urls() {
        for (conninfo, url) in [
            (
                "host=db.example.com port=6432 dbname=app user=ana",
                "postgres://ana@db.example.com:6432/app",
            ),
            (
                r"host = db dbname='my app' user=ana password='it\'s' sslmode=require",
                "postgres://ana:it%27s@db/my%20app?sslmode=require",
            ),
            (
                "host=/run/postgresql dbname=app user=ana",
                "postgres://ana@localhost/app?host=%2Frun%2Fpostgresql",
            ),
        ] {
            assert_eq!(to_url(conninfo).as_deref(), Ok(url), "{conninfo}");
        }
    }

    #[test]
    fn a_wrong_conninfo_says_what_is_wrong_and_never_the_password() {
        let error = to_url("host=db password=hunter2 bogus=1").unwrap_err();
        assert!(
            error.contains("unknown connection parameter \"bogus\""),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
        assert!(
            to_url("service=prod")
                .unwrap_err()
                .contains("service= names")
        );
        assert!(
            to_url("host=db port=x")
                .unwrap_err()
                .contains("not a port number")
        );
        assert!(is_conninfo("host=db dbname=app"));
        assert!(!is_conninfo("postgres://u@h/db?sslmode=require"));
    }
}
