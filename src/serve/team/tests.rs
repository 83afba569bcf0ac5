//! Team files as people write them, every mistake named with its place, and who a key belongs to.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use russh::keys::{Algorithm, PrivateKey};

fn new_key() -> PublicKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .unwrap()
        .public_key()
        .clone()
}

fn line(key: &PublicKey, comment: &str) -> String {
    let mut key = key.clone();
    key.set_comment(comment);
    key.to_openssh().unwrap()
}

fn parse(text: &str) -> Result<Team, TeamError> {
    Team::parse(Path::new("team.toml"), text)
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// A TOML basic string; Rust's `{:?}` escapes (`\u{1b}`) are not TOML.
fn toml_str(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn member(name: &str, role: &str, keys: &[String]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| toml_str(k)).collect();
    format!(
        "[[member]]\nname = {}\nrole = {role:?}\nkeys = [{}]\n",
        toml_str(name),
        keys.join(", ")
    )
}

#[test]
fn roles_are_ordered_and_gated() {
    assert!(Role::Viewer < Role::Engineer && Role::Engineer < Role::Lead);
    assert!(Role::Lead < Role::Admin);
    let marks: Vec<bool> = Role::ALL.iter().map(|r| r.may_mark()).collect();
    assert_eq!(marks, [false, true, true, true]);
    let admins: Vec<bool> = Role::ALL.iter().map(|r| r.may_administer()).collect();
    assert_eq!(admins, [false, false, false, true]);
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
    }
    assert_eq!(
        "Admin".parse::<Role>().unwrap_err().to_string(),
        "unknown role \"Admin\"; expected viewer, engineer, lead or admin"
    );
}

#[test]
fn a_good_file_parses() {
    let (a, b1, b2) = (new_key(), new_key(), new_key());
    let text = format!(
        "# comment\nanon_access = \"no-access\"\n\n{}\n{}",
        member("ana", "admin", &[line(&a, "ana@laptop")]),
        member(
            "Bob Stone",
            "engineer",
            &[line(&b1, ""), line(&b2, "bob@home with spaces")]
        ),
    );
    let team = parse(&text).unwrap();
    assert_eq!(team.members().len(), 2);
    assert_eq!(team.members()[0].name, "ana");
    assert_eq!(team.members()[0].role, Role::Admin);
    assert_eq!(team.members()[1].keys.len(), 2);
    assert!(!team.anon_viewers());
    assert_eq!(
        team.describe(),
        "team team.toml: 2 members (1 admin, 1 engineer); unknown keys refused"
    );
    assert_eq!(team.source(), &TeamSource::File("team.toml".into()));
}

#[test]
fn an_empty_file_is_an_empty_team() {
    let team = parse("").unwrap();
    assert!(team.members().is_empty());
    assert_eq!(
        team.describe(),
        "team team.toml: 0 members; unknown keys refused"
    );
    assert_eq!(team.identify(&new_key()), None);
}

#[test]
fn load_reads_from_disk_and_reports_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("team.toml");
    assert!(matches!(Team::load(&path), Err(TeamError::NotFound { .. })));
    let k = new_key();
    std::fs::write(&path, member("ana", "viewer", &[line(&k, "x")])).unwrap();
    let team = Team::load(&path).unwrap();
    assert_eq!(team.identify(&k).unwrap().role, Role::Viewer);
}

#[test]
fn syntax_and_schema_errors_name_file_line_and_column() {
    let k = line(&new_key(), "");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "typo in a field",
            format!("[[member]]\nname = \"ana\"\nrol = \"admin\"\nkeys = [{k:?}]\n"),
            "team.toml:3:1: unknown field `rol`, expected one of `name`, `role`, `keys`",
        ),
        (
            "unknown role",
            format!("[[member]]\nname = \"ana\"\nrole = \"boss\"\nkeys = [{k:?}]\n"),
            "team.toml:3:8: unknown variant `boss`, expected one of `viewer`, `engineer`, `lead`, `admin`",
        ),
        (
            "missing role",
            format!("[[member]]\nname = \"ana\"\nkeys = [{k:?}]\n"),
            "team.toml:1:1: missing field `role`",
        ),
        (
            "unknown top-level key",
            "anon = \"viewer\"\n".to_owned(),
            "team.toml:1:1: unknown field `anon`, expected `anon_access` or `member`",
        ),
        ("broken toml", "[[member]\n".to_owned(), "team.toml:1:10: "),
        (
            "anon engineer",
            "\nanon_access = \"engineer\"\n".to_owned(),
            "team.toml:2:15: anon_access = \"engineer\" is not allowed: anonymous people may only watch",
        ),
    ];
    for (name, text, want) in cases {
        let got = err(&text);
        assert!(got.starts_with(want), "case {name}: got {got:?}");
    }
}

