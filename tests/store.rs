//! The verification store on both backends: append and read back, derived state, stale and
//! regressed, append-only, live sync between sessions and processes, concurrent writers,
//! SIGKILL mid-write, and clear errors when the store cannot be used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use remtrack::check::{TaskVerdicts, Verdict, Verdicts};
use remtrack::plan::{Plan, parse_plan};
use remtrack::status::{Verification, derive};
use remtrack::store::{
    EventKind, NewEvent, Store, StoreChange, StoreError, StoreLocation, task_fingerprint,
    to_status_marks,
};
use serde_json::json;
use support::pg::{cluster, exec};
use time::OffsetDateTime;

/// Set in a child process: the store location to write to.
const CHILD_STORE: &str = "REMTRACK_TEST_CHILD_STORE";
/// Set in a child process: how many events to write.
const CHILD_COUNT: &str = "REMTRACK_TEST_CHILD_COUNT";

fn plan(table: &str) -> Plan {
    let plan = json!({
        "version": 1, "title": "T",
        "days": [{ "day": 1, "title": "One" }],
        "phases": [{ "id": "db", "title": "DB" }],
        "tasks": [
            { "id": "db1", "title": "x", "day": 1, "phase": "db", "priority": "high", "claimed": "done",
              "checks": [{ "id": "a", "kind": "table_exists", "table": table }] },
            { "id": "manual", "title": "x", "day": 1, "phase": "db", "priority": "low" }
        ],
        "risks": []
    });
    parse_plan(plan.to_string().as_bytes(), Path::new("t.json")).unwrap()
}

/// The database every mark in these tests was made against.
const TARGET: &str = "postgres://ana:***@db.example.com/app";

fn mark(plan: &Plan, task: &str, kind: EventKind, actor: &str, note: &str) -> NewEvent {
    NewEvent {
        task_id: task.into(),
        kind,
        actor: actor.into(),
        at: OffsetDateTime::now_utc(),
        note: note.into(),
        evidence: json!({ "database": TARGET, "checks": [{ "id": "a", "status": "pass" }] }),
        fingerprint: task_fingerprint(plan.task(task).unwrap()),
    }
}

async fn sqlite_location() -> (tempfile::TempDir, StoreLocation) {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::beside_plan(&dir.path().join("plan.json"));
    (dir, location)
}

async fn postgres_location() -> StoreLocation {
    StoreLocation::Postgres(cluster().fresh_database().await)
}

async fn append_and_read_back(location: &StoreLocation) {
    let plan = plan("t");
    let store = Store::open(location).await.unwrap();
    assert!(store.events(None).await.unwrap().is_empty());
    let note = "checked with \\d+ in psql\nsecond line: 'quotes' \"and\" unicode ✓";
    let first = store
        .append(mark(&plan, "db1", EventKind::Verified, "ana", note))
        .await
        .unwrap();
    let second = store
        .append(mark(&plan, "manual", EventKind::Note, "bo", "asked ops"))
        .await
        .unwrap();
    assert!(second.id > first.id);

    // A second handle (new connections) reads exactly what was written.
    let again = Store::open(location).await.unwrap();
    let events = again.events(None).await.unwrap();
    assert_eq!(events, vec![first.clone(), second]);
    assert_eq!(events[0].note, note);
    assert_eq!(events[0].evidence["checks"][0]["status"], "pass");
    assert_eq!(events[0].at.offset(), time::UtcOffset::UTC);
    assert_eq!(again.events(Some("db1")).await.unwrap(), vec![first]);
}

#[tokio::test]
async fn sqlite_appends_and_reads_back() {
    let (dir, location) = sqlite_location().await;
    append_and_read_back(&location).await;
    assert!(
        dir.path().join(".remtrack/state.db").exists(),
        "created beside the plan"
    );
}

#[tokio::test]
async fn postgres_appends_and_reads_back_in_schema_remtrack() {
    let location = postgres_location().await;
    append_and_read_back(&location).await;
    let StoreLocation::Postgres(url) = &location else {
        unreachable!()
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "remtrack._sqlx_migrations",
            "remtrack.events",
            "remtrack.last_refresh"
        ],
        "nothing outside schema remtrack"
    );
}

