//! Purge: the hard delete of rows past retention, in short batches, with
//! their web-app dependents and, after each commit, their files.
//!
//! Order of events, and why:
//! 1. finish the file journal an interrupted run left behind;
//! 2. plan: the root rows to remove (a thread with its posts, a post with
//!    its attachments, a lone attachment), before anything else is written,
//!    so a refused purge changes nothing;
//! 3. stamp "first seen" on deleted rows of unknown age (not purged now,
//!    unless the retention is zero days);
//! 4. per batch, one short write transaction (SQLite: `BEGIN IMMEDIATE`;
//!    PostgreSQL: row locks on the batch's roots, `FOR UPDATE`, under the
//!    transaction's `lock_timeout`), set-based (the roots one parameter,
//!    what goes with them in a TEMP table, one statement per table):
//!    re-check the roots, gather what goes with them, skip roots other
//!    tables reference, record each row that goes (kind, id, parent, image,
//!    deletion time), journal the files, delete children before parents,
//!    count; commit (on PostgreSQL without waiting for the disk). A row the
//!    database refuses to delete is isolated by halving the batch;
//! 5. after the commit (on PostgreSQL, after a commit that waits for the
//!    disk), remove the journalled files no remaining row names and clear
//!    their journal entries.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::{Connection, ErrorCode};
use serde::Serialize;

use super::Ctx;
use super::audit::{self, Action};
use super::check;
use super::conditions as cond;
use super::db::{self, Db};
use super::media::{self, DirCache, MediaRoot};
use super::model::Kind;
use super::model::Tally;
use super::schema::{ForeignRef, PURGED_TABLES, Schema};
use super::sql::{Conn, Dialect, Value, params};

/// A batch that fails is tried this many times in all, then the purge stops.
pub const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Journal entries finished per pass: each pass reads every attachment
/// row's image once (no index needed) to see which files are still used,
/// so passes are few and large.
const JOURNAL_CHUNK: i64 = 20_000;
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
    /// The media root files were removed from (resolved), or none.
    pub media_root: Option<String>,
    /// Files from an interrupted earlier purge removed first.
    pub journal_finished: u64,
    pub samples: Vec<Sample>,
    pub action_id: Option<i64>,
    /// Stopped by the user after a batch.
    pub cancelled: bool,
    pub keep_files: bool,
    /// The holder named by a purge lock that a killed process left, taken
    /// over by this purge.
    pub lock_taken_over: Option<String>,
}

impl PurgeReport {
    /// Rows left in place: those listed (referenced, changed since the
    /// plan) and those held back by an active row below.
    fn count_skipped(&mut self) {
        self.skipped = self.skipped_rows.len() as u64 + self.held_back.rows() as u64;
    }
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

/// The purge's working table, in the connection's TEMP schema (so also on
/// a read-only connection): every row that goes with a batch's roots, by
/// table, with the root it goes with and what is kept of it (its rowid,
/// parent, image and deletion time, read once). The roots themselves are
/// one parameter of the statements that read them (see [`roots_param`]).
///
/// On PostgreSQL it is a `pg_temp` table (the session's own, gone with
/// it), in the forum's types, emptied by `DELETE` before each use like
/// SQLite's. Not `ON COMMIT DELETE ROWS`: the server truncates such a
/// table (its files, and rebuilds its index) at the commit of every
/// transaction of the session that touches any temporary object (the
/// deletion-time views included), which costs each commit milliseconds of
/// file-system work on a busy machine. Nothing vacuums a temporary table,
/// so the rows deleted stay as dead space until [`trim_work_tables`]. A
/// row is deleted there by its id (there is no rowid): `rid` is 0.
fn work_tables(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => {
            "
    CREATE TEMP TABLE IF NOT EXISTS modcon_doomed (
        tbl TEXT NOT NULL, id TEXT NOT NULL, root TEXT NOT NULL, rid INTEGER NOT NULL,
        parent TEXT, image TEXT, deleted_at TEXT,
        PRIMARY KEY (tbl, id)) WITHOUT ROWID;"
        }
        Dialect::Postgres => {
            "
    CREATE TEMP TABLE IF NOT EXISTS modcon_doomed (
        tbl text NOT NULL, id uuid NOT NULL, root uuid NOT NULL, rid bigint NOT NULL,
        parent uuid, image text, deleted_at timestamptz,
        PRIMARY KEY (tbl, id));"
        }
    }
}

/// Makes the purge's work tables (and the plan's) on a PostgreSQL session
/// before it turns read-only, since a read-only transaction may fill a
/// temporary table but not create one: a dry run works there too.
pub fn install(conn: Conn) -> Result<()> {
    let d = conn.dialect();
    conn.execute_batch(work_tables(d))?;
    conn.execute_batch(plan_table(d))
}

/// A row's physical position, to keep a batch's rows together: SQLite's
/// rowid; on PostgreSQL its `ctid`.
fn position(d: Dialect, alias: &str) -> String {
    match d {
        Dialect::Sqlite => format!("{alias}.rowid"),
        Dialect::Postgres => format!("{alias}.ctid"),
    }
}

/// The key a gathered row is deleted by: SQLite's rowid; none on
/// PostgreSQL (deleted by id).
fn row_key(d: Dialect, alias: &str) -> String {
    match d {
        Dialect::Sqlite => format!("{alias}.rowid"),
        Dialect::Postgres => "0".to_string(),
    }
}

/// A batch's roots as one parameter (a JSON array of their ids), so each
/// statement's text is the same whatever the batch's size and it is
/// prepared once; both backends look each id up by the table's key.
fn roots_param(roots: &[String]) -> Result<String> {
    Ok(serde_json::to_string(roots)?)
}

/// What is kept of a removed row of `table` aliased `x`: its kind as the
/// records name it, its parent, its image and its deletion time (never
/// its content), for "what happened to row X".
fn kept_of(d: Dialect, table: &str) -> (&'static str, &'static str, &'static str, String) {
    match table {
        "forum_thread" => (
            "thread",
            "NULL",
            "NULL",
            cond::deletion_time(d, Kind::Thread, "x"),
        ),
        "forum_post" => (
            "post",
            "x.thread_id",
            "NULL",
            cond::deletion_time(d, Kind::Post, "x"),
        ),
        "forum_attachment" => (
            "attachment",
            "x.post_id",
            "COALESCE(CAST(x.image AS TEXT), '')",
            cond::deletion_time(d, Kind::Attachment, "x"),
        ),
        "forum_reaction" => ("reaction", "x.post_id", "NULL", "NULL".into()),
        "forum_flaggedcontent" => (
            "flag",
            "COALESCE(x.post_id, x.thread_id)",
            "NULL",
            "NULL".into(),
        ),
        _ => ("moderation_action", "x.flag_id", "NULL", "NULL".into()),
    }
}

