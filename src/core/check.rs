//! `check`: what in the data breaks the rules — invariant violations,
//! deleted rows of unknown age, files missing or left behind.

use std::collections::HashSet;

use anyhow::Result;
use rusqlite::Connection;
use serde::Serialize;

use super::Ctx;
use super::conditions as cond;
use super::db::Db;
use super::media::{DirCache, FileStatus, MediaRoot};
use super::model::Kind;
use super::query::text_of;

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
pub fn stamp_first_seen(conn: &Connection, now: &str) -> Result<i64> {
    let mut stamped = 0;
    for kind in [Kind::Thread, Kind::Post] {
        let table = kind.table();
        stamped += conn.execute(
            &format!(
                "INSERT OR REPLACE INTO modcon_deletion (kind, row_id, deleted_at, source, row_updated_at) \
                 SELECT '{kind}', r.id, ?1, 'seen', r.updated_at FROM {table} r WHERE {unknown}",
                unknown = cond::unknown_deletion_time(kind, "r"),
            ),
            [now],
        )? as i64;
        conn.execute(
            &format!(
                "DELETE FROM modcon_deletion WHERE kind = '{kind}' AND row_id NOT IN \
                 (SELECT id FROM {table} WHERE is_active = 0)"
            ),
            [],
        )?;
    }
    Ok(stamped)
}

pub fn run(db: &mut Db, ctx: &Ctx, media: Option<&MediaRoot>) -> Result<CheckReport> {
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
    // The stamping and every read of the database in one transaction, so a
    // read that fails (a corrupt page) leaves the file as it was. The files
    // are looked at after it ends: the web app is not kept waiting meanwhile.
    let read_only = db.is_read_only();
    let tx = if read_only {
        db.read_tx()?
    } else {
        db.write_tx()?
    };
    if !read_only {
        report.stamped = stamp_first_seen(&tx, &ctx.now_text())?;
    }
    let conn: &Connection = &tx;
    for kind in [Kind::Post, Kind::Attachment] {
        let parent_kind = kind.parent().unwrap_or(Kind::Thread);
        let mut stmt = conn.prepare(&format!("{} ORDER BY 2, 1", cond::violating_rows(kind)))?;
        let rows = stmt.query_map([], |r| {
            Ok(Violation {
                kind,
                id: text_of(r.get_ref(0)?),
                parent_kind,
                parent_id: text_of(r.get_ref(1)?),
            })
        })?;
        for row in rows {
            report.violations.push(row?);
        }
    }
    for kind in Kind::ALL {
        // Rows whose age is unknown, and those only known as first seen.
        let sql = format!(
            "SELECT r.id, CASE WHEN {src} = 'first_seen' THEN {time} END FROM {table} r \
             WHERE r.is_active = 0 AND ({time} IS NULL OR {src} = 'first_seen') ORDER BY r.id",
            table = kind.table(),
            time = cond::deletion_time(kind, "r"),
            src = cond::deletion_source(kind, "r"),
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(UnknownAge {
                kind,
                id: text_of(r.get_ref(0)?),
                first_seen: r.get(1).ok().flatten(),
            })
        })?;
        for row in rows {
            report.unknown_deletion_time.push(row?);
        }
    }
    let attachments: Vec<(String, String)> = if media.is_some() {
        let mut stmt = conn.prepare("SELECT id, image FROM forum_attachment ORDER BY id")?;
        stmt.query_map([], |r| Ok((text_of(r.get_ref(0)?), text_of(r.get_ref(1)?))))?
            .collect::<rusqlite::Result<_>>()?
    } else {
        Vec::new()
    };
    tx.commit()?;
    if let Some(media) = media {
        report.files_checked = true;
        let mut images = HashSet::new();
        let mut dirs = DirCache::default();
        for (id, image) in attachments {
            match media.status_in(&image, &mut dirs) {
                FileStatus::Present(_) => {}
                FileStatus::Missing => report.missing_files.push(FileProblem {
                    attachment_id: id,
                    image: image.clone(),
                    reason: String::new(),
                }),
                FileStatus::Refused(reason) => report.unsafe_paths.push(FileProblem {
                    attachment_id: id,
                    image: image.clone(),
                    reason,
                }),
            }
            images.insert(image);
        }
        let (files, thumbs) = media.unreferenced(&images);
        report.unreferenced_files = files;
        report.unreferenced_thumbnails = thumbs;
    }
    Ok(report)
}