async fn derived_state_follows_the_events(location: &StoreLocation) {
    let plan = plan("t");
    let store = Store::open(location).await.unwrap();
    let passing = Verdicts {
        tasks: vec![
            TaskVerdicts {
                checks: vec![Verdict::pass("table t exists")],
                guards: vec![],
            },
            TaskVerdicts::default(),
        ],
    };
    let failing = Verdicts {
        tasks: vec![
            TaskVerdicts {
                checks: vec![Verdict::fail("table t is missing")],
                guards: vec![],
            },
            TaskVerdicts::default(),
        ],
    };
    let verification = |events: &[remtrack::store::Event], verdicts: &Verdicts, plan: &Plan| {
        derive(plan, Some(verdicts), &to_status_marks(plan, events, TARGET)).tasks[0].verification
    };

    store
        .append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    let events = store.events(None).await.unwrap();
    assert_eq!(
        verification(&events, &passing, &plan),
        Some(Verification::Verified)
    );
    assert_eq!(to_status_marks(&plan, &events, TARGET)["db1"].by, "ana");
    // The database changes under the mark: regressed.
    assert_eq!(
        verification(&events, &failing, &plan),
        Some(Verification::Regressed)
    );
    // The plan's check changes under the mark: stale.
    assert_eq!(
        verification(&events, &passing, &super_plan()),
        Some(Verification::Stale)
    );

    store
        .append(mark(&plan, "db1", EventKind::Unverified, "bo", "not sure"))
        .await
        .unwrap();
    let events = store.events(None).await.unwrap();
    assert_eq!(verification(&events, &passing, &plan), None);
    store
        .append(mark(&plan, "db1", EventKind::Note, "bo", "looked again"))
        .await
        .unwrap();
    store
        .append(mark(&plan, "db1", EventKind::Verified, "cy", "ok now"))
        .await
        .unwrap();
    let events = store.events(None).await.unwrap();
    assert_eq!(
        verification(&events, &passing, &plan),
        Some(Verification::Verified)
    );
    assert_eq!(to_status_marks(&plan, &events, TARGET)["db1"].by, "cy");
    assert_eq!(events.len(), 4, "nothing is replaced: every event stays");
}

/// The same plan with task db1's check pointing at another table.
fn super_plan() -> Plan {
    plan("t_renamed")
}

#[tokio::test]
async fn sqlite_derives_verified_unverified_stale_and_regressed() {
    let (_dir, location) = sqlite_location().await;
    derived_state_follows_the_events(&location).await;
}

#[tokio::test]
async fn postgres_derives_verified_unverified_stale_and_regressed() {
    derived_state_follows_the_events(&postgres_location().await).await;
}

#[tokio::test]
async fn events_cannot_be_changed_or_deleted_in_place() {
    let plan = plan("t");
    let (dir, location) = sqlite_location().await;
    let store = Store::open(&location).await.unwrap();
    store
        .append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    let url = format!("sqlite:{}", dir.path().join(".remtrack/state.db").display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for sql in ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"] {
        let error = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }

    let location = postgres_location().await;
    let store = Store::open(&location).await.unwrap();
    store
        .append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    let StoreLocation::Postgres(url) = &location else {
        unreachable!()
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    for sql in [
        "UPDATE remtrack.events SET actor = 'mallory'",
        "DELETE FROM remtrack.events",
    ] {
        let error = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(store.events(None).await.unwrap().len(), 1);
}

/// Waits for the next change that carries events, skipping reload notices.
async fn next_appended(
    changes: &mut tokio::sync::mpsc::Receiver<StoreChange>,
) -> Vec<remtrack::store::Event> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, changes.recv()).await {
            Ok(Some(StoreChange::Appended(events))) => return events,
            Ok(Some(StoreChange::ReloadAll)) => continue,
            Ok(Some(StoreChange::Failed(reason))) => panic!("the watcher failed: {reason}"),
            Ok(None) => panic!("the watcher stopped"),
            Err(_) => panic!("no change arrived within 5 s"),
        }
    }
}

