//! The PostgreSQL side of [`super::Conn`]: connecting from a URL (password
//! from the URL, `PGPASSWORD` or `~/.pgpass`), statements prepared once per
//! SQL text, and values converted between Django's types there (uuid,
//! boolean, timestamptz) and the forms the core works with (32 hex digits,
//! 0/1, Django's UTC datetime text).

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use bytes::BytesMut;
use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::percent_decode_str;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls, Statement};

use super::{Value, numbered_placeholders};
use crate::model;

/// A PostgreSQL session and the statements prepared on it.
pub struct PgConn {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    /// The session's views (see [`PgConn::define_views`]): name and body.
    views: RefCell<Vec<(String, String)>>,
    location: String,
}

/// Every row of a simple query, each value as the server's text.
pub type TextRows = Vec<Vec<Option<String>>>;

/// What every session sets first. Django's session time zone: times the
/// server shows or takes as text are UTC. No JIT compilation: the console's
/// statements are short, but their many subqueries (a row's deletion time,
/// its state) make their estimated cost look like an analytic query's, and
/// compiling them took seconds (a page of threads: 4.8 s to compile, 15 ms
/// to run). No parallel workers: the console is a guest beside the web
/// app, its lanes already run side by side, and workers competing for the
/// same cores made the counts twice as slow on a busy server, never faster.
const SESSION_SETTINGS: &str =
    "SET TIME ZONE 'UTC'; SET jit = off; SET max_parallel_workers_per_gather = 0";

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgConn({})", self.location)
    }
}

