//! One way to talk to either database: SQLite (a file) or PostgreSQL (a
//! server). The rules write their SQL once, with `?N` placeholders, and run
//! it through [`Conn`]; what differs per backend (placeholders, a few
//! expressions, column types, transactions) is settled here and in
//! [`dialect`]. See `README.md` beside this file for how to convert a module.

pub mod dialect;
pub mod postgres;

use std::borrow::Cow;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use rusqlite::types::{ToSqlOutput, ValueRef};

pub use dialect::Dialect;
pub use postgres::PgConn;

/// A connection to a forum database, borrowed: cheap to copy and pass down.
/// Every core function that reads or writes takes one.
#[derive(Clone, Copy)]
pub enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c PgConn),
}

impl<'c> From<&'c rusqlite::Connection> for Conn<'c> {
    fn from(conn: &'c rusqlite::Connection) -> Self {
        Conn::Sqlite(conn)
    }
}

impl<'c> From<&'c rusqlite::Transaction<'_>> for Conn<'c> {
    fn from(tx: &'c rusqlite::Transaction<'_>) -> Self {
        Conn::Sqlite(tx)
    }
}

impl<'c> From<&'c PgConn> for Conn<'c> {
    fn from(conn: &'c PgConn) -> Self {
        Conn::Postgres(conn)
    }
}

/// A value bound to a placeholder. Text adapts on PostgreSQL to the type
/// the server inferred for the placeholder (uuid, timestamptz, ...), so the
/// rules bind ids and Django datetime text alike on both backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
}

/// What a `params!` argument may be.
pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

impl ToValue for Value<'_> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Value::Text(t) => Value::Text(Cow::Borrowed(t)),
            Value::Null => Value::Null,
            Value::Int(i) => Value::Int(*i),
            Value::Real(f) => Value::Real(*f),
        }
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_values!(i64, i32, u32, usize, u64);
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

/// `params![a, b, c]`: the values of `?1`, `?2`, `?3`, as `&[Value]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::sql::Value<'_>] };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::sql::ToValue::to_value(&$x)),+] as &[$crate::sql::Value<'_>]
    };
}
pub use crate::params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

/// One row of a result, read the same way on both backends.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r ::postgres::Row),
}

/// A type a column can be read as: `i64`, `bool`, `String`, `f64`, and
/// `Option` of them (NULL as `None`). On PostgreSQL a uuid reads as its 32
/// hex digits, a timestamptz as Django's UTC text, a boolean as 0/1 too.
pub trait FromColumn: Sized {
    fn from_value(value: Value<'_>) -> Result<Self>;
}

impl FromColumn for i64 {
    fn from_value(value: Value<'_>) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(i),
            other => bail!("expected an integer, found {other:?}"),
        }
    }
}
impl FromColumn for bool {
    fn from_value(value: Value<'_>) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(i != 0),
            other => bail!("expected a boolean, found {other:?}"),
        }
    }
}
impl FromColumn for f64 {
    fn from_value(value: Value<'_>) -> Result<Self> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => bail!("expected a number, found {other:?}"),
        }
    }
}
impl FromColumn for String {
    fn from_value(value: Value<'_>) -> Result<Self> {
        match value {
            Value::Text(t) => Ok(t.into_owned()),
            other => bail!("expected text, found {other:?}"),
        }
    }
}
impl<T: FromColumn> FromColumn for Option<T> {
    fn from_value(value: Value<'_>) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Row<'_> {
    /// How many columns the row has.
    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Postgres(r) => r.len(),
        }
    }

    /// Column `i` as `T` (see [`FromColumn`]). On SQLite this is
    /// rusqlite's own typed read.
    pub fn get<T: FromColumn + rusqlite::types::FromSql>(&self, i: usize) -> Result<T> {
        match self {
            Row::Sqlite(r) => Ok(r.get::<_, T>(i)?),
            Row::Postgres(r) => T::from_value(postgres::column_value(r, i)?),
        }
    }

