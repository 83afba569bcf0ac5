//! The code pass against real temporary trees: ignore rules, binary and Latin-1 files, caps,
//! symlinks, empty scopes, the ratchet and the cache, judged as the tracker shows them.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{CodeLimits, CodeNeeds, CodeSource, path_problem};
use crate::check::judge::judge_code;
use crate::check::{CheckStatus, Verdict};
use crate::plan::{CheckSpec, Plan};

fn write(root: &Path, path: &str, text: impl AsRef<[u8]>) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

/// A plan whose only task has these checks.
fn plan(checks: serde_json::Value) -> Plan {
    serde_json::from_value(json!({
        "version": 1, "title": "t",
        "days": [{"day": 1, "title": "d"}],
        "phases": [{"id": "p", "title": "p"}],
        "tasks": [{"id": "t", "title": "t", "day": 1, "phase": "p", "priority": "high",
                   "checks": checks}]
    }))
    .unwrap()
}

/// The verdicts of `checks` over the tree at `root`, through `source`.
fn verdicts_with(source: &CodeSource, checks: serde_json::Value) -> Vec<Verdict> {
    let plan = plan(checks);
    let facts = source.gather(&CodeNeeds::of(&plan));
    plan.tasks[0]
        .checks
        .iter()
        .map(|check| judge_code(&check.spec, &facts).unwrap())
        .collect()
}

fn verdicts(root: &Path, checks: serde_json::Value) -> Vec<Verdict> {
    verdicts_with(
        &CodeSource::new(root.to_path_buf(), vec![], CodeLimits::default()),
        checks,
    )
}

fn one(root: &Path, check: serde_json::Value) -> Verdict {
    let mut check = check;
    check["id"] = json!("c");
    verdicts(root, json!([check])).remove(0)
}

/// The seed's backend in small: `session_id` in some files, ignored and binary copies that
/// must not count.
fn backend() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "build/\n*.log\n");
    write(
        root,
        "backend/app/models/asset.py",
        "class Asset:\n    session_id = Column(UUID)\n    flow_id = Column(UUID)\n",
    );
    write(
        root,
        "backend/app/api/v1/discovery.py",
        "def get(session_id):\n    return db.get(session_id=session_id)\n",
    );
    write(
        root,
        "backend/app/services/user.py",
        "user_session_id = 1  # not the column\n",
    );
    write(
        root,
        "backend/alembic/versions/001_init.py",
        "op.add_column('assets', 'session_id')\n",
    );
    write(
        root,
        "build/generated.py",
        "session_id = 'ignored by .gitignore'\n",
    );
    write(root, "debug.log", "session_id in a log\n");
    write(root, ".hidden/secret.py", "session_id hidden\n");
    write(
        root,
        "backend/app/static/blob.bin",
        b"session_id\x00\x01binary",
    );
    // Latin-1: not UTF-8, still searched, shown lossily.
    write(root, "backend/app/legacy.py", b"caf\xe9 = session_id\n");
    dir
}

