//! Throwaway PostgreSQL databases for tests: each test makes its own
//! (a random name), loaded from the Django-made `pg.sql` fixture or empty,
//! and drops it when done. The server is `MODCON_TEST_PG` (a URL whose
//! role may create databases), by default the one `.ci/run` sets up.
//! PostgreSQL not running is a failure that says how to start it, never a
//! skipped test.

use std::io::Write;
use std::path::{Path, PathBuf};

use postgres::{Client, NoTls};

use super::fixture_dir;

pub const DEFAULT_SERVER: &str = "postgres://modcon:modcon@localhost:5432/postgres";

/// The server tests use.
pub fn server_url() -> String {
    std::env::var("MODCON_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

/// A connection to the server's maintenance database, or a panic that says
/// how to get one.
pub fn admin() -> Client {
    let url = server_url();
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL for the tests at {url} ({e}).\n\
             Start it and create the test role (as root):\n  \
             pg_ctlcluster 15 main start\n  \
             su postgres -c \"psql -c \\\"CREATE ROLE modcon LOGIN CREATEDB CREATEROLE PASSWORD 'modcon'\\\"\"\n\
             or point MODCON_TEST_PG at a server whose role may create databases and roles \
             (`.ci/run` does all this)."
        )
    })
}

/// The URL of database `name` on the test server.
fn url_of(name: &str) -> String {
    let server = server_url();
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|j| j + 2).unwrap_or(0) => base[..i].to_string(),
        _ => base,
    };
    format!("{base}/{name}{query}")
}

/// A database of its own for one test, dropped on drop.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    /// An empty database.
    pub fn empty() -> PgDb {
        let name = format!(
            "modcon_test_{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..16)
                .unwrap_or("x")
        );
        admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = url_of(&name);
        PgDb { name, url }
    }

    /// The Django-made fixture, as `pg.sql` holds it.
    pub fn fixture() -> PgDb {
        let db = PgDb::empty();
        db.load(&fixture_dir().join("pg.sql"));
        db
    }

    /// A new connection to this database (the web app's, in a test).
    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }

    /// Runs a plain `pg_dump` file: SQL statements and `COPY ... FROM
    /// stdin` blocks (psql's `\` meta-commands are skipped).
    pub fn load(&self, file: &Path) {
        let text = std::fs::read_to_string(file).unwrap();
        let mut client = self.client();
        let mut sql = String::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
                client.batch_execute(&std::mem::take(&mut sql)).unwrap();
                let mut writer = client
                    .copy_in(line.trim_end_matches(';'))
                    .unwrap_or_else(|e| panic!("{line}: {e}"));
                for data in lines.by_ref() {
                    if data == "\\." {
                        break;
                    }
                    writer.write_all(data.as_bytes()).unwrap();
                    writer.write_all(b"\n").unwrap();
                }
                writer.finish().unwrap();
            } else if line.starts_with('\\') {
                continue;
            } else {
                sql.push_str(line);
                sql.push('\n');
            }
        }
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("loading {}: {e}", file.display()));
    }

    /// The URL as `--db` takes it.
    pub fn arg(&self) -> PathBuf {
        PathBuf::from(&self.url)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        // FORCE may not end an autovacuum worker analysing the new rows (it
        // runs as the superuser): that refusal passes within moments, so
        // the drop is tried again. Never a panic (a drop may run while one
        // unwinds), never silent: a database left behind says why.
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let mut tries = 0;
        while let Err(e) = admin().batch_execute(&drop) {
            tries += 1;
            if tries == 50 {
                let why = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().into());
                eprintln!("test database {} left behind: {why}", self.name);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A row as Django stores it on SQLite: column → value, ids as 32 hex
/// digits, times as Django's UTC text (fraction only when non-zero),
/// booleans as 0/1, JSON as compact text. Rows of either backend in this
/// form compare directly.
pub type DjangoRow = std::collections::BTreeMap<String, rusqlite::types::Value>;

/// The SQL that reads `column` of PostgreSQL type `data_type` in the form
/// Django gives it on SQLite.
fn as_on_sqlite(column: &str, data_type: &str) -> String {
    let c = format!("\"{column}\"");
    match data_type {
        "uuid" => format!("replace({c}::text, '-', '')"),
        "timestamp with time zone" => format!(
            "regexp_replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), \
             '\\.000000$', '')"
        ),
        "boolean" => format!("{c}::int::int8"),
        "bigint" | "integer" | "smallint" => format!("{c}::int8"),
        _ => format!("{c}::text"),
    }
}

/// JSON text in one spelling (PostgreSQL's jsonb spaces it otherwise).
fn canonical(value: rusqlite::types::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match &value {
        Sql::Text(t) if t.starts_with(['{', '[']) => {
            match serde_json::from_str::<serde_json::Value>(t) {
                Ok(json) => Sql::Text(json.to_string()),
                Err(_) => value,
            }
        }
        _ => value,
    }
}

impl PgDb {
    /// The tables of the database, by name.
    pub fn tables(&self) -> Vec<String> {
        self.client()
            .query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Names and SQL types of a table's columns, in order.
    pub fn column_types(&self, table: &str) -> Vec<(String, String)> {
        self.client()
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// The rows of `table` (those whose id, as 32 hex digits or a number,
    /// is `id`, when given) as Django stores them on SQLite, ordered by id.
    pub fn rows_as_on_sqlite(&self, table: &str, id: Option<&str>) -> Vec<DjangoRow> {
        use rusqlite::types::Value as Sql;
        let columns = self.column_types(table);
        assert!(!columns.is_empty(), "no table {table}");
        let exprs: Vec<String> = columns.iter().map(|(c, t)| as_on_sqlite(c, t)).collect();
        let has_id = columns.iter().any(|(c, _)| c == "id");
        let mut sql = format!("SELECT {} FROM {table}", exprs.join(", "));
        if has_id {
            sql.push_str(" WHERE $1::text IS NULL OR replace(id::text, '-', '') = $1");
            sql.push_str(" ORDER BY id");
        } else {
            sql.push_str(" WHERE $1::text IS NULL OR true");
        }
        let rows: Vec<DjangoRow> = self
            .client()
            .query(&sql, &[&id])
            .unwrap()
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, (c, t))| {
                        let value = match t.as_str() {
                            "boolean" | "bigint" | "integer" | "smallint" => r
                                .get::<_, Option<i64>>(i)
                                .map(Sql::Integer)
                                .unwrap_or(Sql::Null),
                            _ => r
                                .get::<_, Option<String>>(i)
                                .map(Sql::Text)
                                .unwrap_or(Sql::Null),
                        };
                        (c.clone(), canonical(value))
                    })
                    .collect()
            })
            .collect();
        in_order(rows, has_id)
    }

    /// One row by id as Django stores it on SQLite (see [`DjangoRow`]).
    pub fn row_as_on_sqlite(&self, table: &str, id: &str) -> Option<DjangoRow> {
        self.rows_as_on_sqlite(table, Some(id)).into_iter().next()
    }

    /// Everything the database holds, as text: equal before and after
    /// means nothing changed.
    pub fn snapshot(&self) -> String {
        let mut client = self.client();
        let mut out = String::new();
        for table in self.tables() {
            let rows: Option<String> = client
                .query_one(
                    &format!("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM {table} t"),
                    &[],
                )
                .unwrap()
                .get(0);
            out.push_str(&format!("== {table}\n{}\n", rows.unwrap_or_default()));
        }
        out
    }
}

