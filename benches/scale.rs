//! Figures at scale: `cargo bench --bench scale` prints one table (figure,
//! value, target, met or missed) with the machine it ran on:
//! 1. purge against its plain-SQL floor, on a database of 100,000
//!    attachments shaped like the web app's (`scale/purge.rs`);
//! 2. the demo of a million attachments (`MODCON_BENCH_THREADS` sets its
//!    size): `stats`, the status line's counts, `check` with the media
//!    root, lists, search, the purge plan;
//! 3. the console on it, end to end (`scale/console.rs`): key latency,
//!    the status line, memory;
//! 4. a purge of the demo;
//! 5. the same demo on PostgreSQL (`scale/pg_console.rs`): `stats`, the
//!    counts, the console's keys.
//!
//! `MODCON_BENCH_ONLY=purge` runs part 1 alone, `MODCON_BENCH_ONLY=pg-console`
//! part 5 alone. It reports; it asserts nothing about time.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use modcon_core::Ctx;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::demo::{self, DemoOptions};
use modcon_core::media::MediaRoot;
use modcon_core::model::{Kind, parse_now};
use modcon_core::purge::{self, PurgeOptions};
use modcon_core::query::{self, ListQuery};

#[path = "scale/console.rs"]
mod console;
#[path = "scale/pg_console.rs"]
mod pg_console;
#[path = "scale/pg_server.rs"]
mod pg_server;
#[path = "scale/purge.rs"]
mod purge_floor;

use console::Figure;

const NOW: &str = "2026-11-26 12:00:00";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A figure with a target in milliseconds.
fn against(name: &str, took: Duration, target_ms: f64) -> Figure {
    Figure {
        name: name.into(),
        value: format!("{:.0} ms", ms(took)),
        target: format!("≤ {target_ms:.0} ms"),
        met: Some(ms(took) <= target_ms),
    }
}

/// A figure without a target.
fn info(name: &str, value: String) -> Figure {
    Figure {
        name: name.into(),
        value,
        target: String::new(),
        met: None,
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

/// The median of `n` runs.
fn median(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut runs: Vec<Duration> = (0..n).map(|_| f()).collect();
    runs.sort();
    runs[n / 2]
}

/// The machine, as the table's heading says it.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{cpu}, {cores} cores, Linux {}, load average {load} at the start",
        read("/proc/sys/kernel/osrelease").trim()
    )
}

/// `modcon ARGS` as a process, timed from start to exit.
fn run_binary(home: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_modcon"))
        .env_remove("MODCON_CONFIG")
        .env_remove("MODCON_DB")
        .env_remove("MODCON_MEDIA_ROOT")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .args(args)
        .output()
        .expect("modcon");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "modcon {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn print_table(machine: &str, figures: &[Figure]) {
    println!("\nmodcon scale figures on {machine}\n");
    println!("| figure | value | target | |");
    println!("|---|---|---|---|");
    for f in figures {
        let met = match f.met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "",
        };
        println!("| {} | {} | {} | {met} |", f.name, f.value, f.target);
    }
}

