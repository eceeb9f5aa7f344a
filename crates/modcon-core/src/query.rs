//! Reading: rows by keyset pages, ids from prefixes, counts, search.
//! Every list carries the markers of `conditions`, so a front end shows
//! what the rules say without computing anything itself.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use rusqlite::types::ValueRef;
use serde::Serialize;

use super::conditions as cond;
use super::media::{FileStatus, MediaRoot};
use super::model::{IdQuery, Kind};
use super::schema::Schema;
use super::sql::{self, Conn, Dialect, Value, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateFilter {
    #[default]
    All,
    Active,
    Deleted,
}

impl StateFilter {
    pub fn parse(text: &str) -> Result<StateFilter> {
        match text {
            "all" => Ok(StateFilter::All),
            "active" => Ok(StateFilter::Active),
            "deleted" => Ok(StateFilter::Deleted),
            other => bail!("unknown state {other:?}: expected active, deleted or all"),
        }
    }

    pub fn next(self) -> StateFilter {
        match self {
            StateFilter::All => StateFilter::Active,
            StateFilter::Active => StateFilter::Deleted,
            StateFilter::Deleted => StateFilter::All,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StateFilter::All => "all",
            StateFilter::Active => "active",
            StateFilter::Deleted => "deleted",
        }
    }

    fn sql(self, d: Dialect, alias: &str) -> String {
        match self {
            StateFilter::All => d.bool(true).into(),
            StateFilter::Active => format!("{alias}.is_active = {}", d.bool(true)),
            StateFilter::Deleted => format!("{alias}.is_active = {}", d.bool(false)),
        }
    }
}

/// How sure the console is of a deleted row's deletion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionTime {
    /// Written by the console or the web app when it deleted the row.
    Exact,
    /// The row was found deleted by someone else: when the console first saw it.
    FirstSeen,
    /// Nothing known (a NULL or unreadable `deleted_at`, or never seen).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Thread {
        slug: String,
        category: Option<String>,
        is_pinned: bool,
        is_locked: bool,
        post_count: i64,
        last_activity_at: Option<String>,
    },
    Post {
        content_format: String,
        is_first_post: bool,
        attachment_count: i64,
    },
    Attachment {
        image: String,
        file_size: i64,
        mime_type: String,
        display_order: i64,
    },
}

/// One thread, post or attachment, with its state and markers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub kind: Kind,
    pub id: String,
    /// The thread of a post, the post of an attachment.
    pub parent_id: Option<String>,
    pub is_active: bool,
    /// Thread title, the start of a post's text, an attachment's file name.
    pub label: String,
    pub author: Option<String>,
    pub created_at: String,
    /// When it was deleted (Django text), if known.
    pub deleted_at: Option<String>,
    /// How the deletion time is known; `None` while active.
    pub deletion_time: Option<DeletionTime>,
    /// Where the deletion time comes from: `console` (the console deleted
    /// it), `moderation_action` (the web app's moderation queue removed
    /// it), `first_seen`, `deleted_at` (an attachment's column); `None`
    /// while active or unknown.
    pub deletion_source: Option<String>,
    /// Past retention with nothing active below: a purge removes it.
    pub purgeable: bool,
    /// Past retention but an active row below it holds it back.
    pub held_back: bool,
    /// Active under a deleted parent (someone broke the invariant).
    pub violation: bool,
    #[serde(flatten)]
    pub detail: Detail,
}

/// Where a keyset page starts: after this row in the list's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: String,
    pub id: String,
}

impl Row {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at.clone(),
            id: self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub kind: Option<Kind>,
    /// Posts of this thread, or attachments of this thread's posts.
    pub thread: Option<String>,
    /// Attachments of this post.
    pub post: Option<String>,
    pub state: StateFilter,
    pub limit: usize,
    /// Strictly after this row (the next page).
    pub after: Option<Cursor>,
    /// At or after this row (a list that starts at a jumped-to row).
    pub start_at: Option<Cursor>,
    /// Strictly before this row: the page above a window, read backwards
    /// and returned in list order.
    pub before: Option<Cursor>,
    /// The list's last page (read backwards from the end, returned in
    /// list order).
    pub from_end: bool,
}