impl PgConn {
    /// Connects to the database a `postgres://` URL names, with nothing set
    /// up yet. Errors name the server without the password.
    fn session(url: &str) -> Result<PgConn> {
        let shown = redact(url);
        // Every mode that insists on TLS (the client knows only `require`).
        if let Some(mode) = url_parts(url)
            .and_then(|(_, _, _, tail)| tail.split_once('?'))
            .and_then(|(_, query)| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("sslmode="))
                    .filter(|m| matches!(*m, "require" | "verify-ca" | "verify-full"))
            })
        {
            bail!(
                "{shown}: sslmode={mode} asks for TLS, which this build of modcon does not \
                 include; connect over a local socket or an SSH tunnel, or use sslmode=prefer"
            );
        }
        let mut config = Config::from_str(url)
            .map_err(|e| anyhow!("{shown}: not a valid PostgreSQL URL: {}", scrub(&e, url)))?;
        if config.get_password().is_none()
            && let Some(password) = password_from_environment(&config)
        {
            config.password(password);
        }
        config.application_name("modcon");
        let client = config
            .connect(NoTls)
            .map_err(|e| anyhow!("{shown}: cannot connect to PostgreSQL: {}", scrub(&e, url)))?;
        Ok(PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            views: RefCell::new(Vec::new()),
            location: shown,
        })
    }

    /// Connects (see [`PgConn::session`]) and sets the session up.
    pub fn connect(url: &str) -> Result<PgConn> {
        let pg = PgConn::session(url)?;
        pg.simple_rows(SESSION_SETTINGS)
            .with_context(|| pg.location.clone())?;
        Ok(pg)
    }

    /// Connects, sets the session up and runs `statements` (none with
    /// parameters; `;` between them) in the same round trip: the rows of
    /// every one of them, as text (an error is the caller's to put in
    /// words). An open asks everything it can before it knows anything
    /// this way: each round trip counts for a command that runs for a
    /// fraction of a second.
    pub fn connect_and_ask(url: &str, statements: &str) -> Result<(PgConn, Result<TextRows>)> {
        let pg = PgConn::session(url)?;
        let rows = pg.simple_rows(&format!("{SESSION_SETTINGS}; {statements}"));
        Ok((pg, rows))
    }

    /// Every row of `sql` (statements without parameters, `;` between
    /// them), each value as the server's text: one round trip, nothing
    /// prepared.
    pub fn simple_rows(&self, sql: &str) -> Result<TextRows> {
        use postgres::SimpleQueryMessage;
        let sql = self.with_views(sql);
        let messages = self
            .client
            .borrow_mut()
            .simple_query(&sql)
            .map_err(|e| pg_error(e, &sql))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// Named subqueries every later statement of the session reads as if
    /// they were views: each `FROM name alias` is written `FROM (body)
    /// alias` before the statement goes to the server (a reference needs
    /// its alias). The server plans a view exactly so; but a temporary view
    /// is made in the catalog, which took a new session ~10 ms (and a
    /// commit that waits for the disk), paid by every command, a read-only
    /// one too.
    pub fn define_views(&self, views: &[(String, String)]) {
        *self.views.borrow_mut() = views.to_vec();
        self.statements.borrow_mut().clear();
    }

    /// `sql` with the session's views written in.
    fn with_views(&self, sql: &str) -> String {
        let views = self.views.borrow();
        let mut sql = sql.to_string();
        for (name, body) in views.iter() {
            sql = replace_name(&sql, name, &format!("({body})"));
        }
        sql
    }

    /// The URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let translated = numbered_placeholders(&self.with_views(sql));
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&translated)
            .map_err(|e| pg_error(e, &translated))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let n = self
            .client
            .borrow_mut()
            .execute(&stmt, &args)
            .map_err(|e| pg_error(e, sql))?;
        Ok(n as usize)
    }

    pub fn query(&self, sql: &str, params: &[Value<'_>]) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        self.client
            .borrow_mut()
            .query(&stmt, &args)
            .map_err(|e| pg_error(e, sql))
    }

    /// Every row of a query, one at a time as the server sends them
    /// (not gathered in memory first): for scans of a whole table.
    pub fn for_each(
        &self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let stmt = self.statement(sql)?;
        let args: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let mut client = self.client.borrow_mut();
        let mut rows = client
            .query_raw(&stmt, args)
            .map_err(|e| pg_error(e, sql))?;
        while let Some(row) = rows.next().map_err(|e| pg_error(e, sql))? {
            f(&row)?;
        }
        Ok(())
    }

    /// `COPY ... FROM STDIN`: `write` writes the rows (PostgreSQL's text
    /// format); the number of rows copied.
    pub fn copy_in(
        &self,
        statement: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
    ) -> Result<u64> {
        let mut client = self.client.borrow_mut();
        let mut writer = client
            .copy_in(statement)
            .map_err(|e| pg_error(e, statement))?;
        write(&mut writer)?;
        writer.finish().map_err(|e| pg_error(e, statement))
    }

    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        // A schema change may change what a prepared statement returns;
        // BEGIN, COMMIT and SET keep them.
        let upper = sql.to_ascii_uppercase();
        if ["CREATE ", "ALTER ", "DROP "]
            .iter()
            .any(|w| upper.contains(w))
        {
            self.statements.borrow_mut().clear();
        }
        let sql = self.with_views(sql);
        self.client
            .borrow_mut()
            .batch_execute(&sql)
            .map_err(|e| pg_error(e, &sql))
    }
}

/// `sql` with every use of the name `name` (not part of a longer name, nor
/// qualified by a schema) replaced by `with`.
fn replace_name(sql: &str, name: &str, with: &str) -> String {
    let in_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '"';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(in_name) || after.is_some_and(in_name) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

/// A PostgreSQL error with the server's message (and where it points in
/// the statement), rather than the client's bare "db error".
fn pg_error(e: postgres::Error, sql: &str) -> anyhow::Error {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_string();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            let short: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = short.chars().take(300).collect();
            anyhow::Error::new(e).context(format!("{text} [in: {short}]"))
        }
        None => anyhow::Error::new(e),
    }
}

/// An error's text with the URL's password taken out, should the client
/// ever echo it.
fn scrub(e: &dyn StdError, url: &str) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = s.source();
    }
    let mut passwords = passwords_in_url(url);
    // The longest first, so a password holding another is taken whole.
    passwords.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in passwords.iter().filter(|p| !p.is_empty()) {
        text = text.replace(p.as_str(), "***");
    }
    text
}