#[test]
fn a_word_search_counts_what_gitignore_hidden_and_binary_rules_leave_and_says_where() {
    let dir = backend();
    let verdict = one(
        dir.path(),
        json!({"kind": "code_absent", "pattern": "session_id", "word": true,
               "paths": ["backend/**"], "exclude": ["backend/alembic/**"]}),
    );
    assert_eq!(verdict.status, CheckStatus::Fail, "{verdict:?}");
    // asset.py 1, discovery.py 3 on 2 lines, legacy.py 1: user_session_id is not a word match.
    assert!(
        verdict.evidence.starts_with("/session_id/ still in 4 places in 3 files: backend/app/api/v1/discovery.py:1, backend/app/api/v1/discovery.py:2, backend/app/legacy.py:1, backend/app/models/asset.py:2"),
        "{}",
        verdict.evidence
    );
    assert!(
        verdict.evidence.contains("1 binary skipped"),
        "{}",
        verdict.evidence
    );
    assert_eq!(verdict.facts["files_searched"], 4, "{:?}", verdict.facts);
    let texts: Vec<&str> = verdict.facts["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"caf\u{fffd} = session_id"), "{texts:?}");

    // Without `word`, user_session_id counts too; the .gitignore'd, hidden and excluded never.
    let loose = one(
        dir.path(),
        json!({"kind": "code_absent", "literal": "session_id"}),
    );
    assert!(
        loose.evidence.contains("in 6 places in 5 files"),
        "{}",
        loose.evidence
    );
    assert!(!loose.evidence.contains("build/") && !loose.evidence.contains(".hidden"));
}

#[test]
fn absent_passes_at_zero_or_under_its_ratchet_and_present_needs_its_minimum() {
    let dir = backend();
    let root = dir.path();
    let gone = one(
        root,
        json!({"kind": "code_absent", "literal": "flow_state_v0"}),
    );
    assert_eq!(gone.status, CheckStatus::Pass, "{gone:?}");
    assert!(
        gone.evidence
            .starts_with("no match for \"flow_state_v0\" in 5 files"),
        "{}",
        gone.evidence
    );
    let ratchet = one(
        root,
        json!({"kind": "code_absent", "pattern": "session_id", "word": true, "max_matches": 5}),
    );
    assert_eq!(ratchet.status, CheckStatus::Pass, "{ratchet:?}");
    assert!(
        ratchet.evidence.contains("(at most 5 allowed)"),
        "{}",
        ratchet.evidence
    );
    let tight = one(
        root,
        json!({"kind": "code_absent", "pattern": "session_id", "word": true, "max_matches": 2}),
    );
    assert_eq!(tight.status, CheckStatus::Fail);
    assert!(
        tight.evidence.contains("(at most 2 allowed)"),
        "{}",
        tight.evidence
    );

    let present = one(
        root,
        json!({"kind": "code_present", "pattern": "flow_id = Column", "paths": ["backend/app/models/asset.py"]}),
    );
    assert_eq!(present.status, CheckStatus::Pass, "{present:?}");
    let too_few = one(
        root,
        json!({"kind": "code_present", "literal": "Column(UUID)", "min_matches": 3}),
    );
    assert_eq!(too_few.status, CheckStatus::Fail);
    assert!(
        too_few.evidence.contains("in only 2 places")
            && too_few.evidence.contains("(at least 3 wanted)"),
        "{}",
        too_few.evidence
    );
    let case = one(
        root,
        json!({"kind": "code_present", "literal": "CLASS ASSET", "ignore_case": true}),
    );
    assert_eq!(case.status, CheckStatus::Pass, "{case:?}");
}

#[test]
fn a_search_of_nothing_is_an_error_never_a_pass() {
    let dir = backend();
    for check in [
        json!({"kind": "code_absent", "literal": "session_id", "paths": ["backend/ap/**/*.py"]}),
        json!({"kind": "code_present", "literal": "session_id", "paths": ["build/**"]}),
    ] {
        let verdict = one(dir.path(), check);
        assert_eq!(verdict.status, CheckStatus::Error, "{verdict:?}");
        assert!(
            verdict
                .evidence
                .contains("a search of nothing proves nothing"),
            "{}",
            verdict.evidence
        );
    }
    let missing = verdicts(
        &dir.path().join("no-such-folder"),
        json!([{"id": "c", "kind": "code_absent", "literal": "x"}]),
    );
    assert_eq!(missing[0].status, CheckStatus::Error);
    assert!(
        missing[0].evidence.contains("cannot be read"),
        "{}",
        missing[0].evidence
    );
}

#[test]
fn symlinks_are_never_followed_in_or_out_of_the_root() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.py",
        "session_id = 'outside the root'\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/main.py", "print('hello')\n");
    std::os::unix::fs::symlink(outside.path(), root.join("app/escape")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.py"), root.join("app/linked.py"))
        .unwrap();
    let verdict = one(
        root,
        json!({"kind": "code_absent", "literal": "session_id"}),
    );
    assert_eq!(verdict.status, CheckStatus::Pass, "{verdict:?}");
    assert!(
        verdict.evidence.contains("in 1 file"),
        "{}",
        verdict.evidence
    );
    let link = one(root, json!({"kind": "path_exists", "path": "app/escape"}));
    assert_eq!(link.evidence, "app/escape exists (a symbolic link)");
    let through = one(
        root,
        json!({"kind": "path_exists", "path": "app/escape/secret.py"}),
    );
    assert_eq!(through.status, CheckStatus::Error, "{through:?}");
    assert!(
        through.evidence.contains("outside the code root"),
        "{}",
        through.evidence
    );
}

