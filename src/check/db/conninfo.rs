//! libpq's `key=value` connection strings (`host=db port=5432 dbname=app user=ana`), as psql
//! accepts them, turned into the `postgres://` URL the driver reads. The password is carried,
//! never shown. `service=name` reads the named section of the connection service file, as libpq
//! does: the parameters given beside it win over the file's.

use std::path::{Path, PathBuf};

use url::Url;

/// Whether `text` is a `key=value` connection string rather than a URL.
pub fn is_conninfo(text: &str) -> bool {
    !text.contains("://") && !text.starts_with("sqlite:") && text.contains('=')
}

/// The URL for a `key=value` connection string, or what is wrong with it (never quoting a
/// password).
pub fn to_url(text: &str) -> Result<String, String> {
    to_url_with(text, &service_files())
}

/// [`to_url`], looking for `service=` names in `service_files` (in order: libpq reads the
/// first file that defines the service).
pub fn to_url_with(text: &str, service_files: &[PathBuf]) -> Result<String, String> {
    let given = pairs(text)?;
    let mut params = match given.iter().find(|(key, _)| key == "service") {
        Some((_, name)) => service(name, service_files)?,
        None => Vec::new(),
    };
    // What is given beside the service wins over what the file says.
    params.retain(|(key, _)| !given.iter().any(|(given_key, _)| given_key == key));
    params.extend(given.into_iter().filter(|(key, _)| key != "service"));

    let mut url = Url::parse("postgres://localhost").map_err(|e| e.to_string())?;
    let mut host = None;
    let mut query: Vec<(String, String)> = Vec::new();
    for (key, value) in params {
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

/// Where libpq looks for service definitions, in the order it reads them: the person's file
/// (`PGSERVICEFILE`, else `~/.pg_service.conf`), then the system's (`PGSYSCONFDIR`, else where
/// Debian's and the source build's libpq look).
pub fn service_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    match std::env::var_os("PGSERVICEFILE") {
        Some(file) => files.push(PathBuf::from(file)),
        None => files
            .extend(std::env::var_os("HOME").map(|home| Path::new(&home).join(".pg_service.conf"))),
    }
    match std::env::var_os("PGSYSCONFDIR") {
        Some(dir) => files.push(Path::new(&dir).join("pg_service.conf")),
        None => files.extend(
            ["/etc/postgresql-common", "/usr/local/pgsql/etc", "/etc"]
                .map(|dir| Path::new(dir).join("pg_service.conf")),
        ),
    }
    files
}

/// The parameters of service `name`, from the first of `files` that defines it.
fn service(name: &str, files: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                return Err(format!(
                    "cannot read the service file {}: {error}",
                    file.display()
                ));
            }
        };
        if let Some(params) = service_section(&text, name, file)? {
            return Ok(params);
        }
    }
    let looked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(format!(
        "service {name:?} is not defined in any service file (looked in {}; PGSERVICEFILE \
         names the file to read)",
        looked.join(", ")
    ))
}

/// The `key=value` lines of section `[name]` of a service file, if it has that section. Errors
/// name the file and line, never a value (it may be a password).
fn service_section(
    text: &str,
    name: &str,
    file: &Path,
) -> Result<Option<Vec<(String, String)>>, String> {
    let mut in_section = false;
    let mut found = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let Some(section) = section.strip_suffix(']') else {
                return Err(format!(
                    "syntax error in service file {}, line {}: a section name ends with ]",
                    file.display(),
                    number + 1
                ));
            };
            if found.is_some() {
                break;
            }
            in_section = section == name;
            if in_section {
                found = Some(Vec::new());
            }
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "syntax error in service file {}, line {}: expected key=value",
                file.display(),
                number + 1
            ));
        };
        // As libpq: the key is exactly what precedes `=` (`port = 5432` is a syntax error
        // there, so it is here), and the value exactly what follows it.
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!(
                "syntax error in service file {}, line {}: no spaces around = in a service file",
                file.display(),
                number + 1
            ));
        }
        if key == "service" {
            return Err(format!(
                "nested service specifications are not supported (service file {}, line {})",
                file.display(),
                number + 1
            ));
        }
        if let Some(params) = found.as_mut() {
            params.push((key.to_string(), value.to_string()));
        }
    }
    Ok(found)
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
            to_url("host=db port=x")
                .unwrap_err()
                .contains("not a port number")
        );
        assert!(is_conninfo("host=db dbname=app"));
        assert!(!is_conninfo("postgres://u@h/db?sslmode=require"));
    }

    #[test]
    fn service_names_read_the_first_service_file_that_defines_them() {
        let dir = tempfile::tempdir().unwrap();
        let personal = dir.path().join("personal.conf");
        let system = dir.path().join("system.conf");
        std::fs::write(
            &personal,
            "# mine\n  [prod]\nhost=db.internal\n  port=6432  \ndbname=app\nuser=ana\n\
             password=hunter2\n\n[other]\nhost=elsewhere\n",
        )
        .unwrap();
        std::fs::write(&system, "[prod]\nhost=system-wide\n[staging]\nhost=stage\n").unwrap();
        let files = [
            personal.clone(),
            dir.path().join("absent.conf"),
            system.clone(),
        ];
        assert_eq!(
            to_url_with("service=prod", &files).unwrap(),
            "postgres://ana:hunter2@db.internal:6432/app"
        );
        // Given beside the service, whatever the order, a parameter wins over the file's.
        assert_eq!(
            to_url_with("dbname=reports service=prod user=bo", &files).unwrap(),
            "postgres://bo:hunter2@db.internal:6432/reports"
        );
        assert_eq!(
            to_url_with("service=staging", &files).unwrap(),
            "postgres://stage"
        );
        let missing = to_url_with("service=nope", &files).unwrap_err();
        assert!(
            missing.contains("service \"nope\" is not defined")
                && missing.contains("personal.conf"),
            "{missing}"
        );

        std::fs::write(&personal, "[prod]\nhost=db\npassword hunter2\n").unwrap();
        let broken = to_url_with("service=prod", &files).unwrap_err();
        assert!(broken.contains("personal.conf, line 3"), "{broken}");
        assert!(!broken.contains("hunter2"), "{broken}");
        std::fs::write(&personal, "[prod]\nhost=db\nport = 6432\n").unwrap();
        let spaced = to_url_with("service=prod", &files).unwrap_err();
        assert!(
            spaced.contains("line 3") && spaced.contains("no spaces"),
            "{spaced}"
        );
        std::fs::write(&personal, "[prod]\nservice=other\n").unwrap();
        assert!(
            to_url_with("service=prod", &files)
                .unwrap_err()
                .contains("nested service")
        );
    }
}