    /// Column `i` as it is, whatever its type: for readers that tolerate
    /// odd data (a blob title, a number where text belongs).
    pub fn value(&self, i: usize) -> Result<Value<'_>> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t)),
            }),
            Row::Postgres(r) => postgres::column_value(r, i),
        }
    }

    /// Text of any value ('' for NULL): odd data is shown, never fatal.
    pub fn text(&self, i: usize) -> Result<String> {
        Ok(match self.value(i)? {
            Value::Null => String::new(),
            Value::Int(n) => n.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(t) => t.into_owned(),
        })
    }

    /// [`Row::text`], NULL as `None`.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(match self.value(i)? {
            Value::Null => None,
            _ => Some(self.text(i)?),
        })
    }

    /// An integer from any value (0 when unreadable).
    pub fn int(&self, i: usize) -> Result<i64> {
        Ok(match self.value(i)? {
            Value::Int(n) => n,
            Value::Real(f) => f as i64,
            Value::Text(t) => t.trim().parse().unwrap_or(0),
            Value::Null => 0,
        })
    }

    /// A boolean from any value: 1, "1", "true", "t" are true.
    pub fn flag(&self, i: usize) -> Result<bool> {
        Ok(match self.value(i)? {
            Value::Text(t) => matches!(&*t, "1" | "true" | "True" | "t"),
            Value::Int(n) => n != 0,
            Value::Real(f) => f as i64 != 0,
            Value::Null => false,
        })
    }
}

