//! Self-test of the throwaway-PostgreSQL harness in `tests/support`: queries, a least-privilege
//! role, a restart, and clean-up when the test process exits or is killed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use support::pg::{cluster, exec};

async fn count_items(url: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let count = sqlx::query_scalar("SELECT count(*) FROM items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    count
}

/// One test for everything that uses this binary's cluster: stopping the server would break any
/// test running beside it.
#[tokio::test]
async fn cluster_serves_databases_and_roles_and_survives_a_restart() {
    let cluster = cluster();
    let url = cluster.fresh_database().await;
    assert_ne!(url, cluster.fresh_database().await, "each database is new");
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();

    // A role that may only read one table, with a password that needs escaping in the URL.
    let db = url.rsplit('/').next().unwrap();
    let role = format!("reader_{}", std::process::id());
    exec(
        &url,
        &format!(
            "CREATE TABLE items (id int);
             INSERT INTO items VALUES (1), (2);
             CREATE ROLE {role} LOGIN PASSWORD 'p@ss:w/rd';
             REVOKE ALL ON DATABASE {db} FROM PUBLIC;
             GRANT CONNECT ON DATABASE {db} TO {role};
             GRANT SELECT ON items TO {role};"
        ),
    )
    .await;
    let reader_url = cluster.url_as(&role, Some("p@ss:w/rd"), db);
    let mut reader = PgConnection::connect(&reader_url).await.unwrap();
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    assert_eq!(user, role);
    assert_eq!(count_items(&reader_url).await, 2);
    let denied = sqlx::query("INSERT INTO items VALUES (3)")
        .execute(&mut reader)
        .await
        .unwrap_err();
    assert_eq!(
        denied.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501"),
        "{denied}"
    );
    reader.close().await.unwrap();
    let other_db = cluster.fresh_database().await;
    let other_db = other_db.rsplit('/').next().unwrap();
    exec(
        &cluster.url(other_db),
        &format!("REVOKE ALL ON DATABASE {other_db} FROM PUBLIC"),
    )
    .await;
    assert!(
        PgConnection::connect(&cluster.url_as(&role, None, other_db))
            .await
            .is_err()
    );

    // The database goes away mid-session and comes back on the same port with the same data.
    let mut held = PgConnection::connect(&url).await.unwrap();
    cluster.stop();
    assert!(sqlx::query("SELECT 1").execute(&mut held).await.is_err());
    assert!(PgConnection::connect(&url).await.is_err());
    cluster.start();
    assert_eq!(count_items(&url).await, 2);
    assert_eq!(count_items(&reader_url).await, 2);
}

const CHILD_MODE: &str = "REMTRACK_HARNESS_SELFTEST_CHILD";
const CHILD_MARKER: &str = "harness-child:";

/// Runs this same test in a child process that starts a cluster and then exits or is killed,
/// and checks that the server and its directory are gone afterwards.
#[test]
fn cluster_is_removed_when_the_test_process_exits_or_is_killed() {
    if let Ok(mode) = std::env::var(CHILD_MODE) {
        let cluster = cluster();
        let pid_file = cluster.dir().join("data/postmaster.pid");
        let postmaster = std::fs::read_to_string(pid_file)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        println!(
            "{CHILD_MARKER} {postmaster} {} {}",
            cluster.port(),
            cluster.dir().display()
        );
        if mode == "kill" {
            std::thread::sleep(Duration::from_secs(600));
        }
        return;
    }
    for mode in ["exit", "kill"] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "cluster_is_removed_when_the_test_process_exits_or_is_killed",
                "--nocapture",
            ])
            .env(CHILD_MODE, mode)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .by_ref()
            .map(Result::unwrap)
            .find(|l| l.starts_with(CHILD_MARKER));
        // Keep reading, so that the child does not die of a broken pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let Some(line) = line else {
            panic!("the child test failed: {:?}", child.wait())
        };
        let mut fields = line[CHILD_MARKER.len()..].split_whitespace();
        let (postmaster, port, dir) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        let dir = PathBuf::from(dir);
        assert!(
            dir.exists() && process_alive(postmaster),
            "{mode}: the child's cluster should be running"
        );
        if mode == "kill" {
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        assert_eq!(status.success(), mode == "exit", "{mode}: {status}");

        let deadline = Instant::now() + Duration::from_secs(30);
        while dir.exists() || process_alive(postmaster) {
            assert!(
                Instant::now() < deadline,
                "{mode}: postmaster {postmaster} or {} still there",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err());
    }
}

/// Whether process `pid` exists and is not a zombie (an unreaped zombie has already exited).
fn process_alive(pid: &str) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}
