//! The refresh benchmark: 1,000 checks against a 5,000-table PostgreSQL, side by side with the
//! bare catalog query (the floor), pgTAP through pg_prove and one `psql` per check; the
//! `remtrack check` process (time and peak memory); TUI frame time; scaling with the check count;
//! and the database-side cost of the steady state.
//!
//! `cargo bench --bench refresh` runs it in full (installing pgTAP, pg_prove and GNU time with
//! apt-get when they are missing and it runs as root); `cargo bench --bench refresh -- --small`
//! runs a 50-table, 50-check version in seconds (CI runs that, to keep it from rotting).
//! The cluster is a throwaway one from the local PostgreSQL binaries, as in the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/machine.rs"]
mod machine;
#[path = "../tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use remtrack::check::{Limits, Refresh, Target, refresh};
use remtrack::engine::EngineUpdate;
use remtrack::plan::{Plan, parse_plan};
use remtrack::tui::action::Msg;
use remtrack::tui::app::{App, AppConfig};
use remtrack::tui::theme::Theme;
use serde_json::{Value, json};
use sqlx::Connection as _;

const BIN: &str = env!("CARGO_BIN_EXE_remtrack");

struct Config {
    small: bool,
    /// `--refresh-only`: the refresh against the floors and nothing else, for profiling.
    refresh_only: bool,
    tables: usize,
    checks: usize,
    runs: usize,
    psql_sample: usize,
    scaling: Vec<usize>,
}

impl Config {
    fn from_args() -> Config {
        let refresh_only = std::env::args().any(|a| a == "--refresh-only");
        if std::env::args().any(|a| a == "--small") {
            Config {
                small: true,
                refresh_only,
                tables: 50,
                checks: 50,
                runs: 3,
                psql_sample: 10,
                scaling: vec![10, 50],
            }
        } else {
            Config {
                small: false,
                refresh_only,
                tables: 5_000,
                checks: 1_000,
                runs: 9,
                psql_sample: 100,
                scaling: vec![10, 100, 1_000, 5_000],
            }
        }
    }
}

/// One row of the printed table.
struct Row {
    measure: String,
    value: String,
    compared: String,
    ratio: String,
    target: String,
    met: String,
}

fn main() {
    // RUST_LOG=remtrack=debug shows where each refresh spends its time.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let config = Config::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(config));
}