impl<'c> Conn<'c> {
    pub fn dialect(self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    pub fn is_postgres(self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// The SQLite connection, for code not yet written for both backends:
    /// on PostgreSQL an error saying what is not supported there yet.
    pub fn sqlite(self, what: &str) -> Result<&'c rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Ok(c),
            Conn::Postgres(_) => Err(anyhow!("not yet supported on PostgreSQL: {what}")),
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(self, sql: &str, params: &[Value<'_>]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params))?),
            Conn::Postgres(c) => c.execute(sql, params),
        }
    }

    /// Runs several data-changing statements (`INSERT`, `UPDATE`,
    /// `DELETE`, none with its own `RETURNING`) that share one parameter
    /// list (each uses some of `?1`..`?N`, every one used by at least one);
    /// the number of rows each changed, in order. Each must change rows of
    /// its own and read nothing an earlier one changes: on SQLite they run
    /// one after the other; on PostgreSQL as one statement (each a
    /// data-modifying `WITH` of it: one round trip, one prepared plan), so
    /// all see the database as it was before them, and a row two of them
    /// change is changed by one only.
    pub fn execute_together(
        self,
        statements: &[String],
        params: &[Value<'_>],
    ) -> Result<Vec<usize>> {
        match self {
            // Each bound with the parameters up to the highest it names.
            Conn::Sqlite(c) => statements
                .iter()
                .map(|sql| {
                    let mut stmt = c.prepare_cached(sql)?;
                    let used = stmt.parameter_count().min(params.len());
                    Ok(stmt.execute(rusqlite::params_from_iter(&params[..used]))?)
                })
                .collect(),
            Conn::Postgres(c) => {
                if statements.is_empty() {
                    return Ok(Vec::new());
                }
                let with: Vec<String> = statements
                    .iter()
                    .enumerate()
                    .map(|(i, sql)| format!("s{i} AS ({sql} RETURNING 1)"))
                    .collect();
                let counts: Vec<String> = (0..statements.len())
                    .map(|i| format!("(SELECT count(*) FROM s{i})"))
                    .collect();
                let sql = format!("WITH {} SELECT {}", with.join(", "), counts.join(", "));
                let rows = c.query(&sql, params)?;
                let row = rows.first().ok_or(NoRows)?;
                (0..statements.len())
                    .map(|i| Ok(row.try_get::<_, i64>(i)? as usize))
                    .collect()
            }
        }
    }

    /// Runs statements separated by `;`, with no parameters (schema changes).
    pub fn execute_batch(self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(c) => c.batch_execute(sql),
        }
    }

    /// Views of the session (`(name, body)`): on SQLite TEMP views (made
    /// at once, nothing written to the file); on PostgreSQL the bodies are
    /// written into each statement that names them (see
    /// [`PgConn::define_views`]): no catalog change, no round trip. A
    /// statement names such a view with an alias (`FROM name alias`).
    pub fn define_views(self, views: &[(String, String)]) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let batch: String = views
                    .iter()
                    .map(|(name, body)| {
                        format!(
                            "DROP VIEW IF EXISTS temp.{name}; CREATE TEMP VIEW {name} AS {body};"
                        )
                    })
                    .collect();
                Ok(c.execute_batch(&batch)?)
            }
            Conn::Postgres(c) => {
                c.define_views(views);
                Ok(())
            }
        }
    }

    /// Every row of a statement without parameters, each value as text
    /// (NULL as `None`): on PostgreSQL one round trip, nothing prepared.
    pub fn query_text(self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        match self {
            Conn::Sqlite(_) => self.query_map(sql, params![], |r| {
                (0..r.column_count())
                    .map(|i| r.opt_text(i))
                    .collect::<Result<Vec<_>>>()
            }),
            Conn::Postgres(c) => c.simple_rows(sql),
        }
    }

    /// The first row, read by `f`; an error when there is none.
    pub fn query_row<T>(
        self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        match self.query_opt(sql, params, f)? {
            Some(t) => Ok(t),
            None => Err(anyhow::Error::new(NoRows)),
        }
    }

    /// The first row, read by `f`, or `None` when there is none.
    pub fn query_opt<T>(
        self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)).map(Some),
                    None => Ok(None),
                }
            }
            Conn::Postgres(c) => {
                let rows = c.query(sql, params)?;
                match rows.first() {
                    Some(r) => f(&Row::Postgres(r)).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Every row, each read by `f`.
    pub fn query_map<T>(
        self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Conn::Postgres(c) => {
                let rows = c.query(sql, params)?;
                rows.iter().map(|r| f(&Row::Postgres(r))).collect()
            }
        }
    }

    /// Every row, each handed to `f` as it is read, none kept: for scans
    /// of a whole table (every attachment's image) that would not fit in
    /// memory as a `Vec`. `f` must not use the connection.
    pub fn for_each(
        self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Postgres(c) => c.for_each(sql, params, |r| f(&Row::Postgres(r))),
        }
    }

    /// `INSERT ... RETURNING id` on both backends: the new row's id.
    pub fn insert_returning_id(self, sql: &str, params: &[Value<'_>]) -> Result<i64> {
        let sql = format!("{sql} RETURNING id");
        self.query_row(&sql, params, |r| r.get(0))
    }

    /// A change marker: differs after another connection commits (SQLite's
    /// `data_version`; PostgreSQL's snapshot of running transactions).
    /// Cheap enough to poll.
    pub fn change_marker(self) -> Result<String> {
        match self {
            Conn::Sqlite(c) => Ok(c
                .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))?
                .to_string()),
            // The server's snapshot (oldest running, next and running
            // transaction ids) changes only when a transaction that wrote
            // begins or ends, here or in another database of the server:
            // never on a read, so the console's own reads never make it
            // refresh again. The WAL position, by contrast, also moves on
            // reads that prune pages and on checkpoints.
            Conn::Postgres(c) => {
                let rows = c.query("SELECT pg_current_snapshot()::text", &[])?;
                let row = rows.first().ok_or(NoRows)?;
                Row::Postgres(row).text(0)
            }
        }
    }

    /// A transaction: BEGIN now, ROLLBACK on drop unless committed. A
    /// write transaction on SQLite is `BEGIN IMMEDIATE` (the busy timeout
    /// applies to taking the write lock, not half-way); on PostgreSQL it
    /// sets a `lock_timeout` of `wait`, so a row lock held by the web app
    /// is waited for only that long. A read transaction on PostgreSQL is
    /// one snapshot (REPEATABLE READ).
    pub fn begin(self, kind: TxKind, wait: Duration) -> Result<Tx<'c>> {
        self.begin_then(kind, wait, None)
    }

    /// [`Conn::begin`], then `first` (statements without parameters) run
    /// in the transaction, in the same round trip on PostgreSQL.
    pub fn begin_then(self, kind: TxKind, wait: Duration, first: Option<&str>) -> Result<Tx<'c>> {
        let begin = match (self, kind) {
            (Conn::Sqlite(_), TxKind::Write) => "BEGIN IMMEDIATE".to_string(),
            (Conn::Sqlite(_), TxKind::Read) => "BEGIN DEFERRED".to_string(),
            (Conn::Postgres(_), TxKind::Write) => {
                format!(
                    "BEGIN; SET LOCAL lock_timeout = {}",
                    wait.as_millis().max(1)
                )
            }
            (Conn::Postgres(_), TxKind::Read) => "BEGIN ISOLATION LEVEL REPEATABLE READ".into(),
        };
        let sql = match first {
            Some(first) => format!("{begin}; {first}"),
            None => begin,
        };
        if let Err(err) = self.execute_batch(&sql) {
            // The BEGIN may have run before `first` failed.
            if first.is_some() {
                let _ = self.execute_batch("ROLLBACK");
            }
            return Err(err);
        }
        Ok(Tx {
            conn: self,
            done: false,
            before_commit: None,
        })
    }
}

