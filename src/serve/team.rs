//! Who may connect to `remtrack serve`, and as what: the team file, roles, and key lookup.
//!
//! Identity is the verified SSH key alone. The user name typed after `ssh` is not used: one
//! key can log in as alice, bob and carol at once.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use russh::keys::ssh_key::Fingerprint;
use russh::keys::{HashAlg, PublicKey};
use serde::Deserialize;
use toml::Spanned;

/// Where `remtrack serve` looks for the team file unless told otherwise.
pub const DEFAULT_PATH: &str = ".remtrack/team.toml";

/// Longer names would push the rest of a footer or a picker line off screen.
const MAX_NAME_CHARS: usize = 64;

/// What a person may do; ordered so that `role >= Role::Engineer` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Engineer,
    Lead,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Engineer, Role::Lead, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    /// "a viewer", "an engineer": for sentences about someone's role.
    pub fn with_article(self) -> String {
        let article = if matches!(self, Role::Engineer | Role::Admin) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", self.as_str())
    }

    /// May verify and unverify items.
    pub fn may_mark(self) -> bool {
        self >= Role::Engineer
    }

    /// May dry run a fix, apply it, and ask for an approval of it.
    pub fn may_fix(self) -> bool {
        self >= Role::Engineer
    }

    /// May approve a fix (the four-eyes rule's second pair).
    pub fn may_approve(self) -> bool {
        self >= Role::Lead
    }

    /// May end other people's sessions and reload the team.
    pub fn may_administer(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected viewer, engineer, lead or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub role: Role,
    pub keys: Vec<PublicKey>,
}

/// Who a connection is, decided from its verified key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// `SHA256:…` of the key, for logs and event records.
    pub fingerprint: String,
    pub anonymous: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamSource {
    /// A team file.
    File(PathBuf),
    /// No team file: the operator's own `*.pub` keys from this directory.
    OperatorKeys(PathBuf),
}

impl fmt::Display for TeamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TeamSource::File(path) => write!(f, "team {}", path.display()),
            TeamSource::OperatorKeys(dir) => write!(f, "your own keys in {}", dir.display()),
        }
    }
}

/// A spot in a team file, shown as `path:line:column` like a compiler would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub path: PathBuf,
    /// 1-based line and column (in characters); `None` when the parser gave no position.
    pub line_col: Option<(usize, usize)>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((line, column)) => write!(f, "{}:{line}:{column}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// User-supplied text is shown with `{:?}` so that an error cannot repaint the terminal.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("team file {} not found", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read team file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{at}: {message}")]
    Syntax { at: Place, message: String },
    #[error(
        "{at}: anon_access = {value:?} is not allowed: anonymous people may only watch; expected \"no-access\" or \"viewer\""
    )]
    AnonAccess { at: Place, value: String },
    /// Boxed because it is by far the largest variant and errors travel by value.
    #[error(transparent)]
    Member(Box<MemberError>),
    #[error("cannot list {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "no public keys (*.pub) in {}; create one with `ssh-keygen -t ed25519`, or write a team file ({DEFAULT_PATH}) saying who may connect:\n\n{}",
        dir.display(),
        Team::example()
    )]
    NoOperatorKeys { dir: PathBuf },
    #[error("the operator name {name:?} {problem}; expected plain printable text")]
    BadOperatorName { name: String, problem: &'static str },
}

/// Something wrong with one `[[member]]` table. Members are numbered from 1, as a person
/// counts the tables in the file.
#[derive(Debug, thiserror::Error)]
#[error("{at}: member {index} {name:?}: {problem}")]
pub struct MemberError {
    pub at: Place,
    pub index: usize,
    pub name: String,
    pub problem: MemberProblem,
}