async fn run(config: Config) {
    let code_only = std::env::args().any(|a| a == "--code");
    if !config.small && !config.refresh_only && !code_only {
        install_missing_tools();
    }
    // First, so that the process's peak memory is the code pass's (plus what any run holds).
    let code_rows = if config.refresh_only {
        Vec::new()
    } else {
        code_pass_rows(&config)
    };
    // `--code`: the code pass alone, at full size.
    if std::env::args().any(|a| a == "--code") {
        println!("| measure | value | compared with | ratio | target | met |");
        println!("|---|---|---|---|---|---|");
        for row in &code_rows {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                row.measure, row.value, row.compared, row.ratio, row.target, row.met
            );
        }
        return;
    }
    let cluster = pg::cluster();
    let url = cluster.fresh_database().await;
    let started = Instant::now();
    create_schema(&url, config.tables).await;
    eprintln!(
        "bench: {} tables created in {:.1} s",
        config.tables,
        started.elapsed().as_secs_f64()
    );

    let work = tempfile::tempdir().unwrap();
    let plan_value = generate_plan(config.checks, config.tables);
    let plan_file = work.path().join("plan.json");
    std::fs::write(&plan_file, plan_value.to_string()).unwrap();
    let plan = parse_plan(plan_value.to_string().as_bytes(), Path::new("bench.json")).unwrap();
    let mut rows = code_rows;

    // 1. One full refresh on a warm connection, against the floor in the same process.
    let target = Target::open(&url, Limits::default()).unwrap();
    let warm = refresh(&plan, &target).await.unwrap();
    let queries = warm.queries;
    // Interleaved, so that a noisy machine's drift weighs on the refresh and both floors alike:
    // run after run, the same floor query took anywhere from 33 to 73 ms here.
    let mut strict = FloorQuery::connect(&url, &plan, false).await;
    let mut plain = FloorQuery::connect(&url, &plan, true).await;
    strict.once().await;
    plain.once().await;
    let (mut refreshes, mut floors, mut plain_floors) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..config.runs {
        refreshes.push(timed(refresh(&plan, &target)).await.0);
        floors.push(strict.once().await);
        plain_floors.push(plain.once().await);
    }
    let (refresh_time, floor, plain_floor) =
        (median(refreshes), median(floors), median(plain_floors));
    let ratio = refresh_time.as_secs_f64() / floor.as_secs_f64();
    rows.push(Row {
        measure: format!(
            "one refresh, {} checks, warm connection ({queries} queries)",
            config.checks
        ),
        value: ms(refresh_time),
        compared: format!("floor: one pg_catalog query {}", ms(floor)),
        ratio: format!("{ratio:.2}x the floor"),
        target: "<= 1.5x the floor".into(),
        met: yes_no(ratio <= 1.5),
    });
    rows.push(Row {
        measure: "the same refresh against the plain floor query".into(),
        value: ms(refresh_time),
        compared: format!("`pg_get_expr(adbin, adrelid)` floor {}", ms(plain_floor)),
        ratio: format!(
            "{:.2}x",
            refresh_time.as_secs_f64() / plain_floor.as_secs_f64()
        ),
        target: String::new(),
        met: String::new(),
    });
    if config.refresh_only {
        for row in &rows {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                row.measure, row.value, row.compared, row.ratio, row.target, row.met
            );
        }
        return;
    }

    // 2. pgTAP through pg_prove, and one psql process per check.
    match pgtap_time(&url, &plan, work.path(), if config.small { 1 } else { 3 }).await {
        Ok(pgtap) => {
            let ratio = pgtap.as_secs_f64() / refresh_time.as_secs_f64();
            rows.push(Row {
                measure: format!("pgTAP via pg_prove, {} assertions", config.checks),
                value: ms(pgtap),
                compared: format!("remtrack {}", ms(refresh_time)),
                ratio: format!("remtrack {ratio:.0}x faster"),
                target: ">= 10x faster".into(),
                met: yes_no(ratio >= 10.0),
            });
        }
        Err(why) => rows.push(not_measured("pgTAP via pg_prove", &why)),
    }
    let sample = config.psql_sample.min(config.checks);
    let psql_sample_time = psql_loop_time(&url, config.tables, sample);
    let psql_total = psql_sample_time.mul_f64(config.checks as f64 / sample as f64);
    let ratio = psql_total.as_secs_f64() / refresh_time.as_secs_f64();
    rows.push(Row {
        measure: format!(
            "one psql per check ({sample} timed, scaled to {})",
            config.checks
        ),
        value: ms(psql_total),
        compared: format!("remtrack {}", ms(refresh_time)),
        ratio: format!("remtrack {ratio:.0}x faster"),
        target: ">= 300x faster".into(),
        met: yes_no(ratio >= 300.0),
    });

    // 3. `remtrack check --format json` as a process, connect included; peak RSS.
    match process_time_and_rss(&plan_file, &url, if config.small { 2 } else { 5 }) {
        Ok((time, rss_kb)) => {
            rows.push(Row {
                measure: "`remtrack check --format json`, whole process".into(),
                value: ms(time),
                compared: String::new(),
                ratio: String::new(),
                target: String::new(),
                met: String::new(),
            });
            rows.push(Row {
                measure: "peak RSS of that process".into(),
                value: format!("{:.1} MB", rss_kb as f64 / 1024.0),
                compared: String::new(),
                ratio: String::new(),
                target: "< 50 MB".into(),
                met: yes_no((rss_kb as f64 / 1024.0) < 50.0),
            });
        }
        Err(why) => rows.push(not_measured("`remtrack check` process", &why)),
    }

    // 4. One TUI frame at 160x48 with this plan; start to first frame with the database unreachable.
    let frame = frame_time(&plan, &warm, if config.small { 20 } else { 200 });
    rows.push(Row {
        measure: format!(
            "one TUI frame, {}-task plan, 160x48 (TestBackend)",
            plan.tasks.len()
        ),
        value: format!("{:.3} ms", frame.as_secs_f64() * 1000.0),
        compared: String::new(),
        ratio: String::new(),
        target: "< 2 ms".into(),
        met: yes_no(frame < Duration::from_millis(2)),
    });
    match first_frame_time(&plan_file, if config.small { 1 } else { 5 }) {
        Ok(first) => rows.push(Row {
            measure: "start to first frame, database unreachable (tmux)".into(),
            value: format!("{first:.1} ms"),
            compared: String::new(),
            ratio: String::new(),
            target: "< 100 ms".into(),
            met: yes_no(first < 100.0),
        }),
        Err(why) => rows.push(not_measured("start to first frame", &why)),
    }

    // 5. Scaling with the number of checks.
    let mut scaling = Vec::new();
    for &n in &config.scaling {
        let plan = parse_plan(
            generate_plan(n, config.tables).to_string().as_bytes(),
            Path::new("s.json"),
        )
        .unwrap();
        let first = refresh(&plan, &target).await.unwrap();
        let time = median_of(config.runs, || async {
            timed(refresh(&plan, &target)).await.0
        })
        .await;
        scaling.push((n, time, first.queries));
    }

    // The database side of the steady state: statements and server time per refresh.
    let (statements, server_ms) = server_cost(&plan, &target).await;
    target.close().await;

    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let version: String =
        sqlx::query_scalar("SELECT 'PostgreSQL ' || current_setting('server_version')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    print_report(&config, &version, &rows, &scaling, statements, server_ms);
}