#[test]
fn member_errors_name_the_member_and_the_place() {
    let (a, b) = (new_key(), new_key());
    let (la, lb) = (line(&a, "ana@x"), line(&b, ""));
    let ana = member("ana", "admin", std::slice::from_ref(&la));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "empty name",
            member("  ", "viewer", std::slice::from_ref(&lb)),
            "team.toml:2:8: member 1 \"  \": the name is empty",
        ),
        (
            "escape in name",
            member("bob\u{1b}[2J", "viewer", std::slice::from_ref(&lb)),
            "team.toml:2:8: member 1 \"bob\\u{1b}[2J\": the name contains a control character",
        ),
        (
            "bidi override in name",
            member("bob\u{202e}", "viewer", std::slice::from_ref(&lb)),
            "team.toml:2:8: member 1 \"bob\\u{202e}\": the name contains an invisible formatting character",
        ),
        (
            "duplicate name",
            format!(
                "{ana}{}",
                member("Ana", "viewer", std::slice::from_ref(&lb))
            ),
            "team.toml:6:8: member 2 \"Ana\": the name is already taken by member 1",
        ),
        (
            "no keys",
            member("bob", "viewer", &[]),
            "team.toml:4:8: member 1 \"bob\": no keys",
        ),
        (
            "bad key",
            format!(
                "{ana}{}",
                member(
                    "bob",
                    "viewer",
                    &[lb.clone(), "ssh-ed25519 AAAAnope".into()]
                )
            ),
            "team.toml:8:",
        ),
        (
            "key with options",
            member("bob", "viewer", &[format!("restrict,command=\"a b\" {lb}")]),
            "team.toml:4:9: member 1 \"bob\": key 1: options \"restrict,command=\\\"a b\\\"\" before the key are not allowed; the team file takes bare key lines",
        ),
        (
            "shared key",
            format!(
                "{ana}{}",
                member("bob", "viewer", &[line(&a, "other comment")])
            ),
            "team.toml:8:9: member 2 \"bob\": key 1: SHA256:",
        ),
        (
            "certificate",
            member(
                "bob",
                "viewer",
                &["ssh-ed25519-cert-v01@openssh.com AAAA bob".into()],
            ),
            "team.toml:4:9: member 1 \"bob\": key 1: this is a certificate",
        ),
    ];
    for (name, text, want) in cases {
        let got = err(&text);
        assert!(got.starts_with(want), "case {name}: got {got:?}");
    }
    let bad = err(&format!(
        "{ana}{}",
        member(
            "bob",
            "viewer",
            &[lb.clone(), "ssh-ed25519 AAAAnope".into()]
        )
    ));
    assert!(
        bad.contains("member 2 \"bob\": key 2: not a valid public key"),
        "{bad}"
    );
    let shared = err(&format!(
        "{ana}{}",
        member("bob", "viewer", &[line(&a, "")])
    ));
    assert!(
        shared.contains("is already member 1 \"ana\"'s key"),
        "{shared}"
    );
}

#[test]
fn member_errors_carry_structured_fields() {
    let (a, b) = (line(&new_key(), ""), line(&new_key(), ""));
    let text = format!(
        "{}{}",
        member("ana", "admin", &[a]),
        member("ANA", "viewer", &[b])
    );
    let Err(TeamError::Member(e)) = parse(&text) else {
        panic!("expected a member error")
    };
    assert_eq!((e.index, e.name.as_str()), (2, "ANA"));
    assert_eq!(e.problem, MemberProblem::DuplicateName { first: 1 });
    assert_eq!(e.at.line_col, Some((6, 8)));
    assert_eq!(e.at.path, Path::new("team.toml"));
}

#[test]
fn the_same_key_twice_for_one_person_is_fine() {
    let a = new_key();
    let team = parse(&member("ana", "lead", &[line(&a, "1"), line(&a, "2")])).unwrap();
    assert_eq!(team.members()[0].keys.len(), 1);
}

#[test]
fn identify_by_key_data_not_comment() {
    let (a, b, stranger) = (new_key(), new_key(), new_key());
    let text = format!(
        "{}{}",
        member("ana", "admin", &[line(&a, "ana@laptop")]),
        member("bob", "viewer", &[line(&b, "bob@x")])
    );
    let team = parse(&text).unwrap();
    let mut renamed = a.clone();
    renamed.set_comment("something else entirely");
    let id = team.identify(&renamed).unwrap();
    assert_eq!(
        id,
        Identity {
            name: "ana".into(),
            role: Role::Admin,
            fingerprint: a.fingerprint(HashAlg::Sha256).to_string(),
            anonymous: false,
        }
    );
    assert!(id.fingerprint.starts_with("SHA256:"));
    assert_eq!(team.identify(&b).unwrap().name, "bob");
    assert_eq!(team.identify(&stranger), None);
}