#[test]
fn a_folder_left_with_only_ignored_leftovers_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "__pycache__/\n");
    write(root, "api/v1/__pycache__/routes.cpython-312.pyc", "bytes");
    write(root, "api/v1/__pycache__/models.cpython-312.pyc", "bytes");
    write(root, "api/v2/routes.py", "router = 1\n");
    write(root, "api/v2/models.py", "x = 1\n");
    let v1 = one(root, json!({"kind": "path_absent", "path": "api/v1"}));
    assert_eq!(v1.status, CheckStatus::Pass, "{v1:?}");
    assert_eq!(
        v1.evidence,
        "api/v1 is gone (2 ignored leftovers remain, such as __pycache__)"
    );
    let v1_exists = one(root, json!({"kind": "path_exists", "path": "api/v1"}));
    assert_eq!(v1_exists.status, CheckStatus::Fail);
    let v2 = one(root, json!({"kind": "path_absent", "path": "api/v2"}));
    assert_eq!(v2.status, CheckStatus::Fail);
    assert_eq!(
        v2.evidence,
        "api/v2 still exists: 2 files (api/v2/models.py, api/v2/routes.py)"
    );
    let file = one(
        root,
        json!({"kind": "path_exists", "path": "api/v2/routes.py"}),
    );
    assert_eq!(file.evidence, "api/v2/routes.py exists (a file)");
    let nothing = one(root, json!({"kind": "path_absent", "path": "api/v3"}));
    assert_eq!(nothing.evidence, "api/v3 is gone");
}

#[test]
fn a_path_is_never_gone_from_a_root_that_lacks_its_whole_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A plan's folder taken for the code root: none of the application is there.
    write(root, "plan.json", "{}");
    let wrong_root = one(
        root,
        json!({"kind": "path_absent", "path": "backend/app/api/v1"}),
    );
    assert_eq!(wrong_root.status, CheckStatus::Error, "{wrong_root:?}");
    assert!(
        wrong_root
            .evidence
            .contains("nor backend/ is under the code root"),
        "{wrong_root:?}"
    );
    // With the application there, a folder removed from it is gone.
    write(root, "backend/app/main.py", "app = 1\n");
    let gone = one(
        root,
        json!({"kind": "path_absent", "path": "backend/app/api/v1"}),
    );
    assert_eq!(gone.status, CheckStatus::Pass, "{gone:?}");
    // A single name at the root cannot be told apart from a wrong root: it is judged as it is.
    let alone = one(root, json!({"kind": "path_absent", "path": "legacy.py"}));
    assert_eq!(alone.status, CheckStatus::Pass, "{alone:?}");
}

#[test]
fn caps_on_files_file_size_and_pattern_size_are_errors_that_name_them() {
    let dir = backend();
    let small = CodeLimits {
        max_files: 3,
        ..CodeLimits::default()
    };
    let source = CodeSource::new(dir.path().to_path_buf(), vec![], small);
    let verdict = verdicts_with(
        &source,
        json!([{"id": "c", "kind": "code_absent", "literal": "x"}]),
    )
    .remove(0);
    assert_eq!(verdict.status, CheckStatus::Error);
    assert!(
        verdict.evidence.contains("max_files"),
        "{}",
        verdict.evidence
    );

    write(
        dir.path(),
        "backend/app/huge.py",
        "session_id\n".repeat(200_000),
    );
    let verdict = one(
        dir.path(),
        json!({"kind": "code_absent", "literal": "session_id", "paths": ["backend/app/huge.py", "backend/app/models/**"]}),
    );
    assert!(
        verdict.evidence.contains("1 too big skipped"),
        "{}",
        verdict.evidence
    );

    let huge_pattern = format!("({})", vec!["[a-z]{1,50}"; 3000].join("|"));
    let verdict = one(
        dir.path(),
        json!({"kind": "code_absent", "pattern": huge_pattern}),
    );
    assert_eq!(verdict.status, CheckStatus::Error);
    assert!(
        verdict.evidence.contains("the pattern cannot be used"),
        "{}",
        verdict.evidence
    );
}

#[test]
fn the_cache_skips_unchanged_files_and_still_sees_a_change_within_the_same_second() {
    let dir = backend();
    let root = dir.path();
    // Every file last changed a minute ago: old enough to trust.
    let past = SystemTime::now() - Duration::from_secs(60);
    for entry in walkdir(root) {
        std::fs::File::options()
            .write(true)
            .open(&entry)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
    let source = CodeSource::new(root.to_path_buf(), vec![], CodeLimits::default());
    let check = json!([{"id": "c", "kind": "code_absent", "literal": "session_id", "paths": ["backend/app/**"]}]);
    let first = verdicts_with(&source, check.clone()).remove(0);
    let read_first = source.cache.lock().unwrap().last_reads;
    assert_eq!(read_first, 5, "every file in scope is read once");
    let again = verdicts_with(&source, check.clone()).remove(0);
    assert_eq!(
        source.cache.lock().unwrap().last_reads,
        0,
        "nothing changed: nothing read"
    );
    assert_eq!(first, again);

    // The file changes, same size, and its clock shows the same second as before: the cache
    // read it within two seconds of that time, so it is read again rather than trusted.
    let asset = root.join("backend/app/models/asset.py");
    let before = std::fs::metadata(&asset).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&asset).unwrap();
    let source = CodeSource::new(root.to_path_buf(), vec![], CodeLimits::default());
    let now = SystemTime::now();
    std::fs::File::options()
        .write(true)
        .open(&asset)
        .unwrap()
        .set_modified(now)
        .unwrap();
    let _ = verdicts_with(&source, check.clone());
    std::fs::write(&asset, text.replace("session_id", "session_xx")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&asset)
        .unwrap()
        .set_modified(now)
        .unwrap();
    let after = verdicts_with(&source, check).remove(0);
    assert!(
        after.evidence.contains("in 4 places in 3 files"),
        "the change is seen: {}",
        after.evidence
    );
    assert_ne!(before, now);
}