/// The batch's roots (`?1`, see [`roots_param`]) locked (`FOR UPDATE`, in
/// id order) on PostgreSQL before they are re-checked, so the web app
/// cannot restore one between the re-check and the delete: its save waits
/// for the batch's commit, and the batch waits for a row the web app holds
/// at most the transaction's `lock_timeout` (then the batch is tried
/// again). SQLite's `BEGIN IMMEDIATE` already keeps every other writer out.
/// Attachments are locked by their re-check itself (see
/// [`rechecked_under_lock`]).
fn lock_roots_sql(d: Dialect, kind: Kind) -> Option<String> {
    match d {
        _ if rechecked_under_lock(d, kind) => None,
        Dialect::Sqlite => None,
        Dialect::Postgres => Some(format!(
            "SELECT 1 FROM {table} x WHERE x.id IN ({roots}) ORDER BY x.id FOR UPDATE OF x",
            table = kind.table(),
            roots = d.json_list("?1", "uuid"),
        )),
    }
}

/// Whether the re-check of `kind`'s roots locks them itself, on
/// PostgreSQL: an attachment is purgeable by its own columns alone, and a
/// row the re-check has to wait for (the web app holds it) is read again at
/// its latest committed version once locked, its condition tested again
/// (READ COMMITTED); so a restore committed meanwhile keeps its row, with
/// one statement fewer per batch. A post's or thread's condition reads other
/// rows too (its records, the rows below it), which that re-reading would
/// see as they were when the statement began: those roots are locked first,
/// by a statement of their own, and re-checked after.
fn rechecked_under_lock(d: Dialect, kind: Kind) -> bool {
    d == Dialect::Postgres && kind == Kind::Attachment
}

/// The batch's roots that are still purgeable, gathered into
/// `temp.modcon_doomed`: the re-check, in one statement looked up from the
/// batch's ids (`?2`, see [`roots_param`]; CROSS JOIN), so each root is one
/// lookup by its key rather than a walk of the is_active index. Uses `?1`,
/// the cutoff. A root listed twice is gathered once. A batch's re-check
/// (`in_batch`) may lock its roots (see [`rechecked_under_lock`]); a plan
/// takes no lock.
fn gather_roots_sql(d: Dialect, kind: Kind, in_batch: bool) -> String {
    let table = kind.table();
    let (_, parent, image, deleted_at) = kept_of(d, table);
    let lock = if in_batch && rechecked_under_lock(d, kind) {
        " ORDER BY x.id FOR UPDATE OF x"
    } else {
        ""
    };
    format!(
        "INSERT INTO {temp}.modcon_doomed (tbl, id, root, rid, parent, image, deleted_at) \
         SELECT '{table}', x.id, x.id, {rid}, {parent}, {image}, {deleted_at} \
         FROM ({roots}) b {join} {table} x ON x.id = b.value WHERE {}{lock} \
         ON CONFLICT DO NOTHING",
        cond::purgeable(d, kind, "x"),
        temp = d.temp_schema(),
        rid = row_key(d, "x"),
        join = d.fixed_join(),
        roots = d.json_list("?2", "uuid"),
    )
}

/// The statements that add to `temp.modcon_doomed` every row that goes
/// with the roots gathered (of `kind`): the one definition of what a purge
/// cascades to (posts, attachments, and the reactions, flags and
/// moderation actions the web app's on_delete=CASCADE removes), used both
/// to delete and to look for references from other tables. One statement
/// per table, each walking the web app's foreign-key indexes from the rows
/// already gathered.
fn expand_statements(d: Dialect, schema: &Schema, kind: Kind) -> Vec<(&'static str, String)> {
    let mut statements = Vec::new();
    let from_gathered = |table: &'static str, column: &str, parent_table: &str| {
        let (_, parent, image, deleted_at) = kept_of(d, table);
        let sql = format!(
            "INSERT INTO {temp}.modcon_doomed (tbl, id, root, rid, parent, image, deleted_at) \
             SELECT '{table}', x.id, dp.root, {rid}, {parent}, {image}, {deleted_at} \
             FROM {temp}.modcon_doomed dp {join} {table} x ON x.{column} = dp.id \
             WHERE dp.tbl = '{parent_table}' ON CONFLICT DO NOTHING",
            temp = d.temp_schema(),
            rid = row_key(d, "x"),
            join = d.fixed_join(),
        );
        (table, sql)
    };
    if kind == Kind::Thread {
        statements.push(from_gathered("forum_post", "thread_id", "forum_thread"));
    }
    if kind != Kind::Attachment {
        statements.push(from_gathered("forum_attachment", "post_id", "forum_post"));
        if schema.reactions {
            statements.push(from_gathered("forum_reaction", "post_id", "forum_post"));
        }
        if schema.flags {
            statements.push(from_gathered(
                "forum_flaggedcontent",
                "post_id",
                "forum_post",
            ));
            if kind == Kind::Thread {
                statements.push(from_gathered(
                    "forum_flaggedcontent",
                    "thread_id",
                    "forum_thread",
                ));
            }
            if schema.moderation_actions {
                statements.push(from_gathered(
                    "forum_moderationaction",
                    "flag_id",
                    "forum_flaggedcontent",
                ));
            }
        }
    }
    statements
}

/// Gathers these roots, those still purgeable, and everything that goes
/// with them into the `modcon_doomed` work table (emptied first); how
/// many rows of each table were gathered (each statement's count: a row
/// reached twice is gathered once). `in_batch`: for a batch (which may lock
/// its roots, and whose transaction emptied the work table as it began:
/// see [`run_batch`]), not a plan.
fn gather(
    conn: Conn,
    schema: &Schema,
    kind: Kind,
    cutoff: &str,
    roots: &str,
    in_batch: bool,
) -> Result<HashMap<&'static str, i64>> {
    let d = conn.dialect();
    if !in_batch {
        conn.execute(&empty_doomed(d), params![])?;
    }
    let mut counts = HashMap::new();
    let mut add = |table: &'static str, n: usize| {
        if n > 0 {
            *counts.entry(table).or_insert(0) += n as i64;
        }
    };
    add(
        kind.table(),
        conn.execute(&gather_roots_sql(d, kind, in_batch), params![cutoff, roots])?,
    );
    for (table, sql) in expand_statements(d, schema, kind) {
        add(table, conn.execute(&sql, params![])?);
    }
    Ok(counts)
}

/// Empties the batches' work table.
fn empty_doomed(d: Dialect) -> String {
    format!("DELETE FROM {}.modcon_doomed", d.temp_schema())
}

/// Every file of a removed attachment, journalled; whether a remaining row
/// still names it is decided just before the file is removed.
fn journal_sql(d: Dialect) -> String {
    format!(
        "INSERT INTO modcon_file_journal (action_id, image, queued_at) \
         SELECT DISTINCT {}, image, {} FROM {}.modcon_doomed WHERE tbl = 'forum_attachment'",
        d.typed("?1", "bigint"),
        d.typed("?5", "timestamptz"),
        d.temp_schema()
    )
}

/// What is kept of every removed row, in one statement.
fn record_sql(d: Dialect) -> String {
    let kinds: String = PURGED_TABLES
        .iter()
        .map(|table| format!(" WHEN '{table}' THEN '{}'", kept_of(d, table).0))
        .collect();
    format!(
        "INSERT INTO modcon_purged (action_id, kind, row_id, parent_id, image, deleted_at) \
         SELECT {}, CASE tbl{kinds} END, id, parent, image, deleted_at FROM {}.modcon_doomed",
        d.typed("?1", "bigint"),
        d.temp_schema()
    )
}