/// `query_row` found no row.
#[derive(Debug)]
pub struct NoRows;

impl std::fmt::Display for NoRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("query returned no rows")
    }
}

impl std::error::Error for NoRows {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    Read,
    Write,
}

/// An open transaction: rolled back when dropped without [`Tx::commit`].
/// Reads and writes go through [`Tx::conn`].
pub struct Tx<'c> {
    conn: Conn<'c>,
    done: bool,
    /// Asked before the commit; an error rolls back instead.
    before_commit: Option<Box<dyn Fn() -> Result<()>>>,
}

impl<'c> Tx<'c> {
    pub fn conn(&self) -> Conn<'c> {
        self.conn
    }

    /// This transaction, with `check` asked before it commits: when it
    /// fails, the commit fails with its error and everything is rolled
    /// back (`Db::write_tx`: the database file is still the one at its
    /// path).
    pub fn checked_before_commit(mut self, check: Box<dyn Fn() -> Result<()>>) -> Tx<'c> {
        self.before_commit = Some(check);
        self
    }

    fn check_before_commit(&self) -> Result<()> {
        match &self.before_commit {
            Some(check) => check(),
            None => Ok(()),
        }
    }

    /// Commits; a commit that fails (a lock, a full disk) rolls back when
    /// the guard drops, so no lock outlives it.
    pub fn commit(mut self) -> Result<()> {
        self.check_before_commit()?;
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }

    /// Commits without waiting for the disk where that is the server's
    /// choice: on PostgreSQL with `synchronous_commit` off for this
    /// transaction, so the commit is visible at once but a crash of the
    /// server may undo it (all of it, never half) until the next commit
    /// that waits, which makes it durable too (the log is written in
    /// order). On SQLite an ordinary commit. For work that is only acted on
    /// outside the database after such a waiting commit.
    pub fn commit_without_waiting(mut self) -> Result<()> {
        self.check_before_commit()?;
        match self.conn {
            Conn::Sqlite(_) => self.conn.execute_batch("COMMIT")?,
            Conn::Postgres(c) => c.batch_execute("SET LOCAL synchronous_commit = off; COMMIT")?,
        }
        self.done = true;
        Ok(())
    }

    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")
    }

    /// A savepoint inside this transaction: released by
    /// [`Savepoint::release`], rolled back to when dropped.
    pub fn savepoint(&self) -> Result<Savepoint<'c>> {
        Savepoint::new(self.conn)
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A savepoint: what was done since it is undone on drop unless released.
pub struct Savepoint<'c> {
    conn: Conn<'c>,
    done: bool,
}

impl<'c> Savepoint<'c> {
    pub fn new(conn: Conn<'c>) -> Result<Savepoint<'c>> {
        conn.execute_batch("SAVEPOINT modcon_sp")?;
        Ok(Savepoint { conn, done: false })
    }

    pub fn conn(&self) -> Conn<'c> {
        self.conn
    }