/// Text of any SQLite value, so odd data (a blob title, a NULL where the
/// schema says NOT NULL) is shown instead of failing the whole list.
pub fn text_of(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

fn author_sql(schema: &Schema, alias: &str) -> String {
    if schema.users {
        format!(
            "COALESCE((SELECT u.username FROM users_user u WHERE u.id = {alias}.author_id), \
                      '#' || {alias}.author_id)"
        )
    } else {
        format!("'#' || {alias}.author_id")
    }
}

/// Columns common to every kind, after the kind's own ones. An active row
/// (most rows) is neither purgeable nor held back, and its deletion time
/// is not read: CASE spares SQLite working them out (in a column, it
/// works out both sides of an AND).
fn marker_columns(d: Dialect, kind: Kind, alias: &str) -> String {
    let unless_active = |then: &str, sql: String| {
        format!(
            "CASE WHEN {alias}.is_active = {} THEN {then} ELSE {sql} END",
            d.bool(true)
        )
    };
    format!(
        "{alias}.is_active, {alias}.created_at, {dt}, {src}, {purge}, {held}, {viol}",
        dt = unless_active("NULL", cond::deletion_time(d, kind, alias)),
        src = unless_active("NULL", cond::deletion_source(d, kind, alias)),
        purge = unless_active(d.bool(false), cond::purgeable(d, kind, alias)),
        held = unless_active(d.bool(false), cond::held_back(d, kind, alias)),
        viol = cond::violation(d, kind, alias),
    )
}

fn select_sql(d: Dialect, kind: Kind, schema: &Schema) -> String {
    match kind {
        Kind::Thread => {
            let category = if schema.categories {
                "(SELECT c.name FROM forum_category c WHERE c.id = t.category_id)"
            } else {
                "NULL"
            };
            format!(
                "SELECT t.id, NULL, t.title, {author}, t.slug, {category}, t.is_pinned, t.is_locked, \
                        t.post_count, t.last_activity_at, {markers} \
                 FROM forum_thread t",
                author = author_sql(schema, "t"),
                markers = marker_columns(d, kind, "t"),
            )
        }
        Kind::Post => format!(
            "SELECT p.id, p.thread_id, substr(p.content_raw, 1, 400), {author}, p.content_format, \
                    p.is_first_post, \
                    (SELECT count(*) FROM forum_attachment ca WHERE ca.post_id = p.id), \
                    NULL, NULL, NULL, {markers} \
             FROM forum_post p",
            author = author_sql(schema, "p"),
            markers = marker_columns(d, kind, "p"),
        ),
        Kind::Attachment => format!(
            "SELECT a.id, a.post_id, a.original_filename, NULL, a.image, a.file_size, a.mime_type, \
                    a.display_order, NULL, NULL, {markers} \
             FROM forum_attachment a",
            markers = marker_columns(d, kind, "a"),
        ),
    }
}

fn alias(kind: Kind) -> &'static str {
    match kind {
        Kind::Thread => "t",
        Kind::Post => "p",
        Kind::Attachment => "a",
    }
}