/// The console's deletion-time records go with their rows.
fn forget_deletions_sql(d: Dialect, kind: Kind) -> String {
    format!(
        "DELETE FROM modcon_deletion WHERE kind = '{kind}' AND row_id IN \
         (SELECT id FROM {}.modcon_doomed WHERE tbl = '{}')",
        d.temp_schema(),
        kind.table()
    )
}

/// The gathered rows of `table`: on SQLite found by the rowid read when
/// they were gathered (in the same transaction, so still theirs); on
/// PostgreSQL by id, and only while still deleted. There a row the web app
/// restores while the batch runs (a child the batch has not locked) is
/// deleted under READ COMMITTED only if it still matches, so it is kept,
/// and the count that then falls short sends the batch back to be split
/// and re-checked.
fn delete_sql(d: Dialect, table: &str) -> String {
    match d {
        Dialect::Sqlite => format!(
            "DELETE FROM {table} WHERE rowid IN \
             (SELECT rid FROM temp.modcon_doomed WHERE tbl = '{table}')"
        ),
        Dialect::Postgres => {
            let still_deleted = match table {
                "forum_thread" | "forum_post" | "forum_attachment" => " AND is_active = false",
                _ => "",
            };
            format!(
                "DELETE FROM {table} WHERE id IN \
                 (SELECT id FROM pg_temp.modcon_doomed WHERE tbl = '{table}'){still_deleted}"
            )
        }
    }
}

/// A reference from a table outside the cascades, to any gathered row.
fn blocked_sql(d: Dialect, fk: &ForeignRef) -> String {
    // A `to_field` reference names another column of the row (a thread's
    // slug): compare with that column's values.
    let target = if fk.to_column == "id" {
        "d.id".to_string()
    } else {
        format!(
            "(SELECT x.{} FROM {} x WHERE x.id = d.id)",
            quote(&fk.to_column),
            fk.references
        )
    };
    format!(
        "SELECT DISTINCT d.root FROM {}.modcon_doomed d JOIN {} r ON r.{} = {target} \
         WHERE d.tbl = ?1 ORDER BY d.root",
        d.temp_schema(),
        quote(&fk.table),
        quote(&fk.column),
    )
}

/// The plan's statement that finds each kind's deleted rows past retention,
/// for the query-plan tests (the plan tables are made first).
pub fn plan_statements(conn: &Connection) -> Result<Vec<(Kind, String)>> {
    conn.execute_batch(plan_table(Dialect::Sqlite))?;
    Ok(Kind::ALL
        .into_iter()
        .map(|kind| (kind, candidates_sql(Dialect::Sqlite, kind)))
        .collect())
}

/// Every statement a purge batch runs against the forum tables, for the
/// query-plan tests (each must look rows up by index, never scan a forum
/// table). The work tables are made first, so the statements prepare.
pub fn batch_statements(conn: &Connection, schema: &Schema) -> Result<Vec<String>> {
    let d = Dialect::Sqlite;
    conn.execute_batch(work_tables(d))?;
    let mut all = Vec::new();
    for kind in Kind::ALL {
        all.push(gather_roots_sql(d, kind, true));
        all.extend(
            expand_statements(d, schema, kind)
                .into_iter()
                .map(|(_, sql)| sql),
        );
    }
    all.extend(schema.foreign_refs.iter().map(|fk| blocked_sql(d, fk)));
    all.push(record_sql(d));
    all.push(journal_sql(d));
    all.push(forget_deletions_sql(d, Kind::Thread));
    all.push(forget_deletions_sql(d, Kind::Post));
    all.extend(deletion_order(schema).iter().map(|t| delete_sql(d, t)));
    Ok(all)
}

/// The roots in `temp.modcon_doomed` that a table outside the cascades
/// references (through any row that would go with them), and why: such a
/// root is skipped, never broken.
fn blocked_roots(conn: Conn, schema: &Schema) -> Result<Vec<(String, String)>> {
    let mut blocked: Vec<(String, String)> = Vec::new();
    for fk in &schema.foreign_refs {
        let sql = blocked_sql(conn.dialect(), fk);
        let roots = conn.query_map(&sql, params![fk.references], |r| r.text(0))?;
        for root in roots {
            if !blocked.iter().any(|(b, _)| *b == root) {
                blocked.push((
                    root,
                    format!(
                        "referenced from {}.{} (not a table the web app cascades to)",
                        fk.table, fk.column
                    ),
                ));
            }
        }
    }
    Ok(blocked)
}

/// An identifier quoted for SQL.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where each kind's roots come in the plan: attachments first, then
/// posts, then threads, so the smallest units are cleared first.
fn plan_order(kind: Kind) -> i64 {
    match kind {
        Kind::Attachment => 0,
        Kind::Post => 1,
        Kind::Thread => 2,
    }
}

/// The kind whose [`plan_order`] is `order`, as the plan's work table
/// holds it.
fn kind_in_plan_order(order: i64) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|kind| plan_order(*kind) == order)
}

/// Adds to the plan the deleted rows of `kind` past retention, each with
/// its deletion time worked out once (in a subquery that `LIMIT -1` keeps
/// SQLite from merging, which would work it out again for every use), its
/// rowid, and whether an active row below holds it back; a row that goes
/// with a root above it is left out. Found by the `is_active` index where
/// there is one (parameter `?1`, the cutoff). Threads first, then posts, then
/// attachments: each kind looks at the roots above it.
fn candidates_sql(d: Dialect, kind: Kind) -> String {
    let (temp, join, no) = (d.temp_schema(), d.fixed_join(), d.bool(false));
    let (parent, under_a_root) = match kind {
        Kind::Thread => ("NULL", String::new()),
        Kind::Post => (
            "r.thread_id",
            format!(
                "AND c.parent NOT IN (SELECT id FROM {temp}.modcon_plan_root WHERE k = {} AND held = 0)",
                plan_order(Kind::Thread)
            ),
        ),
        Kind::Attachment => (
            "r.post_id",
            format!(
                "AND c.parent NOT IN (SELECT id FROM {temp}.modcon_plan_root WHERE k = {post} AND held = 0) \
                 AND c.parent NOT IN (SELECT fp.id FROM {temp}.modcon_plan_root t \
                                      {join} forum_post fp ON fp.thread_id = t.id \
                                      WHERE t.k = {thread} AND t.held = 0)",
                post = plan_order(Kind::Post),
                thread = plan_order(Kind::Thread),
            ),
        ),
    };
    // SQLite's has_active_descendant is 0 or 1 already; PostgreSQL's a
    // boolean, stored as a number like SQLite's.
    let held = cond::has_active_descendant(d, kind, "c");
    let held = match d {
        Dialect::Sqlite => held,
        Dialect::Postgres => cond::one_if(&held),
    };
    format!(
        "INSERT INTO {temp}.modcon_plan_root (k, held, pos, id, at) \
         SELECT {k}, {held}, c.pos, c.id, c.at \
         FROM (SELECT r.id AS id, {pos} AS pos, {parent} AS parent, {at} AS at \
               FROM {table} r WHERE r.is_active = {no} {no_flatten}) c \
         WHERE c.at <= ?1 {under_a_root}",
        k = plan_order(kind),
        pos = position(d, "r"),
        at = cond::deletion_time(d, kind, "r"),
        table = kind.table(),
        no_flatten = d.no_flatten(),
    )
}

