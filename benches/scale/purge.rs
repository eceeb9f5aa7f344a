//! The purge against its floor: a database of 100,000 attachments shaped
//! like the web app's (its schema and indexes only, no `modcon migrate`),
//! written in plain SQL as Django writes, with thousands of rows past
//! retention and their files on disk. On copies of it, in one run: the
//! plain-SQL floor (one DELETE of the expired attachments in one
//! transaction), then `purge` at batch sizes 100 and 1000, without and with
//! `modcon migrate`, every rule kept (re-check in each batch, per-row
//! records, file journal, dependents first, files removed). Then the same
//! database loaded into a throwaway PostgreSQL database, its floor and
//! its purges at batch sizes 100 and 1000. On both backends, beside the
//! floor, the floor with the purge's own records: the same deletes in
//! batches of 1000 with, for each row, the record of what was removed and
//! its file's journal entry (what the purge must write besides the delete),
//! so the gap splits into what those records cost and what modcon adds. `MODCON_BENCH_PURGE=postgres`
//! (or `sqlite`) leaves out the other backend's purges (the SQLite floor
//! is always measured).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::media::MediaRoot;
use modcon_core::migrate;
use modcon_core::model::{Kind, format_datetime, parse_now};
use modcon_core::purge::{self, PurgeOptions};
use modcon_core::rules::{self, Target};
use modcon_core::{Ctx, cutoff};
use rusqlite::Connection;

use crate::console::Figure;
use crate::pg_server::{self, Throwaway};

const NOW: &str = "2026-11-26 12:00:00";
const THREADS: usize = 2000;
const POSTS_PER_THREAD: usize = 10;
const ATTACHMENTS_PER_POST: usize = 5;

/// A small deterministic generator (no dependency for a bench).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The id of row `n` of a kind: 32 hex digits, scattered as the web app's
/// uuid4 ids are (so index pages are written all over, as in production),
/// and the same on every run.
fn hex(kind: u8, n: usize) -> String {
    let mut x = (kind as u64) << 56 ^ n as u64;
    let mut out = String::with_capacity(32);
    for _ in 0..2 {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out
}

fn days_ago(days: u64, secs: u64) -> String {
    let now = parse_now(NOW).expect("now");
    // Exactly as Django writes it (no fraction when it is zero).
    format_datetime(
        now - chrono::Duration::days(days as i64) - chrono::Duration::seconds(secs as i64),
    )
}

fn ctx_at(now: &str, retention_days: i64) -> Ctx {
    Ctx {
        now: parse_now(now).expect("time"),
        actor: "bench".into(),
        client_addr: None,
        os_account: None,
        reason: None,
        retention_days,
    }
}

fn write_file(path: &Path) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("media folder");
    }
    fs::write(path, b"\x89PNG bench").expect("file");
}