fn read_row(kind: Kind, r: &sql::Row<'_>) -> Result<Row> {
    let detail = match kind {
        Kind::Thread => Detail::Thread {
            slug: r.text(4)?,
            category: r.opt_text(5)?,
            is_pinned: r.flag(6)?,
            is_locked: r.flag(7)?,
            post_count: r.int(8)?,
            last_activity_at: r.opt_text(9)?,
        },
        Kind::Post => Detail::Post {
            content_format: r.text(4)?,
            is_first_post: r.flag(5)?,
            attachment_count: r.int(6)?,
        },
        Kind::Attachment => Detail::Attachment {
            image: r.text(4)?,
            file_size: r.int(5)?,
            mime_type: r.text(6)?,
            display_order: r.int(7)?,
        },
    };
    let is_active = r.flag(10)?;
    let deleted_at = r.opt_text(12)?;
    let deletion_source = if is_active { None } else { r.opt_text(13)? };
    let deletion_time = if is_active {
        None
    } else {
        Some(match deletion_source.as_deref() {
            Some("first_seen") => DeletionTime::FirstSeen,
            Some(_) => DeletionTime::Exact,
            None => DeletionTime::Unknown,
        })
    };
    Ok(Row {
        kind,
        id: r.text(0)?,
        parent_id: r.opt_text(1)?,
        label: r.text(2)?,
        author: r.opt_text(3)?,
        is_active,
        created_at: r.text(11)?,
        deleted_at: if is_active { None } else { deleted_at },
        deletion_time,
        deletion_source,
        purgeable: r.flag(14)?,
        held_back: r.flag(15)?,
        violation: r.flag(16)?,
        detail,
    })
}

/// The values bound to a statement, in order: each [`Binds::push`]
/// returns the placeholder (`?N`) that stands for it.
#[derive(Default)]
struct Binds<'a> {
    values: Vec<Value<'a>>,
}

impl<'a> Binds<'a> {
    fn push(&mut self, value: Value<'a>) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    fn text(&mut self, text: &'a str) -> String {
        self.push(Value::Text(Cow::Borrowed(text)))
    }
}

/// The conditions of a list query shared by its pages and its counts:
/// kind, parent and state (no cursor).
fn list_filters<'a>(
    d: Dialect,
    q: &'a ListQuery,
    binds: &mut Binds<'a>,
) -> Result<(Kind, Vec<String>)> {
    let kind = q.kind.context("no kind to list")?;
    let a = alias(kind);
    let mut wheres = vec![q.state.sql(d, a)];
    match (kind, &q.thread, &q.post) {
        (Kind::Thread, None, None) => {}
        (Kind::Post, Some(t), None) => wheres.push(format!("p.thread_id = {}", binds.text(t))),
        (Kind::Post, None, None) | (Kind::Attachment, None, None) => {}
        (Kind::Attachment, None, Some(p)) => wheres.push(format!("a.post_id = {}", binds.text(p))),
        (Kind::Attachment, Some(t), None) => wheres.push(format!(
            "a.post_id IN (SELECT id FROM forum_post WHERE thread_id = {})",
            binds.text(t)
        )),
        (Kind::Attachment, Some(_), Some(_)) => bail!("give --thread or --post, not both"),
        (Kind::Thread, _, _) => bail!("threads are not listed by --thread or --post"),
        (Kind::Post, _, Some(_)) => bail!("posts are listed by --thread, not --post"),
    }
    Ok((kind, wheres))
}

/// `(created_at, id) op (cursor)`: a keyset bound.
fn cursor_bound<'a>(a: &str, op: &str, c: &'a Cursor, binds: &mut Binds<'a>) -> String {
    let at = binds.text(&c.created_at);
    let id = binds.text(&c.id);
    format!("({a}.created_at, {a}.id) {op} ({at}, {id})")
}

/// Whether a list query reads backwards (the page above a window, or the
/// last page); its rows are put back in list order after reading.
fn reads_backwards(q: &ListQuery) -> bool {
    q.before.is_some() || q.from_end
}

