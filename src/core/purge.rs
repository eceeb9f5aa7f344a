//! Purge: the hard delete of rows past retention, in short batches, with
//! their web-app dependents and, after each commit, their files.
//!
//! Order of events, and why:
//! 1. finish the file journal an interrupted run left behind;
//! 2. plan: the root rows to remove (a thread with its posts, a post with
//!    its attachments, a lone attachment), before anything else is written;
//! 3. stamp "first seen" on deleted rows of unknown age (not purged now,
//!    unless the retention is zero days);
//! 4. per batch, one `BEGIN IMMEDIATE` transaction: re-check each root,
//!    delete children before parents, journal the files no remaining row
//!    names, count; commit;
//! 5. after the commit, remove the journalled files and clear the journal.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, named_params};
use serde::Serialize;

use super::Ctx;
use super::audit::{self, Tally, action};
use super::check;
use super::conditions as cond;
use super::db::{self, Db};
use super::media::{self, MediaRoot};
use super::model::Kind;
use super::query::text_of;
use super::schema::Schema;

/// A batch that fails is tried this many times in all, then the purge stops.
pub const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How many samples a plan shows.
pub const SAMPLES: usize = 10;

#[derive(Debug, Clone)]
pub struct PurgeOptions {
    pub retention_days: i64,
    pub batch_size: usize,
    pub dry_run: bool,
    /// Remove rows but leave their files on disk.
    pub keep_files: bool,
}

/// A row the plan shows as an example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub kind: Kind,
    pub id: String,
    pub name: String,
    pub deleted_at: String,
}

/// A row a purge left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub kind: Kind,
    pub id: String,
    pub reason: String,
}

/// A file a purge would not touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub image: String,
    pub reason: String,
}

/// What a purge is about to do.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub cutoff: String,
    /// Rows to remove, per kind, children included.
    pub rows: Tally,
    /// Roots per kind: what the batches are made of.
    pub roots: Tally,
    /// Past retention but held back by an active row below.
    pub held_back: Tally,
    /// Roots that a table outside the web app's cascades references.
    pub blocked: Vec<Skip>,
    pub samples: Vec<Sample>,
    pub batches: u64,
    /// Files an interrupted purge left to remove.
    pub journal_pending: i64,
    #[serde(skip)]
    root_ids: Vec<(Kind, String)>,
}

/// Progress after each batch, for a bar or a gauge.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Progress {
    pub batch: u64,
    pub batches: u64,
    pub removed: Tally,
    pub skipped: u64,
    pub files_missing: u64,
    pub files_refused: u64,
}

/// The result of a purge or a dry run (`--json` prints it as it is).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PurgeReport {
    pub action: &'static str,
    pub kind: Option<Kind>,
    pub id: Option<String>,
    pub dry_run: bool,
    pub retention_days: i64,
    pub cutoff: String,
    pub batch_size: usize,
    /// Rows removed (or, in a dry run, to remove) and files removed.
    #[serde(flatten)]
    pub removed: Tally,
    /// Thumbnail files removed with their images.
    pub thumbnails: u64,
    pub batches: u64,
    /// Rows left in place: held back, changed since the plan, referenced.
    pub skipped: u64,
    pub skipped_rows: Vec<Skip>,
    /// Rows past retention kept because something below is active.
    pub held_back: Tally,
    pub files_missing: u64,
    pub files_refused: u64,
    pub refused_paths: Vec<Refused>,
    /// Files that could not be removed (permissions, busy): kept in the
    /// journal, tried again by the next purge.
    pub files_failed: u64,
    pub failed_paths: Vec<Refused>,
    /// Files from an interrupted earlier purge removed first.
    pub journal_finished: u64,
    pub samples: Vec<Sample>,
    pub action_id: Option<i64>,
    /// Stopped by the user after a batch.
    pub cancelled: bool,
    pub keep_files: bool,
}