/// The web app's database: its own schema (migration 0001 is the web
/// app's DDL, indexes included), rows written in plain SQL, then the
/// console's own tables as any console open makes them, and deletes done
/// through the console 40 and 60 days ago (so threads and posts have
/// known deletion times). Files for every deleted attachment.
fn build(db: &Path, media: &Path) {
    let conn = Connection::open(db).expect("create");
    conn.execute_batch("PRAGMA foreign_keys = ON; BEGIN")
        .expect("begin");
    conn.execute_batch(migrate::MIGRATIONS[0].sql)
        .expect("the web app's schema");
    let mut rng = Lcg(0x005e_ed0f_f100);
    let old = "2025-06-01 10:00:00";
    for u in 1..=200 {
        conn.execute(
            "INSERT INTO users_user (password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined, id, uuid) \
             VALUES ('!', NULL, 0, ?1, '', '', '', ?2, 1, ?3, ?4, ?5)",
            (format!("user{u}"), u == 1, old, u as i64, hex(0xee, u)),
        )
        .expect("user");
    }
    conn.execute(
        "INSERT INTO forum_category (id, name, slug, description, icon, display_order, is_active, \
         created_at, updated_at, parent_id) VALUES (?1, 'Plants', 'plants', '', '', 0, 1, ?2, ?2, NULL)",
        (hex(0xca, 1), old),
    )
    .expect("category");
    let mut thread = conn
        .prepare(
            "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
             view_count, post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
             VALUES (?1, ?2, ?3, '', 0, 0, 1, 0, ?4, ?5, ?5, ?5, ?6, ?7)",
        )
        .expect("thread");
    let mut post = conn
        .prepare(
            "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, \
             is_active, edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
             VALUES (?1, ?2, NULL, 'markdown', ?3, 1, NULL, ?4, ?4, ?5, NULL, ?6)",
        )
        .expect("post");
    let mut attachment = conn
        .prepare(
            "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, \
             display_order, alt_text, created_at, post_id, deleted_at, is_active) \
             VALUES (?1, ?2, ?3, 2048, 'image/png', ?4, '', ?5, ?6, ?7, ?8)",
        )
        .expect("attachment");
    let mut reaction = conn
        .prepare(
            "INSERT INTO forum_reaction (id, reaction_type, is_active, created_at, updated_at, \
             post_id, user_id) VALUES (?1, 'like', 1, ?2, ?2, ?3, ?4)",
        )
        .expect("reaction");
    let mut flag = conn
        .prepare(
            "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
             reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, \
             post_id, thread_id) VALUES (?1, 'post', 'spam', '', ?2, NULL, '', ?3, ?3, ?4, NULL, ?5, NULL)",
        )
        .expect("flag");
    let mut action = conn
        .prepare(
            "INSERT INTO forum_moderationaction (id, action_type, reason, created_at, \
             affected_user_id, flag_id, moderator_id) VALUES (?1, ?2, 'bench', ?3, ?4, ?5, 1)",
        )
        .expect("action");
    let (mut p, mut a, mut f) = (0, 0, 0);
    for t in 0..THREADS {
        let created = days_ago(500 - (t as u64 * 400 / THREADS as u64), 0);
        let author = 1 + rng.below(200) as i64;
        thread
            .execute((
                hex(0x01, t),
                format!("Thread {t} about leaves"),
                format!("thread-{t}"),
                POSTS_PER_THREAD as i64,
                &created,
                author,
                hex(0xca, 1),
            ))
            .expect("thread row");
        for i in 0..POSTS_PER_THREAD {
            let pid = hex(0x02, p);
            post.execute((
                &pid,
                format!("Post {p}: the leaves turned yellow"),
                i == 0,
                &created,
                1 + rng.below(200) as i64,
                hex(0x01, t),
            ))
            .expect("post row");
            for order in 0..ATTACHMENTS_PER_POST {
                // 6.5% deleted past retention by the web app, 1% recently.
                let deleted = if rng.chance(65) {
                    Some(days_ago(31 + rng.below(370), rng.below(86_400)))
                } else if rng.chance(10) {
                    Some(days_ago(1 + rng.below(28), 0))
                } else {
                    None
                };
                let day = 1 + a % 28;
                attachment
                    .execute((
                        hex(0x03, a),
                        format!("forum/attachments/2025/06/{day:02}/{a:x}.png"),
                        format!("IMG_{a}.png"),
                        order as i64,
                        &created,
                        &pid,
                        &deleted,
                        deleted.is_none(),
                    ))
                    .expect("attachment row");
                a += 1;
            }
            if p % 2 == 0 {
                reaction
                    .execute((hex(0x04, p), &created, &pid, 1 + (p % 199) as i64))
                    .expect("reaction row");
            }
            if p % 20 == 0 {
                flag.execute((hex(0x05, f), "pending", &created, 2_i64, &pid))
                    .expect("flag row");
                if f % 2 == 0 {
                    action
                        .execute((hex(0x06, f), "warning", &created, 2_i64, hex(0x05, f)))
                        .expect("action row");
                }
                f += 1;
            }
            p += 1;
        }
    }
    // The moderation queue removed 50 posts: the post alone, with a flag
    // and a remove_post action; their attachments stay active (held back).
    for n in 0..50 {
        let pid = hex(0x02, 37 + n * 211);
        let when = days_ago(45, 0);
        conn.execute(
            "UPDATE forum_post SET is_active = 0, updated_at = ?2 WHERE id = ?1",
            (&pid, &when),
        )
        .expect("queue removal");
        flag.execute((hex(0x07, n), "removed", &when, 3_i64, &pid))
            .expect("queue flag");
        action
            .execute((hex(0x08, n), "remove_post", &when, 2_i64, hex(0x07, n)))
            .expect("queue action");
    }
    drop((thread, post, attachment, reaction, flag, action));
    conn.execute_batch("COMMIT").expect("commit");
    drop(conn);

    // The console deleted 150 posts 40 days ago and 15 threads 60 days ago.
    let mut db = Db::open(db, &OpenOptions::new(Access::ReadWrite)).expect("open");
    let forty = ctx_at(&days_ago(40, 0), 30);
    for n in 0..150 {
        let target = Target {
            kind: Kind::Post,
            id: hex(0x02, 5 + n * 131),
        };
        rules::delete(&mut db, &forty, &target).expect("delete post");
    }
    let sixty = ctx_at(&days_ago(60, 0), 30);
    for n in 0..15 {
        let target = Target {
            kind: Kind::Thread,
            id: hex(0x01, 3 + n * 127),
        };
        rules::delete(&mut db, &sixty, &target).expect("delete thread");
    }
    // A file and a thumbnail for every deleted attachment.
    let mut stmt = db
        .sqlite("bench")
        .unwrap()
        .prepare("SELECT image FROM forum_attachment WHERE is_active = 0")
        .expect("images");
    let images: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("images")
        .map(|r| r.expect("image"))
        .collect();
    for image in images {
        write_file(&media.join(&image));
        let stem = Path::new(&image).with_extension("");
        write_file(&media.join("CACHE/images").join(stem).join("thumb.jpg"));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("copy folder");
    for entry in fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A fresh copy of the database and its media folder.
fn copy(dir: &Path, base: &Path, media: &Path, name: &str) -> (PathBuf, PathBuf) {
    let db = dir.join(format!("{name}.sqlite3"));
    let to_media = dir.join(format!("{name}-media"));
    fs::copy(base, &db).expect("copy database");
    copy_tree(media, &to_media);
    (db, to_media)
}

/// Rows per second of the plain-SQL floor: one DELETE of the expired
/// attachments, in one transaction.
pub fn floor(db: &Path) -> (u64, Duration) {
    let started = Instant::now();
    let conn = Connection::open(db).expect("open");
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let n = conn
        .execute(
            "DELETE FROM forum_attachment WHERE is_active = 0 AND deleted_at <= ?1",
            [cutoff(parse_now(NOW).expect("now"), 30)],
        )
        .expect("delete");
    conn.execute_batch("COMMIT").expect("commit");
    (n as u64, started.elapsed())
}

/// The batch of the floors with the purge's own records: as many rows as
/// a purge's batch at `--batch-size 1000`.
const RECORDS_BATCH: usize = 1000;

/// Rows per second of the purge's own writes in plain SQL, its lower bound
/// on SQLite: in batches of [`RECORDS_BATCH`], one transaction each, the
/// expired attachments deleted and, for each, the record of what was
/// removed and its file's journal entry written to the console's tables
/// (after one audit entry), with their foreign keys checked as the console
/// has them; no re-check, no plan, no files.
fn floor_with_records(db: &Path) -> (u64, Duration) {
    let started = Instant::now();
    let cut = cutoff(parse_now(NOW).expect("now"), 30);
    let mut conn = Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .expect("foreign keys");
    let mut action = None;
    let mut rows = 0;
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("begin");
        let action_id: i64 = *action.get_or_insert_with(|| {
            tx.query_row(
                "INSERT INTO modcon_action (at, actor, action) VALUES (?1, 'bench', 'purge') \
                 RETURNING id",
                [NOW],
                |r| r.get(0),
            )
            .expect("audit entry")
        });
        let gone: Vec<(String, String, String, String)> = tx
            .prepare_cached(
                "DELETE FROM forum_attachment WHERE rowid IN (SELECT rowid FROM forum_attachment \
                 WHERE is_active = 0 AND deleted_at <= ?1 LIMIT ?2) \
                 RETURNING id, post_id, image, deleted_at",
            )
            .expect("delete")
            .query_map((&cut, RECORDS_BATCH as i64), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .expect("delete")
            .map(|r| r.expect("row"))
            .collect();
        {
            let mut record = tx
                .prepare_cached(
                    "INSERT INTO modcon_purged (action_id, kind, row_id, parent_id, image, deleted_at) \
                     VALUES (?1, 'attachment', ?2, ?3, ?4, ?5)",
                )
                .expect("record");
            let mut journal = tx
                .prepare_cached(
                    "INSERT INTO modcon_file_journal (action_id, image, queued_at) VALUES (?1, ?2, ?3)",
                )
                .expect("journal");
            for (id, post, image, deleted_at) in &gone {
                record
                    .execute((action_id, id, post, image, deleted_at))
                    .expect("record");
                journal.execute((action_id, image, NOW)).expect("journal");
            }
        }
        tx.commit().expect("commit");
        rows += gone.len() as u64;
        if gone.len() < RECORDS_BATCH {
            return (rows, started.elapsed());
        }
    }
}

/// A figure for the floor with the purge's own records, against `floor_rate`.
fn records_figure(backend: &str, rows: u64, took: Duration, floor_rate: f64) -> Figure {
    let r = rate(rows, took);
    Figure {
        name: format!(
            "{backend}floor with the purge's own records: batches of {RECORDS_BATCH}, \
             each row's record and journal entry"
        ),
        value: format!("{r:.0} rows/s = {:.2}× floor", r / floor_rate),
        target: "(the bound of a purge)".into(),
        met: None,
    }
}

/// What one purge did and how long it took.
struct Run {
    rows: u64,
    files: u64,
    /// From opening the database to the last batch's commit: the plan,
    /// and every batch with its re-check, records, journal and deletes.
    rows_took: Duration,
    /// The whole run, the files removed after the batches included.
    took: Duration,
}

/// A whole purge as `modcon purge` runs it, from opening the database.
fn run_purge(db: &Path, media: &Path, batch_size: usize) -> Run {
    let started = Instant::now();
    let mut last_batch = Duration::ZERO;
    let mut db = Db::open(db, &OpenOptions::new(Access::ReadWrite)).expect("open");
    let media = MediaRoot::open(media).expect("media");
    let report = purge::run(
        &mut db,
        &ctx_at(NOW, 30),
        Some(&media),
        &PurgeOptions {
            retention_days: 30,
            batch_size,
            dry_run: false,
            keep_files: false,
        },
        &mut |_| last_batch = started.elapsed(),
        &AtomicBool::new(false),
    )
    .expect("purge");
    let took = started.elapsed();
    assert!(report.skipped_rows.is_empty(), "{:?}", report.skipped_rows);
    Run {
        rows: report.removed.rows() as u64,
        files: report.removed.files as u64,
        rows_took: last_batch,
        took,
    }
}

fn rate(rows: u64, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64()
}

/// The web-app database and its media in `dir` (`webapp.sqlite3`,
/// `webapp-media`), for profiling a purge by hand.
pub fn build_into(dir: &Path) {
    fs::create_dir_all(dir).expect("folder");
    build(&dir.join("webapp.sqlite3"), &dir.join("webapp-media"));
}

/// The purge figures, with the floor measured in the same run.
pub fn figures(dir: &Path) -> Vec<Figure> {
    let base = dir.join("webapp.sqlite3");
    let media = dir.join("webapp-media");
    let started = Instant::now();
    build(&base, &media);
    let built = started.elapsed();
    let conn = Connection::open(&base).expect("open");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    let attachments = count("SELECT count(*) FROM forum_attachment");
    println!(
        "web-app database: {} threads, {} posts, {attachments} attachments, built in {:.1} s",
        count("SELECT count(*) FROM forum_thread"),
        count("SELECT count(*) FROM forum_post"),
        built.as_secs_f64()
    );
    drop(conn);

    let mut figures = Vec::new();
    let (db, _) = copy(dir, &base, &media, "floor");
    let (floor_rows, floor_took) = floor(&db);
    let floor_rate = rate(floor_rows, floor_took);
    figures.push(Figure {
        name: format!("purge floor: one plain DELETE ({floor_rows} attachments)"),
        value: format!("{floor_rate:.0} rows/s"),
        target: "1×".into(),
        met: None,
    });
    let (db, _) = copy(dir, &base, &media, "floor-records");
    let (rows, took) = floor_with_records(&db);
    figures.push(records_figure("", rows, took, floor_rate));
    let mut without = [0.0_f64; 2];
    // `MODCON_BENCH_PURGE=postgres` leaves out SQLite's purges (its floor
    // stays, for context); `sqlite` leaves out PostgreSQL.
    let only = std::env::var("MODCON_BENCH_PURGE").unwrap_or_default();
    let sqlite_runs: &[bool] = if only == "postgres" {
        &[]
    } else {
        &[false, true]
    };
    for &migrated in sqlite_runs {
        for (i, batch) in [100, 1000].into_iter().enumerate() {
            let name = format!("b{batch}-{}", if migrated { "migrated" } else { "plain" });
            let (db, copy_media) = copy(dir, &base, &media, &name);
            if migrated {
                let conn = Connection::open(&db).expect("open");
                conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                migrate::apply_requested((&conn).into(), NOW, false).expect("migrate");
                conn.execute_batch("COMMIT").expect("commit");
            }
            let run = run_purge(&db, &copy_media, batch);
            let r = rate(run.rows, run.rows_took);
            let ratio = r / floor_rate;
            let label = format!(
                "purge --batch-size {batch}{}: {} rows",
                if migrated { ", after migrate" } else { "" },
                run.rows
            );
            let (target, met) = if migrated {
                (
                    format!("≥ {:.2}× (without migrate)", without[i]),
                    ratio >= without[i],
                )
            } else {
                without[i] = ratio;
                let want = if batch == 100 { 0.35 } else { 0.5 };
                (format!("≥ {want}× floor"), ratio >= want)
            };
            figures.push(Figure {
                name: label,
                value: format!("{r:.0} rows/s = {ratio:.2}× floor"),
                target,
                met: Some(met),
            });
            let files_took = run.took.saturating_sub(run.rows_took);
            figures.push(Figure {
                name: format!("  then its {} files and their thumbnails", run.files),
                value: format!(
                    "{:.2} s, {:.0} files/s; whole run {:.0} rows/s",
                    files_took.as_secs_f64(),
                    rate(run.files, files_took),
                    rate(run.rows, run.took)
                ),
                target: "(not in the floor)".into(),
                met: None,
            });
            let _ = fs::remove_dir_all(&copy_media);
            let _ = fs::remove_file(&db);
        }
    }
    if only != "sqlite" {
        figures.extend(pg_figures(dir, &base, &media));
    }
    figures
}

// ------------------------------------------------------------- PostgreSQL

/// The Django-made schema on PostgreSQL (the shared fixture's DDL: its
/// tables, constraints and indexes, without its rows).
fn django_pg_schema() -> String {
    let dump = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django-small/pg.sql"),
    )
    .expect("the fixture's pg.sql");
    let mut ddl = String::new();
    let mut in_copy = false;
    for line in dump.lines() {
        if in_copy {
            in_copy = line != "\\.";
            continue;
        }
        if line.starts_with("COPY ") {
            in_copy = true;
            continue;
        }
        if line.starts_with('\\') || line.starts_with("SELECT pg_catalog.setval") {
            continue;
        }
        ddl.push_str(line);
        ddl.push('\n');
    }
    ddl
}