#[test]
fn anonymous_viewers_get_a_stable_guest_name() {
    let a = new_key();
    let text = format!(
        "anon_access = \"viewer\"\n{}",
        member("ana", "admin", &[line(&a, "")])
    );
    let team = parse(&text).unwrap();
    let stranger = new_key();
    let guest = team.identify(&stranger).unwrap();
    assert!(guest.anonymous);
    assert_eq!(guest.role, Role::Viewer);
    assert_eq!(guest.name.len(), "guest-".len() + 6);
    assert!(guest.name.starts_with("guest-"));
    assert!(guest.name[6..].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(team.identify(&stranger), Some(guest));
    assert!(!team.identify(&a).unwrap().anonymous);
    assert!(
        team.describe()
            .ends_with("unknown keys may watch as guests")
    );
}

#[test]
fn operator_keys_admits_every_pub_key_as_one_admin() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, other) = (new_key(), new_key(), new_key());
    std::fs::write(
        dir.path().join("id_ed25519.pub"),
        line(&a, "me@laptop") + "\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("work.pub"), line(&b, "")).unwrap();
    std::fs::write(dir.path().join("junk.pub"), "not a key at all\n").unwrap();
    std::fs::write(
        dir.path().join("id_ed25519"),
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    )
    .unwrap();
    std::fs::write(dir.path().join("config"), "Host *\n").unwrap();
    std::fs::create_dir(dir.path().join("dir.pub")).unwrap();

    let team = Team::operator_keys(dir.path(), "ana").unwrap();
    assert_eq!(team.members().len(), 1);
    assert_eq!(team.members()[0].role, Role::Admin);
    assert_eq!(team.members()[0].keys.len(), 2);
    assert!(!team.anon_viewers());
    assert_eq!(team.identify(&a).unwrap().name, "ana");
    assert_eq!(team.identify(&b).unwrap().role, Role::Admin);
    assert_eq!(team.identify(&other), None);
    let banner = team.describe();
    assert!(
        banner.starts_with("no team file: only you (ana, admin) with 2 keys from "),
        "{banner}"
    );
    assert!(banner.ends_with("unknown keys refused; write .remtrack/team.toml to let others in"));
}

#[test]
fn operator_keys_without_keys_says_how_to_write_a_team_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.pub"), "nope").unwrap();
    let got = Team::operator_keys(dir.path(), "ana")
        .unwrap_err()
        .to_string();
    assert!(got.contains("no public keys (*.pub) in"), "{got}");
    assert!(got.contains("ssh-keygen -t ed25519"), "{got}");
    assert!(got.contains("[[member]]"), "{got}");
    let missing = Team::operator_keys(&dir.path().join("nope"), "ana").unwrap_err();
    assert!(matches!(missing, TeamError::NoOperatorKeys { .. }));
    let bad = Team::operator_keys(dir.path(), "a\nb").unwrap_err();
    assert!(matches!(bad, TeamError::BadOperatorName { .. }));
}

#[test]
fn the_example_admits_nobody_until_keys_are_pasted() {
    let got = err(Team::example());
    assert!(
        got.contains("member 1 \"ana\": key 1: not a valid public key"),
        "{got}"
    );
    let filled: String = Team::example()
        .lines()
        .map(|l| match l.find("\"ssh-ed25519 AAAA...") {
            Some(start) => {
                let end = l.rfind('"').unwrap();
                format!(
                    "{}{:?}{}\n",
                    &l[..start],
                    line(&new_key(), "x"),
                    &l[end + 1..]
                )
            }
            None => format!("{l}\n"),
        })
        .collect();
    let team = parse(&filled).unwrap();
    assert_eq!(
        team.describe(),
        "team team.toml: 2 members (1 admin, 1 engineer); unknown keys refused"
    );
}

#[test]
fn line_col_counts_characters() {
    let text = "ab\né=x\n";
    assert_eq!(line_col(text, 0), (1, 1));
    assert_eq!(line_col(text, 3), (2, 1));
    assert_eq!(line_col(text, 5), (2, 2));
    assert_eq!(line_col(text, 4), (2, 1));
    assert_eq!(line_col(text, 999), (3, 1));
}

#[test]
fn an_rsa_key_is_refused_with_how_to_make_one_that_works() {
    let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC4Xv/Q1ISkqNtQOGBfqjPMNY3NrjvGVwD0xuQcku2kw+e2pkT8RAnv0ABtIZXWHNcWzFxlQmR69tBO9jNy6REfnJYtQ/rT227OF/k8pK0q/m+f5+uYoBAyJOefYA1g2q3Oh1hQQo6j1YaLtqf6XNnspFQYAmHXQpBKw+hj56RayQ== old@laptop";
    let file = format!("[[member]]\nname = \"ana\"\nrole = \"engineer\"\nkeys = [\"{rsa}\"]\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("team.toml");
    std::fs::write(&path, file).unwrap();
    let error = Team::load(&path).unwrap_err().to_string();
    assert!(error.contains("RSA keys cannot log in"), "{error}");
    assert!(error.contains("ssh-keygen -t ed25519"), "{error}");
    assert!(error.contains(":4:"), "names the line: {error}");
}