/// Keys are numbered from 1 within the member's `keys` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberProblem {
    #[error("the name is empty; expected name = \"...\"")]
    EmptyName,
    #[error("the name {0}; expected plain printable text")]
    BadName(&'static str),
    #[error("the name is already taken by member {first}; expected each name once")]
    DuplicateName { first: usize },
    #[error("no keys; expected keys = [\"ssh-ed25519 AAAA... name@host\"]")]
    NoKeys,
    #[error(
        "key {key}: {reason}; expected a public key line such as \"ssh-ed25519 AAAA... name@laptop\" (the contents of ~/.ssh/id_ed25519.pub)"
    )]
    BadKey { key: usize, reason: String },
    #[error(
        "key {key}: options {options:?} before the key are not allowed; the team file takes bare key lines (\"ssh-ed25519 AAAA... comment\")"
    )]
    KeyOptions { key: usize, options: String },
    #[error(
        "key {key}: {fingerprint} is already member {other} {other_name:?}'s key; expected each key to belong to one person"
    )]
    SharedKey {
        key: usize,
        fingerprint: String,
        other: usize,
        other_name: String,
    },
}

#[derive(Debug, Clone)]
pub struct Team {
    members: Vec<Member>,
    anon_viewers: bool,
    source: TeamSource,
    by_key: HashMap<Fingerprint, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    anon_access: Option<Spanned<String>>,
    #[serde(default, rename = "member")]
    members: Vec<RawMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    name: Spanned<String>,
    role: Role,
    keys: Spanned<Vec<Spanned<String>>>,
}