/// Copies every row of `table` from the SQLite database to PostgreSQL
/// through the core's own layer (values adapt to Django's native types
/// there: uuid, boolean, timestamptz), many rows per statement.
fn copy_table(from: &Connection, to: modcon_core::sql::Conn, table: &str) {
    use modcon_core::sql::Value;
    let columns: Vec<String> = from
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .expect("columns")
        .query_map([], |r| r.get(0))
        .expect("columns")
        .map(|c| c.expect("column"))
        .collect();
    let list = columns.join(", ");
    let mut stmt = from
        .prepare(&format!("SELECT {list} FROM {table}"))
        .expect("rows");
    let mut rows = stmt.query([]).expect("rows");
    let mut pending: Vec<Value<'static>> = Vec::new();
    const PER_STATEMENT: usize = 200;
    let flush = |values: &mut Vec<Value<'static>>| {
        if values.is_empty() {
            return;
        }
        let n = values.len() / columns.len();
        let tuples: Vec<String> = (0..n)
            .map(|r| {
                let marks: Vec<String> = (0..columns.len())
                    .map(|c| format!("?{}", r * columns.len() + c + 1))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        to.execute(
            &format!("INSERT INTO {table} ({list}) VALUES {}", tuples.join(", ")),
            values,
        )
        .unwrap_or_else(|e| panic!("copying {table}: {e:#}"));
        values.clear();
    };
    while let Some(row) = rows.next().expect("row") {
        for i in 0..columns.len() {
            pending.push(match row.get_ref(i).expect("value") {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned().into())
                }
            });
        }
        if pending.len() >= PER_STATEMENT * columns.len() {
            flush(&mut pending);
        }
    }
    flush(&mut pending);
}

