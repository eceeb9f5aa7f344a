//! Figures at scale: `cargo bench --bench scale` (MODCON_BENCH_THREADS
//! sets the size; 20000 threads is about a million attachments). It
//! reports; it asserts nothing about time.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use modcon::core::db::{Access, Db, OpenOptions};
use modcon::core::demo::{self, DemoOptions};
use modcon::core::media::MediaRoot;
use modcon::core::model::{Kind, parse_now};
use modcon::core::purge::{self, PurgeOptions};
use modcon::core::query::{self, ListQuery};
use modcon::core::{Ctx, check};

#[path = "scale/console.rs"]
mod console;
#[path = "scale/purge.rs"]
mod purge_floor;

const NOW: &str = "2026-11-26 12:00:00";

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    report(label, started.elapsed());
    out
}

fn report(label: &str, d: Duration) {
    println!("{label:<58} {:>10.2} ms", d.as_secs_f64() * 1000.0);
}

fn main() {
    console::session_if_asked();
    let dir = tempfile::tempdir().expect("temp dir");
    // The plain-SQL floor alone on a given database, for profiling by hand.
    if let Ok(db) = std::env::var("MODCON_BENCH_FLOOR_ON") {
        let (rows, took) = purge_floor::floor(std::path::Path::new(&db));
        println!("floor: {rows} rows in {took:?}");
        return;
    }
    // The web-app database alone, kept in a folder, for profiling by hand.
    if let Ok(out) = std::env::var("MODCON_BENCH_WEBAPP_OUT") {
        purge_floor::build_into(std::path::Path::new(&out));
        return;
    }
    if std::env::var("MODCON_BENCH_ONLY").as_deref() == Ok("purge") {
        for f in purge_floor::figures(dir.path()) {
            println!(
                "{:<64} {:>28}   target {} {:?}",
                f.name, f.value, f.target, f.met
            );
        }
        return;
    }
    let threads: usize = std::env::var("MODCON_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("bench.sqlite3");
    let now = parse_now(NOW).expect("time");
    println!("modcon scale figures: demo of {threads} threads\n");
    let summary = time("demo: generate the database (one transaction)", || {
        demo::generate(&DemoOptions {
            out: db_path.clone(),
            threads,
            seed: 42,
            force: false,
            now,
        })
        .expect("demo")
    });
    let size = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "  {} threads, {} posts, {} attachments, {:.0} MB\n",
        summary.threads,
        summary.posts,
        summary.attachments,
        size as f64 / 1e6
    );
    let ctx = Ctx {
        now,
        actor: "bench".into(),
        retention_days: 30,
        ..Ctx::default()
    };
    let mut db = Db::open(&db_path, &OpenOptions::new(Access::ReadWrite)).expect("open");
    let schema = db.schema().clone();
    let cutoff = ctx.cutoff();
    time("stats: counts of every kind and state", || {
        query::counts(db.conn(), &cutoff).expect("counts")
    });
    let first = time("list: first page of threads (200)", || {
        let q = ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            ..ListQuery::default()
        };
        query::list(db.conn(), &schema, &q, &cutoff).expect("list")
    });
    let last = first.last().expect("a thread").cursor();
    time("list: next page of threads (keyset)", || {
        let q = ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            after: Some(last),
            ..ListQuery::default()
        };
        query::list(db.conn(), &schema, &q, &cutoff).expect("list")
    });
    let thread = first[0].id.clone();
    time("list: posts of a thread", || {
        let q = ListQuery {
            kind: Some(Kind::Post),
            thread: Some(thread.clone()),
            limit: 200,
            ..ListQuery::default()
        };
        query::list(db.conn(), &schema, &q, &cutoff).expect("list")
    });
    time(
        "search: \"leaf\" in titles, text, authors, file names",
        || query::search(db.conn(), &schema, "leaf", 500).expect("search"),
    );
    let media = MediaRoot::open(&dir.path().join("media")).expect("media");
    time("purge --dry-run: the plan", || {
        let options = PurgeOptions {
            retention_days: 30,
            batch_size: 100,
            dry_run: true,
            keep_files: false,
        };
        purge::run(
            &mut db,
            &ctx,
            Some(&media),
            &options,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .expect("plan")
    });
    time("check (with the media root)", || {
        check::run(&mut db, &ctx, Some(&media)).expect("check")
    });

    // The console on the same database, before the purge changes it.
    for figure in console::figures(&db_path, NOW) {
        let met = match figure.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "{:<58} {:>10}   target {} {met}",
            figure.name, figure.value, figure.target
        );
    }
    let mut purge_db = Db::open(&db_path, &OpenOptions::new(Access::ReadWrite)).expect("open");
    // The demo has the purge indexes of `modcon migrate` already.
    let started = Instant::now();
    let report_ = purge::run(
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
    let elapsed = started.elapsed();
    report("purge: every row past 30 days, batches of 100", elapsed);
    let rows = report_.removed.rows();
    println!(
        "  {} rows in {} batches: {:.0} rows/s, {:.1} ms per batch",
        rows,
        report_.batches,
        rows as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / report_.batches.max(1) as f64
    );
}