/// The SQL of one keyset page and the values it binds (the cutoff first,
/// as `?1`, for the markers).
fn list_statement<'a>(
    d: Dialect,
    schema: &Schema,
    q: &'a ListQuery,
    cutoff: &'a str,
) -> Result<(String, Vec<Value<'a>>)> {
    let mut binds = Binds::default();
    binds.text(cutoff);
    let (kind, mut wheres) = list_filters(d, q, &mut binds)?;
    let a = alias(kind);
    // Threads come newest first; posts and attachments oldest first.
    let newest_first = kind == Kind::Thread;
    let (later, earlier) = if newest_first { ("<", ">") } else { (">", "<") };
    if let Some(c) = &q.after {
        wheres.push(cursor_bound(a, later, c, &mut binds));
    }
    if let Some(c) = &q.start_at {
        wheres.push(cursor_bound(a, &format!("{later}="), c, &mut binds));
    }
    if let Some(c) = &q.before {
        wheres.push(cursor_bound(a, earlier, c, &mut binds));
    }
    let descending = newest_first != reads_backwards(q);
    let dir = if descending { "DESC" } else { "ASC" };
    let limit = binds.push(Value::Int(q.limit as i64));
    let sql = format!(
        "{select} WHERE {wheres} ORDER BY {a}.created_at {dir}, {a}.id {dir} LIMIT {limit}",
        select = select_sql(d, kind, schema),
        wheres = wheres.join(" AND "),
    );
    Ok((sql, binds.values))
}

/// The SQL of one keyset page (the cutoff bound as `?1`, then the
/// query's parent, cursors and limit).
pub fn list_sql(d: Dialect, schema: &Schema, q: &ListQuery) -> Result<String> {
    Ok(list_statement(d, schema, q, "")?.0)
}

/// One keyset page of rows. Threads come newest first; posts and
/// attachments in the order they were written.
pub fn list(conn: Conn, schema: &Schema, q: &ListQuery, cutoff: &str) -> Result<Vec<Row>> {
    let kind = q.kind.context("no kind to list")?;
    let (sql, values) = list_statement(conn.dialect(), schema, q, cutoff)?;
    let mut rows = conn.query_map(&sql, &values, |r| read_row(kind, r))?;
    if reads_backwards(q) {
        rows.reverse();
    }
    Ok(rows)
}

/// How many rows a list holds (kind, parent and state of `q`); with
/// `q.before`, how many come before that row. Cursors and the limit of
/// `q` are otherwise ignored.
pub fn count_list(conn: Conn, q: &ListQuery) -> Result<usize> {
    let d = conn.dialect();
    let mut binds = Binds::default();
    let (kind, mut wheres) = list_filters(d, q, &mut binds)?;
    let a = alias(kind);
    if let Some(c) = &q.before {
        let earlier = if kind == Kind::Thread { ">" } else { "<" };
        wheres.push(cursor_bound(a, earlier, c, &mut binds));
    }
    let sql = format!(
        "SELECT count(*) FROM {table} {a} WHERE {wheres}",
        table = kind.table(),
        wheres = wheres.join(" AND "),
    );
    let n: i64 = conn.query_row(&sql, &binds.values, |r| r.get(0))?;
    Ok(n as usize)
}

/// One row by its full id.
pub fn get(conn: Conn, schema: &Schema, kind: Kind, id: &str, cutoff: &str) -> Result<Option<Row>> {
    let sql = format!(
        "{} WHERE {}.id = ?2",
        select_sql(conn.dialect(), kind, schema),
        alias(kind)
    );
    conn.query_opt(&sql, params![cutoff, id], |r| read_row(kind, r))
}

/// The whole text of a post.
pub fn post_text(conn: Conn, id: &str) -> Result<Option<String>> {
    conn.query_opt(
        "SELECT content_raw FROM forum_post WHERE id = ?1",
        params![id],
        |r| r.text(0),
    )
}

/// Resolves what the user typed to one full id of `kind`: the 32 digits
/// must exist; a prefix must match exactly one row.
pub fn resolve(conn: Conn, kind: Kind, query: &IdQuery) -> Result<String> {
    resolve_in(conn, kind.table(), kind.name(), kind.plural(), query)
}

