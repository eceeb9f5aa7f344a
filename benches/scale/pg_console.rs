//! The console on PostgreSQL: the demo of a million attachments written
//! into a throwaway database on the server by `demo --out postgres://…`
//! (the same generator as the SQLite demo), vacuumed and analysed as the
//! README tells a moderator to, then `stats`, the status line's counts and
//! the console's keys measured on it as on SQLite. The database is dropped
//! at the end, whatever happened. The server is `MODCON_BENCH_PG`, else
//! `MODCON_TEST_PG`, else the tests' default; out of reach, the rows are
//! left out and it says so.

use std::path::{Path, PathBuf};
use std::time::Instant;

use modcon_core::Ctx;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::demo::{self, DemoOptions};
use modcon_core::model::parse_now;
use modcon_core::query;

use crate::console::{self, Figure};
use crate::pg_server::{Throwaway, admin, server};
use crate::{against, info, median, run_binary, timed};

/// The figures on PostgreSQL: the demo of `threads` threads written into a
/// throwaway database (its time), VACUUM ANALYZE, `stats --json`, the
/// status line's counts (the core query), the console's keys.
pub fn figures(dir: &Path, now: &str, threads: usize) -> Vec<Figure> {
    if let Err(e) = postgres::Client::connect(&server(), postgres::NoTls) {
        println!(
            "PostgreSQL console not measured: cannot reach {}: {e}",
            server()
        );
        return Vec::new();
    }
    let when = parse_now(now).expect("time");
    // A demo database made already (with its media root), measured as it
    // is and kept: for profiling by hand.
    if let Ok(url) = std::env::var("MODCON_BENCH_PG_ON") {
        let media = std::env::var("MODCON_BENCH_PG_MEDIA").expect("MODCON_BENCH_PG_MEDIA");
        return measure(dir, now, &url, Path::new(&media));
    }
    let db = Throwaway::create(format!("modcon_bench_console_{}", std::process::id()));
    let media: PathBuf = dir.join("pg-console-media");
    let mut figures = Vec::new();
    let (summary, took) = timed(|| {
        demo::generate(&DemoOptions {
            out: PathBuf::from(&db.url),
            threads,
            seed: 42,
            force: false,
            now: when,
            media: Some(media.clone()),
        })
        .expect("demo on PostgreSQL")
    });
    let size: i64 = admin()
        .query_one("SELECT pg_database_size($1::text)", &[&db.name])
        .map(|r| r.get(0))
        .unwrap_or(0);
    figures.push(info(
        &format!("PostgreSQL: demo --out postgres://… --threads {threads}"),
        format!(
            "{:.1} s: {} threads, {} posts, {} attachments, {:.0} MB",
            took.as_secs_f64(),
            summary.threads,
            summary.posts,
            summary.attachments,
            size as f64 / 1e6
        ),
    ));
    let (_, took) = timed(|| {
        postgres::Client::connect(&db.url, postgres::NoTls)
            .expect("connect")
            .batch_execute("VACUUM ANALYZE")
            .expect("vacuum")
    });
    figures.push(info(
        "PostgreSQL: VACUUM ANALYZE of it",
        format!("{:.1} s", took.as_secs_f64()),
    ));
    figures.extend(measure(dir, now, &db.url, &media));
    figures
}

/// `stats`, the counts and the console's keys on the demo at `url`.
fn measure(dir: &Path, now: &str, url: &str, media: &Path) -> Vec<Figure> {
    let when = parse_now(now).expect("time");
    let mut figures = Vec::new();

    let media_arg = media.to_str().expect("path");
    let stats = median(5, || {
        run_binary(
            dir,
            &[
                "--db",
                url,
                "--media-root",
                media_arg,
                "--now",
                now,
                "stats",
                "--json",
            ],
        )
    });
    figures.push(against(
        "PostgreSQL: stats --json (the process, median of 5)",
        stats,
        150.0,
    ));
    let ctx = Ctx {
        now: when,
        actor: "bench".into(),
        retention_days: 30,
        ..Ctx::default()
    };
    let cutoff = ctx.cutoff();
    let mut opened = Db::open(Path::new(url), &OpenOptions::new(Access::ReadOnly)).expect("open");
    let opened_schema = opened.schema().clone();
    let counts = median(5, || {
        let tx = opened.read_tx().expect("read");
        timed(|| query::counts(tx.conn(), &opened_schema, &cutoff).expect("counts")).1
    });
    drop(opened);
    figures.push(against(
        "PostgreSQL: the status line's counts (the core query, median of 5)",
        counts,
        200.0,
    ));
    let started = Instant::now();
    figures.extend(console::key_figures(
        Path::new(url),
        Some(media),
        now,
        "PostgreSQL console",
    ));
    println!(
        "PostgreSQL console figures taken in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    figures
}
