//! `check`: what in the data breaks the rules — invariant violations,
//! deleted rows of unknown age, files missing or left behind.

use anyhow::Result;
use serde::Serialize;

use super::Ctx;
use super::conditions as cond;
use super::db::Db;
use super::media::{FileStatus, Listing, MediaRoot};
use super::model::Kind;
use super::sql::{Conn, Value, params};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub kind: Kind,
    pub id: String,
    pub parent_kind: Kind,
    pub parent_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownAge {
    pub kind: Kind,
    pub id: String,
    /// When the console first saw it deleted (threads and posts), if it has.
    pub first_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    pub attachment_id: String,
    pub image: String,
    /// Why a path is refused; empty for a missing file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Active rows under a deleted parent.
    pub violations: Vec<Violation>,
    /// Deleted rows whose deletion time is not known exactly.
    pub unknown_deletion_time: Vec<UnknownAge>,
    /// How many of those this run stamped as first seen now.
    pub stamped: i64,
    /// Attachment rows whose file is not on disk.
    pub missing_files: Vec<FileProblem>,
    /// Attachment rows whose path leaves the media root: never touched.
    pub unsafe_paths: Vec<FileProblem>,
    /// Files under the attachment folder that no row references.
    pub unreferenced_files: Vec<String>,
    /// Thumbnail files whose image no row references.
    pub unreferenced_thumbnails: Vec<String>,
    /// Tables outside the web app's cascades that reference forum rows
    /// (a purge skips the rows they point at).
    pub foreign_references: Vec<String>,
    /// False when no media root was given: file checks were skipped.
    pub files_checked: bool,
    /// The media root the files were checked in (resolved), or none.
    pub media_root: Option<String>,
}

impl CheckReport {
    pub fn problems(&self) -> usize {
        self.violations.len()
            + self.unknown_deletion_time.len()
            + self.missing_files.len()
            + self.unsafe_paths.len()
            + self.unreferenced_files.len()
            + self.unreferenced_thumbnails.len()
    }
}

/// Records "first seen deleted now" for deleted threads and posts whose
/// deletion time is unknown (or whose record went stale), and forgets
/// records of rows that are active again or gone. Run by `check` and by a
/// real purge before it plans, so the retention clock never starts early.
pub fn stamp_first_seen(conn: Conn, now: &str) -> Result<i64> {
    let d = conn.dialect();
    let mut stamped = 0;
    for kind in [Kind::Thread, Kind::Post] {
        let table = kind.table();
        // A stale record (its row saved since) is replaced.
        stamped += conn.execute(
            &format!(
                "INSERT INTO modcon_deletion (kind, row_id, deleted_at, source, row_updated_at) \
                 SELECT '{kind}', r.id, {now}, 'seen', r.updated_at FROM {table} r WHERE {unknown} \
                 ON CONFLICT (kind, row_id) DO UPDATE SET deleted_at = excluded.deleted_at, \
                 source = excluded.source, row_updated_at = excluded.row_updated_at",
                now = d.typed("?1", "timestamptz"),
                unknown = cond::unknown_deletion_time(d, kind, "r"),
            ),
            params![now],
        )? as i64;
        conn.execute(
            &format!(
                "DELETE FROM modcon_deletion WHERE kind = '{kind}' AND row_id NOT IN \
                 (SELECT id FROM {table} WHERE is_active = {})",
                d.bool(false)
            ),
            params![],
        )?;
    }
    Ok(stamped)
}

/// How far a check has got, for a bar or a gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckProgress {
    /// Reading the media root's folders: so many read so far.
    Folders(u64),
    /// Comparing the attachment rows' paths with them: done of total.
    Rows(u64, u64),
}

pub fn run(db: &mut Db, ctx: &Ctx, media: Option<&MediaRoot>) -> Result<CheckReport> {
    run_with_progress(db, ctx, media, &mut |_| {})
}