/// Empties the PostgreSQL work tables (allowed in a read-only transaction,
/// unlike `TRUNCATE`).
const EMPTY_WORK_TABLES: &str =
    "DELETE FROM pg_temp.modcon_doomed; DELETE FROM pg_temp.modcon_plan_root";

/// Gives the dead space of the PostgreSQL work tables back once they hold
/// more than a few megabytes, so a session's many purges and plans do not
/// grow them without end: each then holds at most one purge's rows.
/// Emptied by `DELETE` and then vacuumed (nothing vacuums a temporary
/// table by itself), since a read-only session (`--read-only`, whose dry
/// runs fill them too) may do both but may not `TRUNCATE`. Outside any
/// transaction: `VACUUM` refuses to run in one.
fn trim_work_tables(db: &mut Db) -> Result<()> {
    if !db.is_postgres() {
        return Ok(());
    }
    let conn = db.conn();
    let big = conn.query_row(
        "SELECT coalesce(pg_total_relation_size(to_regclass('pg_temp.modcon_doomed')), 0) \
              + coalesce(pg_total_relation_size(to_regclass('pg_temp.modcon_plan_root')), 0) \
              > 8388608",
        params![],
        |r| r.get::<bool>(0),
    )?;
    if big {
        conn.execute_batch(EMPTY_WORK_TABLES)?;
        conn.execute_batch("VACUUM pg_temp.modcon_doomed, pg_temp.modcon_plan_root")?;
    }
    Ok(())
}

/// The plan's roots and held-back rows, in the connection's TEMP schema
/// (on PostgreSQL, like the batches' table, a plain temporary table
/// emptied by `DELETE` before each plan and trimmed by
/// [`trim_work_tables`]). On SQLite the key is the table itself (read in
/// its order, no sort); on PostgreSQL it would be an index beside it, and
/// keeping it up to date cost as much as reading the deleted attachments
/// (about 7 ms of the attachments' 15 for 8,800 rows), while sorting the
/// roots once to read them costs no more than reading them through it: no
/// key there (each candidate statement adds distinct rows of its table).
fn plan_table(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => {
            "CREATE TEMP TABLE IF NOT EXISTS modcon_plan_root ( \
             k INTEGER NOT NULL, held INTEGER NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, \
             at TEXT, PRIMARY KEY (k, held, pos, id)) WITHOUT ROWID"
        }
        Dialect::Postgres => {
            "CREATE TEMP TABLE IF NOT EXISTS modcon_plan_root ( \
             k integer NOT NULL, held integer NOT NULL, pos tid NOT NULL, id uuid NOT NULL, \
             at timestamptz)"
        }
    }
}

/// Works out what a purge at this retention would remove. On PostgreSQL
/// it runs inside a transaction (the caller's), which its work tables
/// need.
pub fn plan(conn: Conn, schema: &Schema, ctx: &Ctx, batch_size: usize) -> Result<Plan> {
    let cutoff = ctx.cutoff();
    let d = conn.dialect();
    let temp = d.temp_schema();
    // The batches' work tables too: a plan always comes first. (On
    // PostgreSQL only when missing: a read-only transaction may not even
    // run `CREATE ... IF NOT EXISTS`.)
    let missing = match d {
        Dialect::Sqlite => true,
        Dialect::Postgres => conn.query_row(
            "SELECT to_regclass('pg_temp.modcon_plan_root') IS NULL",
            params![],
            |r| r.get::<bool>(0),
        )?,
    };
    if missing {
        conn.execute_batch(work_tables(d))?;
        conn.execute_batch(plan_table(d))?;
    }
    // Every deleted row past retention not going with a root above it:
    // held back (an active row below), or a root, kept in the order the
    // batches take them (`k`, then the order the rows lie in their table,
    // so a batch's rows share table pages).
    conn.execute(&format!("DELETE FROM {temp}.modcon_plan_root"), params![])?;
    for kind in [Kind::Thread, Kind::Post, Kind::Attachment] {
        conn.execute(&candidates_sql(d, kind), params![cutoff])?;
    }
    let (thread, post) = (plan_order(Kind::Thread), plan_order(Kind::Post));
    let mut plan = Plan {
        cutoff: cutoff.clone(),
        ..Plan::default()
    };
    // Roots, and rows held back (also those below a root held back
    // itself), per kind: one read.
    let per_kind = conn.query_map(
        &format!("SELECT k, held, count(*) FROM {temp}.modcon_plan_root GROUP BY k, held"),
        params![],
        |r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)),
    )?;
    for (k, held, n) in per_kind {
        let Some(kind) = kind_in_plan_order(k) else {
            continue;
        };
        match held {
            0 => plan.roots.add(kind, n),
            _ => plan.held_back.add(kind, n),
        }
    }
    // Rows removed, children included: the posts of the threads, the
    // attachments of the posts and of the threads' posts, in one read.
    let join = d.fixed_join();
    let (posts_of_threads, attachments_of_posts, attachments_of_threads) = conn.query_row(
        &format!(
            "SELECT (SELECT count(*) FROM {temp}.modcon_plan_root r \
                     {join} forum_post p ON p.thread_id = r.id WHERE r.k = {thread} AND r.held = 0), \
                    (SELECT count(*) FROM {temp}.modcon_plan_root r \
                     {join} forum_attachment a ON a.post_id = r.id WHERE r.k = {post} AND r.held = 0), \
                    (SELECT count(*) FROM {temp}.modcon_plan_root r \
                     {join} forum_post p ON p.thread_id = r.id \
                     {join} forum_attachment a ON a.post_id = p.id WHERE r.k = {thread} AND r.held = 0)"
        ),
        params![],
        |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
    )?;
    plan.rows.threads = plan.roots.threads;
    plan.rows.posts = plan.roots.posts + posts_of_threads;
    plan.rows.attachments = plan.roots.attachments + attachments_of_posts + attachments_of_threads;
    // In the plan's order (SQLite: the table's own; PostgreSQL: one sort).
    plan.root_ids = conn
        .query_map(
            &format!(
                "SELECT k, id FROM {temp}.modcon_plan_root WHERE held = 0 ORDER BY k, held, pos, id"
            ),
            params![],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )?
        .into_iter()
        .filter_map(|(k, id)| kind_in_plan_order(k).map(|kind| (kind, id)))
        .collect();
    if !schema.foreign_refs.is_empty() {
        for kind in Kind::ALL {
            let roots: Vec<String> = plan
                .root_ids
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id.clone())
                .collect();
            gather(conn, schema, kind, &cutoff, &roots_param(&roots)?, false)?;
            for (id, reason) in blocked_roots(conn, schema)? {
                plan.blocked.push(Skip { kind, id, reason });
            }
        }
    }
    plan.samples = samples(conn)?;
    let b = batch_size.max(1) as i64;
    plan.batches = Kind::ALL
        .iter()
        .map(|k| ((plan.roots.of(*k) + b - 1) / b) as u64)
        .sum();
    plan.journal_pending =
        conn.query_row("SELECT count(*) FROM modcon_file_journal", params![], |r| {
            r.get(0)
        })?;
    Ok(plan)
}

