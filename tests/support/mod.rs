//! The one support module of the integration tests: temporary copies of
//! the Django-made fixture, demo databases made at run time, a hand-built
//! Django-style schema, the binary run in a clean environment
//! (`hardening`), the checks of its output and of the rows it changed
//! (`assertions`), and the web app's side (`webapp`, `pg`, `site`).
//!
//! Each test file is its own crate and uses a part of this module, so
//! what one file leaves unused is not dead code.
#![allow(dead_code)]

pub mod assertions;
pub mod hardening;
pub mod pg;
pub mod site;
pub mod tmux;
pub mod waiting;
pub mod webapp;

// Flat, so a test names `support::error_line`; unused in files that
// need neither part.
#[allow(unused_imports)]
pub use assertions::*;
#[allow(unused_imports)]
pub use hardening::*;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rusqlite::Connection;
use tempfile::TempDir;

/// The moment the fixture's ages are relative to (its `generated_at_utc`).
pub const FIXTURE_NOW: &str = "2026-11-26 11:00:08.157597";
/// A fixed clock for demo databases.
pub const DEMO_NOW: &str = "2026-11-26 12:00:00";

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django-small")
}

/// A temporary copy of the Django-made fixture: `dir/db.sqlite3` and
/// `dir/media`.
pub struct Fixture {
    pub dir: TempDir,
    pub db: PathBuf,
    pub media: PathBuf,
}

/// Copies a folder tree: symlinks are made again as symlinks (same
/// targets), files are copied and left writable (the fixture's may not be).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            let mut perms = fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&target, perms).unwrap();
        }
    }
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_dir(), dir.path());
    Fixture {
        db: dir.path().join("db.sqlite3"),
        media: dir.path().join("media"),
        dir,
    }
}