/// The URL after its scheme, split as the client splits it: the user part
/// is everything before the first `@` (so a password holding `/`, `?` or
/// `#` unencoded is still taken whole), then the hosts, then the rest.
fn url_parts(url: &str) -> Option<(&str, Option<&str>, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let (userinfo, rest) = match rest.split_once('@') {
        Some((userinfo, rest)) => (Some(userinfo), rest),
        None => (None, rest),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hosts, tail) = rest.split_at(end);
    Some((scheme, userinfo, hosts, tail))
}

/// Whether a `key=value` of the URL's query sets the password (the
/// client decodes the key before it looks at it).
fn is_password_param(kv: &str) -> bool {
    let key = kv.split('=').next().unwrap_or("");
    percent_decode_str(key).decode_utf8_lossy() == "password"
}

/// Every form the URL's password may be shown in: as written and decoded,
/// from the user part and from a `password=` parameter.
fn passwords_in_url(url: &str) -> Vec<String> {
    let Some((_, userinfo, _, tail)) = url_parts(url) else {
        return Vec::new();
    };
    let mut written: Vec<&str> = Vec::new();
    if let Some((_, password)) = userinfo.and_then(|u| u.split_once(':')) {
        written.push(password);
    }
    if let Some((_, query)) = tail.split_once('?') {
        written.extend(
            query
                .split('&')
                .filter(|kv| is_password_param(kv))
                .filter_map(|kv| kv.split_once('=').map(|(_, v)| v)),
        );
    }
    let mut all = Vec::new();
    for p in written {
        all.push(p.to_string());
        all.push(percent_decode_str(p).decode_utf8_lossy().into_owned());
    }
    all
}

/// The database as the console's status line names it: `host/dbname`
/// (`host:port/dbname` off the default port, `local/dbname` over a
/// socket). Never the user or a password.
pub fn short_name(url: &str) -> String {
    let Ok(config) = Config::from_str(url) else {
        // Not a URL the client takes: the shown URL without its scheme
        // and user part.
        let shown = redact(url);
        let rest = shown.split_once("://").map_or(shown.as_str(), |(_, r)| r);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let host = rest[..end]
            .rsplit_once('@')
            .map_or(&rest[..end], |(_, h)| h);
        return format!("{host}{}", &rest[end..]);
    };
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(_)) => "local".to_string(),
        None => "local".to_string(),
    };
    let host = match config.get_ports().first() {
        Some(&port) if port != 5432 => format!("{host}:{port}"),
        _ => host,
    };
    let dbname = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}/{dbname}")
}

/// The URL as it may be shown: no password in the user part, no
/// `password=` parameter.
pub fn redact(url: &str) -> String {
    let Some((scheme, userinfo, hosts, tail)) = url_parts(url) else {
        return url.to_string();
    };
    let authority = match userinfo {
        Some(userinfo) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{hosts}")
        }
        None => hosts.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !is_password_param(kv))
                .collect();
            if kept.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `PGPASSWORD`, else the first matching line of `PGPASSFILE` or