    pub fn release(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE SAVEPOINT modcon_sp")
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO SAVEPOINT modcon_sp; RELEASE SAVEPOINT modcon_sp");
        }
    }
}

/// Whether `--db` names a PostgreSQL server rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// How a database is named to the user: a path as it is, a URL without
/// its password.
pub fn shown_location(location: &str) -> String {
    if is_postgres_url(location) {
        postgres::redact(location)
    } else {
        location.to_string()
    }
}

/// The database in a few words, for a status line: the file's name, or
/// `host/dbname` on a server (never a password).
pub fn short_location(location: &str) -> String {
    if is_postgres_url(location) {
        return postgres::short_name(location);
    }
    std::path::Path::new(location)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| location.to_string())
}

/// `?N` placeholders as `$N`, and bare `?` numbered in order, outside
/// quoted text and names: the one translation of the SQL the rules write.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next = 1;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                    next += 1;
                }
                out.push('$');
                out.push_str(&digits);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes_only() {
        assert_eq!(
            numbered_placeholders("SELECT ?1, '?2', \"a?\" FROM t WHERE a = ?12 AND b = ?"),
            "SELECT $1, '?2', \"a?\" FROM t WHERE a = $12 AND b = $1"
        );
        assert_eq!(
            numbered_placeholders("a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(numbered_placeholders("x = 'it''s ?'"), "x = 'it''s ?'");
    }

    #[test]
    fn values_bind_on_sqlite_and_read_back() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let c = Conn::from(&conn);
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c REAL)")
            .unwrap();
        let text = String::from("x");
        let none: Option<&str> = None;
        c.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![7, text, 1.5])
            .unwrap();
        c.execute("INSERT INTO t VALUES (?1, ?2, NULL)", params![true, none])
            .unwrap();
        let rows = c
            .query_map("SELECT a, b, c FROM t ORDER BY a DESC", params![], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<Option<f64>>(2)?,
                ))
            })
            .unwrap();
        assert_eq!(
            rows,
            vec![(7, Some("x".into()), Some(1.5)), (1, None, None)]
        );
        assert!(
            c.query_opt("SELECT a FROM t WHERE a = 99", params![], |r| r
                .get::<i64>(0))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_transaction_not_committed_is_rolled_back() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let c = Conn::from(&conn);
        c.execute_batch("CREATE TABLE t (a INTEGER)").unwrap();
        {
            let tx = c.begin(TxKind::Write, Duration::from_secs(1)).unwrap();
            tx.conn()
                .execute("INSERT INTO t VALUES (1)", params![])
                .unwrap();
            {
                let sp = tx.savepoint().unwrap();
                sp.conn()
                    .execute("INSERT INTO t VALUES (2)", params![])
                    .unwrap();
            }
        }
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        let tx = c.begin(TxKind::Write, Duration::from_secs(1)).unwrap();
        tx.conn()
            .execute("INSERT INTO t VALUES (1)", params![])
            .unwrap();
        let sp = tx.savepoint().unwrap();
        sp.conn()
            .execute("INSERT INTO t VALUES (2)", params![])
            .unwrap();
        drop(sp);
        tx.commit().unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_commit_that_fails_rolls_back_and_leaves_no_transaction_open() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let c = Conn::from(&conn);
        c.execute_batch(
            "PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY); \
             CREATE TABLE k (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .unwrap();
        let tx = c.begin(TxKind::Write, Duration::from_secs(1)).unwrap();
        tx.conn()
            .execute("INSERT INTO k VALUES (7)", params![])
            .unwrap();
        assert!(
            tx.commit().is_err(),
            "the deferred foreign key fails COMMIT"
        );
        assert!(conn.is_autocommit(), "the transaction was rolled back");
        let n: i64 = c
            .query_row("SELECT count(*) FROM k", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // And the next transaction begins.
        c.begin(TxKind::Write, Duration::from_secs(1))
            .unwrap()
            .commit()
            .unwrap();
    }
}