/// The fixture's expected.json.
pub fn expected() -> serde_json::Value {
    let text = fs::read_to_string(fixture_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What the binary reads from its environment that a test must not inherit
/// from the person running it.
pub const CLEARED_VARIABLES: [&str; 8] = [
    "MODCON_CONFIG",
    "MODCON_DB",
    "MODCON_MEDIA_ROOT",
    "MODCON_ACTOR",
    "MODCON_FAILPOINT",
    "SUDO_USER",
    "SSH_CLIENT",
    "XDG_DATA_HOME",
];

/// The binary as a plain process in a clean environment: no user config
/// (the config file would be `HOME/.config/modcon/config.toml`),
/// no MODCON_* variables, HOME in a temporary folder, a short busy timeout.
pub fn clean_command(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_modcon"));
    for var in CLEARED_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("USER", "tester")
        .env("MODCON_BUSY_TIMEOUT_MS", "300")
        .env("NO_COLOR", "1");
    cmd
}

/// The project's README.
pub fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced blocks of a language, in order, without their fences (and
/// without the indentation of a block inside a list).
pub fn fenced_blocks(text: &str, lang: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == format!("```{lang}") => current = Some((indent, Vec::new())),
            Some((_, lines)) if trimmed == "```" => {
                found.push(lines.join("\n") + "\n");
                current = None;
            }
            Some((indent, lines)) => lines.push(line.get(*indent..).unwrap_or("").to_string()),
            None => {}
        }
    }
    found
}

/// [`clean_command`], with assert_cmd's assertions.
pub fn modcon(home: &Path) -> Command {
    Command::from_std(clean_command(home))
}

/// `modcon --db DB --now NOW ARGS...`
pub fn run_on(db: &Path, now: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    let home = db.parent().unwrap();
    let mut cmd = modcon(home);
    cmd.arg("--db").arg(db).arg("--now").arg(now).args(args);
    cmd.assert()
}

/// Runs with `--json` and parses stdout, asserting success.
pub fn json_on(db: &Path, now: &str, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run_on(db, now, &all).success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "bad JSON from {args:?}: {e}: {}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// A demo database made by the binary, with its media beside it.
pub struct Demo {
    pub dir: TempDir,
    pub db: PathBuf,
    pub media: PathBuf,
}

pub fn demo(threads: usize, seed: u64) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite3");
    modcon(dir.path())
        .args(["--now", DEMO_NOW, "demo", "--out"])
        .arg(&db)
        .args([
            "--threads",
            &threads.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .assert()
        .success();
    Demo {
        media: dir.path().join("media"),
        db,
        dir,
    }
}

pub fn open(db: &Path) -> Connection {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    conn
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The first column of every row `sql` returns, in its order (or as a set).
pub fn column<T: rusqlite::types::FromSql, C: FromIterator<T>>(conn: &Connection, sql: &str) -> C {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The forum tables a purge deletes rows from (its rows and, as the web
/// app's cascades would, their reactions, flags and flags' actions), as
/// the tests expect them: written here, not taken from the console.
pub const PURGED_TABLES: [&str; 6] = [
    "forum_thread",
    "forum_post",
    "forum_attachment",
    "forum_reaction",
    "forum_flaggedcontent",
    "forum_moderationaction",
];

/// Where the purge tests' attachment `n` keeps its image (below the
/// media root).
pub fn attachment_image(n: u32) -> String {
    format!("forum/attachments/2026/01/02/{n:x}.png")
}

/// The one thumbnail a test attachment with a file has: a rendition in
/// the image's own `CACHE/images/` folder.
pub fn thumbnail(image: &str) -> String {
    format!(
        "CACHE/images/{}/thumb.jpg",
        Path::new(image).with_extension("").display()
    )
}

/// The forum tables as Django creates them on SQLite (column types, NOT
/// NULLs, DEFERRABLE foreign keys), written by hand so the test does not
/// lean on the console's own migration.
pub const DJANGO_SCHEMA: &str = r#"
CREATE TABLE "users_user" ("password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);
CREATE TABLE "forum_category" ("id" char(32) NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL UNIQUE, "slug" varchar(120) NOT NULL UNIQUE, "is_active" bool NOT NULL);
CREATE TABLE "forum_thread" ("id" char(32) NOT NULL PRIMARY KEY, "title" varchar(200) NOT NULL, "slug" varchar(250) NOT NULL UNIQUE, "is_pinned" bool NOT NULL, "is_locked" bool NOT NULL, "is_active" bool NOT NULL, "post_count" integer NOT NULL, "last_activity_at" datetime NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "author_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "category_id" char(32) NOT NULL REFERENCES "forum_category" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_post" ("id" char(32) NOT NULL PRIMARY KEY, "content_raw" text NOT NULL, "content_format" varchar(20) NOT NULL, "is_first_post" bool NOT NULL, "is_active" bool NOT NULL, "edited_at" datetime NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "author_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "thread_id" char(32) NOT NULL REFERENCES "forum_thread" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_attachment" ("id" char(32) NOT NULL PRIMARY KEY, "image" varchar(100) NOT NULL, "original_filename" varchar(255) NOT NULL, "file_size" integer NOT NULL, "mime_type" varchar(100) NOT NULL, "display_order" integer NOT NULL, "alt_text" varchar(255) NOT NULL, "created_at" datetime NOT NULL, "post_id" char(32) NOT NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "deleted_at" datetime NULL, "is_active" bool NOT NULL);
CREATE TABLE "forum_reaction" ("id" char(32) NOT NULL PRIMARY KEY, "reaction_type" varchar(20) NOT NULL, "is_active" bool NOT NULL, "post_id" char(32) NOT NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_flaggedcontent" ("id" char(32) NOT NULL PRIMARY KEY, "content_type" varchar(20) NOT NULL, "flag_reason" varchar(50) NOT NULL, "status" varchar(20) NOT NULL, "created_at" datetime NOT NULL, "reporter_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "post_id" char(32) NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "thread_id" char(32) NULL REFERENCES "forum_thread" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_moderationaction" ("id" char(32) NOT NULL PRIMARY KEY, "action_type" varchar(50) NOT NULL, "created_at" datetime NOT NULL, "flag_id" char(32) NOT NULL REFERENCES "forum_flaggedcontent" ("id") DEFERRABLE INITIALLY DEFERRED, "moderator_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "forum_post_thread_id_f9fa0a56" ON "forum_post" ("thread_id");
CREATE INDEX "forum_attachment_post_id_200c7fbc" ON "forum_attachment" ("post_id");
CREATE INDEX "forum_attachment_is_active_4bfc911a" ON "forum_attachment" ("is_active");
"#;

/// A small hand-built forum: one user, one category, and whatever rows
/// the test adds through [`Forum`].
pub struct Forum {
    pub dir: TempDir,
    pub db: PathBuf,
    pub media: PathBuf,
    pub conn: Connection,
}

/// A context for a core call by `actor` at `at` (Django datetime text), with
/// the default retention of 30 days and nothing else said.
pub fn ctx_as(actor: &str, at: &str) -> modcon_core::Ctx {
    modcon_core::Ctx {
        now: modcon_core::model::parse_datetime(at).unwrap(),
        actor: actor.into(),
        retention_days: 30,
        ..Default::default()
    }
}

/// The row with id `id` of a `list --json` answer; a panic naming the id and
/// the whole answer when it is not there.
pub fn row_with_id(list: &serde_json::Value, id: &str) -> serde_json::Value {
    list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

pub fn hex_id(n: u32) -> String {
    format!("{n:032x}")
}

impl Forum {
    /// The fixture's schema exactly as Django made it, no forum rows (see
    /// [`webapp::DjangoForum`]); its helpers are for the hand-built schema,
    /// so write its rows in Django's whole column lists.
    pub fn django() -> Forum {
        let d = webapp::DjangoForum::new();
        Forum {
            dir: d.dir,
            db: d.db,
            media: d.media,
            conn: d.web,
        }
    }

    pub fn new() -> Forum {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("forum.sqlite3");
        let media = dir.path().join("media");
        fs::create_dir_all(media.join("forum/attachments")).unwrap();
        let conn = open(&db);
        conn.execute_batch(DJANGO_SCHEMA).unwrap();
        conn.execute_batch(
            "INSERT INTO users_user VALUES ('!', NULL, 0, 'mo', '', '', 'mo@example.org', 1, 1, '2025-01-01 00:00:00', 1);
             INSERT INTO forum_category VALUES ('c0000000000000000000000000000000', 'General', 'general', 1);",
        )
        .unwrap();
        Forum {
            dir,
            db,
            media,
            conn,
        }
    }

    pub fn thread(&self, id: &str, active: bool) {
        self.conn
            .execute(
                "INSERT INTO forum_thread VALUES (?1, 'Thread ' || ?1, 'slug-' || ?1, 0, 0, ?2, 0, NULL, \
                 '2026-01-01 10:00:00', '2026-01-01 10:00:00', 1, 'c0000000000000000000000000000000')",
                (id, active),
            )
            .unwrap();
    }

    pub fn post(&self, id: &str, thread: &str, active: bool) {
        self.conn
            .execute(
                "INSERT INTO forum_post VALUES (?1, 'Text of ' || ?1, 'markdown', 0, ?2, NULL, \
                 '2026-01-02 10:00:00', '2026-01-02 10:00:00', 1, ?3)",
                (id, active, thread),
            )
            .unwrap();
    }

    /// An attachment row, with its file (and one thumbnail) on disk when
    /// `with_file`.
    pub fn attachment(
        &self,
        id: &str,
        post: &str,
        image: &str,
        deleted_at: Option<&str>,
        with_file: bool,
    ) {
        self.conn
            .execute(
                "INSERT INTO forum_attachment VALUES (?1, ?2, 'photo.png', 10, 'image/png', 0, '', \
                 '2026-01-02 10:00:00', ?3, ?4, ?5)",
                (id, image, post, deleted_at, deleted_at.is_none()),
            )
            .unwrap();
        if with_file {
            self.file(image);
            self.file(&thumbnail(image));
        }
    }

    /// Active thread 1 with active post 2 holding attachment 3 (deleted at
    /// `deleted_at` when given).
    pub fn one_of_each(&self, image: &str, deleted_at: Option<&str>, with_file: bool) {
        self.thread(&hex_id(1), true);
        self.post(&hex_id(2), &hex_id(1), true);
        self.attachment(&hex_id(3), &hex_id(2), image, deleted_at, with_file);
    }

    pub fn file(&self, rel: &str) {
        let path = self.media.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"png").unwrap();
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.media.join(rel).exists()
    }

    pub fn active(&self, table: &str, id: &str) -> Option<bool> {
        self.conn
            .query_row(
                &format!("SELECT is_active FROM {table} WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .ok()
    }
}

/// The account the tests run as, by the system's own tool (`id -un`): what
/// the audit log must record beside the actor.
pub fn os_account() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
