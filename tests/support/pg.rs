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
             su postgres -c \"psql -c \\\"CREATE ROLE modcon LOGIN CREATEDB PASSWORD 'modcon'\\\"\"\n\
             or point MODCON_TEST_PG at a server whose role may create databases \
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
        let _ = admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