fn main() {
    console::session_if_asked();
    let machine = machine();
    let dir = tempfile::tempdir().expect("temp dir");
    // The plain-SQL floor alone on a given database, for profiling by hand.
    if let Ok(db) = std::env::var("MODCON_BENCH_FLOOR_ON") {
        let (rows, took) = purge_floor::floor(Path::new(&db));
        println!("floor: {rows} rows in {took:?}");
        return;
    }
    // The web-app database alone, kept in a folder, for profiling by hand.
    if let Ok(out) = std::env::var("MODCON_BENCH_WEBAPP_OUT") {
        purge_floor::build_into(Path::new(&out));
        return;
    }
    let threads: usize = std::env::var("MODCON_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    if std::env::var("MODCON_BENCH_ONLY").as_deref() == Ok("pg-console") {
        print_table(&machine, &pg_console::figures(dir.path(), NOW, threads));
        return;
    }
    let mut figures = purge_floor::figures(dir.path());
    if std::env::var("MODCON_BENCH_ONLY").as_deref() == Ok("purge") {
        print_table(&machine, &figures);
        return;
    }

    let db_path = dir.path().join("bench.sqlite3");
    let now = parse_now(NOW).expect("time");
    let (summary, took) = timed(|| {
        demo::generate(&DemoOptions {
            out: db_path.clone(),
            threads,
            seed: 42,
            force: false,
            now,
            media: None,
        })
        .expect("demo")
    });
    let size = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    figures.push(info(
        &format!("demo --threads {threads}"),
        format!(
            "{:.1} s: {} threads, {} posts, {} attachments, {:.0} MB",
            took.as_secs_f64(),
            summary.threads,
            summary.posts,
            summary.attachments,
            size as f64 / 1e6
        ),
    ));
    let db_arg = db_path.to_str().expect("path");
    let media_path = dir.path().join("media");
    let media_arg = media_path.to_str().expect("path");
    let home = dir.path();
    let stats = median(5, || {
        run_binary(home, &["--db", db_arg, "--now", NOW, "stats", "--json"])
    });
    figures.push(against(
        "stats --json (the process, median of 5)",
        stats,
        150.0,
    ));
    let ctx = Ctx {
        now,
        actor: "bench".into(),
        retention_days: 30,
        ..Ctx::default()
    };
    let mut db = Db::open(&db_path, &OpenOptions::new(Access::ReadOnly)).expect("open");
    let schema = db.schema().clone();
    let cutoff = ctx.cutoff();
    let counts = median(5, || {
        let tx = db.read_tx().expect("read");
        timed(|| query::counts(tx.conn(), &schema, &cutoff).expect("counts")).1
    });
    figures.push(against(
        "the status line's counts (the core query, median of 5)",
        counts,
        200.0,
    ));
    let check = median(3, || {
        run_binary(
            home,
            &[
                "--db",
                db_arg,
                "--media-root",
                media_arg,
                "--now",
                NOW,
                "check",
            ],
        )
    });
    figures.push(against(
        "check with the media root (the process, median of 3)",
        check,
        3000.0,
    ));
    let check_json = run_binary(
        home,
        &[
            "--db",
            db_arg,
            "--media-root",
            media_arg,
            "--now",
            NOW,
            "check",
            "--json",
        ],
    );
    figures.push(info(
        "check --json (every problem listed: the demo's files exist for 300 rows only)",
        format!("{:.0} ms", ms(check_json)),
    ));
    let (first, took) = timed(|| {
        let q = ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            ..ListQuery::default()
        };
        query::list(db.conn(), &schema, &q, &cutoff).expect("list")
    });
    figures.push(info(
        "list: first page of threads (200)",
        format!("{:.1} ms", ms(took)),
    ));
    let last = first.last().expect("a thread").cursor();
    let (_, took) = timed(|| {
        let q = ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            after: Some(last),
            ..ListQuery::default()
        };
        query::list(db.conn(), &schema, &q, &cutoff).expect("list")
    });
    figures.push(info(
        "list: next page of threads (keyset)",
        format!("{:.1} ms", ms(took)),
    ));
    let (_, took) = timed(|| query::search(db.conn(), &schema, "leaf", 500).expect("search"));
    figures.push(info(
        "search: \"leaf\" in titles, text, authors, file names",
        format!("{:.0} ms", ms(took)),
    ));
    let media = MediaRoot::open(&media_path).expect("media");
    let dry = PurgeOptions {
        retention_days: 30,
        batch_size: 100,
        dry_run: true,
        keep_files: false,
    };
    let (_, took) = timed(|| {
        purge::run(
            &mut db,
            &ctx,
            Some(&media),
            &dry,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .expect("plan")
    });
    figures.push(info(
        "purge --dry-run: the plan",
        format!("{:.0} ms", ms(took)),
    ));
    drop(db);

    // The console on the same database, before the purge changes it; its
    // key latency, status line and memory figures are its own.
    figures.extend(console::figures(&db_path, NOW));

    let mut purge_db = Db::open(&db_path, &OpenOptions::new(Access::ReadWrite)).expect("open");
    let started = Instant::now();
    let report = purge::run(
        &mut purge_db,
        &ctx,
        Some(&media),
        &PurgeOptions {
            retention_days: 30,
            batch_size: 100,
            dry_run: false,
            keep_files: false,
        },
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("purge");
    let took = started.elapsed();
    let rows = report.removed.rows();
    figures.push(info(
        "purge of the demo (batches of 100, its purge indexes)",
        format!(
            "{rows} rows in {:.1} s: {:.0} rows/s, {} batches",
            took.as_secs_f64(),
            rows as f64 / took.as_secs_f64(),
            report.batches
        ),
    ));
    figures.extend(pg_console::figures(dir.path(), NOW, threads));
    print_table(&machine, &figures);
}
