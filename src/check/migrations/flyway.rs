//! Flyway's files: `V<version>__<description>.sql` (versions with `_` or `.` between numbers,
//! compared as numbers, trailing zeros dropped: `1_1` = `1.1` = `1.1.0`) and `R__<description>.sql`
//! (repeatable: applied again whenever its checksum changes), each with Flyway's checksum:
//! CRC-32 over the file's lines, line breaks and a leading BOM left out, as a signed 32-bit
//! number (`ChecksumCalculator.java`), so it does not depend on line endings.

use std::collections::BTreeMap;
use std::path::Path;

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlywayFile {
    /// As written in the name (`1_1`), for evidence.
    pub version: String,
    /// The script name Flyway records (the file name).
    pub script: String,
    /// Relative to the code root.
    pub file: String,
    pub checksum: i32,
}

/// The files of a Flyway migrations folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlywayFiles {
    /// By normalized version (`[1, 1]`), in version order.
    pub versioned: BTreeMap<Vec<u128>, FlywayFile>,
    pub repeatable: Vec<FlywayFile>,
}

/// `1_1`, `1.1` and `1.1.0` as the same numbers; `None` when a part is not a number.
pub fn version_key(text: &str) -> Option<Vec<u128>> {
    let mut parts: Vec<u128> = text
        .split(['_', '.'])
        .map(|part| part.parse::<u128>().ok())
        .collect::<Option<_>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// Flyway's checksum of a file's text.
pub fn checksum(bytes: &[u8]) -> i32 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut hasher = crc32fast::Hasher::new();
    // Lines as Java's BufferedReader.readLine splits them: at \n, \r\n or \r.
    for line in text.split('\n') {
        for part in line.split('\r') {
            hasher.update(part.as_bytes());
        }
    }
    hasher.finalize() as i32
}

/// Every `.sql` file under `folder`, as paths relative to it.
fn collect_sql(
    folder: &Path,
    prefix: &str,
    dir: &str,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(folder)
        .map_err(|error| format!("the migrations folder {dir} cannot be read: {error}"))?;
    for entry in entries {
        let entry = entry
            .map_err(|error| format!("the migrations folder {dir} cannot be read: {error}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{name}");
        let kind = entry
            .file_type()
            .map_err(|error| format!("{dir}/{relative} cannot be read: {error}"))?;
        if kind.is_symlink() {
            if name.ends_with(".sql") {
                return Err(format!(
                    "{dir}/{relative} is a symbolic link: not followed, so its migration cannot be judged"
                ));
            }
        } else if kind.is_dir() {
            collect_sql(&entry.path(), &format!("{relative}/"), dir, out)?;
        } else if name.ends_with(".sql") {
            out.push(relative);
        }
    }
    Ok(())
}

/// The migrations of the folder `dir` under `root` (resolved), sub-folders included.
pub fn read(root: &Path, dir: &str) -> Result<FlywayFiles, String> {
    let folder = super::folder(root, dir)?;
    // Flyway looks in sub-folders too; a symlinked file is refused rather than skipped (a
    // skipped migration would read as applied).
    let mut names: Vec<String> = Vec::new();
    collect_sql(&folder, "", dir, &mut names)?;
    names.sort();
    let mut files = FlywayFiles::default();
    for relative in names {
        let shown = format!("{}/{relative}", dir.trim_end_matches('/'));
        let name = relative.rsplit('/').next().unwrap_or(&relative).to_string();
        let read = |shown: &str| {
            std::fs::read(folder.join(&relative))
                .map(|bytes| checksum(&bytes))
                .map_err(|error| format!("{shown} cannot be read: {error}"))
        };
        if name.starts_with("R__") {
            files.repeatable.push(FlywayFile {
                version: String::new(),
                script: name.clone(),
                checksum: read(&shown)?,
                file: shown,
            });
        } else if let Some(rest) = name.strip_prefix('V') {
            let Some((version, _description)) = rest.split_once("__") else {
                return Err(format!("{shown}: expected V<version>__<description>.sql"));
            };
            let Some(key) = version_key(version) else {
                return Err(format!(
                    "{shown}: version {version} is not numbers separated by . or _"
                ));
            };
            let file = FlywayFile {
                version: version.replace('_', "."),
                script: name.clone(),
                file: shown.clone(),
                checksum: read(&shown)?,
            };
            if let Some(other) = files.versioned.insert(key, file) {
                return Err(format!(
                    "version {} is defined twice: {} and {shown}",
                    other.version, other.file
                ));
            }
        }
        // Undo (`U…`) and other files are not migrations Flyway applies forward.
    }
    if files.versioned.is_empty() && files.repeatable.is_empty() {
        return Err(format!(
            "no V…__….sql or R__….sql file in {dir}: a migrations check of nothing proves nothing"
        ));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_crc32_over_the_lines_whatever_the_line_endings() {
        // zlib.crc32(b"ALTER TABLE assets ADD COLUMN flow_id uuid;") as a signed int32.
        assert_eq!(
            checksum(b"ALTER TABLE assets ADD COLUMN flow_id uuid;\n"),
            -463_480_198
        );
        assert_eq!(checksum(b"SELECT 1;"), 78_787_420);
        let unix = b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";
        let windows = b"\xef\xbb\xbfCREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n";
        // zlib.crc32(b"CREATE TABLE t (id int);INSERT INTO t VALUES (1);")
        assert_eq!(checksum(unix), 169_406_234);
        assert_eq!(checksum(windows), 169_406_234, "BOM and CRLF do not count");
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(version_key("1_1"), version_key("1.1"));
        assert_eq!(version_key("1.1.0"), version_key("1.1"));
        assert!(version_key("1.10") > version_key("1.9"));
        assert_eq!(version_key("2a"), None);
    }
}