fn walkdir(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_commit_checked_out_is_named_in_the_evidence() {
    let dir = backend();
    let root = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git is needed for this test: apt-get install -y git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "seed"]);
    let head = git(&["rev-parse", "HEAD"]);
    let verdict = one(
        root,
        json!({"kind": "code_absent", "literal": "session_id", "word": true}),
    );
    assert!(
        verdict.evidence.contains(&format!("at {}", &head[..7])),
        "{}",
        verdict.evidence
    );
    assert_eq!(verdict.facts["commit"], head);
    // Packed refs, as after `git gc`.
    git(&["pack-refs", "--all"]);
    assert_eq!(super::git::head_commit(root), Some(head));
}

#[test]
fn plan_paths_may_not_leave_the_code_root() {
    for bad in [
        "../secrets",
        "/etc/passwd",
        "a/../../b",
        "C:/x",
        "a\\b",
        " ",
    ] {
        assert!(path_problem(bad).is_some(), "{bad:?} is refused");
    }
    for good in ["backend/app", "backend/**/*.py", "*.py", "a/b/../c.py.bak"] {
        let problem = path_problem(good);
        assert!(
            problem.is_none() || good.contains(".."),
            "{good:?}: {problem:?}"
        );
    }
}

#[test]
fn a_code_check_is_told_from_a_database_check() {
    let plan = plan(json!([
        {"id": "a", "kind": "code_absent", "literal": "x"},
        {"id": "b", "kind": "table_exists", "table": "t"}
    ]));
    let kinds: Vec<bool> = plan.tasks[0]
        .checks
        .iter()
        .map(|c| c.spec.is_code())
        .collect();
    assert_eq!(kinds, [true, false]);
    assert!(!plan.tasks[0].is_code_work());
    assert!(matches!(
        plan.tasks[0].checks[0].spec,
        CheckSpec::CodeAbsent(_)
    ));
}

#[test]
fn a_watched_tree_is_not_read_again_until_something_changes_and_then_is() {
    let dir = backend();
    let source = CodeSource::new(dir.path().to_path_buf(), vec![], CodeLimits::default()).watched();
    let check = json!([{"id": "c", "kind": "code_absent", "literal": "session_id", "paths": ["backend/app/**"]}]);
    let first = verdicts_with(&source, check.clone()).remove(0);
    assert!(
        first.evidence.contains("in 5 places in 4 files"),
        "{}",
        first.evidence
    );
    // Nothing changed: nothing is walked or read.
    let again = verdicts_with(&source, check.clone()).remove(0);
    assert_eq!(first, again);
    assert_eq!(source.cache.lock().unwrap().last_reads, 0);
    // A change is seen by the next pass that follows its event.
    write(dir.path(), "backend/app/new.py", "session_id = 2\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = verdicts_with(&source, check.clone()).remove(0);
        if now.evidence.contains("in 6 places in 5 files") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never seen: {}",
            now.evidence
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn absence_is_not_claimed_past_a_file_that_was_not_searched() {
    let dir = backend();
    // The only mention is in a file too big to search.
    write(
        dir.path(),
        "backend/app/generated.py",
        format!("{}\nlegacy_token = 1\n", "x = 1\n".repeat(200_000)),
    );
    let verdict = one(
        dir.path(),
        json!({"kind": "code_absent", "literal": "legacy_token", "paths": ["backend/app/**"]}),
    );
    assert_eq!(verdict.status, CheckStatus::Error, "{verdict:?}");
    assert!(
        verdict
            .evidence
            .contains("cannot say \"legacy_token\" is absent: 1 file over 1 MiB were not searched"),
        "{}",
        verdict.evidence
    );
    // Present is still present, whatever was skipped.
    let present = one(
        dir.path(),
        json!({"kind": "code_present", "literal": "session_id", "paths": ["backend/app/**"]}),
    );
    assert_eq!(present.status, CheckStatus::Pass, "{present:?}");
}