/// The same web-app database on PostgreSQL, in database `name`: the
/// Django schema, every row of the SQLite one (the console's records of
/// its deletes included, so the same rows are purgeable), vacuumed and
/// analysed as a live database's autovacuum would have it.
fn build_pg(sqlite: &Path, name: &str) -> Throwaway {
    let made = Throwaway::create(name.to_string());
    let url = made.url.clone();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&django_pg_schema())
        .expect("the Django schema");
    drop(client);
    // The console's own tables, as its first open makes them.
    let db = Db::open(Path::new(&url), &OpenOptions::new(Access::ReadWrite)).expect("open");
    let from = Connection::open(sqlite).expect("open");
    let conn = db.conn();
    conn.execute_batch("BEGIN; SET CONSTRAINTS ALL DEFERRED")
        .expect("begin");
    for table in [
        "users_user",
        "forum_category",
        "forum_thread",
        "forum_post",
        "forum_attachment",
        "forum_reaction",
        "forum_flaggedcontent",
        "forum_moderationaction",
        "modcon_action",
        "modcon_change",
        "modcon_deletion",
    ] {
        copy_table(&from, conn, table);
    }
    conn.execute_batch(
        "SELECT setval(pg_get_serial_sequence('modcon_action', 'id'), \
         (SELECT max(id) FROM modcon_action)); COMMIT",
    )
    .expect("commit");
    drop(db);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    client.batch_execute("VACUUM ANALYZE").expect("vacuum");
    made
}