/// Up to ten roots, oldest deletion first, with what names them (in one
/// read).
fn samples(conn: Conn) -> Result<Vec<Sample>> {
    let oldest: Vec<(i64, String, String, Option<String>)> = conn.query_map(
        &format!(
            "SELECT r.k, r.id, r.at, CASE r.k \
               WHEN {thread} THEN (SELECT title FROM forum_thread WHERE id = r.id) \
               WHEN {post} THEN (SELECT substr(content_raw, 1, 80) FROM forum_post WHERE id = r.id) \
               ELSE (SELECT original_filename FROM forum_attachment WHERE id = r.id) END \
             FROM (SELECT k, id, at FROM {temp}.modcon_plan_root WHERE held = 0 \
                   ORDER BY at, id LIMIT {SAMPLES}) r ORDER BY r.at, r.id",
            thread = plan_order(Kind::Thread),
            post = plan_order(Kind::Post),
            temp = conn.dialect().temp_schema()
        ),
        params![],
        |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?, r.opt_text(3)?)),
    )?;
    Ok(oldest
        .into_iter()
        .filter_map(|(k, id, deleted_at, name)| {
            let kind = kind_in_plan_order(k)?;
            Some(Sample {
                kind,
                id,
                name: name.unwrap_or_default(),
                deleted_at,
            })
        })
        .collect())
}

/// Counts in `report` what a purge of `plan` would remove from the media
/// root, touching nothing: the files of the attachment rows that go
/// (children of its roots included, roots other tables reference left
/// out), each judged as the purge judges it once those rows are gone (a
/// file a remaining row names stays, and so do the renditions in a
/// thumbnail folder a remaining row maps to); missing and refused files
/// too.
fn count_plan_files(
    conn: Conn,
    plan: &Plan,
    media: &MediaRoot,
    report: &mut PurgeReport,
) -> Result<()> {
    // The attachments that go, with their images as the batches journal them.
    let d = conn.dialect();
    let join = d.fixed_join();
    let (_, _, image, _) = kept_of(d, "forum_attachment");
    let blocked: Vec<&str> = plan.blocked.iter().map(|s| s.id.as_str()).collect();
    let blocked = serde_json::to_string(&blocked)?;
    let mut going: Vec<(String, String)> = Vec::new();
    for joined in [
        format!(
            "{join} forum_attachment x ON x.id = r.id WHERE r.k = {}",
            plan_order(Kind::Attachment)
        ),
        format!(
            "{join} forum_attachment x ON x.post_id = r.id WHERE r.k = {}",
            plan_order(Kind::Post)
        ),
        format!(
            "{join} forum_post p ON p.thread_id = r.id \
             {join} forum_attachment x ON x.post_id = p.id WHERE r.k = {}",
            plan_order(Kind::Thread)
        ),
    ] {
        going.extend(conn.query_map(
            &format!(
                "SELECT x.id, {image} FROM {temp}.modcon_plan_root r {joined} \
                 AND r.held = 0 AND r.id NOT IN ({list})",
                temp = d.temp_schema(),
                list = d.json_list("?1", "uuid"),
            ),
            params![blocked],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )?);
    }
    let ids: HashSet<String> = going.iter().map(|(id, _)| id.clone()).collect();
    let names: HashSet<String> = going
        .iter()
        .map(|(_, image)| media::normalize(image).into_owned())
        .collect();
    let folders: HashSet<String> = names
        .iter()
        .filter_map(|name| media::thumbnail_key(name).map(|k| k.into_owned()))
        .collect();
    let used = used_by_rows_other_than(conn, &ids, &names, &folders)?;
    let mut dirs = DirCache::default();
    let mut seen: HashSet<String> = HashSet::new();
    // A thumbnail folder two images share (`photo.png`, `photo.jpg`) is
    // emptied once.
    let mut emptied: HashSet<String> = HashSet::new();
    for (_, image) in &going {
        let name = media::normalize(image).into_owned();
        if used.names.contains(&name) || !seen.insert(name.clone()) {
            continue;
        }
        let thumbnails = media::thumbnail_key(&name).is_some_and(|key| {
            !used.folders.contains(key.as_ref()) && emptied.insert(key.into_owned())
        });
        let count = media.count_image(&name, thumbnails, &mut dirs);
        report.removed.files += i64::from(count.removed);
        report.thumbnails += count.thumbnails;
        report.files_missing += u64::from(count.missing);
        if let Some(reason) = count.refused {
            report.files_refused += 1;
            report.refused_paths.push(Refused {
                image: image.clone(),
                reason,
            });
        }
        if let Some((thumbnails, reason)) = count.thumbnails_refused {
            report.files_refused += 1;
            report.refused_paths.push(Refused {
                image: thumbnails,
                reason,
            });
        }
    }
    Ok(())
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
    make_journal_durable(db, *after)?;
    loop {
        let entries: Vec<(i64, Option<i64>, String)> = db.conn().query_map(
            "SELECT id, action_id, image FROM modcon_file_journal WHERE id > ?1 \
             ORDER BY id LIMIT ?2",
            params![*after, JOURNAL_CHUNK],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
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
        let mut dirs = DirCache::default();
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
            // A file goes only while the database its entry was journalled
            // in is the one at the path: a file restored over it may still
            // name the file.
            db.refuse_if_replaced()?;
            let thumbnails =
                media::thumbnail_key(&name).is_some_and(|key| !used.folders.contains(key.as_ref()));
            let removal = media.remove_image(&name, thumbnails, &mut dirs);
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
        let d = tx.conn().dialect();
        tx.conn().execute(
            &format!(
                "DELETE FROM modcon_file_journal WHERE id BETWEEN ?1 AND ?2 \
                 AND id NOT IN ({})",
                d.json_list("?3", "bigint")
            ),
            params![first, last, serde_json::to_string(&kept)?],
        )?;
        for (action_id, n) in files_by_action {
            tx.conn().execute(
                "UPDATE modcon_action SET files = files + ?2 WHERE id = ?1",
                params![action_id, n],
            )?;
        }
        tx.commit()?;
        finished += (entries.len() - kept.len()) as u64;
        *after = last;
    }
}

/// Makes the commits that journalled the entries after `after` durable
/// before any of their files go. On PostgreSQL a batch commits without
/// waiting for the server's disk (a crash of the server could still undo
/// it, and bring its rows back); one entry rewritten as it is, in a
/// transaction whose commit waits, makes the server's log durable up to
/// it, and so every batch committed before it. On SQLite every commit
/// waits already.
fn make_journal_durable(db: &mut Db, after: i64) -> Result<()> {
    if !db.is_postgres() {
        return Ok(());
    }
    let tx = db.write_tx()?;
    tx.conn().execute(
        "UPDATE modcon_file_journal SET queued_at = queued_at \
         WHERE id = (SELECT min(id) FROM modcon_file_journal WHERE id > ?1)",
        params![after],
    )?;
    tx.commit()
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
fn still_used(conn: Conn, names: &HashSet<String>, folders: &HashSet<String>) -> Result<InUse> {
    used_by_rows_other_than(conn, &HashSet::new(), names, folders)
}

/// Which of `names` (normalised) and `folders` the attachment rows not in
/// `going` use (`going`: ids of rows a plan removes). One pass over every
/// row's image; a row's id is read only when its image matches.
fn used_by_rows_other_than(
    conn: Conn,
    going: &HashSet<String>,
    names: &HashSet<String>,
    folders: &HashSet<String>,
) -> Result<InUse> {
    let mut used = InUse {
        names: HashSet::new(),
        folders: HashSet::new(),
    };
    let sql = if going.is_empty() {
        "SELECT image FROM forum_attachment"
    } else {
        "SELECT image, id FROM forum_attachment"
    };
    conn.for_each(sql, params![], |row| {
        let image = match row.value(0)? {
            Value::Text(t) => t,
            _ => return Ok(()),
        };
        let name = media::normalize(&image);
        let key = media::thumbnail_key(&image);
        let name_matches = names.contains(name.as_ref());
        let key_matches = key.as_ref().is_some_and(|k| folders.contains(k.as_ref()));
        if !(name_matches || key_matches) {
            return Ok(());
        }
        if !going.is_empty() && going.contains(row.text(1)?.as_str()) {
            return Ok(());
        }
        if name_matches {
            used.names.insert(name.into_owned());
        }
        if let (Some(key), true) = (key, key_matches) {
            used.folders.insert(key.into_owned());
        }
        Ok(())
    })?;
    Ok(used)
}

/// Why a batch did not commit.
#[derive(Debug)]
enum BatchError {
    /// The database refused to delete some row of the batch (a trigger, a
    /// constraint): the row that causes it is isolated and skipped.
    Refused(String),
    /// Anything else (busy, I/O): retried, then the purge stops.
    Failed(anyhow::Error),
    /// The database file is no longer the one at its path: the purge
    /// stops at once, without trying again (see [`db::FileReplaced`]).
    Stopped(anyhow::Error),
}

impl From<anyhow::Error> for BatchError {
    fn from(err: anyhow::Error) -> BatchError {
        if db::file_replaced(&err).is_some() {
            return BatchError::Stopped(err);
        }
        // A constraint, or an error raised by a trigger's own statements, is
        // about these rows; busy, I/O or corruption is about the database.
        // On PostgreSQL: an integrity constraint (class 23), a trigger's
        // RAISE (P0001) or bad data (class 22) is about the rows; a lock
        // timeout, a deadlock, a lost connection is not.
        if let Some(db_error) = err
            .downcast_ref::<::postgres::Error>()
            .and_then(|e| e.as_db_error())
        {
            let code = db_error.code().code();
            if code.starts_with("23") || code.starts_with("22") || code == "P0001" {
                return BatchError::Refused(db_error.message().to_string());
            }
            return BatchError::Failed(err);
        }
        let refused = match err.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                ErrorCode::ConstraintViolation
                    | ErrorCode::Unknown
                    | ErrorCode::TypeMismatch
                    | ErrorCode::TooBig
            ),
            _ => false,
        };
        if refused {
            let reason = match err.downcast_ref::<rusqlite::Error>() {
                Some(rusqlite::Error::SqliteFailure(e, Some(message))) => {
                    if message.is_empty() {
                        e.to_string()
                    } else {
                        message.clone()
                    }
                }
                _ => err.to_string(),
            };
            BatchError::Refused(reason)
        } else {
            BatchError::Failed(err)
        }
    }
}

