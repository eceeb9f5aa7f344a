//! What the database holds: which forum tables and columns exist, and which
//! other tables point at the rows a purge removes.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, bail};

use super::sql::{Conn, params};

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
    /// The web app's moderation actions say when a flag's post or thread
    /// was removed (`forum_moderationaction` has `action_type` and
    /// `created_at`, beside the flags).
    pub removal_times: bool,
    /// The flags have a `status` (the flag queue's counts).
    pub flag_status: bool,
    pub foreign_refs: Vec<ForeignRef>,
}

/// Whether the database itself (not a TEMP shadow) has this table: on
/// PostgreSQL, in the schema the session works in.
pub fn table_exists(conn: Conn, table: &str) -> Result<bool> {
    let sql = match conn {
        Conn::Sqlite(_) => {
            "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = ?1"
        }
        Conn::Postgres(_) => {
            // pg_catalog: the information_schema view took milliseconds
            // to plan on a session's first use.
            "SELECT count(*) FROM pg_catalog.pg_class \
             WHERE relnamespace = (SELECT oid FROM pg_catalog.pg_namespace \
                  WHERE nspname = current_schema()) AND relname = ?1 \
               AND relkind IN ('r', 'p', 'v', 'f')"
        }
    };
    Ok(conn.query_row(sql, params![table], |r| r.get::<i64>(0))? > 0)
}

/// Whether the connection has a temporary table of this name.
pub fn temp_table_exists(conn: Conn, table: &str) -> Result<bool> {
    let sql = match conn {
        Conn::Sqlite(_) => {
            "SELECT count(*) FROM temp.sqlite_master WHERE type = 'table' AND name = ?1"
        }
        Conn::Postgres(_) => {
            "SELECT count(*) FROM pg_catalog.pg_class \
             WHERE relname = ?1 AND relnamespace = pg_my_temp_schema()"
        }
    };
    Ok(conn.query_row(sql, params![table], |r| r.get::<i64>(0))? > 0)
}

/// The console's tables (`modcon_*`) the database or the connection's
/// TEMP schema has: what `table_exists` or `temp_table_exists` would say of
/// each, in one query.
pub fn own_tables(conn: Conn) -> Result<HashSet<String>> {
    let sql = match conn {
        Conn::Sqlite(_) => {
            "SELECT name FROM main.sqlite_master WHERE type = 'table' \
             UNION SELECT name FROM temp.sqlite_master WHERE type = 'table'"
        }
        Conn::Postgres(_) => {
            "SELECT relname::text FROM pg_catalog.pg_class \
             WHERE relname LIKE 'modcon\\_%' \
               AND ((relnamespace = (SELECT oid FROM pg_catalog.pg_namespace \
                  WHERE nspname = current_schema()) \
                     AND relkind IN ('r', 'p', 'v', 'f')) \
                    OR relnamespace = pg_my_temp_schema())"
        }
    };
    Ok(conn
        .query_map(sql, params![], |r| r.get::<String>(0))?
        .into_iter()
        .filter(|name| name.starts_with("modcon_"))
        .collect())
}

/// Whether the database has an index of this name.
pub fn index_exists(conn: Conn, index: &str) -> Result<bool> {
    let sql = match conn {
        Conn::Sqlite(_) => {
            "SELECT count(*) FROM main.sqlite_master WHERE type = 'index' AND name = ?1"
        }
        Conn::Postgres(_) => {
            "SELECT count(*) FROM pg_catalog.pg_indexes \
             WHERE schemaname = current_schema() AND indexname = ?1"
        }
    };
    Ok(conn.query_row(sql, params![index], |r| r.get::<i64>(0))? > 0)
}

/// The columns of a table (a TEMP shadow's too), in order.
pub fn columns(conn: Conn, table: &str) -> Result<Vec<String>> {
    let sql = match conn {
        Conn::Sqlite(_) => "SELECT name FROM pragma_table_info(?1)",
        Conn::Postgres(_) => {
            "SELECT a.attname::text FROM pg_catalog.pg_attribute a \
             WHERE a.attrelid = to_regclass(?1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum"
        }
    };
    conn.query_map(sql, params![table], |r| r.get::<String>(0))
}

pub fn column_exists(conn: Conn, table: &str, column: &str) -> Result<bool> {
    Ok(columns(conn, table)?.iter().any(|c| c == column))
}