/// The plain-SQL floor on PostgreSQL: one DELETE of the expired
/// attachments, in one transaction.
fn pg_floor(url: &str) -> (u64, Duration) {
    let started = Instant::now();
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let cut = chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
        parse_now(NOW).expect("now") - chrono::Duration::days(30),
        chrono::Utc,
    );
    let mut tx = client.transaction().expect("begin");
    let n = tx
        .execute(
            "DELETE FROM forum_attachment WHERE is_active = false AND deleted_at <= $1",
            &[&cut],
        )
        .expect("delete");
    tx.commit().expect("commit");
    (n, started.elapsed())
}

/// The purge's own writes in plain SQL on PostgreSQL, as
/// [`floor_with_records`] on SQLite: per batch one transaction and one
/// statement, the delete's rows (looked up by key: `IN (subquery)` made
/// the planner scan the table) feeding their records and journal entries.
/// As the purge's batches, they commit without waiting for the disk, and
/// one commit that waits makes them durable at the end.
fn pg_floor_with_records(url: &str) -> (u64, Duration) {
    let started = Instant::now();
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute("SET synchronous_commit = off")
        .expect("set");
    let utc = |t: &str| {
        chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
            parse_now(t).expect("time"),
            chrono::Utc,
        )
    };
    let (now, cut) = (utc(NOW), utc(&cutoff(parse_now(NOW).expect("now"), 30)));
    let batch = client
        .prepare(
            "WITH gone AS (DELETE FROM forum_attachment WHERE id = ANY(ARRAY(SELECT id \
               FROM forum_attachment WHERE is_active = false AND deleted_at <= $2 LIMIT $3)) \
               RETURNING id, post_id, image, deleted_at), \
             record AS (INSERT INTO modcon_purged (action_id, kind, row_id, parent_id, image, deleted_at) \
               SELECT CAST($1 AS bigint), 'attachment', id, post_id, image, deleted_at FROM gone), \
             journal AS (INSERT INTO modcon_file_journal (action_id, image, queued_at) \
               SELECT CAST($1 AS bigint), image, CAST($4 AS timestamptz) FROM gone) \
             SELECT count(*) FROM gone",
        )
        .expect("prepare");
    let mut action: Option<i64> = None;
    let mut rows = 0;
    loop {
        let mut tx = client.transaction().expect("begin");
        let action_id = match action {
            Some(id) => id,
            None => tx
                .query_one(
                    "INSERT INTO modcon_action (at, actor, action) VALUES ($1, 'bench', 'purge') \
                     RETURNING id",
                    &[&now],
                )
                .expect("audit entry")
                .get(0),
        };
        action = Some(action_id);
        let n: i64 = tx
            .query_one(&batch, &[&action_id, &cut, &(RECORDS_BATCH as i64), &now])
            .expect("batch")
            .get(0);
        tx.commit().expect("commit");
        rows += n as u64;
        if n < RECORDS_BATCH as i64 {
            client
                .batch_execute(&format!(
                    "BEGIN; SET LOCAL synchronous_commit = on; \
                     UPDATE modcon_action SET files = 0 WHERE id = {action_id}; COMMIT"
                ))
                .expect("durable");
            return (rows, started.elapsed());
        }
    }
}

