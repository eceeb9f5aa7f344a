//! The PostgreSQL server the bench makes its throwaway databases on (a role
//! that may create databases): `MODCON_BENCH_PG`, else the tests'
//! `MODCON_TEST_PG`, else the one `.ci/run` sets up. One place for the
//! purge's and the console's parts.

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