/// The code pass over a generated tree (ignored, binary and ordinary files, a few matches): the
/// first pass, the steady state with nothing changed, the pass after one file changed, and the
/// process's peak memory.
fn code_pass_rows(config: &Config) -> Vec<Row> {
    use remtrack::check::CodeSource;
    use remtrack::check::code::CodeNeeds;
    let files = if config.small { 1_000 } else { 10_000 };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bytes = generate_tree(root, files);
    let plan = parse_plan(
        json!({
            "version": 1, "title": "code bench",
            "days": [{"day": 1, "title": "d"}], "phases": [{"id": "p", "title": "p"}],
            "tasks": [{"id": "t", "title": "t", "day": 1, "phase": "p", "priority": "high", "checks": [
                {"id": "a", "kind": "code_absent", "pattern": "session_id", "word": true, "paths": ["src/**/*.py"]},
                {"id": "b", "kind": "code_present", "literal": "def f_7(", "paths": ["src/**"]},
                {"id": "c", "kind": "path_absent", "path": "src/legacy"}
            ]}]
        })
        .to_string()
        .as_bytes(),
        Path::new("code-bench.json"),
    )
    .unwrap();
    let needs = CodeNeeds::of(&plan);
    // As the tracker has it: a watched tree (and, for the fallback, the same without a watch).
    let source = CodeSource::new(root.to_path_buf(), vec![], Default::default()).watched();
    let unwatched = CodeSource::new(root.to_path_buf(), vec![], Default::default());
    let _ = unwatched.gather(&needs);
    let mut walks = Vec::new();
    for _ in 0..config.runs.max(5) {
        let started = Instant::now();
        let _ = unwatched.gather(&needs);
        walks.push(started.elapsed());
    }
    let walk = median(walks);
    let matches = |facts: &remtrack::check::code::CodeFacts| {
        facts
            .searches
            .iter()
            .find(|(key, _)| key.pattern.as_deref() == Some("session_id"))
            .and_then(|(_, found)| found.as_ref().ok())
            .map_or(0, |found| found.matches)
    };
    let started = Instant::now();
    let first = source.gather(&needs);
    let first_time = started.elapsed();
    let before = matches(&first);
    let mut steady = Vec::new();
    for _ in 0..config.runs.max(5) {
        let started = Instant::now();
        let _ = source.gather(&needs);
        steady.push(started.elapsed());
    }
    let steady = median(steady);
    // One file changes (as an editor saves it): the very next pass sees it.
    let changed = root.join("src/mod_3/file_300.py");
    let mut text = std::fs::read_to_string(&changed).unwrap();
    text.push_str("\nlegacy = session_id\n");
    std::fs::write(&changed, text).unwrap();
    // The next refresh comes seconds later; the watch's event takes well under this.
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let after = source.gather(&needs);
    let after_time = started.elapsed();
    let seen = matches(&after) == before + 1;
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|n| n.parse::<u64>().ok())
                })
        })
        .unwrap_or(0);
    let tree = format!("{files} files, {:.0} MB", bytes as f64 / 1e6);
    eprintln!(
        "bench: code pass over {tree}: first {first_time:?}, steady {steady:?} (walk {walk:?}), after a change {after_time:?}"
    );
    vec![
        Row {
            measure: format!("code pass, first ({tree}; 5% ignored, 1% binary)"),
            value: ms(first_time),
            compared: String::new(),
            ratio: String::new(),
            target: String::new(),
            met: String::new(),
        },
        Row {
            measure: "code pass, steady state (nothing changed)".into(),
            value: ms(steady),
            compared: String::new(),
            ratio: String::new(),
            target: "≤ 30 ms for 10,000 files".into(),
            met: if config.small {
                "n/a (small tree)".into()
            } else {
                yes_no(steady <= Duration::from_millis(30))
            },
        },
        Row {
            measure: "code pass, steady state without a watch (fallback: walk and stat)".into(),
            value: ms(walk),
            compared: String::new(),
            ratio: String::new(),
            target: String::new(),
            met: String::new(),
        },
        Row {
            measure: "code pass after one file changed".into(),
            value: format!(
                "{} (the new match {})",
                ms(after_time),
                if seen { "seen" } else { "NOT seen" }
            ),
            compared: String::new(),
            ratio: String::new(),
            target: "seen on the next refresh".into(),
            met: yes_no(seen),
        },
        Row {
            measure: "peak RSS of the benchmark process after the code pass".into(),
            value: format!("{:.1} MB", peak_kib as f64 / 1024.0),
            compared: String::new(),
            ratio: String::new(),
            target: "< 50 MB".into(),
            met: yes_no(peak_kib < 50 * 1024),
        },
    ]
}