/// The purge figures on PostgreSQL, on the web-app database `base` built
/// for SQLite (and its media): the floor, then `purge` at batch sizes 100
/// and 1000, each on a fresh copy of the database (`CREATE DATABASE ...
/// TEMPLATE`) and of the media folder. A server out of reach is said, not
/// measured.
pub fn pg_figures(dir: &Path, base: &Path, media: &Path) -> Vec<Figure> {
    if let Err(e) = postgres::Client::connect(&pg_server::server(), postgres::NoTls) {
        println!(
            "PostgreSQL not measured: cannot reach {}: {e}",
            pg_server::server()
        );
        return Vec::new();
    }
    let started = Instant::now();
    let template = build_pg(base, &format!("modcon_bench_{}", std::process::id()));
    println!(
        "web-app database on PostgreSQL: loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut figures = Vec::new();
    let floor_db = Throwaway::copy_of(&template, "floor");
    let (floor_rows, floor_took) = pg_floor(&floor_db.url);
    drop(floor_db);
    let floor_rate = rate(floor_rows, floor_took);
    figures.push(Figure {
        name: format!("PostgreSQL purge floor: one plain DELETE ({floor_rows} attachments)"),
        value: format!("{floor_rate:.0} rows/s"),
        target: "1×".into(),
        met: None,
    });
    let records_db = Throwaway::copy_of(&template, "floor_records");
    let (rows, took) = pg_floor_with_records(&records_db.url);
    drop(records_db);
    figures.push(records_figure("PostgreSQL ", rows, took, floor_rate));
    for batch in [100, 1000] {
        let copy = Throwaway::copy_of(&template, &format!("b{batch}"));
        let to_media = dir.join(format!("pg-b{batch}-media"));
        copy_tree(media, &to_media);
        let run = run_purge(Path::new(&copy.url), &to_media, batch);
        drop(copy);
        let _ = fs::remove_dir_all(&to_media);
        let r = rate(run.rows, run.rows_took);
        let ratio = r / floor_rate;
        let want = if batch == 100 { 0.35 } else { 0.5 };
        figures.push(Figure {
            name: format!("PostgreSQL purge --batch-size {batch}: {} rows", run.rows),
            value: format!("{r:.0} rows/s = {ratio:.2}× floor"),
            target: format!("≥ {want}× floor"),
            met: Some(ratio >= want),
        });
        let files_took = run.took.saturating_sub(run.rows_took);
        figures.push(Figure {
            name: format!("  then its {} files and their thumbnails", run.files),
            value: format!(
                "{:.2} s, {:.0} files/s; whole run {:.0} rows/s",
                files_took.as_secs_f64(),
                rate(run.files, files_took),
                rate(run.rows, run.took)
            ),
            target: "(not in the floor)".into(),
            met: None,
        });
    }
    // Kept for profiling by hand (EXPLAIN ANALYZE on a copy of it).
    if std::env::var("MODCON_BENCH_PG_KEEP").is_ok() {
        println!("PostgreSQL web-app database kept: {}", template.keep());
    }
    figures
}