/// `~/.pgpass` (`host:port:database:user:password`, `*` matching anything,
/// `\` escaping `:` and `\`), as libpq reads them.
fn password_from_environment(config: &Config) -> Option<String> {
    if let Ok(p) = std::env::var("PGPASSWORD") {
        return Some(p);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or("").to_string();
    let dbname = config.get_dbname().unwrap_or(&user).to_string();
    pgpass_lookup(&text, &host, &port, &dbname, &user)
}

fn pgpass_lookup(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        field.push(next);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() != 5 {
            continue;
        }
        let wanted = [host, port, db, user];
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

/// Column `i` as the core sees it: uuid as 32 hex digits, timestamptz as
/// Django's UTC text, boolean as 0/1, every integer as `Int`.
pub(super) fn column_value(row: &postgres::Row, i: usize) -> Result<Value<'static>> {
    let ty = row
        .columns()
        .get(i)
        .with_context(|| format!("no column {i}"))?
        .type_()
        .clone();
    let text = |s: Option<String>| s.map(|s| Value::Text(s.into())).unwrap_or(Value::Null);
    let v = match PgType::of(&ty) {
        PgType::Bool => row
            .try_get::<_, Option<bool>>(i)?
            .map(|b| Value::Int(i64::from(b)))
            .unwrap_or(Value::Null),
        PgType::Int2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|n| Value::Int(n.into()))
            .unwrap_or(Value::Null),
        PgType::Int4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|n| Value::Int(n.into()))
            .unwrap_or(Value::Null),
        PgType::Int8 => row
            .try_get::<_, Option<i64>>(i)?
            .map(Value::Int)
            .unwrap_or(Value::Null),
        PgType::Float4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|n| Value::Real(n.into()))
            .unwrap_or(Value::Null),
        PgType::Float8 => row
            .try_get::<_, Option<f64>>(i)?
            .map(Value::Real)
            .unwrap_or(Value::Null),
        PgType::Uuid => text(
            row.try_get::<_, Option<uuid::Uuid>>(i)?
                .map(|u| u.simple().to_string()),
        ),
        PgType::Timestamptz => text(
            row.try_get::<_, Option<DateTime<Utc>>>(i)?
                .map(|t| model::format_datetime(t.naive_utc())),
        ),
        PgType::Timestamp => text(
            row.try_get::<_, Option<NaiveDateTime>>(i)?
                .map(model::format_datetime),
        ),
        _ => text(row.try_get::<_, Option<String>>(i).with_context(|| {
            format!(
                "column {} of type {ty} cannot be read as text",
                row.columns()[i].name()
            )
        })?),
    };
    Ok(v)
}

/// The column and parameter types the core meets, told apart by oid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Uuid,
    Timestamptz,
    Timestamp,
    Other,
}

impl PgType {
    fn of(ty: &Type) -> PgType {
        let known = [
            (Type::BOOL, PgType::Bool),
            (Type::INT2, PgType::Int2),
            (Type::INT4, PgType::Int4),
            (Type::INT8, PgType::Int8),
            (Type::FLOAT4, PgType::Float4),
            (Type::FLOAT8, PgType::Float8),
            (Type::UUID, PgType::Uuid),
            (Type::TIMESTAMPTZ, PgType::Timestamptz),
            (Type::TIMESTAMP, PgType::Timestamp),
        ];
        known
            .into_iter()
            .find(|(t, _)| t == ty)
            .map(|(_, k)| k)
            .unwrap_or(PgType::Other)
    }
}

fn parse_uuid(text: &str) -> Result<uuid::Uuid, Box<dyn StdError + Sync + Send>> {
    Ok(uuid::Uuid::parse_str(text.trim())?)
}

fn parse_time(text: &str) -> Result<NaiveDateTime, Box<dyn StdError + Sync + Send>> {
    model::parse_datetime(text).ok_or_else(|| format!("not a datetime: {text:?}").into())
}