/// A tree of `files` Python-like files of about 10 KB in 100 folders, with a `.gitignore`d
/// build folder and binary files, every file last changed a minute ago (a settled tree).
/// Returns the bytes written.
fn generate_tree(root: &Path, files: usize) -> u64 {
    std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    let mut total = 0u64;
    for n in 0..files {
        let (folder, name) = if n % 20 == 19 {
            (format!("build/gen_{}", n / 1000), format!("file_{n}.py"))
        } else if n % 100 == 99 {
            (format!("src/mod_{}", n / 100), format!("blob_{n}.bin"))
        } else {
            (format!("src/mod_{}", n / 100), format!("file_{n}.py"))
        };
        let dir = root.join(&folder);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::with_capacity(10_300);
        let mut line = 0;
        while text.len() < 10_000 {
            text.push_str(&format!(
                "def f_{line}(value):\n    return value * {n} + {line}\n"
            ));
            line += 1;
        }
        if n % 50 == 0 {
            text.push_str("flow = lookup(session_id)\n");
        }
        let mut bytes = text.into_bytes();
        if name.ends_with(".bin") {
            bytes[100] = 0;
        }
        total += bytes.len() as u64;
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
    total
}

fn not_measured(measure: &str, why: &str) -> Row {
    Row {
        measure: measure.into(),
        value: format!("not measured: {why}"),
        compared: String::new(),
        ratio: String::new(),
        target: String::new(),
        met: "n/a".into(),
    }
}

fn yes_no(met: bool) -> String {
    if met {
        "yes".into()
    } else {
        "**MISSED**".into()
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

async fn timed<T>(future: impl std::future::Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let out = future.await;
    (start.elapsed(), out)
}

async fn median_of<F, Fut>(runs: usize, mut once: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(once().await);
    }
    median(times)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn install_missing_tools() {
    let running_as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut wanted: Vec<&str> = Vec::new();
    if Command::new("pg_prove").arg("--version").output().is_err() {
        wanted.push("libtap-parser-sourcehandler-pgtap-perl");
    }
    let pgtap_package = format!("postgresql-{}-pgtap", postgres_major());
    if !Path::new(&format!(
        "/usr/share/postgresql/{}/extension/pgtap.control",
        postgres_major()
    ))
    .exists()
    {
        wanted.push(&pgtap_package);
    }
    if !Path::new("/usr/bin/time").exists() {
        wanted.push("time");
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        wanted.push("tmux");
    }
    if wanted.is_empty() {
        return;
    }
    if !running_as_root {
        eprintln!(
            "bench: missing {wanted:?}; install them (apt-get install -y ...) for every figure"
        );
        return;
    }
    eprintln!("bench: installing {wanted:?}");
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&wanted)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
}

/// The major version of the newest local PostgreSQL, as Debian names its packages.
fn postgres_major() -> String {
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .map_or_else(|| "15".to_string(), |major| major.to_string())
}

// The generated database: tables of ten columns of mixed types, defaults and some indexes.
const COLUMNS: [(&str, &str, Option<&str>); 10] = [
    ("id", "uuid", None),
    ("name", "varchar(100)", None),
    ("status", "varchar(20)", Some("'new'")),
    ("data", "jsonb", Some("'{}'")),
    ("counter", "integer", Some("0")),
    ("created_at", "timestamptz", Some("now()")),
    ("amount", "numeric(10,2)", None),
    ("note", "text", None),
    ("flags", "jsonb", Some("'[]'")),
    ("ref_id", "bigint", None),
];

fn table(i: usize) -> String {
    format!("t{i:05}")
}

async fn create_schema(url: &str, tables: usize) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TYPE bench_status AS ENUM ('new', 'active', 'done'); \
         CREATE SEQUENCE bench_seq; \
         CREATE FUNCTION bench_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         DO $$ BEGIN CREATE ROLE bench_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut batch = String::new();
    for i in 0..tables {
        let columns: Vec<String> = COLUMNS
            .iter()
            .map(|(name, ty, default)| match default {
                Some(d) => format!("{name} {ty} DEFAULT {d}"),
                None => format!("{name} {ty}"),
            })
            .collect();
        let _ = write!(batch, "CREATE TABLE {} ({});", table(i), columns.join(", "));
        if i % 10 == 0 {
            let _ = write!(batch, "CREATE INDEX ON {} (status, created_at);", table(i));
            // The vocabulary's objects on every tenth table: keys, a check, a trigger.
            let _ = write!(
                batch,
                "ALTER TABLE {t} ADD PRIMARY KEY (id), ADD CONSTRAINT {t}_amount CHECK (amount >= 0); \
                 CREATE TRIGGER {t}_touch BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION bench_touch(); \
                 CREATE VIEW {t}_v AS SELECT id, name FROM {t}; GRANT SELECT ON {t} TO bench_reader;",
                t = table(i)
            );
        }
        if i < 20 {
            let _ = write!(
                batch,
                "INSERT INTO {} (id, name) SELECT gen_random_uuid(), 'n' || g FROM generate_series(1, 100) g;",
                table(i)
            );
        }
        if i % 250 == 249 || i + 1 == tables {
            sqlx::raw_sql(&batch).execute(&mut conn).await.unwrap();
            batch.clear();
        }
    }
    sqlx::raw_sql(
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO alembic_version VALUES ('c85140124625'); ANALYZE;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
}

/// `checks` checks of mixed kinds, one task each: mostly `column_exists` with type and default,
/// and one in ten of the vocabulary (constraints, enums, views, functions, triggers,
/// privileges, extensions, sequences, `rows_match`).
fn generate_plan(checks: usize, tables: usize) -> Value {
    let mut tasks = Vec::with_capacity(checks);
    for i in 0..checks {
        let t = table((i * 7) % tables);
        let (name, ty, default) = COLUMNS[i % COLUMNS.len()];
        // Every tenth table carries the vocabulary's objects.
        let tenth = table((i % (tables / 10).max(1)) * 10);
        let check = match i % 100 {
            70 => {
                json!({ "kind": "constraint_exists", "table": tenth, "type": "primary_key", "columns": ["id"] })
            }
            71 => {
                json!({ "kind": "constraint_exists", "table": tenth, "type": "check", "expression": "amount >= 0" })
            }
            72 => {
                json!({ "kind": "enum_values", "type": "bench_status", "values": ["new", "active", "done"] })
            }
            73 => {
                json!({ "kind": "view_exists", "view": format!("{tenth}_v"), "columns": ["id", "name"] })
            }
            74 => {
                json!({ "kind": "function_exists", "name": "bench_touch", "args": [], "returns": "trigger" })
            }
            75 => {
                json!({ "kind": "trigger_exists", "table": tenth, "name": format!("{tenth}_touch"), "function": "bench_touch" })
            }
            76 => {
                json!({ "kind": "privilege", "role": "bench_reader", "table": tenth, "privileges": ["SELECT"], "has": true })
            }
            77 => json!({ "kind": "extension_exists", "extension": "plpgsql" }),
            78 => json!({ "kind": "sequence_exists", "sequence": "bench_seq" }),
            79 => {
                json!({ "kind": "rows_match", "query": format!("SELECT id FROM {t} WHERE amount < 0"), "expect": "empty" })
            }
            0..=69 => {
                let mut c =
                    json!({ "kind": "column_exists", "table": t, "column": name, "type": ty });
                if let Some(d) = default {
                    // Every 13th expects a default the database does not have: some checks fail.
                    c["default"] = json!(if i % 13 == 0 { "'other'" } else { d });
                }
                c
            }
            80..=85 => json!({ "kind": "table_exists", "table": t }),
            86..=88 => json!({ "kind": "table_absent", "table": format!("legacy_{i}") }),
            89..=91 => json!({ "kind": "column_absent", "table": t, "column": "session_id" }),
            92..=94 => {
                json!({ "kind": "index_exists", "table": table((i % (tables / 10).max(1)) * 10), "columns": ["status", "created_at"] })
            }
            95..=96 => {
                json!({ "kind": "row_count", "table": table(i % 20.min(tables)), "at_least": 1 })
            }
            97 => json!({ "kind": "migration_version", "revision": "c85140124625" }),
            _ => json!({ "kind": "sql", "query": format!("SELECT count(*) >= 0 FROM {t}") }),
        };
        let mut check = check;
        check["id"] = json!("c");
        tasks.push(json!({
            "id": format!("task-{i:05}"),
            "title": format!("Task {i}: {} on {t}", check["kind"].as_str().unwrap_or("")),
            "day": i % 5 + 1,
            "phase": if i % 3 == 0 { "code" } else { "db" },
            "priority": "medium",
            "claimed": "done",
            "checks": [check],
        }));
    }
    json!({
        "version": 1,
        "title": "Benchmark plan",
        "days": (1..=5).map(|d| json!({ "day": d, "title": format!("Day {d}") })).collect::<Vec<_>>(),
        "phases": [{ "id": "db", "title": "Database" }, { "id": "code", "title": "Code" }],
        "tasks": tasks,
        "risks": [],
    })
}

fn named_tables(plan: &Plan) -> Vec<String> {
    let names: std::collections::BTreeSet<&str> = plan
        .tasks
        .iter()
        .flat_map(|task| &task.checks)
        .filter_map(|check| check.spec.table())
        .collect();
    names.into_iter().map(str::to_string).collect()
}

/// The floor: one pg_catalog query for the columns, types and defaults of the named tables, as a
/// person would write it (`plain`), or deparsing defaults without the relation as remtrack does
/// (the stricter floor), on a connection of its own.
struct FloorQuery {
    conn: sqlx::PgConnection,
    query: String,
    names: Vec<String>,
}

impl FloorQuery {
    async fn connect(url: &str, plan: &Plan, plain: bool) -> FloorQuery {
        let default = if plain {
            "pg_get_expr(d.adbin, d.adrelid)"
        } else {
            "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) ELSE pg_get_expr(d.adbin, d.adrelid) END"
        };
        FloorQuery {
            conn: sqlx::PgConnection::connect(url).await.unwrap(),
            query: format!(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), {default} \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
                 WHERE n.nspname = 'public' AND c.relname = ANY($1)"
            ),
            names: named_tables(plan),
        }
    }

    async fn once(&mut self) -> Duration {
        let start = Instant::now();
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&self.query)
            .bind(&self.names)
            .fetch_all(&mut self.conn)
            .await
            .unwrap();
        assert!(!rows.is_empty());
        start.elapsed()
    }
}