impl Team {
    /// Reads and checks a team file. Everything wrong with it is an error: a half-understood
    /// access list is worse than none.
    pub fn load(path: &Path) -> Result<Team, TeamError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                TeamError::NotFound {
                    path: path.to_owned(),
                }
            } else {
                TeamError::Read {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        Team::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Team, TeamError> {
        let at = |span: Option<Range<usize>>| Place {
            path: path.to_owned(),
            line_col: span.map(|s| line_col(text, s.start)),
        };
        let raw: RawTeam = toml::from_str(text).map_err(|e| TeamError::Syntax {
            at: at(e.span()),
            message: e.message().to_owned(),
        })?;

        let anon_viewers = match &raw.anon_access {
            None => false,
            Some(value) => match value.get_ref().as_str() {
                "no-access" => false,
                "viewer" => true,
                other => {
                    return Err(TeamError::AnonAccess {
                        at: at(Some(value.span())),
                        value: other.to_owned(),
                    });
                }
            },
        };

        let mut members: Vec<Member> = Vec::with_capacity(raw.members.len());
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut by_key: HashMap<Fingerprint, usize> = HashMap::new();
        for (i, m) in raw.members.into_iter().enumerate() {
            let index = i + 1;
            let name_at = at(Some(m.name.span()));
            let name = m.name.into_inner();
            let fail = |at: Place, name: String, problem: MemberProblem| {
                TeamError::Member(Box::new(MemberError {
                    at,
                    index,
                    name,
                    problem,
                }))
            };
            if name.trim().is_empty() {
                return Err(fail(name_at, name, MemberProblem::EmptyName));
            }
            if let Some(problem) = name_problem(&name) {
                return Err(fail(name_at, name, MemberProblem::BadName(problem)));
            }
            // Case-blind, because "Ana" and "ana" would look like one person on screen.
            if let Some(&first) = by_name.get(&name.to_lowercase()) {
                let problem = MemberProblem::DuplicateName { first: first + 1 };
                return Err(fail(name_at, name, problem));
            }
            by_name.insert(name.to_lowercase(), i);

            if m.keys.get_ref().is_empty() {
                return Err(fail(at(Some(m.keys.span())), name, MemberProblem::NoKeys));
            }
            let mut keys = Vec::new();
            for (k, line) in m.keys.into_inner().into_iter().enumerate() {
                let key_no = k + 1;
                let key_at = at(Some(line.span()));
                let key = match parse_key_line(line.get_ref()) {
                    Ok(key) => match cannot_log_in(&key) {
                        None => key,
                        Some(reason) => {
                            let problem = MemberProblem::BadKey {
                                key: key_no,
                                reason: reason.into(),
                            };
                            return Err(fail(key_at, name, problem));
                        }
                    },
                    Err(KeyLineError::Options(options)) => {
                        let problem = MemberProblem::KeyOptions {
                            key: key_no,
                            options,
                        };
                        return Err(fail(key_at, name, problem));
                    }
                    Err(KeyLineError::Bad(reason)) => {
                        let problem = MemberProblem::BadKey {
                            key: key_no,
                            reason,
                        };
                        return Err(fail(key_at, name, problem));
                    }
                };
                let fingerprint = key.fingerprint(HashAlg::Sha256);
                match by_key.get(&fingerprint) {
                    // Listing one key twice for the same person is harmless.
                    Some(&owner) if owner == i => continue,
                    Some(&owner) => {
                        let problem = MemberProblem::SharedKey {
                            key: key_no,
                            fingerprint: fingerprint.to_string(),
                            other: owner + 1,
                            other_name: members
                                .get(owner)
                                .map(|o| o.name.clone())
                                .unwrap_or_default(),
                        };
                        return Err(fail(key_at, name, problem));
                    }
                    None => {
                        by_key.insert(fingerprint, i);
                        keys.push(key);
                    }
                }
            }
            members.push(Member {
                name,
                role: m.role,
                keys,
            });
        }

        Ok(Team {
            members,
            anon_viewers,
            source: TeamSource::File(path.to_owned()),
            by_key,
        })
    }

    /// The zero-config fallback for a laptop: only the operator, with every `*.pub` key found
    /// directly in `ssh_dir`, as one admin. Nobody else gets in, not even to watch.
    ///
    /// Certificates (`*-cert.pub`) are skipped: their plain key is normally right next to
    /// them, and accepting one here would suggest the server checks the certificate's
    /// signer and expiry, which it does not.
    pub fn operator_keys(ssh_dir: &Path, name: &str) -> Result<Team, TeamError> {
        if let Some(problem) = name_problem(name) {
            return Err(TeamError::BadOperatorName {
                name: name.to_owned(),
                problem,
            });
        }
        if name.trim().is_empty() {
            return Err(TeamError::BadOperatorName {
                name: name.to_owned(),
                problem: "is empty",
            });
        }
        let entries = match std::fs::read_dir(ssh_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TeamError::NoOperatorKeys {
                    dir: ssh_dir.to_owned(),
                });
            }
            Err(source) => {
                return Err(TeamError::ReadDir {
                    dir: ssh_dir.to_owned(),
                    source,
                });
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".pub") && !n.ends_with("-cert.pub"))
            })
            .collect();
        // Sorted so the banner and the member's key order do not depend on the file system.
        paths.sort();

        let mut keys = Vec::new();
        let mut by_key = HashMap::new();
        for path in paths {
            // Unreadable files and ones that are not a public key are not ours to judge.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Some(line) = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
            else {
                continue;
            };
            let Ok(key) = PublicKey::from_openssh(line) else {
                continue;
            };
            if cannot_log_in(&key).is_some() {
                continue;
            }
            let fingerprint = key.fingerprint(HashAlg::Sha256);
            if by_key.insert(fingerprint, 0).is_none() {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(TeamError::NoOperatorKeys {
                dir: ssh_dir.to_owned(),
            });
        }
        Ok(Team {
            members: vec![Member {
                name: name.to_owned(),
                role: Role::Admin,
                keys,
            }],
            anon_viewers: false,
            source: TeamSource::OperatorKeys(ssh_dir.to_owned()),
            by_key,
        })
    }

    /// Who this verified key is. Lookup is by fingerprint, which covers the key data and not
    /// its comment, so a key re-exported with another comment is still the same person.
    pub fn identify(&self, key: &PublicKey) -> Option<Identity> {
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        if let Some(member) = self
            .by_key
            .get(&fingerprint)
            .and_then(|&i| self.members.get(i))
        {
            return Some(Identity {
                name: member.name.clone(),
                role: member.role,
                fingerprint: fingerprint.to_string(),
                anonymous: false,
            });
        }
        if !self.anon_viewers {
            return None;
        }
        // Named from the fingerprint so the same guest keeps the same name across visits.
        let digest = fingerprint.as_bytes();
        let tag: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
        Some(Identity {
            name: format!("guest-{tag}"),
            role: Role::Viewer,
            fingerprint: fingerprint.to_string(),
            anonymous: true,
        })
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn anon_viewers(&self) -> bool {
        self.anon_viewers
    }

    pub fn source(&self) -> &TeamSource {
        &self.source
    }

    /// One line for the start banner.
    pub fn describe(&self) -> String {
        let anon = if self.anon_viewers {
            "unknown keys may watch as guests"
        } else {
            "unknown keys refused"
        };
        match &self.source {
            TeamSource::File(path) => {
                let counts: Vec<String> = Role::ALL
                    .iter()
                    .rev()
                    .filter_map(|&role| {
                        let n = self.members.iter().filter(|m| m.role == role).count();
                        (n > 0).then(|| plural(n, role.as_str()))
                    })
                    .collect();
                let roles = if counts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", counts.join(", "))
                };
                format!(
                    "team {}: {}{roles}; {anon}",
                    path.display(),
                    plural(self.members.len(), "member"),
                )
            }
            TeamSource::OperatorKeys(dir) => {
                let keys = self.members.first().map_or(0, |m| m.keys.len());
                let name = self.members.first().map_or("", |m| m.name.as_str());
                format!(
                    "no team file: only you ({name}, admin) with {} from {}; {anon}; write {DEFAULT_PATH} to let others in",
                    plural(keys, "key"),
                    dir.display(),
                )
            }
        }
    }

    /// A commented team file to print in the banner or the README. Its key lines are
    /// placeholders that do not parse, so a copied example admits nobody by accident.
    pub fn example() -> &'static str {
        r#"# .remtrack/team.toml: who may connect to `remtrack serve`, and as what.