impl PurgeReport {
    /// Rows left in place: those listed (referenced, changed since the
    /// plan) and those held back by an active row below.
    fn count_skipped(&mut self) {
        self.skipped = self.skipped_rows.len() as u64 + self.held_back.rows() as u64;
    }
}

/// The SQL selecting the ids of `table`'s rows that go with root `?1` of
/// `kind`: the one definition of what a purge cascades to, used both to
/// delete and to look for references from other tables.
fn subtree(kind: Kind, table: &str) -> Option<String> {
    let posts = match kind {
        Kind::Thread => "SELECT id FROM forum_post WHERE thread_id = ?1",
        Kind::Post => "SELECT ?1",
        Kind::Attachment => "SELECT NULL WHERE 0",
    };
    let flags = match kind {
        Kind::Thread => format!(
            "SELECT id FROM forum_flaggedcontent WHERE post_id IN ({posts}) OR thread_id = ?1"
        ),
        Kind::Post => "SELECT id FROM forum_flaggedcontent WHERE post_id = ?1".to_string(),
        Kind::Attachment => return (table == "forum_attachment").then(|| "SELECT ?1".to_string()),
    };
    Some(match table {
        "forum_thread" => return (kind == Kind::Thread).then(|| "SELECT ?1".to_string()),
        "forum_post" => posts.to_string(),
        "forum_attachment" => format!("SELECT id FROM forum_attachment WHERE post_id IN ({posts})"),
        "forum_reaction" => format!("SELECT id FROM forum_reaction WHERE post_id IN ({posts})"),
        "forum_flaggedcontent" => flags,
        "forum_moderationaction" => {
            format!("SELECT id FROM forum_moderationaction WHERE flag_id IN ({flags})")
        }
        _ => return None,
    })
}

/// Tables a purge deletes from, children (and dependents) first.
fn deletion_order(schema: &Schema) -> Vec<&'static str> {
    let mut order = Vec::new();
    if schema.moderation_actions && schema.flags {
        order.push("forum_moderationaction");
    }
    if schema.flags {
        order.push("forum_flaggedcontent");
    }
    if schema.reactions {
        order.push("forum_reaction");
    }
    order.extend(["forum_attachment", "forum_post", "forum_thread"]);
    order
}

/// Why a root cannot go: a table outside the cascades references a row
/// that would be removed with it.
fn blocked_by(conn: &Connection, schema: &Schema, kind: Kind, id: &str) -> Result<Option<String>> {
    for fk in &schema.foreign_refs {
        let Some(ids) = subtree(kind, &fk.references) else {
            continue;
        };
        let sql = format!(
            "SELECT 1 FROM \"{}\" WHERE \"{}\" IN ({ids}) LIMIT 1",
            fk.table.replace('"', "\"\""),
            fk.column.replace('"', "\"\"")
        );
        let found = conn.prepare_cached(&sql)?.exists([id])?;
        if found {
            return Ok(Some(format!(
                "referenced from {}.{} (not a table the web app cascades to)",
                fk.table, fk.column
            )));
        }
    }
    Ok(None)
}

fn kind_alias(kind: Kind) -> &'static str {
    match kind {
        Kind::Thread => "t",
        Kind::Post => "p",
        Kind::Attachment => "a",
    }
}

