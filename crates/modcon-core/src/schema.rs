//! What the database holds: which forum tables and columns exist, and which
//! other tables point at the rows a purge removes.

use anyhow::{Result, bail};
use rusqlite::Connection;

/// Tables and columns the console cannot work without.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "forum_thread",
        &[
            "id",
            "title",
            "slug",
            "author_id",
            "category_id",
            "is_pinned",
            "is_locked",
            "is_active",
            "post_count",
            "last_activity_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "forum_post",
        &[
            "id",
            "thread_id",
            "author_id",
            "content_raw",
            "content_format",
            "is_first_post",
            "is_active",
            "edited_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "forum_attachment",
        &[
            "id",
            "post_id",
            "image",
            "original_filename",
            "file_size",
            "mime_type",
            "display_order",
            "alt_text",
            "is_active",
            "deleted_at",
            "created_at",
        ],
    ),
];

/// Tables that may be absent; when present they must have these columns.
const OPTIONAL: &[(&str, &[&str])] = &[
    ("users_user", &["id", "username"]),
    ("forum_category", &["id", "name"]),
    ("forum_reaction", &["id", "post_id"]),
    ("forum_flaggedcontent", &["id", "post_id", "thread_id"]),
    ("forum_moderationaction", &["id", "flag_id"]),
];

/// The columns the web app's attachment soft-delete migration added.
pub const SOFT_DELETE_COLUMNS: [&str; 2] = ["is_active", "deleted_at"];

/// Every table a purge deletes from, and the references between them that
/// the web app's on_delete=CASCADE follows. Any other reference into these
/// tables belongs to someone else and makes its row skipped.
pub const PURGED_TABLES: [&str; 6] = [
    "forum_thread",
    "forum_post",
    "forum_attachment",
    "forum_reaction",
    "forum_flaggedcontent",
    "forum_moderationaction",
];
const CASCADES: [(&str, &str, &str); 6] = [
    ("forum_post", "thread_id", "forum_thread"),
    ("forum_attachment", "post_id", "forum_post"),
    ("forum_reaction", "post_id", "forum_post"),
    ("forum_flaggedcontent", "post_id", "forum_post"),
    ("forum_flaggedcontent", "thread_id", "forum_thread"),
    ("forum_moderationaction", "flag_id", "forum_flaggedcontent"),
];

/// A column of a table the console does not know that references a row a
/// purge could remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRef {
    pub table: String,
    pub column: String,
    pub references: String,
    /// The referenced column: `id`, or another (Django's `to_field`, such
    /// as a thread's `slug`).
    pub to_column: String,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub users: bool,
    pub categories: bool,
    pub reactions: bool,
    pub flags: bool,
    pub moderation_actions: bool,
    pub foreign_refs: Vec<ForeignRef>,
}

/// Whether the database file itself (not a TEMP shadow) has this table.
pub fn table_exists(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

pub fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

pub fn column_exists(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    Ok(columns(conn, table)?.iter().any(|c| c == column))
}

/// Checks that the forum tables and columns the console needs are there.
/// `allow_outdated` lets `migrate` open a database from before the
/// attachment soft-delete migration.
pub fn inspect(conn: &Connection, allow_outdated: bool) -> Result<Schema> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !table_exists(conn, t).unwrap_or(false))
        .collect();
    if !missing.is_empty() {
        bail!(
            "not a forum database: missing table{} {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        );
    }
    for (table, needed) in REQUIRED {
        let have = columns(conn, table)?;
        let lacking: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|c| !have.iter().any(|h| h == c))
            .collect();
        if lacking.is_empty() {
            continue;
        }
        let only_soft_delete =
            *table == "forum_attachment" && lacking.iter().all(|c| SOFT_DELETE_COLUMNS.contains(c));
        if only_soft_delete {
            if allow_outdated {
                continue;
            }
            bail!(
                "table forum_attachment lacks column{} {} (the database predates the web app's \
                 attachment soft-delete migration): run `modcon migrate` to add {}",
                if lacking.len() > 1 { "s" } else { "" },
                lacking.join(", "),
                if lacking.len() > 1 { "them" } else { "it" }
            );
        }
        bail!(
            "table {table} lacks column{} {}",
            if lacking.len() > 1 { "s" } else { "" },
            lacking.join(", ")
        );
    }
    let present = |table: &str, needed: &[&str]| -> Result<bool> {
        if !table_exists(conn, table)? {
            return Ok(false);
        }
        let have = columns(conn, table)?;
        if let Some(col) = needed.iter().find(|c| !have.iter().any(|h| h == *c)) {
            bail!("table {table} lacks column {col}");
        }
        Ok(true)
    };
    let mut schema = Schema::default();
    for (table, needed) in OPTIONAL {
        let here = present(table, needed)?;
        match *table {
            "users_user" => schema.users = here,
            "forum_category" => schema.categories = here,
            "forum_reaction" => schema.reactions = here,
            "forum_flaggedcontent" => schema.flags = here,
            "forum_moderationaction" => schema.moderation_actions = here,
            _ => {}
        }
    }
    schema.foreign_refs = foreign_refs(conn)?;
    Ok(schema)
}

/// References into the purged tables that the web app's cascades do not
/// cover (from tables the console does not know, or new columns).
fn foreign_refs(conn: &Connection) -> Result<Vec<ForeignRef>> {
    let mut tables = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name NOT LIKE 'modcon\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names = tables
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut refs = Vec::new();
    let mut fks =
        conn.prepare("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1)")?;
    for table in names {
        let list = fks
            .query_map([&table], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (parent, column, to) in list {
            // No column named: the primary key, `id` in every purged table.
            let to_column = to.unwrap_or_else(|| "id".into()).to_ascii_lowercase();
            let known = to_column == "id"
                && CASCADES.iter().any(|(t, c, p)| {
                    *t == table && *c == column && p.eq_ignore_ascii_case(&parent)
                });
            if !known
                && PURGED_TABLES
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&parent))
            {
                refs.push(ForeignRef {
                    table: table.clone(),
                    column,
                    references: parent.to_ascii_lowercase(),
                    to_column,
                });
            }
        }
    }
    Ok(refs)
}