# People are known by their SSH key; the user name they type after `ssh` is ignored.
#
# Roles, each allowed what the one before it is:
#   viewer    watch the plan and who is looking where
#   engineer  also verify, unverify and add notes
#   lead      same as engineer (approvals come with fixes)
#   admin     also end other people's sessions and reload this file (x, R in the f list)
#
# Unknown keys are refused. To let anyone with the address watch, uncomment:
# anon_access = "viewer"

[[member]]
name = "ana"
role = "admin"
# Paste the whole line of each person's public key (~/.ssh/id_ed25519.pub).
keys = ["ssh-ed25519 AAAA...paste-ana's-key-here ana@laptop"]

[[member]]
name = "bob"
role = "engineer"
keys = [
  "ssh-ed25519 AAAA...paste-bob's-key-here bob@work",
  "ssh-ed25519 AAAA...paste-bob's-other-key-here bob@home",
]
"#
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Names are drawn into other people's screens, so anything that moves the cursor, changes
/// colours or reorders text (control and bidi characters) is refused.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.chars().any(is_invisible_format) {
        Some("contains an invisible formatting character")
    } else if name.trim() != name {
        Some("starts or ends with spaces")
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some("is longer than 64 characters")
    } else {
        None
    }
}

fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00ad}'
        | '\u{061c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}')
}

enum KeyLineError {
    Options(String),
    Bad(String),
}

fn parse_key_line(line: &str) -> Result<PublicKey, KeyLineError> {
    let line = line.trim();
    if line.is_empty() {
        return Err(KeyLineError::Bad("the key line is empty".into()));
    }
    let err = match PublicKey::from_openssh(line) {
        Ok(key) => return Ok(key),
        Err(err) => err,
    };
    let first = line.split_whitespace().next().unwrap_or_default();
    if first.ends_with("-cert-v01@openssh.com") {
        return Err(KeyLineError::Bad(
            "this is a certificate; list the plain public key instead".into(),
        ));
    }
    // authorized_keys options (`restrict,command="a b" ssh-ed25519 …`) may contain quoted
    // spaces, so try every split point rather than parsing the options.
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            let (options, rest) = line.split_at(i);
            if PublicKey::from_openssh(rest.trim_start()).is_ok() {
                return Err(KeyLineError::Options(options.to_owned()));
            }
        }
    }
    Err(KeyLineError::Bad(format!("not a valid public key ({err})")))
}

/// Why a well-formed key could never log in here, if it could not: the server verifies
/// signatures with `ring` and is built without RSA (whose crates are still pre-releases), so an
/// RSA key in the team file would only ever be refused at login, with no word why.
fn cannot_log_in(key: &PublicKey) -> Option<&'static str> {
    key.algorithm().is_rsa().then_some(
        "RSA keys cannot log in to remtrack serve (it verifies Ed25519 and ECDSA signatures); \
         make one with ssh-keygen -t ed25519",
    )
}

/// toml reports byte offsets; people count lines and characters from 1.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
