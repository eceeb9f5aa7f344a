//! The console on PostgreSQL: the same commands on the Django-made fixture
//! loaded into PostgreSQL give exactly what they give on its SQLite twin;
//! connecting never shows a password; `--read-only` is read-only at the
//! server; the console's own tables are made in Django's native types.

use crate::support;

use std::path::Path;

use modcon_core::db::{Access, Db, OpenOptions};
use support::pg::PgDb;
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

#[test]
fn sslmode_require_is_refused_clearly() {
    let pg = PgDb::empty();
    let url = format!("{}?sslmode=require", pg.url);
    let err = Db::open(Path::new(&url), &OpenOptions::new(Access::ReadOnly))
        .err()
        .unwrap();
    let text = format!("{err:#}");
    assert!(text.contains("sslmode=require"), "{text}");
    assert!(!text.contains("modcon:modcon"), "{text}");
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
    let on_sqlite: Vec<String> = support::open(&f.db)
        .prepare("SELECT name FROM modcon_migrations ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
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