/// Checks that the forum tables and columns the console needs are there.
/// `allow_outdated` lets `migrate` open a database from before the
/// attachment soft-delete migration.
pub fn inspect(conn: Conn, allow_outdated: bool) -> Result<Schema> {
    let catalog = match conn {
        Conn::Sqlite(_) => Catalog::Asked(conn),
        Conn::Postgres(_) => {
            Catalog::Read(PgCatalog::from_rows(conn.query_text(&pg_catalog_sql())?)?)
        }
    };
    inspect_catalog(&catalog, allow_outdated)
}

/// [`inspect`] from what [`pg_catalog_sql`] answered on a PostgreSQL session.
pub fn inspect_postgres(catalog: PgCatalog, allow_outdated: bool) -> Result<Schema> {
    inspect_catalog(&Catalog::Read(catalog), allow_outdated)
}

fn inspect_catalog(catalog: &Catalog, allow_outdated: bool) -> Result<Schema> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !catalog.has_table(t).unwrap_or(false))
        .collect();
    if !missing.is_empty() {
        bail!(
            "not a forum database: missing table{} {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        );
    }
    if let Catalog::Read(read) = catalog {
        read.refuse_unreadable()?;
    }
    for (table, needed) in REQUIRED {
        let have = catalog.columns(table)?;
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
        if !catalog.has_table(table)? {
            return Ok(false);
        }
        let have = catalog.columns(table)?;
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
    schema.removal_times = schema.flags
        && schema.moderation_actions
        && ["action_type", "created_at"]
            .iter()
            .all(|c| catalog.has_column("forum_moderationaction", c));
    schema.flag_status = schema.flags && catalog.has_column("forum_flaggedcontent", "status");
    schema.foreign_refs = foreign_refs(catalog.foreign_keys()?);
    Ok(schema)
}

/// References into the purged tables that the web app's cascades do not
/// cover (from tables the console does not know, or new columns).
fn foreign_refs(list: Vec<ForeignKey>) -> Vec<ForeignRef> {
    let mut refs = Vec::new();
    {
        for (table, column, parent, to) in list {
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
    refs
}

/// A foreign key: (table, column, referenced table, referenced column or
/// `None` for the primary key).
type ForeignKey = (String, String, String, Option<String>);

/// What `inspect` asks of the database: SQLite answers each question from
/// the file at no cost; on PostgreSQL each would be a round trip to the
/// server, so its catalog is read at once, in one query ([`pg_catalog_sql`]).
enum Catalog<'c> {
    Asked(Conn<'c>),
    Read(PgCatalog),
}

/// The one catalog query of a PostgreSQL open (pg_catalog rather than the
/// information_schema views: these are plain lookups, the views' planning
/// alone took milliseconds), one row per fact, every value text:
/// - `c`, table, column: the columns of the forum tables the console
///   inspects (a Django database has dozens more), in order; a table
///   without columns has one row with no column;
/// - `f`, table, column, referenced table, referenced column: the foreign
///   keys of every table but the console's;
/// - `o`, table: the console's tables (`modcon_*`), the session's
///   temporary ones too;
/// - `p`, table, role: a table of those the role may not read (no `SELECT`
///   privilege): the console would fail on its first query of it.
///
/// All in the session's schema (`current_schema()`).
pub fn pg_catalog_sql() -> String {
    let inspected: Vec<String> = REQUIRED
        .iter()
        .chain(OPTIONAL)
        .map(|(t, _)| format!("'{t}'"))
        .collect();
    format!(
        "\
    WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()), \
    t AS (SELECT t.oid, t.relname::text AS relname FROM pg_catalog.pg_class t, ns \
          WHERE t.relnamespace = ns.oid AND t.relkind IN ('r', 'p', 'v', 'f') \
            AND (t.relname IN ({inspected}) OR t.relname LIKE 'modcon\\_%')) \
    SELECT 'c', t.relname, a.attname::text, NULL::text, NULL::text, a.attnum::int8, NULL::text \
    FROM t LEFT JOIN pg_catalog.pg_attribute a \
      ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped \
    WHERE t.relname NOT LIKE 'modcon\\_%' \
    UNION ALL \
    SELECT 'f', t.relname::text, a.attname::text, p.relname::text, pa.attname::text, 0, \
           c.conname::text \
    FROM pg_catalog.pg_constraint c \
    JOIN pg_catalog.pg_class t ON t.oid = c.conrelid \
    JOIN pg_catalog.pg_class p ON p.oid = c.confrelid \
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
    JOIN pg_catalog.pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] \
    WHERE c.contype = 'f' AND t.relnamespace = (SELECT oid FROM ns) \
      AND t.relname NOT LIKE 'modcon\\_%' \
    UNION ALL \
    SELECT 'o', t.relname, NULL, NULL, NULL, 0, NULL FROM t WHERE t.relname LIKE 'modcon\\_%' \
    UNION ALL \
    SELECT 'o', t.relname::text, NULL, NULL, NULL, 0, NULL FROM pg_catalog.pg_class t \
    WHERE t.relnamespace = pg_my_temp_schema() AND t.relname LIKE 'modcon\\_%' \
    UNION ALL \
    SELECT 'p', t.relname, current_user::text, NULL, NULL, 0, NULL FROM t \
    WHERE NOT has_table_privilege(t.oid, 'SELECT') \
    ORDER BY 1, 2, 6, 7",
        inspected = inspected.join(", ")
    )
}

/// What [`pg_catalog_sql`] said.
#[derive(Debug, Clone, Default)]
pub struct PgCatalog {
    /// Forum table (or view) → its columns, in order.
    tables: HashMap<String, Vec<String>>,
    foreign_keys: Vec<ForeignKey>,
    /// The console's tables the database or the session's TEMP schema has.
    pub own_tables: HashSet<String>,
    /// The tables the role may not read, and the role.
    unreadable: Vec<(String, String)>,
}

impl PgCatalog {
    /// From [`pg_catalog_sql`]'s rows.
    pub fn from_rows(rows: Vec<Vec<Option<String>>>) -> Result<PgCatalog> {
        let mut catalog = PgCatalog::default();
        for row in rows {
            let field = |i: usize| row.get(i).cloned().flatten();
            let (Some(kind), Some(table)) = (field(0), field(1)) else {
                bail!("an unexpected row of the server's catalog: {row:?}");
            };
            match kind.as_str() {
                "c" => catalog.tables.entry(table).or_default().extend(field(2)),
                "f" => {
                    if let (Some(column), Some(parent)) = (field(2), field(3)) {
                        catalog.foreign_keys.push((table, column, parent, field(4)));
                    }
                }
                "o" => {
                    catalog.own_tables.insert(table);
                }
                "p" => catalog
                    .unreadable
                    .push((table, field(2).unwrap_or_default())),
                _ => bail!("an unexpected row of the server's catalog: {row:?}"),
            }
        }
        Ok(catalog)
    }

    /// An error naming the tables the role may not read and the grant
    /// that lets it, when there are any.
    fn refuse_unreadable(&self) -> Result<()> {
        let Some((_, role)) = self.unreadable.first() else {
            return Ok(());
        };
        let tables: Vec<&str> = self.unreadable.iter().map(|(t, _)| t.as_str()).collect();
        let plural = tables.len() > 1;
        bail!(
            "role {role} may not read table{s} {list}: it lacks the SELECT privilege on {them}, \
             which the console needs (as the table{s}' owner: GRANT SELECT ON {list} TO {grantee})",
            s = if plural { "s" } else { "" },
            list = tables.join(", "),
            them = if plural { "them" } else { "it" },
            grantee = quoted_name(role),
        )
    }
}

/// A role's name as SQL writes it: as it is when that reads back the same,
/// else in double quotes.
fn quoted_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

impl<'c> Catalog<'c> {
    fn has_table(&self, table: &str) -> Result<bool> {
        match self {
            Catalog::Asked(conn) => table_exists(*conn, table),
            Catalog::Read(read) => Ok(read.tables.contains_key(table)),
        }
    }

    fn columns(&self, table: &str) -> Result<Vec<String>> {
        match self {
            Catalog::Asked(conn) => columns(*conn, table),
            Catalog::Read(read) => Ok(read.tables.get(table).cloned().unwrap_or_default()),
        }
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.columns(table)
            .is_ok_and(|have| have.iter().any(|c| c == column))
    }

    fn foreign_keys(&self) -> Result<Vec<ForeignKey>> {
        let conn = match self {
            Catalog::Read(read) => return Ok(read.foreign_keys.clone()),
            Catalog::Asked(conn) => *conn,
        };
        // Every foreign key of every table but the console's.
        conn.query_map(
            "SELECT m.name, f.\"from\", f.\"table\", f.\"to\" \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND m.name NOT LIKE 'modcon\\_%' ESCAPE '\\' ORDER BY m.name, f.id, f.seq",
            params![],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<String>>(3)?,
                ))
            },
        )
    }
}