/// The rows of `table` in a SQLite database (those whose id is `id`, when
/// given) as stored, ordered by id: the twin of
/// [`PgDb::rows_as_on_sqlite`].
pub fn sqlite_rows(db: &Path, table: &str, id: Option<&str>) -> Vec<DjangoRow> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let has_id = conn
        .prepare(&format!("SELECT * FROM {table}"))
        .unwrap()
        .column_names()
        .any(|c| c == "id");
    let sql = if has_id {
        format!("SELECT * FROM {table} WHERE ?1 IS NULL OR CAST(id AS TEXT) = ?1 ORDER BY id")
    } else {
        format!("SELECT * FROM {table} WHERE ?1 IS NULL OR 1")
    };
    let mut stmt = conn.prepare(&sql).unwrap();
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let rows = stmt
        .query_map([id], |r| {
            Ok(names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), canonical(r.get(i).unwrap())))
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    in_order(rows, has_id)
}

/// Rows of a table without an id in one order on both backends.
fn in_order(mut rows: Vec<DjangoRow>, by_id: bool) -> Vec<DjangoRow> {
    if !by_id {
        rows.sort_by_key(|r| format!("{r:?}"));
    }
    rows
}

/// Login roles made for one test with the grants the README's PostgreSQL
/// section gives (`moderator_ro`: to read; `moderator`: to moderate), run
/// exactly as written there but for this test's names and password, on
/// one database; dropped after it at the end.
pub struct Roles {
    db: Option<PgDb>,
    /// Each role's name and the statements that made it.
    made: Vec<(String, String)>,
}

impl Roles {
    pub fn on(db: PgDb) -> Roles {
        Roles {
            db: Some(db),
            made: Vec::new(),
        }
    }

    /// Makes the README's role `which` with `password`; its name.
    pub fn add_from_readme(&mut self, which: &str, password: &str) -> String {
        let block = super::fenced_blocks(&super::readme(), "sql")
            .into_iter()
            .find(|b| b.contains(&format!("CREATE ROLE {which} LOGIN")))
            .unwrap_or_else(|| panic!("the README grants no role {which}"));
        let db = self.db();
        let name = format!("{}_{which}", db.name);
        let sql = block
            .replace(which, &name)
            .replace("DATABASE forum", &format!("DATABASE {}", db.name))
            .replace(
                "'choose-one'",
                &format!("'{}'", password.replace('\'', "''")),
            );
        assert_ne!(sql, block, "the README's names were replaced");
        db.client()
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e} (the test role needs CREATEROLE)"));
        self.made.push((name.clone(), sql));
        name
    }

    pub fn db(&self) -> &PgDb {
        self.db.as_ref().expect("the roles' database")
    }

    /// The database's URL as `userinfo` (`name` or `name:password`, as
    /// written) on `host` (`host:port`; the test server's when `None`).
    pub fn url_as(&self, userinfo: &str, host: Option<&str>) -> String {
        let server = server_url();
        let server_host = server
            .split_once('@')
            .map(|(_, h)| h.split(['/', '?']).next().unwrap_or("localhost"))
            .unwrap_or("localhost:5432")
            .to_string();
        format!(
            "postgres://{userinfo}@{}/{}",
            host.unwrap_or(&server_host),
            self.db().name
        )
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        // Their grants go with the database; then the roles can go.
        drop(self.db.take());
        for (name, _) in &self.made {
            if let Err(e) = admin().batch_execute(&format!("DROP ROLE IF EXISTS {name}")) {
                let why = e
                    .as_db_error()
                    .map_or(e.to_string(), |d| d.message().into());
                eprintln!("test role {name} left behind: {why}");
            }
        }
    }
}