impl From<rusqlite::Error> for BatchError {
    fn from(err: rusqlite::Error) -> BatchError {
        BatchError::from(anyhow::Error::from(err))
    }
}

impl From<serde_json::Error> for BatchError {
    fn from(err: serde_json::Error) -> BatchError {
        BatchError::Failed(err.into())
    }
}

/// What one batch (or one of its isolated parts) did.
#[derive(Debug, Default)]
struct BatchOutcome {
    tally: Tally,
    skips: Vec<Skip>,
    /// File names journalled.
    journalled: u64,
}

/// The purge's audit entry: made by the first batch that removes a row,
/// in that batch's transaction, so a purge that removes nothing (or fails
/// before removing anything) leaves no entry.
struct Entry<'a> {
    id: Option<i64>,
    detail: &'a serde_json::Value,
}

/// One batch, in one write transaction, one statement per table: the
/// roots locked (PostgreSQL) and re-checked in one query (a restore
/// committed since the plan keeps its row), every row that goes with them
/// gathered, references from other tables looked up; then what is kept of
/// each row recorded, files journalled and counts logged together with the
/// first delete (one statement on PostgreSQL), the other deletes after it,
/// children before parents; commit.
fn run_batch(
    db: &mut Db,
    ctx: &Ctx,
    entry: &mut Entry<'_>,
    kind: Kind,
    roots: &[String],
    keep_files: bool,
) -> Result<BatchOutcome, BatchError> {
    let schema = db.schema().clone();
    let cutoff = ctx.cutoff();
    let now = ctx.now_text();
    // The work table emptied as the transaction begins (one round trip on
    // PostgreSQL); a batch that rolls back takes what it gathered with it.
    let d = db.conn().dialect();
    let tx = db.write_tx_then(Some(&empty_doomed(d)))?;
    let conn = tx.conn();
    let temp = d.temp_schema();
    let roots_json = roots_param(roots)?;
    if let Some(lock) = lock_roots_sql(d, kind) {
        conn.execute(&lock, params![roots_json])?;
    }
    let mut expected = gather(conn, &schema, kind, &cutoff, &roots_json, true)?;
    let mut outcome = BatchOutcome::default();
    // Roots no longer purgeable, looked for only when some root was not
    // gathered.
    if expected.get(kind.table()).copied().unwrap_or(0) < roots.len() as i64 {
        let still: HashSet<String> = conn
            .query_map(
                &format!("SELECT id FROM {temp}.modcon_doomed WHERE tbl = ?1"),
                params![kind.table()],
                |r| r.text(0),
            )?
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        for id in roots {
            if !still.contains(id) && seen.insert(id) {
                outcome.skips.push(Skip {
                    kind,
                    id: id.clone(),
                    reason: "no longer purgeable (changed since the plan)".into(),
                });
            }
        }
    }
    let blocked = blocked_roots(conn, &schema)?;
    if !blocked.is_empty() {
        let ids: Vec<&String> = blocked.iter().map(|(id, _)| id).collect();
        conn.execute(
            &format!(
                "DELETE FROM {temp}.modcon_doomed WHERE root IN ({})",
                d.json_list("?1", "uuid")
            ),
            params![serde_json::to_string(&ids)?],
        )?;
        for (id, reason) in blocked {
            outcome.skips.push(Skip { kind, id, reason });
        }
        expected = conn
            .query_map(
                &format!("SELECT tbl, count(*) FROM {temp}.modcon_doomed GROUP BY tbl"),
                params![],
                |r| Ok((r.text(0)?, r.get::<i64>(1)?)),
            )?
            .into_iter()
            .filter_map(|(table, n)| PURGED_TABLES.iter().find(|t| **t == table).map(|t| (*t, n)))
            .collect();
    }
    if expected.is_empty() {
        // Nothing left to remove: no write, no audit entry.
        return Ok(outcome);
    }
    let action_id = match entry.id {
        Some(id) => id,
        None => audit::begin(conn, ctx, Action::Purge, None, Some(entry.detail))?,
    };
    let count = |table: &str| expected.get(table).copied().unwrap_or(0);
    outcome.tally.add(Kind::Thread, count(Kind::Thread.table()));
    outcome.tally.add(Kind::Post, count(Kind::Post.table()));
    outcome
        .tally
        .add(Kind::Attachment, count(Kind::Attachment.table()));
    // The console's own writes and the first delete (children first) go
    // together: ?1 the action, ?2..?4 its counts, ?5 the time files are
    // journalled at (only when they are). The other tables' deletes follow
    // one by one, in order, since a trigger of the web app's on one table
    // may change rows of the next (a parent's counter).
    let mut statements = vec![record_sql(d)];
    if !keep_files {
        statements.push(journal_sql(d));
    }
    for record_kind in [Kind::Thread, Kind::Post] {
        if expected.contains_key(record_kind.table()) {
            statements.push(forget_deletions_sql(d, record_kind));
        }
    }
    statements.push(
        "UPDATE modcon_action SET threads = threads + ?2, posts = posts + ?3, \
                                  attachments = attachments + ?4 WHERE id = ?1"
            .to_string(),
    );
    let deleting: Vec<&str> = deletion_order(&schema)
        .into_iter()
        .filter(|table| expected.contains_key(table))
        .collect();
    statements.push(delete_sql(d, deleting[0]));
    let tally = outcome.tally;
    let mut values = vec![
        Value::Int(action_id),
        Value::Int(tally.threads),
        Value::Int(tally.posts),
        Value::Int(tally.attachments),
    ];
    if !keep_files {
        values.push(Value::Text(now.as_str().into()));
    }
    let changed = conn.execute_together(&statements, &values)?;
    if !keep_files {
        outcome.journalled = changed[1] as u64;
    }
    for (i, table) in deleting.iter().enumerate() {
        let n = match i {
            0 => changed[changed.len() - 1],
            _ => conn.execute(&delete_sql(d, table), params![])?,
        };
        let want = expected[table];
        if n as i64 != want {
            // A trigger that ignores the delete (RAISE(IGNORE) on SQLite,
            // a BEFORE DELETE trigger returning NULL on PostgreSQL) keeps
            // the row; so, on PostgreSQL, does a restore the web app
            // committed meanwhile. Split and re-checked, the batch then
            // isolates that row.
            return Err(BatchError::Refused(format!(
                "the database kept {} of {want} rows of {table} (a trigger ignored the delete)",
                want - n as i64
            )));
        }
    }
    super::failpoint::hit("purge-batch");
    if super::failpoint::fails("purge-batch") {
        return Err(BatchError::Failed(match d {
            Dialect::Sqlite => anyhow::Error::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                Some("disk I/O error (injected by the purge-batch failpoint)".into()),
            )),
            Dialect::Postgres => anyhow!("I/O error (injected by the purge-batch failpoint)"),
        }));
    }
    // Its files go only after a commit that waits (see
    // `make_journal_durable`), so this one need not.
    tx.commit_without_waiting()?;
    entry.id = Some(action_id);
    Ok(outcome)
}