async fn sessions_see_each_others_marks(location: &StoreLocation) {
    let plan = plan("t");
    let alice = Store::open(location).await.unwrap();
    let bob = Store::open(location).await.unwrap();
    let mut bob_hears = bob.subscribe(0);
    // Give the watcher time to start listening.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let made = alice
        .append(mark(
            &plan,
            "db1",
            EventKind::Verified,
            "alice",
            "from alice",
        ))
        .await
        .unwrap();
    let heard = next_appended(&mut bob_hears).await;
    let took = started.elapsed();
    assert_eq!(heard, vec![made]);
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(heard[0].actor, "alice");
}

#[tokio::test]
async fn sqlite_sessions_see_each_others_marks_within_a_second() {
    let (_dir, location) = sqlite_location().await;
    sessions_see_each_others_marks(&location).await;
}

#[tokio::test]
async fn postgres_sessions_see_each_others_marks_within_a_second() {
    sessions_see_each_others_marks(&postgres_location().await).await;
}

#[tokio::test]
async fn postgres_listener_reloads_after_losing_its_connection() {
    let plan = plan("t");
    let location = postgres_location().await;
    let StoreLocation::Postgres(url) = &location else {
        unreachable!()
    };
    let store = Store::open(&location).await.unwrap();
    let mut changes = store.subscribe(0);
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await
            .unwrap(),
        Some(StoreChange::ReloadAll),
        "a new listener first asks for a full read"
    );
    // Cut every store connection of this database, the listener's included.
    let database = url.rsplit('/').next().unwrap();
    exec(
        &cluster().url("postgres"),
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND application_name = 'remtrack-store'"
        ),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, changes.recv())
            .await
            .expect("no reload after the cut")
        {
            Some(StoreChange::ReloadAll) => break,
            Some(StoreChange::Failed(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    // And it still hears new marks.
    let made = store
        .append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    assert_eq!(next_appended(&mut changes).await, vec![made]);
}

/// Starts this test binary as a child that writes `count` events to `location`, printing each
/// committed id.
fn spawn_writer(location: &str, count: usize, actor: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_STORE, location)
        .env(CHILD_COUNT, count.to_string())
        .env("REMTRACK_TEST_CHILD_ACTOR", actor)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Not a test of its own: the body of the child processes the tests below start (ignored, so
/// that a plain run does not count it as a test that passed without doing anything).
#[tokio::test]
#[ignore = "run by the two-writer tests as a child process"]
async fn child_writer() {
    let location =
        std::env::var(CHILD_STORE).expect("started by spawn_writer, which sets the store");
    let count: usize = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    let actor = std::env::var("REMTRACK_TEST_CHILD_ACTOR").unwrap();
    let plan = plan("t");
    let store = Store::open(&StoreLocation::parse(&location)).await.unwrap();
    for i in 0..count {
        let event = store
            .append(mark(
                &plan,
                "db1",
                EventKind::Note,
                &actor,
                &format!("mark {i}"),
            ))
            .await
            .unwrap();
        println!("committed {}", event.id);
    }
}

async fn two_processes_writing_at_once_both_land(location: &str) {
    let mut writers = [
        spawn_writer(location, 200, "p1"),
        spawn_writer(location, 200, "p2"),
    ];
    for writer in &mut writers {
        let status = writer.wait().unwrap();
        assert!(status.success(), "a writer failed: {status}");
    }
    let events = Store::open(&StoreLocation::parse(location))
        .await
        .unwrap()
        .events(None)
        .await
        .unwrap();
    assert_eq!(events.len(), 400);
    for actor in ["p1", "p2"] {
        let notes: Vec<&str> = events
            .iter()
            .filter(|e| e.actor == actor)
            .map(|e| e.note.as_str())
            .collect();
        let expected: Vec<String> = (0..200).map(|i| format!("mark {i}")).collect();
        assert_eq!(notes, expected, "{actor}'s marks, all there and in order");
    }
}

#[tokio::test]
async fn sqlite_two_processes_writing_200_marks_each_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    two_processes_writing_at_once_both_land(path.to_str().unwrap()).await;
}

#[tokio::test]
async fn postgres_two_processes_writing_200_marks_each_all_land() {
    let url = cluster().fresh_database().await;
    two_processes_writing_at_once_both_land(&url).await;
}

async fn sigkill_mid_write_loses_nothing_committed(location: &str) {
    let mut writer = spawn_writer(location, 100_000, "doomed");
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let mut committed = Vec::new();
    while committed.len() < 150 {
        let line = lines.next().expect("the writer stopped early").unwrap();
        if let Some(id) = line.strip_prefix("committed ") {
            committed.push(id.parse::<i64>().unwrap());
        }
    }
    writer.kill().unwrap();
    writer.wait().unwrap();
    let store = Store::open(&StoreLocation::parse(location)).await.unwrap();
    let ids: Vec<i64> = store
        .events(None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    for id in &committed {
        assert!(
            ids.contains(id),
            "event {id} was reported committed but is gone"
        );
    }
    assert!(ids.len() >= committed.len());
    // And the store still takes marks.
    let plan = plan("t");
    store
        .append(mark(&plan, "db1", EventKind::Note, "after", "still works"))
        .await
        .unwrap();
}

#[tokio::test]
async fn sqlite_survives_sigkill_mid_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    sigkill_mid_write_loses_nothing_committed(path.to_str().unwrap()).await;
}

#[tokio::test]
async fn postgres_survives_sigkill_mid_write() {
    let url = cluster().fresh_database().await;
    sigkill_mid_write_loses_nothing_committed(&url).await;
}

#[tokio::test]
async fn an_unreachable_store_is_a_clear_error_without_the_password() {
    let location = StoreLocation::parse("postgres://ana:hunter2@127.0.0.1:1/remtrack");
    let error = Store::open(&location).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, StoreError::Open { .. }));
    assert!(
        text.starts_with(
            "cannot open the verification store postgres://ana:***@127.0.0.1:1/remtrack"
        ),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn a_store_role_without_insert_rights_reads_but_cannot_mark() {
    let plan = plan("t");
    let url = cluster().fresh_database().await;
    let owner = Store::open(&StoreLocation::Postgres(url.clone()))
        .await
        .unwrap();
    owner
        .append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    let role = format!("reader_{}", std::process::id());
    exec(
        &url,
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA remtrack TO {role}; \
             GRANT SELECT ON ALL TABLES IN SCHEMA remtrack TO {role};"
        ),
    )
    .await;
    let database = url.rsplit('/').next().unwrap();
    let reader = Store::open(&StoreLocation::Postgres(cluster().url_as(
        &role,
        Some("pw"),
        database,
    )))
    .await
    .unwrap();
    assert_eq!(reader.events(None).await.unwrap().len(), 1);
    let error = reader
        .append(mark(&plan, "db1", EventKind::Unverified, "bo", "no"))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::ReadOnly { .. }), "{error}");
    assert!(error.to_string().contains("read-only"), "{error}");
}