fn pgtap_assertion(check: &Value) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let t = check["table"].as_str().unwrap_or_default();
    match check["kind"].as_str().unwrap_or_default() {
        "column_exists" => format!(
            "SELECT col_type_is('public', {}, {}, {});",
            quote(t),
            quote(check["column"].as_str().unwrap()),
            quote(check["type"].as_str().unwrap())
        ),
        "table_exists" => format!("SELECT has_table('public', {}, 'x');", quote(t)),
        "table_absent" => format!("SELECT hasnt_table('public', {}, 'x');", quote(t)),
        "column_absent" => format!("SELECT hasnt_column('public', {}, {}, 'x');", quote(t), quote(check["column"].as_str().unwrap())),
        "index_exists" => format!("SELECT ok(EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = {}), 'x');", quote(t)),
        "row_count" => format!("SELECT ok((SELECT count(*) FROM {t}) >= 1, 'x');"),
        "migration_version" => "SELECT ok(EXISTS (SELECT 1 FROM alembic_version WHERE version_num = 'c85140124625'), 'x');".into(),
        "constraint_exists" if check["type"] == "primary_key" => format!("SELECT col_is_pk('public', {}, 'id', 'x');", quote(t)),
        "constraint_exists" => format!("SELECT has_check('public', {}, 'x');", quote(t)),
        "enum_values" => "SELECT enum_has_labels('public', 'bench_status', ARRAY['new', 'active', 'done'], 'x');".into(),
        "view_exists" => format!("SELECT has_view('public', {}, 'x');", quote(check["view"].as_str().unwrap_or_default())),
        "function_exists" => "SELECT has_function('public', 'bench_touch', ARRAY[]::name[], 'x');".into(),
        "trigger_exists" => format!("SELECT has_trigger('public', {}, {}, 'x');", quote(t), quote(check["name"].as_str().unwrap_or_default())),
        "privilege" => format!("SELECT ok(has_table_privilege('bench_reader', {}, 'SELECT'), 'x');", quote(t)),
        "extension_exists" => "SELECT has_extension('plpgsql', 'x');".into(),
        "sequence_exists" => "SELECT has_sequence('public', 'bench_seq', 'x');".into(),
        "rows_match" => format!("SELECT is_empty({}, 'x');", quote(check["query"].as_str().unwrap_or_default())),
        _ => format!("SELECT ok(({}), 'x');", check["query"].as_str().unwrap()),
    }
}