/// Values adapt to the type PostgreSQL inferred for their placeholder.
impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match PgType::of(ty) {
                PgType::Bool => (*n != 0).to_sql(ty, out),
                PgType::Int2 => i16::try_from(*n)?.to_sql(ty, out),
                PgType::Int4 => i32::try_from(*n)?.to_sql(ty, out),
                PgType::Int8 => n.to_sql(ty, out),
                PgType::Float4 => (*n as f32).to_sql(ty, out),
                PgType::Float8 => (*n as f64).to_sql(ty, out),
                _ => n.to_string().as_str().to_sql(ty, out),
            },
            Value::Real(f) => match PgType::of(ty) {
                PgType::Float4 => (*f as f32).to_sql(ty, out),
                PgType::Int8 => (*f as i64).to_sql(ty, out),
                PgType::Int4 => (*f as i32).to_sql(ty, out),
                PgType::Float8 => f.to_sql(ty, out),
                _ => f.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(t) => match PgType::of(ty) {
                PgType::Uuid => parse_uuid(t)?.to_sql(ty, out),
                PgType::Timestamptz => parse_time(t)?.and_utc().to_sql(ty, out),
                PgType::Timestamp => parse_time(t)?.to_sql(ty, out),
                PgType::Bool => matches!(t.trim(), "1" | "t" | "true" | "True").to_sql(ty, out),
                PgType::Int2 => t.trim().parse::<i16>()?.to_sql(ty, out),
                PgType::Int4 => t.trim().parse::<i32>()?.to_sql(ty, out),
                PgType::Int8 => t.trim().parse::<i64>()?.to_sql(ty, out),
                PgType::Float8 => t.trim().parse::<f64>()?.to_sql(ty, out),
                _ => t.as_ref().to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_written_in_where_its_name_is_used_alone() {
        let sql = "SELECT 1 FROM modcon_post_removal mr, x.modcon_post_removal q, \
                   modcon_post_removal_old o, \"modcon_post_removal\" z \
                   WHERE EXISTS (SELECT 1 FROM modcon_post_removal lr)";
        assert_eq!(
            replace_name(sql, "modcon_post_removal", "(SELECT 2)"),
            "SELECT 1 FROM (SELECT 2) mr, x.modcon_post_removal q, \
             modcon_post_removal_old o, \"modcon_post_removal\" z \
             WHERE EXISTS (SELECT 1 FROM (SELECT 2) lr)"
        );
    }

    #[test]
    fn the_short_name_is_host_and_database() {
        for (url, shown) in [
            (
                "postgres://mod:secret@db.example.org/forum",
                "db.example.org/forum",
            ),
            (
                "postgresql://mod:secret@localhost:5433/forum?sslmode=prefer",
                "localhost:5433/forum",
            ),
            ("postgres://localhost:5432/forum", "localhost/forum"),
            ("postgres:///forum?host=/var/run/postgresql", "local/forum"),
            // Not taken by the client: still no user or password.
            (
                "postgres://mod:secret@db.example/forum?no_such_option=1",
                "db.example/forum?no_such_option=1",
            ),
        ] {
            assert_eq!(short_name(url), shown, "{url}");
        }
    }

    #[test]
    fn a_shown_url_has_no_password() {
        assert_eq!(
            redact("postgres://mod:s3cret@db.example:5433/forum?sslmode=prefer&password=x"),
            "postgres://mod@db.example:5433/forum?sslmode=prefer"
        );
        assert_eq!(
            redact("postgresql://localhost/forum"),
            "postgresql://localhost/forum"
        );
        assert_eq!(
            passwords_in_url("postgres://mod:s3cret@h/db"),
            ["s3cret", "s3cret"]
        );
        // A password the client takes whole although it holds `/`, `?`,
        // `#` or `@` unencoded, or is given encoded or as a parameter.
        for url in [
            "postgres://mod:s3/cret@h/db",
            "postgres://mod:s3?cret@h/db",
            "postgres://mod:s3#cret@h/db?sslmode=prefer",
            "postgresql://mod:s3:cret@h:5433,h2/db",
            "postgres://mod@h/db?sslmode=prefer&password=s3cret",
            "postgres://mod@h/db?pass%77ord=s3cret",
            "postgres://mod:s3%2Fcret@h/db",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("cret"), "{url}: {shown}");
            assert!(shown.contains("mod@h"), "{url}: {shown}");
            let config = Config::from_str(url).unwrap();
            let password = String::from_utf8_lossy(config.get_password().unwrap()).into_owned();
            assert!(
                passwords_in_url(url).contains(&password),
                "{url}: {password} not among {:?}",
                passwords_in_url(url)
            );
        }
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:mod:no\nlocalhost:*:forum:mod:a\\:b\n*:*:*:*:any\n";
        assert_eq!(
            pgpass_lookup(text, "localhost", "5432", "forum", "mod").as_deref(),
            Some("a:b")
        );
        assert_eq!(
            pgpass_lookup(text, "h", "1", "d", "u").as_deref(),
            Some("any")
        );
    }
}
