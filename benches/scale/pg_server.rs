//! The PostgreSQL server the bench makes its throwaway databases on (a role
//! that may create databases): `MODCON_BENCH_PG`, else the tests'
//! `MODCON_TEST_PG`, else the one `.ci/run` sets up, and the databases
//! made on it. One place for the purge's and the console's parts.

pub fn server() -> String {
    std::env::var("MODCON_BENCH_PG")
        .or_else(|_| std::env::var("MODCON_TEST_PG"))
        .unwrap_or_else(|_| "postgres://modcon:modcon@localhost:5432/postgres".into())
}

/// The URL of database `name` on that server.
pub fn url_of(name: &str) -> String {
    let server = server();
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (server.clone(), String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > base.find("://").map_or(0, |j| j + 2));
    let base = cut.map_or(base.clone(), |i| base[..i].to_string());
    format!("{base}/{name}{query}")
}

/// A session on the server's own database, to create and drop others.
pub fn admin() -> postgres::Client {
    postgres::Client::connect(&server(), postgres::NoTls).expect("the PostgreSQL server")
}

/// A database made for the bench, dropped when this goes (a panic too),
/// unless kept.
pub struct Throwaway {
    pub name: String,
    pub url: String,
    kept: bool,
}

impl Throwaway {
    /// A new, empty database `name`.
    pub fn create(name: String) -> Throwaway {
        Throwaway::made(name, "")
    }

    /// A copy of `template` (which no session may be using), named after
    /// it with `suffix`.
    pub fn copy_of(template: &Throwaway, suffix: &str) -> Throwaway {
        let name = format!("{}_{suffix}", template.name);
        Throwaway::made(name, &format!(" TEMPLATE {}", template.name))
    }

    fn made(name: String, template: &str) -> Throwaway {
        admin()
            .batch_execute(&format!("CREATE DATABASE {name}{template}"))
            .expect("create database");
        Throwaway {
            url: url_of(&name),
            name,
            kept: false,
        }
    }

    /// Not dropped: left on the server (its URL) for profiling by hand.
    pub fn keep(mut self) -> String {
        self.kept = true;
        self.url.clone()
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if let Ok(mut c) = postgres::Client::connect(&server(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