/// Works out what a purge at this retention would remove.
pub fn plan(conn: &Connection, schema: &Schema, ctx: &Ctx, batch_size: usize) -> Result<Plan> {
    let cutoff = ctx.cutoff();
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS modcon_plan_root (kind TEXT NOT NULL, id TEXT NOT NULL, \
                                                          PRIMARY KEY (kind, id)) WITHOUT ROWID;
         DELETE FROM temp.modcon_plan_root;",
    )?;
    let roots_sql = [
        (
            Kind::Thread,
            format!(
                "INSERT INTO temp.modcon_plan_root SELECT 'thread', t.id FROM forum_thread t \
                 WHERE {}",
                cond::purgeable(Kind::Thread, "t")
            ),
        ),
        (
            Kind::Post,
            format!(
                "INSERT INTO temp.modcon_plan_root SELECT 'post', p.id FROM forum_post p \
                 WHERE {} AND p.thread_id NOT IN (SELECT id FROM temp.modcon_plan_root WHERE kind = 'thread')",
                cond::purgeable(Kind::Post, "p")
            ),
        ),
        (
            Kind::Attachment,
            format!(
                "INSERT INTO temp.modcon_plan_root SELECT 'attachment', a.id FROM forum_attachment a \
                 WHERE {} \
                   AND a.post_id NOT IN (SELECT id FROM temp.modcon_plan_root WHERE kind = 'post') \
                   AND a.post_id NOT IN (SELECT fp.id FROM forum_post fp WHERE fp.thread_id IN \
                                         (SELECT id FROM temp.modcon_plan_root WHERE kind = 'thread'))",
                cond::purgeable(Kind::Attachment, "a")
            ),
        ),
    ];
    let mut plan = Plan {
        cutoff: cutoff.clone(),
        ..Plan::default()
    };
    for (kind, sql) in &roots_sql {
        let n = conn.execute(sql, named_params! {":cutoff": cutoff})?;
        plan.roots.add(*kind, n as i64);
    }
    // Rows removed, children included.
    let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    plan.rows.threads = plan.roots.threads;
    plan.rows.posts = plan.roots.posts
        + count(
            "SELECT count(*) FROM forum_post WHERE thread_id IN \
             (SELECT id FROM temp.modcon_plan_root WHERE kind = 'thread')",
        )?;
    plan.rows.attachments = plan.roots.attachments
        + count(
            "SELECT count(*) FROM forum_attachment WHERE post_id IN \
             (SELECT id FROM temp.modcon_plan_root WHERE kind = 'post') \
             OR post_id IN (SELECT id FROM forum_post WHERE thread_id IN \
                            (SELECT id FROM temp.modcon_plan_root WHERE kind = 'thread'))",
        )?;
    for kind in Kind::ALL {
        let a = kind_alias(kind);
        let held: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM {} {a} WHERE {a}.is_active = 0 AND {}",
                kind.table(),
                cond::held_back(kind, a)
            ),
            named_params! {":cutoff": cutoff},
            |r| r.get(0),
        )?;
        plan.held_back.add(kind, held);
    }
    let mut stmt = conn.prepare(
        "SELECT kind, id FROM temp.modcon_plan_root \
         ORDER BY CASE kind WHEN 'attachment' THEN 0 WHEN 'post' THEN 1 ELSE 2 END, id",
    )?;
    plan.root_ids = stmt
        .query_map([], |r| {
            let kind: String = r.get(0)?;
            Ok((
                Kind::parse(&kind).unwrap_or(Kind::Attachment),
                r.get::<_, String>(1)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !schema.foreign_refs.is_empty() {
        for (kind, id) in &plan.root_ids {
            if let Some(reason) = blocked_by(conn, schema, *kind, id)? {
                plan.blocked.push(Skip {
                    kind: *kind,
                    id: id.clone(),
                    reason,
                });
            }
        }
    }
    plan.samples = samples(conn, &cutoff)?;
    let b = batch_size.max(1) as i64;
    plan.batches = Kind::ALL
        .iter()
        .map(|k| ((plan.roots.of(*k) + b - 1) / b) as u64)
        .sum();
    plan.journal_pending =
        conn.query_row("SELECT count(*) FROM modcon_file_journal", [], |r| r.get(0))?;
    Ok(plan)
}

/// Up to ten roots, oldest deletion first.
fn samples(conn: &Connection, cutoff: &str) -> Result<Vec<Sample>> {
    let sql = format!(
        "SELECT * FROM ( \
           SELECT 'thread', t.id, t.title, {tt} AS at FROM forum_thread t \
             WHERE t.id IN (SELECT id FROM temp.modcon_plan_root WHERE kind = 'thread') \
           UNION ALL \
           SELECT 'post', p.id, substr(p.content_raw, 1, 80), {pt} FROM forum_post p \
             WHERE p.id IN (SELECT id FROM temp.modcon_plan_root WHERE kind = 'post') \
           UNION ALL \
           SELECT 'attachment', a.id, a.original_filename, {at} FROM forum_attachment a \
             WHERE a.id IN (SELECT id FROM temp.modcon_plan_root WHERE kind = 'attachment')) \
         WHERE at <= :cutoff ORDER BY at, 2 LIMIT {SAMPLES}",
        tt = cond::deletion_time(Kind::Thread, "t"),
        pt = cond::deletion_time(Kind::Post, "p"),
        at = cond::deletion_time(Kind::Attachment, "a"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(named_params! {":cutoff": cutoff}, |r| {
            let kind: String = r.get(0)?;
            Ok(Sample {
                kind: Kind::parse(&kind).unwrap_or(Kind::Attachment),
                id: text_of(r.get_ref(1)?),
                name: text_of(r.get_ref(2)?),
                deleted_at: text_of(r.get_ref(3)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes the files the batches journalled, then clears their journal
/// entries. A file some remaining row names again is left in place, and so
/// are the renditions in a thumbnail folder a remaining row's image maps
/// to. A file that cannot be removed keeps its entry for a later run; each
/// entry is tried once per run (`after` is the last entry tried).
fn finish_journal(
    db: &mut Db,
    media: &MediaRoot,
    report: &mut PurgeReport,
    after: &mut i64,
) -> Result<u64> {
    let mut finished = 0;
    loop {
        let entries: Vec<(i64, Option<i64>, String)> = {
            let mut stmt = db.conn().prepare_cached(
                "SELECT id, action_id, image FROM modcon_file_journal WHERE id > ?1 \
                 ORDER BY id LIMIT 5000",
            )?;
            stmt.query_map([*after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(finished);
        };
        let (first, last) = (first.0, last.0);
        let names: HashSet<String> = entries
            .iter()
            .map(|(_, _, image)| media::normalize(image).into_owned())
            .collect();
        let folders: HashSet<String> = names
            .iter()
            .filter_map(|name| media::thumbnail_key(name).map(|k| k.into_owned()))
            .collect();
        let used = still_used(db.conn(), &names, &folders)?;
        // The outcome per file: several entries may name one file, in one
        // spelling or several. `Some(reason)` when the path was refused.
        let mut done: HashMap<String, (bool, Option<String>)> = HashMap::new();
        let mut kept: Vec<i64> = Vec::new();
        let mut files_by_action: HashMap<i64, i64> = HashMap::new();
        for (id, action_id, image) in &entries {
            let name = media::normalize(image).into_owned();
            if used.names.contains(&name) {
                continue;
            }
            if let Some((failed, refused)) = done.get(&name) {
                if *failed {
                    kept.push(*id);
                }
                // Each spelling of a refused path is reported, so its rows
                // can be found.
                if let Some(reason) = refused
                    && !report.refused_paths.iter().any(|r| r.image == *image)
                {
                    report.files_refused += 1;
                    report.refused_paths.push(Refused {
                        image: image.clone(),
                        reason: reason.clone(),
                    });
                }
                continue;
            }
            let thumbnails =
                media::thumbnail_key(&name).is_some_and(|key| !used.folders.contains(key.as_ref()));
            let removal = media.remove_image(&name, thumbnails);
            if removal.removed {
                report.removed.files += 1;
                if let Some(action_id) = action_id {
                    *files_by_action.entry(*action_id).or_default() += 1;
                }
            }
            report.thumbnails += removal.thumbnails;
            if removal.missing {
                report.files_missing += 1;
            }
            if let Some(reason) = &removal.refused {
                report.files_refused += 1;
                report.refused_paths.push(Refused {
                    image: image.clone(),
                    reason: reason.clone(),
                });
            }
            if let Some((thumbnails, reason)) = removal.thumbnails_refused {
                report.files_refused += 1;
                report.refused_paths.push(Refused {
                    image: thumbnails,
                    reason,
                });
            }
            let failed = !removal.failed.is_empty();
            for (path, reason) in removal.failed {
                report.files_failed += 1;
                report.failed_paths.push(Refused {
                    image: path,
                    reason,
                });
            }
            if failed {
                kept.push(*id);
            }
            done.insert(name, (failed, removal.refused));
        }
        let tx = db.write_tx()?;
        tx.execute(
            "DELETE FROM modcon_file_journal WHERE id BETWEEN ?1 AND ?2 \
             AND id NOT IN (SELECT value FROM json_each(?3))",
            (first, last, serde_json::to_string(&kept)?),
        )?;
        for (action_id, n) in files_by_action {
            tx.execute(
                "UPDATE modcon_action SET files = files + ?2 WHERE id = ?1",
                (action_id, n),
            )?;
        }
        tx.commit()?;
        finished += (entries.len() - kept.len()) as u64;
        *after = last;
    }
}

/// The file names and thumbnail folders (below `CACHE/images/`) that
/// remaining attachment rows use.
struct InUse {
    names: HashSet<String>,
    folders: HashSet<String>,
}

/// Which of `names` (normalised) and `folders` some attachment row still
/// uses, compared on normalised paths: one pass over every row's image, so
/// it needs no index and sees every spelling of a path.
fn still_used(
    conn: &Connection,
    names: &HashSet<String>,
    folders: &HashSet<String>,
) -> Result<InUse> {
    let mut used = InUse {
        names: HashSet::new(),
        folders: HashSet::new(),
    };
    let mut stmt = conn.prepare_cached("SELECT image FROM forum_attachment")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let image = match row.get_ref(0)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t),
            _ => continue,
        };
        let name = media::normalize(&image);
        if names.contains(name.as_ref()) {
            used.names.insert(name.into_owned());
        }
        if let Some(key) = media::thumbnail_key(&image)
            && folders.contains(key.as_ref())
        {
            used.folders.insert(key.into_owned());
        }
    }
    Ok(used)
}

/// One batch, in one write transaction: re-check, delete, journal, count.
fn run_batch(
    db: &mut Db,
    ctx: &Ctx,
    action_id: i64,
    kind: Kind,
    roots: &[String],
    keep_files: bool,
) -> Result<(Tally, Vec<Skip>)> {
    let schema = db.schema().clone();
    let cutoff = ctx.cutoff();
    let now = ctx.now_text();
    let tx = db.write_tx()?;
    let a = kind_alias(kind);
    // Eligibility again, inside the transaction: a restore committed since
    // the plan keeps its row. One lookup by id per root: a single
    // `id IN (...)` query lets SQLite walk the is_active index instead.
    let still: HashSet<String> = {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {a}.id FROM {} {a} WHERE {a}.id = :id AND {}",
            kind.table(),
            cond::purgeable(kind, a)
        ))?;
        let mut still = HashSet::new();
        for id in roots {
            if stmt.exists(named_params! {":id": id, ":cutoff": cutoff})? {
                still.insert(id.clone());
            }
        }
        still
    };
    let mut tally = Tally::default();
    let mut skips = Vec::new();
    let mut images: BTreeSet<String> = BTreeSet::new();
    for id in roots {
        if !still.contains(id) {
            skips.push(Skip {
                kind,
                id: id.clone(),
                reason: "no longer purgeable (changed since the plan)".into(),
            });
            continue;
        }
        if let Some(reason) = blocked_by(&tx, &schema, kind, id)? {
            skips.push(Skip {
                kind,
                id: id.clone(),
                reason,
            });
            continue;
        }
        if let Some(ids) = subtree(kind, "forum_attachment") {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT image FROM forum_attachment WHERE id IN ({ids})"
            ))?;
            for image in stmt.query_map([id], |r| Ok(text_of(r.get_ref(0)?)))? {
                images.insert(image?);
            }
        }
        for table in deletion_order(&schema) {
            let Some(ids) = subtree(kind, table) else {
                continue;
            };
            // The console's deletion-time records go with their rows.
            let record_kind = match table {
                "forum_thread" => Some(Kind::Thread),
                "forum_post" => Some(Kind::Post),
                _ => None,
            };
            if let Some(k) = record_kind {
                tx.prepare_cached(&format!(
                    "DELETE FROM modcon_deletion WHERE kind = '{k}' AND row_id IN ({ids})"
                ))?
                .execute([id])?;
            }
            let n = tx
                .prepare_cached(&format!("DELETE FROM {table} WHERE id IN ({ids})"))?
                .execute([id])?;
            match table {
                "forum_thread" => tally.add(Kind::Thread, n as i64),
                "forum_post" => tally.add(Kind::Post, n as i64),
                "forum_attachment" => tally.add(Kind::Attachment, n as i64),
                _ => {}
            }
        }
    }
    // Every file of a removed row is journalled; whether a remaining row
    // still names it is decided just before the file is removed.
    if !keep_files && !images.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO modcon_file_journal (action_id, image, queued_at) VALUES (?1, ?2, ?3)",
        )?;
        for image in &images {
            stmt.execute((action_id, image, &now))?;
        }
    }
    tx.execute(
        "UPDATE modcon_action SET threads = threads + ?2, posts = posts + ?3, \
                                  attachments = attachments + ?4 WHERE id = ?1",
        (action_id, tally.threads, tally.posts, tally.attachments),
    )?;
    tx.commit()?;
    Ok((tally, skips))
}

/// A batch, tried up to [`MAX_ATTEMPTS`] times with growing pauses.
fn run_batch_with_retries(
    db: &mut Db,
    ctx: &Ctx,
    action_id: i64,
    kind: Kind,
    roots: &[String],
    keep_files: bool,
    batch_number: u64,
) -> Result<(Tally, Vec<Skip>)> {
    let mut pause = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match run_batch(db, ctx, action_id, kind, roots, keep_files) {
            Ok(result) => return Ok(result),
            // The error of a failed attempt is dropped: only the last one
            // is reported.
            Err(_) if attempt < MAX_ATTEMPTS => {
                std::thread::sleep(pause);
                pause *= 4;
                attempt += 1;
            }
            Err(err) => {
                let err = db::explain_any(err, db.busy_timeout());
                return Err(err).with_context(|| {
                    format!(
                        "purge stopped: batch {batch_number} ({} starting {}) failed {MAX_ATTEMPTS} times; \
                         the batches before it are done and a rerun continues",
                        audit::plural(roots.len() as i64, kind),
                        roots.first().map(String::as_str).unwrap_or("-")
                    )
                });
            }
        }
    }
}

/// Runs a purge (or a dry run). `progress` is called after every batch;
/// `cancel` is looked at before each batch, so a cancel stops after the
/// batch in flight.
pub fn run(
    db: &mut Db,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    options: &PurgeOptions,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<PurgeReport> {
    let batch_size = options.batch_size.max(1);
    let mut report = PurgeReport {
        action: action::PURGE,
        dry_run: options.dry_run,
        retention_days: options.retention_days,
        cutoff: ctx.cutoff(),
        batch_size,
        keep_files: options.keep_files,
        ..PurgeReport::default()
    };
    // The last journal entry this run has tried.
    let mut tried = 0;
    if !options.dry_run {
        if db.is_read_only() {
            bail!(
                "the database is open read-only (--read-only): purge would change it; use --dry-run to see the plan"
            );
        }
        if !options.keep_files {
            let pending: i64 =
                db.conn()
                    .query_row("SELECT count(*) FROM modcon_file_journal", [], |r| r.get(0))?;
            if pending > 0 {
                let Some(media) = media else {
                    bail!(
                        "{pending} files from an earlier purge are waiting to be removed, and no media root \
                         is set: give --media-root (or --keep-files to leave them)"
                    );
                };
                report.journal_finished = finish_journal(db, media, &mut report, &mut tried)?;
            }
        }
    }
    // Planned before "first seen" is stamped, so a database that cannot be
    // read (a corrupt page) fails here as it was. Stamping makes nothing
    // purgeable, except at a retention of zero days: then plan again.
    let schema = db.schema().clone();
    let mut plan = self::plan(db.conn(), &schema, ctx, batch_size)?;
    if !options.dry_run {
        let tx = db.write_tx()?;
        let stamped = check::stamp_first_seen(&tx, &ctx.now_text())?;
        tx.commit()?;
        if stamped > 0 && ctx.retention_days <= 0 {
            plan = self::plan(db.conn(), &schema, ctx, batch_size)?;
        }
    }
    report.held_back = plan.held_back;
    report.samples = plan.samples.clone();
    report.skipped_rows = plan.blocked.to_vec();
    if options.dry_run {
        report.removed = plan.rows;
        report.batches = plan.batches;
        report.count_skipped();
        return Ok(report);
    }
    super::failpoint::hit("purge-after-plan");
    if media.is_none() && !options.keep_files && plan.rows.attachments > 0 {
        bail!(
            "no media root is set, so purging {} attachment rows would leave their files behind: \
             give --media-root, or --keep-files to purge the rows and keep the files",
            plan.rows.attachments
        );
    }
    if plan.root_ids.is_empty() {
        // Nothing to remove: no batches, no audit entry.
        report.count_skipped();
        return Ok(report);
    }
    let detail = serde_json::json!({
        "retention_days": options.retention_days,
        "cutoff": report.cutoff,
        "batch_size": batch_size,
        "keep_files": options.keep_files,
    });
    let action_id = {
        let tx = db.write_tx()?;
        let id = audit::begin(&tx, ctx, action::PURGE, None, Some(&detail))?;
        tx.commit()?;
        id
    };
    report.action_id = Some(action_id);
    let blocked: HashSet<&str> = plan.blocked.iter().map(|s| s.id.as_str()).collect();
    let mut state = Progress {
        batches: plan.batches,
        ..Progress::default()
    };
    // Batch 0 of N: a bar or gauge can show its length before the first
    // batch commits.
    progress(&state);
    for kind in [Kind::Attachment, Kind::Post, Kind::Thread] {
        let roots: Vec<String> = plan
            .root_ids
            .iter()
            .filter(|(k, id)| *k == kind && !blocked.contains(id.as_str()))
            .map(|(_, id)| id.clone())
            .collect();
        for chunk in roots.chunks(batch_size) {
            if cancel.load(Ordering::Relaxed) {
                report.cancelled = true;
                break;
            }
            state.batch += 1;
            let (tally, skips) = run_batch_with_retries(
                db,
                ctx,
                action_id,
                kind,
                chunk,
                options.keep_files,
                state.batch,
            )?;
            super::failpoint::hit("purge-after-commit");
            report.removed.merge(&tally);
            report.skipped_rows.extend(skips);
            if let (Some(media), false) = (media, options.keep_files) {
                finish_journal(db, media, &mut report, &mut tried)?;
            }
            state.removed = report.removed;
            state.skipped = report.skipped_rows.len() as u64;
            state.files_missing = report.files_missing;
            state.files_refused = report.files_refused;
            progress(&state);
        }
        if report.cancelled {
            break;
        }
    }
    report.batches = state.batch;
    report.count_skipped();
    Ok(report)
}