async fn pgtap_time(url: &str, plan: &Plan, dir: &Path, runs: usize) -> Result<Duration, String> {
    if Command::new("pg_prove").arg("--version").output().is_err() {
        return Err(
            "pg_prove is not installed (apt-get install -y libtap-parser-sourcehandler-pgtap-perl)"
                .into(),
        );
    }
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS pgtap")
        .execute(&mut conn)
        .await
        .map_err(|e| {
            format!(
                "pgTAP is not installed (apt-get install -y postgresql-{}-pgtap): {e}",
                postgres_major()
            )
        })?;
    let tasks = serde_json::to_value(&plan.tasks).unwrap();
    let mut script = format!("SELECT plan({});\n", plan.tasks.len());
    for task in tasks.as_array().unwrap() {
        script.push_str(&pgtap_assertion(&task["checks"][0]));
        script.push('\n');
    }
    script.push_str("SELECT * FROM finish();\n");
    let file = dir.join("checks.sql");
    std::fs::write(&file, script).unwrap();
    let parsed = url::Url::parse(url).unwrap();
    let db = parsed.path().trim_start_matches('/').to_string();
    let port = parsed.port().unwrap().to_string();
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new("pg_prove")
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", &db])
            .arg(&file)
            .output()
            .unwrap();
        times.push(start.elapsed());
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.contains("Files=1") {
            return Err(format!(
                "pg_prove did not run: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(median(times))
}

/// One `psql -c` per check, the runbook way, through information_schema.
fn psql_loop_time(url: &str, tables: usize, sample: usize) -> Duration {
    let start = Instant::now();
    for i in 0..sample {
        let (column, _, _) = COLUMNS[i % COLUMNS.len()];
        let query = format!(
            "SELECT data_type, column_default FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{}' AND column_name = '{column}'",
            table((i * 7) % tables)
        );
        let out = Command::new("psql")
            .args(["-X", "-tA", url, "-c", &query])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    start.elapsed()
}

fn process_time_and_rss(plan: &Path, url: &str, runs: usize) -> Result<(Duration, u64), String> {
    if !Path::new("/usr/bin/time").exists() {
        return Err("GNU time is not installed (apt-get install -y time)".into());
    }
    let mut times = Vec::new();
    let mut peak = 0u64;
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args([
                "-f",
                "%M",
                BIN,
                "check",
                "--format",
                "json",
                "--database-url",
                url,
                "--plan",
            ])
            .arg(plan)
            .env("REMTRACK_STORE", plan.with_file_name("no-store.db"))
            .output()
            .unwrap();
        times.push(start.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss: u64 = stderr
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|_| format!("no RSS from time: {stderr}"))?;
        peak = peak.max(rss);
        serde_json::from_slice::<Value>(&out.stdout).map_err(|e| format!("not JSON: {e}"))?;
    }
    Ok((median(times), peak))
}

fn frame_time(plan: &Plan, refresh: &Refresh, frames: usize) -> Duration {
    let mut app = App::new(AppConfig {
        plan: Arc::new(plan.clone()),
        database: "postgres://bench@127.0.0.1/bench".into(),
        backend: remtrack::Backend::Postgres,
        user: "bench".into(),
        theme: Theme {
            color: true,
            ascii: false,
        },
        now: refresh.checked_at,
        search_path_override: None,
        code_root: None,
        editor: None,
        pairing: None,
        apply_to: None,
    });
    app.receive(Msg::Resized {
        width: 160,
        height: 48,
    });
    app.receive(Msg::Engine(EngineUpdate::RefreshFinished {
        run: 1,
        plan: app.board.plan.clone(),
        outcome: Arc::new(Ok(refresh.clone())),
        code_only: None,
        retry_in: Duration::from_secs(5),
    }));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames {
        // Move the selection so each frame has something new to draw.
        app.act(if i % 2 == 0 {
            remtrack::tui::action::Action::Down
        } else {
            remtrack::tui::action::Action::NextTodo
        });
        let start = Instant::now();
        terminal
            .draw(|frame| {
                remtrack::tui::draw::render(frame, &app);
            })
            .unwrap();
        times.push(start.elapsed());
    }
    median(times)
}

/// Runs the tracker in tmux against an unreachable database and reads "first frame drawn N ms
/// after start" from its log.
fn first_frame_time(plan: &Path, runs: usize) -> Result<f64, String> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return Err("tmux is not installed (apt-get install -y tmux)".into());
    }
    let dir = plan.parent().unwrap();
    let log: PathBuf = dir.join(".remtrack/remtrack.log");
    let mut times = Vec::new();
    for run in 0..runs {
        let _ = std::fs::remove_file(&log);
        let socket = format!("remtrack-bench-{}-{run}", std::process::id());
        let command = format!(
            "{BIN} --plan {} --database-url postgres://bench@127.0.0.1:1/none; sleep 60",
            plan.display()
        );
        let started = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "48",
                "-c",
            ])
            .arg(dir)
            .arg(&command)
            .status()
            .map_err(|e| e.to_string())?;
        if !started.success() {
            return Err("tmux did not start".into());
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let found = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains("first frame drawn")) {
                let number = line
                    .split("first frame drawn ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next());
                break number.and_then(|n| n.parse::<f64>().ok());
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = Command::new("tmux")
            .args(["-L", &socket, "kill-server"])
            .status();
        times.push(found.ok_or("the tracker never logged its first frame")?);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Statements and server time per refresh, from the server's own log of every statement.
async fn server_cost(plan: &Plan, target: &Target) -> (f64, f64) {
    let admin = pg::cluster().url("postgres");
    for sql in [
        "ALTER SYSTEM SET log_min_duration_statement = 0",
        "ALTER SYSTEM SET log_line_prefix = '%a|'",
        "SELECT pg_reload_conf()",
    ] {
        pg::exec(&admin, sql).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pg::cluster().server_log().len();
    let refreshes = 10;
    for _ in 0..refreshes {
        refresh(plan, target).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = pg::cluster().server_log();
    for sql in [
        "ALTER SYSTEM RESET log_min_duration_statement",
        "ALTER SYSTEM RESET log_line_prefix",
        "SELECT pg_reload_conf()",
    ] {
        pg::exec(&admin, sql).await;
    }
    let mut statements = 0usize;
    let mut total_ms = 0.0;
    for line in log[before..].lines().filter(|l| l.starts_with("remtrack|")) {
        if let Some(rest) = line.split("duration: ").nth(1)
            && let Some(ms) = rest.split(" ms").next().and_then(|n| n.parse::<f64>().ok())
        {
            statements += 1;
            total_ms += ms;
        }
    }
    (
        statements as f64 / refreshes as f64,
        total_ms / refreshes as f64,
    )
}

fn print_report(
    config: &Config,
    server: &str,
    rows: &[Row],
    scaling: &[(usize, Duration, usize)],
    statements: f64,
    server_ms: f64,
) {
    let (cpu, cores) = machine::processor();
    println!(
        "\nremtrack refresh benchmark{}: {} tables x 10 columns, {} checks; {server} on loopback; {cores} cores ({cpu}); medians of {} runs\n",
        if config.small { " (small)" } else { "" },
        config.tables,
        config.checks,
        config.runs
    );
    println!("| measure | value | compared with | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.measure, row.value, row.compared, row.ratio, row.target, row.met
        );
    }
    println!("\n| checks | refresh (median) | queries per refresh |");
    println!("|---|---|---|");
    for (n, time, queries) in scaling {
        println!("| {n} | {} | {queries} |", ms(*time));
    }
    let interval = 5.0;
    println!(
        "\nSteady state at the default 5 s refresh: {statements:.0} statements and {server_ms:.1} ms of server time per refresh, \
         i.e. {:.1} statements/min and {:.2}% of one server core.",
        statements * 60.0 / interval,
        server_ms / (interval * 1000.0) * 100.0
    );
}