/// A batch, tried up to [`MAX_ATTEMPTS`] times with growing pauses while it
/// fails for reasons of the database as a whole (busy, I/O). A refusal is
/// returned at once: trying the same rows again changes nothing.
fn run_batch_with_retries(
    db: &mut Db,
    ctx: &Ctx,
    entry: &mut Entry<'_>,
    kind: Kind,
    roots: &[String],
    keep_files: bool,
) -> Result<BatchOutcome, BatchError> {
    let mut pause = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match run_batch(db, ctx, entry, kind, roots, keep_files) {
            Err(BatchError::Failed(_)) if attempt < MAX_ATTEMPTS => {
                // Only the last attempt's error is reported.
                std::thread::sleep(pause);
                pause *= 4;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A batch, with a row the database refuses to delete isolated: the batch
/// is tried again in halves until that row stands alone, and then skipped
/// with the database's reason, so every other row still goes (on this run
/// and the next). Each refused row costs about log2(batch size) attempts.
fn run_batch_isolating(
    db: &mut Db,
    ctx: &Ctx,
    entry: &mut Entry<'_>,
    kind: Kind,
    roots: &[String],
    keep_files: bool,
    batch_number: u64,
) -> Result<BatchOutcome> {
    match run_batch_with_retries(db, ctx, entry, kind, roots, keep_files) {
        Ok(outcome) => Ok(outcome),
        Err(BatchError::Refused(reason)) if roots.len() == 1 => Ok(BatchOutcome {
            tally: Tally::default(),
            journalled: 0,
            skips: vec![Skip {
                kind,
                id: roots[0].clone(),
                reason: format!("the database refused to delete it: {reason}"),
            }],
        }),
        Err(BatchError::Refused(_)) => {
            let (first, second) = roots.split_at(roots.len() / 2);
            let mut outcome =
                run_batch_isolating(db, ctx, entry, kind, first, keep_files, batch_number)?;
            let rest = run_batch_isolating(db, ctx, entry, kind, second, keep_files, batch_number)?;
            outcome.tally.merge(&rest.tally);
            outcome.skips.extend(rest.skips);
            outcome.journalled += rest.journalled;
            Ok(outcome)
        }
        Err(BatchError::Stopped(err)) => Err(stopped_if_replaced(err, batch_number - 1)),
        Err(BatchError::Failed(err)) => {
            let err = db::explain_any(err, db.busy_timeout());
            Err(err).with_context(|| {
                format!(
                    "purge stopped: batch {batch_number} ({} starting {}) failed {MAX_ATTEMPTS} times; \
                     the batches before it are done and a rerun continues",
                    super::model::plural(roots.len() as i64, kind),
                    roots.first().map(String::as_str).unwrap_or("-")
                )
            })
        }
    }
}

/// A purge stopped because its database file was replaced (or removed)
/// after `done` batches, said as such; any other error as it was.
fn stopped_if_replaced(err: anyhow::Error, done: u64) -> anyhow::Error {
    match db::file_replaced(&err) {
        Some(replaced) => replaced.stopping_purge(done).into(),
        None => err,
    }
}

/// Refuses a purge that would leave files behind for want of a media root,
/// before anything is changed.
fn refuse_without_media(plan: &Plan, media: Option<&MediaRoot>, keep_files: bool) -> Result<()> {
    if media.is_none() && !keep_files && plan.rows.attachments > 0 {
        bail!(
            "no media root is set, so purging {} attachment rows would leave their files behind: \
             give --media-root, or --keep-files to purge the rows and keep the files",
            plan.rows.attachments
        );
    }
    Ok(())
}

/// Runs a purge (or a dry run). `progress` is called after every batch;
/// `cancel` is looked at before each batch, so a cancel stops after the
/// batch in flight. A purge that is refused changes nothing; one that
/// removes nothing writes no audit entry.
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
        action: Action::Purge.name(),
        dry_run: options.dry_run,
        retention_days: options.retention_days,
        cutoff: ctx.cutoff(),
        batch_size,
        keep_files: options.keep_files,
        media_root: media.map(|m| m.path().display().to_string()),
        ..PurgeReport::default()
    };
    // The purge's work tables fit in SQLite's TEMP page cache (8 MB), so
    // they are never written out to a temporary file.
    if let Conn::Sqlite(conn) = db.conn() {
        conn.execute_batch("PRAGMA temp.cache_size = -8192")?;
    }
    trim_work_tables(db)?;
    if !options.dry_run {
        db.refuse_read_only("`purge`")?;
    }
    if options.dry_run {
        return run_planned(db, ctx, media, options, progress, cancel, report);
    }
    // One purge at a time per database, held until this returns; taken
    // before anything is written, so a refused purge changes nothing.
    super::lock::hold(db, Action::Purge.name(), &ctx.actor, |db, taken_over| {
        report.lock_taken_over = taken_over;
        run_planned(db, ctx, media, options, progress, cancel, report)
    })
}

/// [`run`] once the purge lock is held (a dry run takes none).
fn run_planned(
    db: &mut Db,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    options: &PurgeOptions,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
    mut report: PurgeReport,
) -> Result<PurgeReport> {
    let batch_size = report.batch_size;
    // The last journal entry this run has tried.
    let mut tried = 0;
    if !options.dry_run && !options.keep_files {
        let pending: i64 =
            db.conn()
                .query_row("SELECT count(*) FROM modcon_file_journal", params![], |r| {
                    r.get(0)
                })?;
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
    // Planned before "first seen" is stamped, so a database that cannot be
    // read (a corrupt page) fails here as it was, and a purge refused for
    // want of a media root changes nothing. Stamping makes nothing
    // purgeable, except at a retention of zero days: then plan again, in
    // the stamping's transaction, which a refusal rolls back.
    let schema = db.schema().clone();
    // A dry run counts the files of its plan as it reads the plan.
    let count_files = match (media, options.dry_run && !options.keep_files) {
        (Some(media), true) => Some(media),
        _ => None,
    };
    let plan_and_count = |conn: Conn, report: &mut PurgeReport| -> Result<Plan> {
        let plan = self::plan(conn, &schema, ctx, batch_size)?;
        if let Some(media) = count_files {
            count_plan_files(conn, &plan, media, report)?;
        }
        Ok(plan)
    };
    let mut plan = if db.is_postgres() {
        // One snapshot, and the transaction the work tables need. A dry
        // run leaves them empty (a console's session may plan many times).
        let tx = db.read_tx()?;
        let plan = plan_and_count(tx.conn(), &mut report)?;
        if options.dry_run {
            tx.conn().execute_batch(EMPTY_WORK_TABLES)?;
        }
        tx.commit()?;
        plan
    } else {
        plan_and_count(db.conn(), &mut report)?
    };
    if !options.dry_run {
        refuse_without_media(&plan, media, options.keep_files)?;
        let tx = db.write_tx()?;
        let stamped = check::stamp_first_seen(tx.conn(), &ctx.now_text())?;
        if stamped > 0 && ctx.retention_days <= 0 {
            plan = self::plan(tx.conn(), &schema, ctx, batch_size)?;
            refuse_without_media(&plan, media, options.keep_files)?;
        }
        // Not waiting for the disk (PostgreSQL): a stamp a crash of the
        // server undoes is stamped again, later, by the next run, so its
        // row becomes purgeable later, never sooner; and the commit that
        // waits before any file goes makes it durable with the batches.
        tx.commit_without_waiting()?;
    }
    report.held_back = plan.held_back;
    report.samples = plan.samples.clone();
    report.skipped_rows = plan.blocked.to_vec();
    if options.dry_run {
        // The files were counted with the plan.
        let files = report.removed.files;
        report.removed = plan.rows;
        report.removed.files = files;
        report.batches = plan.batches;
        report.count_skipped();
        return Ok(report);
    }
    super::failpoint::hit("purge-after-plan");
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
    let mut entry = Entry {
        id: None,
        detail: &detail,
    };
    let blocked: HashSet<&str> = plan.blocked.iter().map(|s| s.id.as_str()).collect();
    // Files journalled since the journal was last finished.
    let mut journalled = 0;
    let mut state = Progress {
        batches: plan.batches,
        ..Progress::default()
    };
    // Batch 0 of N: a bar or gauge can show its length before the first
    // batch commits.
    progress(&state);
    let mut failure = None;
    let mut turns = db::TakingTurns::new(db);
    'kinds: for kind in [Kind::Attachment, Kind::Post, Kind::Thread] {
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
            let started = std::time::Instant::now();
            let outcome = match run_batch_isolating(
                db,
                ctx,
                &mut entry,
                kind,
                chunk,
                options.keep_files,
                state.batch,
            ) {
                Ok(outcome) => outcome,
                Err(err) => {
                    failure = Some(err);
                    break 'kinds;
                }
            };
            turns.after_transaction(started.elapsed());
            report.action_id = entry.id;
            super::failpoint::hit("purge-after-commit");
            report.removed.merge(&outcome.tally);
            report.skipped_rows.extend(outcome.skips);
            // Files go once a pass's worth is journalled, and at the end.
            journalled += outcome.journalled;
            if let (Some(media), false) = (media, options.keep_files)
                && journalled >= JOURNAL_CHUNK as u64
            {
                if let Err(err) = finish_journal(db, media, &mut report, &mut tried) {
                    failure = Some(stopped_if_replaced(err, state.batch));
                    break 'kinds;
                }
                journalled = 0;
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
    // The files of every batch that committed go, also when a later batch
    // failed or the purge was cancelled; not once the database file is no
    // longer the one at the path (the file there may still name them).
    let replaced = failure
        .as_ref()
        .is_some_and(|err| db::file_replaced(err).is_some());
    if let (Some(media), false, false) = (media, options.keep_files, replaced)
        && journalled > 0
    {
        finish_journal(db, media, &mut report, &mut tried)
            .map_err(|err| stopped_if_replaced(err, state.batch))?;
    }
    if let Some(err) = failure {
        return Err(err);
    }
    report.batches = state.batch;
    report.count_skipped();
    Ok(report)
}