/// [`run`], telling `progress` how far it has got.
pub fn run_with_progress(
    db: &mut Db,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    progress: &mut dyn FnMut(CheckProgress),
) -> Result<CheckReport> {
    let mut report = CheckReport {
        media_root: media.map(|m| m.path().display().to_string()),
        foreign_references: db
            .schema()
            .foreign_refs
            .iter()
            .map(|f| match f.to_column.as_str() {
                "id" => format!("{}.{} → {}", f.table, f.column, f.references),
                to => format!("{}.{} → {}.{to}", f.table, f.column, f.references),
            })
            .collect(),
        ..CheckReport::default()
    };
    // The media root's folders are read before the database, each once,
    // so the database is not kept waiting on the filesystem.
    let mut listing = media.map(|m| Listing::read(m, &mut |n| progress(CheckProgress::Folders(n))));
    // The stamping and every read of the database in one transaction, so a
    // read that fails (a corrupt page) leaves the file as it was.
    let read_only = db.is_read_only();
    let tx = if read_only {
        db.read_tx()?
    } else {
        db.write_tx()?
    };
    let conn = tx.conn();
    let d = conn.dialect();
    if !read_only {
        report.stamped = stamp_first_seen(conn, &ctx.now_text())?;
    }
    for kind in [Kind::Post, Kind::Attachment] {
        let parent_kind = kind.parent().unwrap_or(Kind::Thread);
        let rows = conn.query_map(
            &format!("{} ORDER BY 2, 1", cond::violating_rows(d, kind)),
            params![],
            |r| {
                Ok(Violation {
                    kind,
                    id: r.text(0)?,
                    parent_kind,
                    parent_id: r.text(1)?,
                })
            },
        )?;
        report.violations.extend(rows);
    }
    for kind in Kind::ALL {
        // Rows whose age is unknown, and those only known as first seen.
        let sql = format!(
            "SELECT r.id, CASE WHEN {src} = 'first_seen' THEN {time} END FROM {table} r \
             WHERE r.is_active = {no} AND ({time} IS NULL OR {src} = 'first_seen') ORDER BY r.id",
            table = kind.table(),
            time = cond::deletion_time(d, kind, "r"),
            src = cond::deletion_source(d, kind, "r"),
            no = d.bool(false),
        );
        let rows = conn.query_map(&sql, params![], |r| {
            Ok(UnknownAge {
                kind,
                id: r.text(0)?,
                first_seen: r.opt_text(1)?,
            })
        })?;
        report.unknown_deletion_time.extend(rows);
    }
    if let Some(listing) = listing.as_mut() {
        // Every row's path against the folders read: lookups in memory,
        // in the order the rows lie in the table.
        let total: i64 =
            conn.query_row("SELECT count(*) FROM forum_attachment", params![], |r| {
                r.get(0)
            })?;
        let total = total.max(0) as u64;
        let mut done = 0;
        progress(CheckProgress::Rows(0, total));
        conn.for_each("SELECT id, image FROM forum_attachment", params![], |row| {
            let image = match row.value(1)? {
                Value::Text(t) => t,
                _ => std::borrow::Cow::Owned(row.text(1)?),
            };
            let problem = |reason: String| FileProblem {
                attachment_id: row.text(0).unwrap_or_default(),
                image: image.to_string(),
                reason,
            };
            match listing.status(&image) {
                FileStatus::Present(_) => {}
                FileStatus::Missing => report.missing_files.push(problem(String::new())),
                FileStatus::Refused(reason) => report.unsafe_paths.push(problem(reason)),
            }
            done += 1;
            if done % 16_384 == 0 {
                progress(CheckProgress::Rows(done, total));
            }
            Ok(())
        })?;
        progress(CheckProgress::Rows(done, total));
    }
    tx.commit()?;
    if let Some(listing) = listing {
        report.files_checked = true;
        // Listed by id, as before the rows were read in table order.
        report
            .missing_files
            .sort_unstable_by(|a, b| a.attachment_id.cmp(&b.attachment_id));
        report
            .unsafe_paths
            .sort_unstable_by(|a, b| a.attachment_id.cmp(&b.attachment_id));
        let (files, thumbs) = listing.unreferenced();
        report.unreferenced_files = files;
        report.unreferenced_thumbnails = thumbs;
    }
    Ok(report)
}
