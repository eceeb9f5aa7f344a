//! The console on PostgreSQL: the same commands on the Django-made fixture
//! loaded into PostgreSQL give exactly what they give on its SQLite twin;
//! connecting never shows a password; `--read-only` is read-only at the
//! server; the console's own tables are made in Django's native types.

use crate::support;

use std::path::Path;

use modcon_core::db::{Access, Db, OpenOptions};
use support::pg::{PgDb, Roles};
use support::{FIXTURE_NOW, fixture};

/// `modcon --db DB --now FIXTURE_NOW ARGS... --json`, from a clean
/// environment: exit status, stdout parsed, stderr.
fn run_json(home: &Path, db: &Path, args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = support::clean_command(home)
        .arg("--db")
        .arg(db)
        .arg("--now")
        .arg(FIXTURE_NOW)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON from {args:?}: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The one migration that differs by backend and is applied only by
/// `migrate`: an index on PostgreSQL only, which SQLite records as
/// satisfied (nothing to do there, even on the first read-write open).
const POSTGRES_ONLY_MIGRATION: &str = "0011_deleted_attachment_post_index";

/// The migrations that do something on PostgreSQL only (SQLite records
/// them as satisfied): that index, and the foreign keys dropped from the
/// purge's records (applied on the first read-write open).
const POSTGRES_ONLY_MIGRATIONS: [&str; 2] = [
    POSTGRES_ONLY_MIGRATION,
    "0012_purge_records_without_action_keys",
];

/// Takes those migrations' steps out of `migrate`'s JSON on each backend
/// (nothing else may differ), checking what each says of them.
fn take_postgres_only_step(on_sqlite: &mut serde_json::Value, on_pg: &mut serde_json::Value) {
    for name in POSTGRES_ONLY_MIGRATIONS {
        let take = |json: &mut serde_json::Value| -> Option<serde_json::Value> {
            let steps = json.get_mut("steps")?.as_array_mut()?;
            let i = steps.iter().position(|s| s["name"] == name)?;
            Some(steps.remove(i))
        };
        if let Some(step) = take(on_sqlite) {
            assert!(
                matches!(step["outcome"].as_str(), Some("satisfied" | "done")),
                "{step}"
            );
            assert_eq!(step["adds"], serde_json::json!([]), "{step}");
        }
        if let Some(step) = take(on_pg) {
            assert!(
                matches!(step["outcome"].as_str(), Some("applied" | "done")),
                "{step}"
            );
        }
    }
}

/// The JSON of a command on both backends, with the one field that names
/// the database taken out.
fn both(sqlite: &Path, pg: &PgDb, home: &Path, args: &[&str]) -> [serde_json::Value; 2] {
    let mut out = [sqlite.to_path_buf(), pg.arg()].map(|db| {
        let (ok, json, err) = run_json(home, &db, args);
        assert!(ok, "{args:?} on {}: {err}", db.display());
        json
    });
    for json in &mut out {
        json.as_object_mut().unwrap().remove("database");
    }
    let [on_sqlite, on_pg] = &mut out;
    take_postgres_only_step(on_sqlite, on_pg);
    out
}

#[test]
fn stats_list_log_and_migrate_do_the_same_on_sqlite_and_postgresql() {
    let f = fixture();
    let pg = PgDb::fixture();
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["stats"][..],
        &["list", "threads", "--state", "all", "--limit", "1000"],
        &["list", "posts", "--state", "all", "--limit", "1000"],
        &["list", "attachments", "--state", "all", "--limit", "1000"],
        &["list", "posts", "--state", "deleted", "--limit", "3"],
        &["log"],
        &["migrate", "--dry-run"],
        &["migrate"],
        &["migrate"],
        &["stats"],
    ] {
        let [on_sqlite, on_pg] = both(&f.db, &pg, home.path(), args);
        assert_eq!(on_sqlite, on_pg, "{args:?}");
    }
    // The comparison is not vacuous: the lists hold every row, with ids as
    // 32 hex digits and Django's datetime text on both.
    let [rows, _] = both(
        &f.db,
        &pg,
        home.path(),
        &[
            "list",
            "attachments",
            "--state",
            "deleted",
            "--limit",
            "1000",
        ],
    );
    let rows = rows["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 30);
    let row = &rows[0];
    let id = row["id"].as_str().unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(rows.iter().any(|r| r["purgeable"] == true));
    assert!(
        rows.iter()
            .any(|r| r["deleted_at"].as_str().is_some_and(|t| t.len() == 26))
    );
    // Children of one thread, found by an id prefix on both.
    let [threads, _] = both(
        &f.db,
        &pg,
        home.path(),
        &["list", "threads", "--limit", "1"],
    );
    let thread = threads["rows"][0]["id"].as_str().unwrap().to_string();
    let [on_sqlite, on_pg] = both(
        &f.db,
        &pg,
        home.path(),
        &["list", "posts", "--thread", &thread[..6], "--state", "all"],
    );
    assert_eq!(on_sqlite, on_pg);
    assert!(on_sqlite["count"].as_u64().unwrap() > 0);
}

#[test]
fn a_password_is_never_shown() {
    let pg = PgDb::fixture();
    let home = tempfile::tempdir().unwrap();
    // A wrong password: the error names the server, not the password.
    let secret = "s3cret-pw-913";
    let bad = pg
        .url
        .replacen("modcon:modcon@", &format!("modcon:{secret}@"), 1);
    assert_ne!(
        bad, pg.url,
        "the test server's URL has a password to replace"
    );
    let out = support::clean_command(home.path())
        .args(["--db", &bad, "stats"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("postgres://modcon@"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    // Success: the database is named without it, in JSON and in `config`.
    let (ok, json, _) = run_json(home.path(), &pg.arg(), &["stats"]);
    assert!(ok);
    let shown = json["database"].as_str().unwrap();
    assert!(shown.starts_with("postgres://modcon@"), "{shown}");
    assert!(!shown.contains("modcon:modcon"), "{shown}");
    let out = support::clean_command(home.path())
        .args(["--db", &pg.url, "config"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("postgres://modcon@"), "{text}");
    assert!(!text.contains("modcon:modcon"), "{text}");
}

/// Runs `modcon --db URL --now FIXTURE_NOW ARGS` in `dir` (nothing may be
/// made there), with extra environment.
fn in_dir(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = support::clean_command(dir);
    cmd.current_dir(dir)
        .args(["--db", url, "--now", FIXTURE_NOW])
        .args(args)
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The command failed with one `error:` line that never shows the
/// password, in any form.
fn fails_without_showing(out: &std::process::Output, secrets: &[&str], what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    for secret in secrets {
        assert!(!stderr.contains(secret), "{what} shows {secret}: {stderr}");
        assert!(!stdout.contains(secret), "{what} shows {secret}: {stdout}");
    }
    stderr
}

#[test]
fn no_error_shows_the_password_however_the_url_spells_it() {
    let pg = PgDb::fixture();
    let dir = tempfile::tempdir().unwrap();
    // The owner makes the console's tables (as the README says), then a
    // moderator gets the README's grants, with a password the client
    // takes whole although `/` and `?` in it are not encoded.
    support::succeeded(
        in_dir(dir.path(), &pg.url, &["migrate"], &[])
            .output()
            .unwrap(),
    );
    let password = "Pw/S3cret?913";
    let mut role = Roles::on(pg);
    let name = role.add_from_readme("moderator", password);
    let secrets = ["S3cret", "Pw/S", "Pw%2FS"];
    let url = role.url_as(&format!("{name}:{password}"), None);
    let encoded = role.url_as(&format!("{name}:Pw%2FS3cret%3F913"), None);
    support::succeeded(in_dir(dir.path(), &url, &["stats"], &[]).output().unwrap());

    // The server cannot be reached.
    let unreachable = role.url_as(&format!("{name}:{password}"), Some("localhost:1"));
    for args in [&["stats"][..], &["migrate"], &["purge", "--keep-files"]] {
        let out = in_dir(dir.path(), &unreachable, args, &[])
            .output()
            .unwrap();
        let err = fails_without_showing(&out, &secrets, &format!("unreachable {args:?}"));
        assert!(err.contains("cannot connect"), "{err}");
    }
    // A wrong password, in the URL (as written and encoded) or in
    // PGPASSWORD.
    let wrong = role.url_as(&format!("{}:Pw/S3cret?914", name), None);
    let wrong_encoded = role.url_as(&format!("{}:Pw%2FS3cret%3F914", name), None);
    let bare = role.url_as(&name, None);
    for (url, env) in [
        (&wrong, &[][..]),
        (&wrong_encoded, &[]),
        (&bare, &[("PGPASSWORD", "Pw/S3cret?914")]),
    ] {
        for args in [
            &["stats"][..],
            &["delete", "post", "0"],
            &["migrate", "--dry-run"],
        ] {
            let out = in_dir(dir.path(), url, args, env).output().unwrap();
            let err = fails_without_showing(&out, &secrets, &format!("wrong password {args:?}"));
            assert!(err.contains("password authentication failed"), "{err}");
        }
    }
    // The purge lock is held: purge and check --fix are refused naming
    // the holder, not the password.
    let gate = dir.path().join("gate");
    let held = support::start_held(
        in_dir(dir.path(), &encoded, &["purge", "--keep-files"], &[]),
        "purge-after-plan",
        &gate,
    );
    for args in [&["purge", "--keep-files"][..], &["check", "--fix"]] {
        let out = in_dir(dir.path(), &url, args, &[]).output().unwrap();
        let err = fails_without_showing(&out, &secrets, &format!("lock held {args:?}"));
        assert!(err.contains("is busy"), "{err}");
    }
    std::fs::write(&gate, b"").unwrap();
    let out = support::succeeded(held.wait_with_output().unwrap());
    for secret in secrets {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    }
    // A demo is never written over a forum: refused, naming the database
    // without the password.
    for args in [
        &["demo", "--out", &url][..],
        &["demo", "--out", &encoded, "--force"],
    ] {
        let out = in_dir(dir.path(), &url, args, &[]).output().unwrap();
        fails_without_showing(&out, &secrets, &format!("{args:?}"));
    }
    // No file was made beside the process (a lock or journal named
    // after the URL would carry the password in its name).
    let made: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("gate") && !n.starts_with('.'))
        .collect();
    assert!(made.is_empty(), "{made:?}");
}

#[test]
fn sslmode_require_is_refused_clearly() {
    let pg = PgDb::empty();
    // Every mode that insists on TLS, not only the one the client knows.
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = format!("{}?sslmode={mode}", pg.url);
        let err = Db::open(Path::new(&url), &OpenOptions::new(Access::ReadOnly))
            .err()
            .unwrap();
        let text = format!("{err:#}");
        assert!(
            text.contains(&format!("sslmode={mode} asks for TLS")),
            "{text}"
        );
        assert!(!text.contains("modcon:modcon"), "{text}");
    }
}

#[test]
fn a_forum_table_the_role_may_not_read_is_named_with_the_privilege_it_lacks() {
    let home = tempfile::tempdir().unwrap();
    let mut roles = Roles::on(PgDb::fixture());
    let reader = roles.add_from_readme("moderator_ro", "reads");
    // The owner takes one table back from the README's grants.
    roles
        .db()
        .client()
        .batch_execute(&format!("REVOKE SELECT ON forum_reaction FROM {reader}"))
        .unwrap();
    let url = roles.url_as(&format!("{reader}:reads"), None);
    let said = |text: &str| {
        assert!(text.contains("table forum_reaction"), "{text}");
        assert!(text.contains("lacks the SELECT privilege"), "{text}");
        assert!(
            text.contains(&format!("GRANT SELECT ON forum_reaction TO {reader}")),
            "{text}"
        );
        assert!(!text.contains("permission denied"), "{text}");
        assert!(!text.contains("reads@"), "{text}");
    };
    // Every command says it when it opens, in one line, before any query.
    for args in [
        &["stats"][..],
        &["--read-only", "list", "threads"],
        &["purge", "--dry-run"],
        &["delete", "thread", &support::hex_id(1)],
    ] {
        let out = support::clean_command(home.path())
            .arg("--db")
            .arg(&url)
            .arg("--now")
            .arg(FIXTURE_NOW)
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: postgres://"), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        said(&err);
    }
    // So does the console's open, either way.
    for access in [Access::ReadOnly, Access::ReadWrite] {
        let err = Db::open(Path::new(&url), &OpenOptions::new(access))
            .err()
            .expect("the role may not read forum_reaction");
        said(&format!("{err:#}"));
    }
    // Granted again, it reads.
    roles
        .db()
        .client()
        .batch_execute(&format!("GRANT SELECT ON forum_reaction TO {reader}"))
        .unwrap();
    Db::open(Path::new(&url), &OpenOptions::new(Access::ReadOnly)).unwrap();
}

/// Names and types of a table's columns on the server.
fn column_types(client: &mut postgres::Client, table: &str) -> Vec<(String, String)> {
    client
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

#[test]
fn read_only_is_read_only_at_the_server_and_adds_nothing() {
    let pg = PgDb::fixture();
    let db = Db::open(&pg.arg(), &OpenOptions::new(Access::ReadOnly)).unwrap();
    // Reads work without the console's tables (shadowed in the session).
    let log = modcon_core::audit::list(db.conn(), 10).unwrap();
    assert!(log.is_empty());
    let err = db
        .conn()
        .execute("UPDATE forum_thread SET is_pinned = NOT is_pinned", &[])
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("read-only transaction"),
        "{err:#}"
    );
    drop(db);
    let mut client = pg.client();
    assert!(column_types(&mut client, "modcon_action").is_empty());
}

#[test]
fn the_consoles_tables_hold_ids_and_times_in_djangos_native_types() {
    let pg = PgDb::fixture();
    drop(Db::open(&pg.arg(), &OpenOptions::new(Access::ReadWrite)).unwrap());
    let mut client = pg.client();
    let types = column_types(&mut client, "modcon_change");
    let of = |name: &str| {
        types
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or("missing")
            .to_string()
    };
    assert_eq!(of("row_id"), "uuid");
    assert_eq!(of("before_active"), "boolean");
    assert_eq!(of("after_deleted_at"), "timestamp with time zone");
    assert_eq!(of("before_source"), "text");
    let deletion = column_types(&mut client, "modcon_deletion");
    assert!(deletion.contains(&("deleted_at".into(), "timestamp with time zone".into())));
    // The migrations recorded are those recorded on SQLite, and opening
    // again applies nothing more.
    let f = fixture();
    drop(Db::open(&f.db, &OpenOptions::new(Access::ReadWrite)).unwrap());
    let mut on_sqlite: Vec<String> = support::open(&f.db)
        .prepare("SELECT name FROM modcon_migrations ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Satisfied on SQLite at once; on PostgreSQL an index only `migrate`
    // adds.
    on_sqlite.retain(|name| name != POSTGRES_ONLY_MIGRATION);
    let names = |client: &mut postgres::Client| -> Vec<String> {
        client
            .query("SELECT name FROM modcon_migrations ORDER BY name", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(names(&mut client), on_sqlite);
    assert!(on_sqlite.len() >= 5, "{on_sqlite:?}");
    drop(Db::open(&pg.arg(), &OpenOptions::new(Access::ReadWrite)).unwrap());
    assert_eq!(names(&mut client), on_sqlite);
}

#[test]
fn the_change_marker_moves_when_another_session_commits() {
    let pg = PgDb::fixture();
    let db = Db::open(&pg.arg(), &OpenOptions::new(Access::ReadOnly)).unwrap();
    let before = db.change_marker().unwrap();
    assert_eq!(db.change_marker().unwrap(), before, "nothing happened yet");
    pg.client()
        .batch_execute("UPDATE forum_thread SET is_pinned = NOT is_pinned")
        .unwrap();
    assert_ne!(db.change_marker().unwrap(), before);
}

/// The context the command line would give, at the fixture's time.
fn ctx(actor: &str) -> modcon_core::Ctx {
    modcon_core::Ctx {
        now: modcon_core::model::parse_now(FIXTURE_NOW).unwrap(),
        actor: actor.into(),
        os_account: Some("tester".into()),
        client_addr: None,
        reason: Some("both backends".into()),
        retention_days: 30,
    }
}

#[test]
fn check_fix_and_its_undo_do_the_same_on_sqlite_and_postgresql() {
    let f = fixture();
    let pg = PgDb::fixture();
    let home = tempfile::tempdir().unwrap();
    let lists = |db: &Path| -> Vec<serde_json::Value> {
        ["posts", "attachments"]
            .iter()
            .map(|kind| {
                let (ok, mut json, err) = run_json(
                    home.path(),
                    db,
                    &["list", kind, "--state", "all", "--limit", "1000"],
                );
                assert!(ok, "{err}");
                json.as_object_mut().unwrap().remove("database");
                json
            })
            .collect()
    };
    let mut outcomes = Vec::new();
    for db in [f.db.clone(), pg.arg()] {
        // The cascade itself (the purge lock around `check --fix` is the
        // purge's), each in its own transaction.
        let mut open = Db::open(&db, &OpenOptions::new(Access::ReadWrite)).unwrap();
        let tx = open.write_tx().unwrap();
        let fixed = modcon_core::rules::fix_in(tx.conn(), &ctx("mo")).unwrap();
        tx.commit().unwrap();
        let after_fix = lists(&db);
        let undone = modcon_core::rules::undo(&mut open, &ctx("mo")).unwrap();
        drop(open);
        outcomes.push((
            serde_json::to_value(&fixed).unwrap(),
            after_fix,
            serde_json::to_value(&undone).unwrap(),
            lists(&db),
        ));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    // Not vacuous: the fixture's web app left active rows under deleted
    // parents, the fix deleted them, the undo brought them back.
    let (fixed, _, undone, _) = &outcomes[0];
    assert_eq!(fixed["changed"], true);
    assert!(fixed["posts"].as_i64().unwrap() + fixed["attachments"].as_i64().unwrap() > 0);
    assert_eq!(undone["undid"], fixed["action_id"]);
    assert_eq!(undone["posts"], fixed["posts"]);
}

#[test]
fn a_statement_is_prepared_once_per_session_not_once_per_transaction() {
    let pg = PgDb::fixture();
    let mut db = Db::open(&pg.arg(), &OpenOptions::new(Access::ReadWrite)).unwrap();
    for _ in 0..3 {
        let tx = db.write_tx().unwrap();
        modcon_core::audit::list(tx.conn(), 5).unwrap();
        tx.commit().unwrap();
        let tx = db.read_tx().unwrap();
        modcon_core::audit::list(tx.conn(), 5).unwrap();
        drop(tx);
    }
    let prepared: i64 = db
        .conn()
        .query_row(
            "SELECT count(*) FROM pg_prepared_statements \
             WHERE statement LIKE '%FROM modcon_action ORDER BY id DESC LIMIT%' \
               AND statement NOT LIKE '%pg_prepared_statements%'",
            &[],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(prepared, 1);
}

// ------------------------------------------------------------- demo

/// `modcon --now DEMO_NOW [--media-root MEDIA] demo --out URL ARGS...`.
fn demo_on_pg(home: &Path, pg: &PgDb, media: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut cmd = support::clean_command(home);
    cmd.args(["--now", support::DEMO_NOW]);
    if let Some(media) = media {
        cmd.arg("--media-root").arg(media);
    }
    cmd.args(["demo", "--out", &pg.url])
        .args(args)
        .output()
        .unwrap()
}

/// Definitions of a table's indexes and constraints, as the server
/// prints them.
fn indexes_and_constraints(pg: &PgDb, table: &str) -> Vec<String> {
    let mut client = pg.client();
    let mut defs: Vec<String> = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    defs.extend(
        client
            .query(
                "SELECT conname::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE conrelid = $1::text::regclass",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0)),
    );
    defs.sort();
    defs
}

#[test]
fn demo_on_postgresql_is_the_sqlite_demo_in_djangos_postgresql_schema() {
    let home = tempfile::tempdir().unwrap();
    let sqlite = support::demo(20, 42);
    let pg = PgDb::empty();
    let media = home.path().join("demo-media");
    let out = demo_on_pg(
        home.path(),
        &pg,
        Some(&media),
        &["--threads", "20", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["database"],
        pg.url.replace("modcon:modcon@", "modcon@")
    );
    assert_eq!(summary["media_root"], media.display().to_string());

    // The forum schema exactly as Django made the fixture's: column types,
    // keys, foreign keys (DEFERRABLE INITIALLY DEFERRED), indexes.
    let django = PgDb::fixture();
    let forum_tables: Vec<String> = django
        .tables()
        .into_iter()
        .filter(|t| {
            t.starts_with("forum_")
                || t == "users_user"
                || t == "users_user_groups"
                || t == "auth_group"
        })
        .collect();
    assert_eq!(forum_tables.len(), 11, "{forum_tables:?}");
    for table in &forum_tables {
        assert_eq!(
            pg.column_types(table),
            django.column_types(table),
            "{table}"
        );
        let ours = indexes_and_constraints(&pg, table);
        let theirs = indexes_and_constraints(&django, table);
        // The console's own partial indexes come on top of Django's.
        for def in &theirs {
            assert!(ours.contains(def), "{table}: {def} missing from {ours:#?}");
        }
    }
    let fks = indexes_and_constraints(&pg, "forum_post");
    assert!(
        fks.iter().any(|d| d.contains(
            "FOREIGN KEY (thread_id) REFERENCES forum_thread(id) DEFERRABLE INITIALLY DEFERRED"
        )),
        "{fks:#?}"
    );

    // The same rows as the SQLite demo, table by table, in Django's SQLite
    // form — but for what PostgreSQL cannot hold: text over a varchar's
    // length (cut), a NUL (dropped), a deletion time that is no time (NULL).
    for table in pg.tables() {
        if table == "modcon_migrations" {
            continue;
        }
        let on_pg = pg.rows_as_on_sqlite(&table, None);
        let on_sqlite = support::pg::sqlite_rows(&sqlite.db, &table, None);
        assert_eq!(on_pg.len(), on_sqlite.len(), "{table}");
        let filled = [
            "forum_thread",
            "forum_post",
            "forum_attachment",
            "forum_flaggedcontent",
            "forum_moderationaction",
            "modcon_action",
            "modcon_change",
        ];
        assert!(
            !on_pg.is_empty() || !filled.contains(&table.as_str()),
            "{table} is empty"
        );
        for (p, s) in on_pg.iter().zip(&on_sqlite) {
            for (column, value) in p {
                let twin = &s[column];
                if value == twin {
                    continue;
                }
                use rusqlite::types::Value as Sql;
                let allowed = match (table.as_str(), column.as_str(), value, twin) {
                    ("forum_thread", "title", Sql::Text(cut), Sql::Text(long)) => {
                        cut.chars().count() == 200 && long.starts_with(cut.as_str())
                    }
                    ("forum_post", "content_raw", Sql::Text(t), Sql::Text(with_nul)) => {
                        *t == with_nul.replace('\0', "")
                    }
                    ("forum_attachment", "deleted_at", Sql::Null, Sql::Text(odd)) => {
                        modcon_core::model::parse_datetime(odd).is_none()
                    }
                    // The same instant, Z form on SQLite, Django's on PostgreSQL.
                    ("forum_attachment", "deleted_at", Sql::Text(t), Sql::Text(iso)) => {
                        modcon_core::model::parse_datetime(iso)
                            .map(modcon_core::model::format_datetime)
                            .as_ref()
                            == Some(t)
                    }
                    _ => false,
                };
                assert!(
                    allowed,
                    "{table}.{column}: {value:?} on PostgreSQL, {twin:?} on SQLite"
                );
            }
        }
    }
    // The same files.
    let files = |dir: &Path| {
        let mut n = 0;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    n += 1;
                }
            }
        }
        n
    };
    assert_eq!(files(&media), files(&sqlite.media));
    assert!(files(&media) > 10);
    // The console reads the same numbers from both.
    for args in [&["stats"][..], &["flags", "--status", "all"], &["log"]] {
        let mut on = [sqlite.db.clone(), pg.arg()].map(|db| {
            let (ok, mut json, err) = run_json_at(home.path(), &db, support::DEMO_NOW, args);
            assert!(ok, "{args:?}: {err}");
            json.as_object_mut().unwrap().remove("database");
            json
        });
        // Text PostgreSQL could not hold differs in the flag list's preview.
        if args[0] == "flags" {
            for json in &mut on {
                for row in json["rows"].as_array_mut().unwrap() {
                    row.as_object_mut().unwrap().remove("target_label");
                }
            }
        }
        assert_eq!(on[0], on[1], "{args:?}");
    }
}

/// [`run_json`] at another time.
fn run_json_at(
    home: &Path,
    db: &Path,
    now: &str,
    args: &[&str],
) -> (bool, serde_json::Value, String) {
    let out = support::clean_command(home)
        .arg("--db")
        .arg(db)
        .arg("--now")
        .arg(now)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_on_postgresql_goes_only_into_an_empty_database_or_its_own() {
    let home = tempfile::tempdir().unwrap();
    let media = home.path().join("media");
    // No media folder named: refused, nothing written.
    let empty = PgDb::empty();
    let out = demo_on_pg(home.path(), &empty, None, &["--threads", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--media-root"), "{err}");
    assert!(empty.tables().is_empty());
    // The web app's database: refused, tables named, nothing changed, even
    // with --force.
    let django = PgDb::fixture();
    let before = django.snapshot();
    for force in [&[][..], &["--force"]] {
        let mut args = vec!["--threads", "2"];
        args.extend(force);
        let out = demo_on_pg(home.path(), &django, Some(&media), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("error: ") && err.lines().count() == 1,
            "{err}"
        );
        assert!(
            err.contains("not empty") && err.contains("forum_thread"),
            "{err}"
        );
        assert!(!err.contains("modcon:modcon"), "{err}");
        assert_eq!(django.snapshot(), before);
        assert!(!media.exists());
    }
    // A demo: replaced only with --force.
    let demo = PgDb::empty();
    assert!(
        demo_on_pg(home.path(), &demo, Some(&media), &["--threads", "2"])
            .status
            .success()
    );
    let first = demo.snapshot();
    let out = demo_on_pg(
        home.path(),
        &demo,
        Some(&media),
        &["--threads", "3", "--seed", "9"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(demo.snapshot(), first);
    let out = demo_on_pg(
        home.path(),
        &demo,
        Some(&media),
        &["--threads", "3", "--seed", "9", "--force", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(demo.snapshot(), first);
    let (ok, stats, _) = run_json_at(home.path(), &demo.arg(), support::DEMO_NOW, &["stats"]);
    assert!(ok);
    assert_eq!(stats["threads"]["total"], summary["threads"]);
    // The web app's next user gets a new id.
    let next: i64 = demo
        .client()
        .query_one(
            "INSERT INTO users_user (password, is_superuser, username, first_name, last_name, email, \
             is_staff, is_active, date_joined, uuid) VALUES ('!', false, 'newcomer', '', '', '', false, true, \
             now(), gen_random_uuid()) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(next, summary["users"].as_i64().unwrap() + 1);
}

// ------------------------------------------------ every command, twice

/// The fixture on SQLite and its twin on PostgreSQL, each with a media
/// copy of its own, driven by the same commands.
struct Twins {
    sqlite: support::Fixture,
    pg: PgDb,
    pg_media: tempfile::TempDir,
    home: tempfile::TempDir,
    /// Ids that are random by nature (a review's moderation action), as
    /// `[on SQLite, on PostgreSQL]`: the PostgreSQL one is read as the
    /// SQLite one when comparing.
    same_ids: Vec<[String; 2]>,
}

/// The tables compared row by row: the forum's and the console's own (the
/// migrations' record holds the time each was applied, which differs).
fn compared_tables(pg: &PgDb) -> Vec<String> {
    pg.tables()
        .into_iter()
        .filter(|t| {
            t.starts_with("forum_")
                || t.starts_with("users_user")
                || (t.starts_with("modcon_") && t != "modcon_migrations")
        })
        .collect()
}

impl Twins {
    fn new() -> Twins {
        let pg_media = tempfile::tempdir().unwrap();
        support::copy_dir(&support::fixture_dir().join("media"), pg_media.path());
        let sqlite = fixture();
        // The media folders' paths differ; what is in them does not.
        let same_ids = vec![[
            sqlite.media.display().to_string(),
            pg_media.path().display().to_string(),
        ]];
        Twins {
            sqlite,
            pg: PgDb::fixture(),
            pg_media,
            home: tempfile::tempdir().unwrap(),
            same_ids,
        }
    }

    /// PostgreSQL's text with its random ids read as SQLite's.
    fn as_on_sqlite(&self, text: &str) -> String {
        let mut text = text.to_string();
        for [on_sqlite, on_pg] in &self.same_ids {
            text = text.replace(on_pg, on_sqlite);
        }
        text
    }

    /// Runs `args` (with `--json`) on both; the same exit status and the
    /// same JSON but for the field naming the database. The SQLite JSON.
    fn step(&mut self, args: &[&str]) -> serde_json::Value {
        let runs = [
            (self.sqlite.db.clone(), self.sqlite.media.clone()),
            (self.pg.arg(), self.pg_media.path().to_path_buf()),
        ]
        .map(|(db, media)| {
            let out = support::clean_command(self.home.path())
                .arg("--db")
                .arg(&db)
                .arg("--media-root")
                .arg(&media)
                .args(["--now", FIXTURE_NOW])
                .args(args)
                .arg("--json")
                .output()
                .unwrap();
            let mut json: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                    panic!(
                        "{args:?} on {}: {e}: {}",
                        db.display(),
                        String::from_utf8_lossy(&out.stderr)
                    )
                });
            json.as_object_mut().unwrap().remove("database");
            (
                out.status.code(),
                json,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        });
        let [(status, on_sqlite, err), (pg_status, on_pg, pg_err)] = runs;
        assert_eq!(status, Some(0), "{args:?} on SQLite: {err}");
        assert_eq!(pg_status, status, "{args:?} on PostgreSQL: {pg_err}");
        if let (Some(a), Some(b)) = (
            on_sqlite["moderation_action_id"].as_str(),
            on_pg["moderation_action_id"].as_str(),
        ) {
            self.same_ids.push([a.to_string(), b.to_string()]);
        }
        let mut on_pg: serde_json::Value =
            serde_json::from_str(&self.as_on_sqlite(&on_pg.to_string())).unwrap();
        let mut on_sqlite = on_sqlite;
        take_postgres_only_step(&mut on_sqlite, &mut on_pg);
        assert_eq!(on_sqlite, on_pg, "{args:?}");
        on_sqlite
    }

    /// Every compared table holds the same rows on both, in Django's SQLite
    /// form (ids as 32 hex, times as Django's text, booleans 0/1).
    fn same_rows(&self, after: &str) {
        for table in compared_tables(&self.pg) {
            let on_pg: Vec<_> = self
                .pg
                .rows_as_on_sqlite(&table, None)
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|(c, v)| {
                            let v = match v {
                                rusqlite::types::Value::Text(t) => {
                                    rusqlite::types::Value::Text(self.as_on_sqlite(&t))
                                }
                                other => other,
                            };
                            (c, v)
                        })
                        .collect::<support::pg::DjangoRow>()
                })
                .collect();
            let mut on_sqlite = support::pg::sqlite_rows(&self.sqlite.db, &table, None);
            // Rows keyed by a random id sort by it: sort both alike.
            if table == "forum_moderationaction" {
                let mut on_pg = on_pg.clone();
                on_pg.sort_by_key(|r| format!("{r:?}"));
                on_sqlite.sort_by_key(|r| format!("{r:?}"));
                assert_eq!(on_pg, on_sqlite, "{table} after {after}");
                continue;
            }
            assert_eq!(on_pg.len(), on_sqlite.len(), "{table} after {after}");
            for (p, s) in on_pg.iter().zip(&on_sqlite) {
                assert_eq!(p, s, "{table} after {after}");
            }
        }
    }
}

#[test]
fn every_command_gives_the_same_json_and_rows_on_sqlite_and_postgresql() {
    let mut twins = Twins::new();
    // The twins hold the same rows to begin with.
    twins.same_rows("nothing");
    let reads: Vec<Vec<&str>> = {
        let mut reads = vec![
            vec!["stats"],
            vec!["log", "--limit", "100"],
            vec!["check"],
            vec!["purge", "--dry-run"],
        ];
        for kind in ["threads", "posts", "attachments"] {
            for state in ["all", "active", "deleted"] {
                reads.push(vec!["list", kind, "--state", state, "--limit", "1000"]);
            }
        }
        for status in ["pending", "approved", "rejected", "removed", "all"] {
            reads.push(vec!["flags", "--status", status, "--limit", "1000"]);
        }
        reads
    };
    // Every read at the start and the end; between the writes those that
    // show every row (state or status `all`), to keep the test short.
    let read_all = |twins: &mut Twins, after: &str| {
        let every = after == "nothing" || after == "the end";
        for args in reads
            .iter()
            .filter(|a| every || a.len() < 3 || a.contains(&"all"))
        {
            let json = twins.step(args);
            assert_ne!(json, serde_json::Value::Null, "{args:?} after {after}");
        }
        twins.same_rows(after);
    };
    read_all(&mut twins, "nothing");
    // The console's writes, each followed by every read.
    let writes: Vec<Vec<&str>> = vec![
        vec!["migrate"],
        vec![
            "--actor",
            "moderator",
            "review",
            "6304a62368a341e185a9162f20c57a44",
            "approve",
            "--reason",
            "fine",
            "--notes",
            "seen",
        ],
        vec![
            "--actor",
            "moderator",
            "review",
            "8598dcf9d8f14518b0fe2841530ac832",
            "lock_thread",
            "--reason",
            "calm down",
        ],
    ];
    for args in &writes {
        let json = twins.step(args);
        if args.contains(&"review") {
            assert_eq!(json["changed"], true, "{args:?}: {json}");
        }
        read_all(&mut twins, &args.join(" "));
    }
    // Delete, restore and undo of an active thread and of a post, each
    // cascade included.
    let threads = twins.step(&["list", "threads", "--state", "active", "--limit", "1"]);
    let thread = threads["rows"][0]["id"].as_str().unwrap().to_string();
    let posts = twins.step(&["list", "posts", "--thread", &thread, "--state", "active"]);
    let post = posts["rows"][0]["id"].as_str().unwrap().to_string();
    let pending = twins.step(&["flags", "--limit", "1000"]);
    let pending_of = |kind: &str| {
        pending["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["content_type"] == kind && r["target_is_active"] == true)
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no pending {kind} flag on active content"))
    };
    let (post_flag, thread_flag) = (pending_of("post"), pending_of("thread"));
    let more: Vec<Vec<&str>> = vec![
        vec![
            "--actor",
            "moderator",
            "delete",
            "thread",
            &thread,
            "--reason",
            "spam",
        ],
        vec!["--actor", "moderator", "restore", "thread", &thread],
        vec!["--actor", "moderator", "delete", "post", &post],
        vec!["--actor", "moderator", "undo"],
        vec![
            "--actor",
            "moderator",
            "review",
            &post_flag,
            "remove_post",
            "--reason",
            "spam",
        ],
        vec!["--actor", "moderator", "undo"],
        vec![
            "--actor",
            "moderator",
            "review",
            &thread_flag,
            "remove_thread",
            "--reason",
            "off-topic",
        ],
        vec!["--actor", "moderator", "check", "--fix"],
        vec!["--actor", "moderator", "undo"],
    ];
    for args in &more {
        let json = twins.step(args);
        let changed = if args.contains(&"--fix") {
            &json["fix"]["changed"]
        } else {
            &json["changed"]
        };
        assert_eq!(changed, true, "{args:?}: {json}");
        read_all(&mut twins, &args.join(" "));
    }
    // Not vacuous: the reviews are in the rows compared.
    let flags = twins.step(&["flags", "--status", "approved", "--limit", "1000"]);
    assert!(
        flags["rows"].as_array().unwrap().iter().any(|r| r["id"]
            == "6304a62368a341e185a9162f20c57a44"
            && r["moderator_notes"] == "seen")
    );
    read_all(&mut twins, "the end");
    assert_eq!(twins.same_ids.len(), 5);
    // Each entry, every row before and after.
    for entry in 1..=11 {
        let json = twins.step(&["log", "--entry", &entry.to_string()]);
        assert!(json["entries"][0]["action"].is_string(), "{json}");
    }
}

#[test]
fn what_the_console_writes_on_postgresql_is_in_djangos_types_and_in_utc() {
    let pg = PgDb::fixture();
    // The server's sessions in another time zone: the console still writes
    // and shows UTC, as Django does (USE_TZ).
    pg.client()
        .batch_execute(&format!(
            "ALTER DATABASE {} SET timezone TO 'Asia/Tokyo'",
            pg.name
        ))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let now = "2026-11-26 12:00:00.250001";
    let review = |flag: &str, action: &str| {
        let out = support::clean_command(home.path())
            .args([
                "--db",
                &pg.url,
                "--now",
                now,
                "--actor",
                "moderator",
                "review",
            ])
            .args([flag, action, "--reason", "checked", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let post_flag = "6304a62368a341e185a9162f20c57a44";
    let thread_flag = "8598dcf9d8f14518b0fe2841530ac832";
    let approved = review(post_flag, "approve");
    assert_eq!(approved["reviewed_at"], now);
    review(thread_flag, "lock_thread");

    let mut client = pg.client();
    let utc = format!("{now}+00");
    // The flag: the review's columns in their native types, the instant
    // exactly `now` in UTC.
    let flag = client
        .query_one(
            "SELECT status, reviewed_by_id, moderator_notes, \
                    reviewed_at = $2::text::timestamptz, updated_at = $2::text::timestamptz, \
                    pg_typeof(reviewed_at)::text \
             FROM forum_flaggedcontent WHERE id = $1::text::uuid",
            &[&post_flag, &utc],
        )
        .unwrap();
    assert_eq!(flag.get::<_, String>(0), "approved");
    assert_eq!(flag.get::<_, Option<i64>>(1), Some(1));
    assert_eq!(flag.get::<_, String>(2), "");
    assert!(flag.get::<_, bool>(3) && flag.get::<_, bool>(4));
    assert_eq!(flag.get::<_, String>(5), "timestamp with time zone");
    // The moderation actions: a uuid id (the one the JSON names), UTC time.
    let actions = client
        .query(
            "SELECT replace(id::text, '-', ''), pg_typeof(id)::text, action_type, reason, \
                    created_at = $1::text::timestamptz, moderator_id, affected_user_id \
             FROM forum_moderationaction WHERE created_at = $1::text::timestamptz \
             ORDER BY action_type",
            &[&utc],
        )
        .unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        actions[0].get::<_, String>(0),
        approved["moderation_action_id"]
    );
    for a in &actions {
        assert_eq!(a.get::<_, String>(1), "uuid");
        assert_eq!(a.get::<_, String>(3), "checked");
        assert!(a.get::<_, bool>(4));
        assert_eq!(a.get::<_, i64>(5), 1);
        assert!(a.get::<_, Option<i64>>(6).is_some());
    }
    // The lock: a boolean.
    let locked: bool = client
        .query_one(
            "SELECT is_locked FROM forum_thread WHERE id = 'a51d96d2ec6f44478dad38d1dd6aa691'::uuid",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(locked);
    // The console's own entries: UTC too.
    let at_now: i64 = client
        .query_one(
            "SELECT count(*) FROM modcon_action WHERE at = $1::text::timestamptz",
            &[&utc],
        )
        .unwrap()
        .get(0);
    assert_eq!(at_now, 2);
    // The console's own tables in Django's types: ids of forum rows uuid,
    // times timestamptz, flags boolean, its own ids bigint.
    for table in pg.tables().iter().filter(|t| t.starts_with("modcon_")) {
        for (column, data_type) in pg.column_types(table) {
            let expected = match column.as_str() {
                "row_id" | "target_id" | "parent_id" => "uuid",
                c if c.ends_with("_at") || c == "at" => {
                    if table == "modcon_migrations" {
                        continue;
                    }
                    "timestamp with time zone"
                }
                c if c.ends_with("_active") => "boolean",
                "id" | "action_id" | "undoes" | "undone_by" | "threads" | "posts"
                | "attachments" | "files" => "bigint",
                _ => continue,
            };
            assert_eq!(data_type, expected, "{table}.{column}");
        }
    }
    // Read back by the console in that time zone: Django's UTC text.
    let (ok, flags, err) = run_json_at(
        home.path(),
        &pg.arg(),
        now,
        &["flags", "--status", "approved"],
    );
    assert!(ok, "{err}");
    let row = flags["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == post_flag)
        .unwrap()
        .clone();
    assert_eq!(row["reviewed_at"], now);
}

/// Several writes in one round trip (each changing rows of its own): each
/// statement's count, in order, on both backends alike.
#[test]
fn statements_run_together_give_each_ones_count_on_both_backends() {
    let f = fixture();
    let pg = PgDb::fixture();
    let mut counts = Vec::new();
    for db in [f.db.clone(), pg.arg()] {
        let mut db = Db::open(&db, &OpenOptions::new(Access::ReadWrite)).unwrap();
        let d = db.conn().dialect();
        let tx = db.write_tx().unwrap();
        let conn = tx.conn();
        let before: i64 = conn
            .query_row("SELECT count(*) FROM forum_reaction", &[], |r| r.get(0))
            .unwrap();
        let changed = conn
            .execute_together(
                &[
                    format!(
                        "UPDATE forum_reaction SET is_active = {} \
                         WHERE is_active = {} AND reaction_type <> ?1",
                        d.bool(false),
                        d.bool(true)
                    ),
                    "DELETE FROM forum_reaction WHERE reaction_type = ?1".to_string(),
                    "UPDATE forum_category SET name = ?2 WHERE name = 'no such category'"
                        .to_string(),
                ],
                modcon_core::params!["like", "unused"],
            )
            .unwrap();
        let after: i64 = conn
            .query_row("SELECT count(*) FROM forum_reaction", &[], |r| r.get(0))
            .unwrap();
        drop(tx);
        assert_eq!(changed[1] as i64, before - after);
        assert_eq!(changed[2], 0);
        counts.push(changed);
    }
    assert_eq!(counts[0], counts[1]);
    // Not vacuous: the fixture has likes and other active reactions.
    assert!(counts[0][0] > 0 && counts[0][1] > 0, "{counts:?}");
}

/// The foreign keys from the purge's records and file journal to
/// modcon_action (the server checked them row by row in every batch) are
/// dropped by the first read-write open of a database an older console
/// made (its migrations up to 0011 recorded, the keys in place). A purge
/// on it applies the migration first and its records name its action.
#[test]
fn an_older_consoles_database_loses_the_purge_records_action_keys_on_open() {
    let pg = PgDb::fixture();
    let home = tempfile::tempdir().unwrap();
    drop(Db::open(&pg.arg(), &OpenOptions::new(Access::ReadWrite)).unwrap());
    let mut client = pg.client();
    let keys = |client: &mut postgres::Client| -> Vec<String> {
        client
            .query(
                "SELECT conrelid::regclass::text FROM pg_constraint \
                 WHERE contype = 'f' AND confrelid = 'modcon_action'::regclass \
                 AND conrelid::regclass::text IN ('modcon_purged', 'modcon_file_journal') \
                 ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(keys(&mut client), Vec::<String>::new());
    // As the console before migration 0012 left the database.
    client
        .batch_execute(
            "ALTER TABLE modcon_purged ADD CONSTRAINT modcon_purged_action_id_fkey \
               FOREIGN KEY (action_id) REFERENCES modcon_action (id); \
             ALTER TABLE modcon_file_journal ADD CONSTRAINT modcon_file_journal_action_id_fkey \
               FOREIGN KEY (action_id) REFERENCES modcon_action (id); \
             DELETE FROM modcon_migrations WHERE name = '0012_purge_records_without_action_keys'",
        )
        .unwrap();
    assert_eq!(
        keys(&mut client),
        ["modcon_file_journal", "modcon_purged"].map(String::from)
    );
    // The purge opens the database read-write: the migration comes first.
    let (ok, out, err) = run_json(home.path(), &pg.arg(), &["purge", "--keep-files"]);
    assert!(ok, "{err}");
    assert!(out["attachments"].as_i64().unwrap() > 0, "{out}");
    assert_eq!(keys(&mut client), Vec::<String>::new());
    let recorded: Vec<String> = client
        .query(
            "SELECT outcome FROM modcon_migrations \
             WHERE name = '0012_purge_records_without_action_keys'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(recorded, ["applied"]);
    // Every record names the purge's action.
    let orphans: i64 = client
        .query_one(
            "SELECT count(*) FROM modcon_purged p LEFT JOIN modcon_action a ON a.id = p.action_id \
             WHERE a.action IS DISTINCT FROM 'purge'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(orphans, 0);
}