#[tokio::test]
async fn a_note_with_a_nul_character_is_refused_clearly() {
    let plan = plan("t");
    let (_dir, location) = sqlite_location().await;
    let store = Store::open(&location).await.unwrap();
    let error = store
        .append(mark(&plan, "db1", EventKind::Note, "ana", "a\0b"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("NUL"), "{error}");
}

#[tokio::test]
async fn a_ten_megabyte_note_is_kept_whole() {
    let plan = plan("t");
    let note = "evidence line\n".repeat(10 * 1024 * 1024 / 14);
    let (_dir, sqlite) = sqlite_location().await;
    for location in [sqlite, postgres_location().await] {
        let store = Store::open(&location).await.unwrap();
        let made = store
            .append(mark(&plan, "db1", EventKind::Note, "ana", &note))
            .await
            .unwrap();
        assert_eq!(
            store.events(None).await.unwrap()[0].note.len(),
            made.note.len()
        );
    }
}

async fn remembers_the_last_verdicts_per_plan_and_target(location: &StoreLocation) {
    use remtrack::store::{RefreshKey, plan_fingerprint};
    let store = Store::open(location).await.unwrap();
    let key = RefreshKey {
        plan_fingerprint: plan_fingerprint(&plan("t")),
        target: "postgres://a:***@h/db".into(),
    };
    assert_eq!(store.remembered(&key).await.unwrap(), None);
    let verdicts = Verdicts {
        tasks: vec![
            TaskVerdicts {
                checks: vec![Verdict::fail("table t is missing")],
                guards: vec![],
            },
            TaskVerdicts::default(),
        ],
    };
    let first = time::macros::datetime!(2026-11-24 09:00 UTC);
    store.remember(&key, first, &verdicts).await.unwrap();
    let later = time::macros::datetime!(2026-11-24 10:00 UTC);
    store.remember(&key, later, &verdicts).await.unwrap();
    assert_eq!(
        store.remembered(&key).await.unwrap(),
        Some((later, verdicts)),
        "replaced, not added"
    );
    let other_plan = RefreshKey {
        plan_fingerprint: plan_fingerprint(&plan("t2")),
        ..key.clone()
    };
    assert_eq!(
        store.remembered(&other_plan).await.unwrap(),
        None,
        "another plan's verdicts do not apply"
    );
}

#[tokio::test]
async fn sqlite_remembers_the_last_verdicts() {
    let (_dir, location) = sqlite_location().await;
    remembers_the_last_verdicts_per_plan_and_target(&location).await;
}

#[tokio::test]
async fn postgres_remembers_the_last_verdicts() {
    remembers_the_last_verdicts_per_plan_and_target(&postgres_location().await).await;
}

/// The store's schema as remtrack made it before the fix events (migrations 1 and 2), so a test
/// can create an old store and open it with today's code.
fn old_migrator(backend: &str) -> sqlx::migrate::Migrator {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use std::borrow::Cow;
    let steps: [(&str, &str); 2] = match backend {
        "sqlite" => [
            (
                "events",
                include_str!("../src/store/migrations/sqlite/0001_events.sql"),
            ),
            (
                "last refresh",
                include_str!("../src/store/migrations/sqlite/0002_last_refresh.sql"),
            ),
        ],
        _ => [
            (
                "events",
                include_str!("../src/store/migrations/postgres/0001_events.sql"),
            ),
            (
                "last refresh",
                include_str!("../src/store/migrations/postgres/0002_last_refresh.sql"),
            ),
        ],
    };
    Migrator {
        migrations: Cow::Owned(
            steps
                .into_iter()
                .zip(1..)
                .map(|((name, sql), version)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(name),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// Three events an older remtrack recorded.
const OLD_EVENTS: &str = "INSERT INTO events (task_id, kind, actor, at, note, evidence, fingerprint) VALUES \
    ('db1', 'verified', 'ana', '2026-11-24T10:00:00Z', 'checked', '{\"database\": \"postgres://ana:***@db.example.com/app\"}', 'sha256:old'), \
    ('db1', 'note', 'bo', '2026-11-24T10:01:00Z', 'asked ops', '{}', 'sha256:old'), \
    ('manual', 'unverified', 'cy', '2026-11-24T10:02:00Z', 'not yet', '{}', 'sha256:m')";

/// Opened by the new code, an old store keeps every event (ids, kinds, notes, evidence) and
/// takes the new kinds, with ids still growing; a kind nobody knows is still refused.
async fn an_old_store_migrates_with_its_events(location: &StoreLocation) -> Vec<i64> {
    let plan = plan("t");
    let store = Store::open(location).await.unwrap();
    let events = store.events(None).await.unwrap();
    let kept: Vec<(i64, &str, EventKind, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.id,
                e.task_id.as_str(),
                e.kind,
                e.actor.as_str(),
                e.note.as_str(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (1, "db1", EventKind::Verified, "ana", "checked"),
            (2, "db1", EventKind::Note, "bo", "asked ops"),
            (3, "manual", EventKind::Unverified, "cy", "not yet"),
        ]
    );
    assert_eq!(events[0].evidence["database"], TARGET);
    assert_eq!(
        to_status_marks(&plan, &events, TARGET)["db1"].by,
        "ana",
        "the old verification still stands"
    );

    let mut ids = Vec::new();
    for kind in [
        EventKind::ApprovalRequested,
        EventKind::Approved,
        EventKind::ApplyFailed,
        EventKind::Applied,
    ] {
        let made = store
            .append(mark(&plan, "db1", kind, "ana", kind.as_str()))
            .await
            .unwrap();
        ids.push(made.id);
    }
    let events = store.events(Some("db1")).await.unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Verified,
            EventKind::Note,
            EventKind::ApprovalRequested,
            EventKind::Approved,
            EventKind::ApplyFailed,
            EventKind::Applied,
        ]
    );
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    ids
}

#[tokio::test]
async fn an_old_sqlite_store_migrates_with_its_events_and_takes_the_fix_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    old_migrator("sqlite").run(&pool).await.unwrap();
    sqlx::raw_sql(OLD_EVENTS).execute(&pool).await.unwrap();
    // Ids once handed out are never handed out again, even past the last row kept: an insert
    // rolled back after taking id 4..=9 leaves the counter there.
    sqlx::query("UPDATE sqlite_sequence SET seq = 9 WHERE name = 'events'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let location = StoreLocation::Sqlite(path.clone());
    let ids = an_old_store_migrates_with_its_events(&location).await;
    assert_eq!(ids[0], 10, "the counter carried over");

    let url = format!("sqlite:{}", path.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for sql in ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"] {
        let error = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    let error = sqlx::query(
        "INSERT INTO events (task_id, kind, actor, at, note, evidence, fingerprint) \
         VALUES ('db1', 'deleted', 'x', 't', '', '{}', '')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(error.to_string().contains("CHECK"), "{error}");
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' \
         AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(indexes, ["events_by_task"]);
    let leftovers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events_new'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn an_old_postgres_store_migrates_with_its_events_and_takes_the_fix_kinds() {
    let url = cluster().fresh_database().await;
    exec(&url, "CREATE SCHEMA remtrack").await;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let pool = sqlx::PgPool::connect_with(options.options([("search_path", "remtrack")]))
        .await
        .unwrap();
    old_migrator("postgres").run(&pool).await.unwrap();
    // Ids from an identity column: the old store's ids are 1..=3.
    sqlx::raw_sql(
        &OLD_EVENTS
            .replace("'2026", "timestamptz '2026")
            .replace(", '{", ", jsonb '{"),
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let location = StoreLocation::Postgres(url.clone());
    let ids = an_old_store_migrates_with_its_events(&location).await;
    assert!(ids[0] > 3, "{ids:?}");

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = 'remtrack.events'::regclass AND contype = 'c'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        checks.len(),
        1,
        "the old check is gone, not kept beside: {checks:?}"
    );
    assert_eq!(checks[0].0, "events_kind_check");
    assert!(checks[0].1.contains("approval_requested"), "{checks:?}");
    let error = sqlx::query(
        "INSERT INTO remtrack.events (task_id, kind, actor, at, note, evidence, fingerprint) \
         VALUES ('db1', 'deleted', 'x', now(), '', '{}', '')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(error.to_string().contains("events_kind_check"), "{error}");
}

#[tokio::test]
async fn a_store_user_role_on_an_old_postgres_store_still_marks_and_is_told_how_to_upgrade() {
    let plan = plan("t");
    let url = cluster().fresh_database().await;
    exec(&url, "CREATE SCHEMA remtrack").await;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let pool = sqlx::PgPool::connect_with(options.options([("search_path", "remtrack")]))
        .await
        .unwrap();
    old_migrator("postgres").run(&pool).await.unwrap();
    pool.close().await;
    // The README's grants for a role that only uses the store: no reading the migrations' table.
    let role = format!("user_{}", std::process::id());
    exec(
        &url,
        &format!(
            "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA remtrack TO {role}; \
             GRANT SELECT, INSERT ON remtrack.events TO {role}; \
             GRANT SELECT, INSERT, UPDATE ON remtrack.last_refresh TO {role};"
        ),
    )
    .await;
    let database = url.rsplit('/').next().unwrap();
    let user = Store::open(&StoreLocation::Postgres(cluster().url_as(
        &role,
        Some("pw"),
        database,
    )))
    .await
    .unwrap();
    user.append(mark(&plan, "db1", EventKind::Verified, "ana", ""))
        .await
        .unwrap();
    let error = user
        .append(mark(&plan, "db1", EventKind::Applied, "ana", ""))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("older than the \"applied\" event") && text.contains("upgrade it"),
        "{text}"
    );
}