/// [`resolve`] for the ids of any table keyed by a UUID (`noun`, `nouns`
/// name its rows in errors: "flag", "flags").
pub fn resolve_in(
    conn: Conn,
    table: &str,
    noun: &str,
    nouns: &str,
    query: &IdQuery,
) -> Result<String> {
    match query {
        IdQuery::Full(id) => {
            let found: Option<String> = conn.query_opt(
                &format!("SELECT id FROM {table} WHERE id = ?1"),
                params![id],
                |r| r.text(0),
            )?;
            found.with_context(|| format!("no {noun} with id {id}"))
        }
        IdQuery::Prefix(prefix) => {
            // Ids are lowercase hex: every id starting with the prefix
            // lies between the prefix padded with 0s and with fs.
            let (lo, hi) = conn.dialect().id_prefix_range(prefix);
            let ids = conn.query_map(
                &format!("SELECT id FROM {table} WHERE id >= ?1 AND id <= ?2 ORDER BY id LIMIT 11"),
                params![lo, hi],
                |r| r.text(0),
            )?;
            match ids.len() {
                0 => bail!("no {noun} with an id starting {prefix}"),
                1 => Ok(ids.into_iter().next().unwrap_or_default()),
                n => {
                    let shown = ids.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
                    let (count, more) = if n > 10 {
                        ("more than 10".to_string(), ", …")
                    } else {
                        (n.to_string(), "")
                    };
                    bail!("ambiguous id prefix {prefix}: it matches {count} {nouns}: {shown}{more}")
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub total: i64,
    pub active: i64,
    pub deleted: i64,
    /// Removed by a purge at the current retention.
    pub purgeable: i64,
    /// Past retention, kept because something below is still active.
    pub held_back: i64,
    /// Deleted with no known deletion time.
    pub unknown_deletion_time: i64,
    /// Active under a deleted parent.
    pub violations: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub threads: KindCounts,
    pub posts: KindCounts,
    pub attachments: KindCounts,
    /// The web app's flags per status; `None` without a flag queue.
    pub flags: Option<super::flags::FlagCounts>,
}

impl Counts {
    pub fn of(&self, kind: Kind) -> &KindCounts {
        match kind {
            Kind::Thread => &self.threads,
            Kind::Post => &self.posts,
            Kind::Attachment => &self.attachments,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> &mut KindCounts {
        match kind {
            Kind::Thread => &mut self.threads,
            Kind::Post => &mut self.posts,
            Kind::Attachment => &mut self.attachments,
        }
    }
}

/// The statements of [`counts`] for one kind: the rows, the deleted rows,
/// their states (parameter `?1`, the cutoff), the rows breaking the
/// invariant.
pub fn count_sql(d: Dialect, kind: Kind) -> [String; 4] {
    let table = kind.table();
    [
        // Without a WHERE, SQLite counts the entries of the smallest index
        // page by page instead of reading each row.
        format!("SELECT count(*) FROM {table}"),
        format!(
            "SELECT count(*) FROM {table} WHERE is_active = {}",
            d.bool(false)
        ),
        cond::deleted_state_counts(d, kind),
        format!("SELECT count(*) FROM ({}) v", cond::violating_rows(d, kind)),
    ]
}

/// Counts of every kind and state. Only the deleted rows (few) are read
/// one by one; the conditions of deleted rows are worked out once per row.
pub fn counts(conn: Conn, schema: &Schema, cutoff: &str) -> Result<Counts> {
    let mut counts = Counts::default();
    for kind in Kind::ALL {
        let [total, deleted, states, violating] = count_sql(conn.dialect(), kind);
        let c = counts.of_mut(kind);
        let count = |sql: &str| -> Result<i64> { conn.query_row(sql, params![], |r| r.get(0)) };
        c.total = count(&total)?;
        c.deleted = count(&deleted)?;
        c.active = c.total - c.deleted;
        conn.query_row(&states, params![cutoff], |r| {
            c.purgeable = r.get(0)?;
            c.held_back = r.get(1)?;
            c.unknown_deletion_time = r.get(2)?;
            Ok(())
        })?;
        c.violations = count(&violating)?;
    }
    counts.flags = super::flags::counts(conn, schema)?;
    Ok(counts)
}

/// A search hit: which row, and what matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub kind: Kind,
    pub id: String,
    /// The thread the hit belongs to (itself for a thread).
    pub thread_id: String,
    /// The post of an attachment hit (itself for a post).
    pub post_id: Option<String>,
    pub is_active: bool,
    pub text: String,
    /// Who wrote the thread or post (the post of an attachment).
    pub author: Option<String>,
    /// The title of the thread the hit belongs to.
    pub thread_title: String,
}

/// Finds `needle` in thread titles, post text, authors and attachment file
/// names. The needle is a literal: quotes, `%` and `_` match themselves.
pub fn search(conn: Conn, schema: &Schema, needle: &str, limit: usize) -> Result<Vec<Hit>> {
    let d = conn.dialect();
    let has = |column: &str| d.contains(column, "?1");
    let author = |alias: &str| {
        if schema.users {
            format!(
                "OR {alias}.author_id IN (SELECT u.id FROM users_user u WHERE {})",
                has("u.username")
            )
        } else {
            String::new()
        }
    };
    let who = |alias: &str| author_sql(schema, alias);
    let sql = format!(
        "SELECT 'thread', t.id, t.id, NULL, t.is_active, t.title, {tw}, t.title FROM forum_thread t \
           WHERE {t_title} {ta} \
         UNION ALL \
         SELECT 'post', p.id, p.thread_id, p.id, p.is_active, substr(p.content_raw, 1, 200), {pw}, \
                (SELECT pt.title FROM forum_thread pt WHERE pt.id = p.thread_id) FROM forum_post p \
           WHERE {p_text} {pa} \
         UNION ALL \
         SELECT 'attachment', a.id, p.thread_id, a.post_id, a.is_active, a.original_filename, {pw}, \
                (SELECT pt.title FROM forum_thread pt WHERE pt.id = p.thread_id) \
           FROM forum_attachment a JOIN forum_post p ON p.id = a.post_id \
           WHERE {a_name} OR {a_image} \
         LIMIT ?2",
        ta = author("t"),
        pa = author("p"),
        tw = who("t"),
        pw = who("p"),
        t_title = has("t.title"),
        p_text = has("p.content_raw"),
        a_name = has("a.original_filename"),
        a_image = has("a.image"),
    );
    conn.query_map(&sql, params![needle, limit], |r| {
        let kind = match r.text(0)?.as_str() {
            "thread" => Kind::Thread,
            "post" => Kind::Post,
            _ => Kind::Attachment,
        };
        Ok(Hit {
            kind,
            id: r.text(1)?,
            thread_id: r.text(2)?,
            post_id: r.opt_text(3)?,
            is_active: r.flag(4)?,
            text: r.text(5)?,
            author: r.opt_text(6)?,
            thread_title: r.text(7)?,
        })
    })
}

/// Everything the console's details pane says about one row: the row as
/// lists show it, and the facts lists leave out. Raw text from the
/// database: a front end sanitises it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    pub row: Row,
    /// The thread the row belongs to (itself for a thread): id and title.
    pub thread_id: String,
    pub thread_title: String,
    pub updated_at: Option<String>,
    /// Where a deleted row's deletion time comes from, as `conditions`
    /// says it: "console", "seen", "column", or another source; `None`
    /// when unknown or active.
    pub deletion_source: Option<String>,
    /// A post's whole text.
    pub text: Option<String>,
    pub edited_at: Option<String>,
    /// An attachment's original file name and alt text.
    pub original_filename: Option<String>,
    pub alt_text: Option<String>,
    /// Children: (active, deleted) posts of a thread, attachments of a post.
    pub children: Option<(i64, i64)>,
}

/// The facts of one row for the details pane, or `None` when it is gone.
pub fn details(
    conn: Conn,
    schema: &Schema,
    kind: Kind,
    id: &str,
    cutoff: &str,
) -> Result<Option<Facts>> {
    let Some(row) = get(conn, schema, kind, id, cutoff)? else {
        return Ok(None);
    };
    let a = alias(kind);
    let (extra, thread_sql) = match kind {
        Kind::Thread => ("NULL, NULL, NULL, NULL", format!("{a}.id")),
        Kind::Post => (
            "p.content_raw, p.edited_at, NULL, NULL",
            format!("{a}.thread_id"),
        ),
        Kind::Attachment => (
            "NULL, NULL, a.original_filename, a.alt_text",
            "(SELECT ap.thread_id FROM forum_post ap WHERE ap.id = a.post_id)".to_string(),
        ),
    };
    let updated = match kind {
        Kind::Attachment => "NULL".to_string(),
        _ => format!("{a}.updated_at"),
    };
    let d = conn.dialect();
    // The deletion source's conditions bind no cutoff; `?1` is the id.
    let sql = format!(
        "SELECT {updated}, {source}, {extra}, {thread_sql} FROM {table} {a} WHERE {a}.id = ?1",
        source = cond::deletion_source(d, kind, a),
        table = kind.table(),
    );
    let (updated_at, source, text, edited_at, original_filename, alt_text, thread_id) = conn
        .query_row(&sql, params![id], |r| {
            Ok((
                r.opt_text(0)?,
                r.opt_text(1)?,
                r.opt_text(2)?,
                r.opt_text(3)?,
                r.opt_text(4)?,
                r.opt_text(5)?,
                r.text(6)?,
            ))
        })
        .with_context(|| format!("reading the details of {kind} {id}"))?;
    let thread_title: String = conn
        .query_opt(
            "SELECT title FROM forum_thread WHERE id = ?1",
            params![thread_id],
            |r| r.text(0),
        )?
        .unwrap_or_default();
    let children = match kind.child() {
        Some(child) => {
            let column = child.parent_column().unwrap_or_default();
            Some(conn.query_row(
                &format!(
                    "SELECT COALESCE(sum({}), 0), COALESCE(sum({}), 0) FROM {} WHERE {column} = ?1",
                    cond::one_if(&format!("is_active = {}", d.bool(true))),
                    cond::one_if(&format!("is_active = {}", d.bool(false))),
                    child.table()
                ),
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        }
        None => None,
    };
    Ok(Some(Facts {
        deletion_source: if row.is_active { None } else { source },
        row,
        thread_id,
        thread_title,
        updated_at,
        text,
        edited_at,
        original_filename,
        alt_text,
        children,
    }))
}

/// What is on disk for an attachment's image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    /// "present", "missing", or why the path is refused; `None` without a
    /// media root.
    pub file: Option<String>,
    /// The thumbnail folder, relative to the media root; `None` when the
    /// image has no folder of its own (its name is not a plain file name).
    pub thumbnail_dir: Option<String>,
    /// Rendition files directly in that folder; `None` when there is no
    /// such folder (or no media root).
    pub thumbnails: Option<usize>,
}

/// Whether an attachment's file and its thumbnails exist under the media
/// root. Paths that leave the root are judged, never followed.
pub fn file_facts(media: Option<&MediaRoot>, image: &str) -> FileFacts {
    let thumbnail_dir = MediaRoot::thumbnail_dir_of(image);
    let Some(media) = media else {
        return FileFacts {
            file: None,
            thumbnail_dir,
            thumbnails: None,
        };
    };
    let file = match media.status(image) {
        FileStatus::Present(_) => "present".to_string(),
        FileStatus::Missing => "missing".to_string(),
        FileStatus::Refused(reason) => format!("not looked at: {reason}"),
    };
    let thumbnails = thumbnail_dir
        .as_deref()
        .and_then(|dir| media.resolve(dir).ok())
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count()
        });
    FileFacts {
        file: Some(file),
        thumbnail_dir,
        thumbnails,
    }
}
