//! A small hand-built forum on either backend, for tests written once and
//! run on both: on SQLite the [`Forum`] file, on PostgreSQL a throwaway
//! database with the schema Django made there (from `pg.sql`, its rows
//! removed) holding the same rows. Reads come back as the console shows
//! them (ids as 32 hex digits, Django datetime text, booleans as 0/1), so
//! one assertion serves both. The web app's writes are SQL that both
//! accept, with `{t}`/`{f}` for its booleans (Django writes integers on
//! SQLite, `true`/`false` on PostgreSQL).

use std::path::{Path, PathBuf};

use modcon_core::sql::{Conn, PgConn};

use super::Forum;
use super::pg::PgDb;

/// `is_active` and the stored `deleted_at` (attachments) of each row, by
/// `(kind, id)`.
pub type State = std::collections::BTreeMap<(String, String), (i64, Option<String>)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend, as two tests named after them.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                ($body)($crate::support::site::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                ($body)($crate::support::site::Backend::Postgres)
            }
        }
    };
}

pub struct Site {
    pub backend: Backend,
    /// The SQLite forum; on PostgreSQL it only lends its folder and media.
    pub forum: Forum,
    pg: Option<(PgDb, PgConn)>,
    /// The tables are the ones Django made on SQLite too (the fixture's
    /// schema, not the hand-built one): rows are written in Django's whole
    /// column lists on both backends.
    django: bool,
    /// Commands are given `--media-root` (the forum's media folder).
    media_root: bool,
}

/// The forum's rows gone from the fixture's PostgreSQL schema, and the
/// same user and category as [`Forum`]'s.
const EMPTY_PG: &str = "
    TRUNCATE forum_moderationaction, forum_flaggedcontent, forum_reaction, forum_attachment,
             forum_post, forum_thread, forum_userprofile, forum_category, users_user_groups,
             users_user_user_permissions, users_user CASCADE;
    INSERT INTO users_user (password, last_login, is_superuser, username, first_name, last_name,
                            email, is_staff, is_active, date_joined, id, uuid)
        VALUES ('!', NULL, false, 'mo', '', '', 'mo@example.org', true, true,
                '2025-01-01 00:00:00+00', 1, 'a0000000000000000000000000000001');
    INSERT INTO forum_category (id, name, slug, description, icon, display_order, is_active,
                                created_at, updated_at, parent_id)
        VALUES ('c0000000000000000000000000000000', 'General', 'general', '', '', 0, true,
                '2025-01-01 00:00:00+00', '2025-01-01 00:00:00+00', NULL);
";

impl Site {
    pub fn new(backend: Backend) -> Site {
        Site::make(backend, Forum::new(), false)
    }

    /// A forum in the schema Django made on each backend (on SQLite the
    /// fixture's, its rows removed), whose commands are given the media
    /// root: what the purge tests need.
    pub fn django(backend: Backend) -> Site {
        let mut site = Site::make(backend, Forum::django(), true);
        site.media_root = true;
        site
    }

    fn make(backend: Backend, forum: Forum, django: bool) -> Site {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let db = PgDb::fixture();
                let conn = PgConn::connect(&db.url).unwrap();
                Conn::Postgres(&conn).execute_batch(EMPTY_PG).unwrap();
                Some((db, conn))
            }
        };
        Site {
            backend,
            forum,
            pg,
            django,
            media_root: false,
        }
    }

    /// The PostgreSQL database, on that backend.
    pub fn pg(&self) -> Option<&PgDb> {
        self.pg.as_ref().map(|(db, _)| db)
    }

    /// Rows written in Django's whole column lists (PostgreSQL, or the
    /// Django-made schema on SQLite), not by the hand-built forum's helpers.
    fn full_rows(&self) -> bool {
        self.backend == Backend::Postgres || self.django
    }

    /// A connection of the test's own (the web app's, for writes).
    pub fn conn(&self) -> Conn<'_> {
        match &self.pg {
            Some((_, c)) => Conn::Postgres(c),
            None => Conn::Sqlite(&self.forum.conn),
        }
    }

    /// What `--db` takes: the file, or the server's URL.
    pub fn db(&self) -> PathBuf {
        match &self.pg {
            Some((db, _)) => db.arg(),
            None => self.forum.db.clone(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.forum.dir.path()
    }

    /// The web app's SQL, `{t}` and `{f}` its booleans.
    pub fn web(&self, sql: &str) {
        let (t, f) = match self.backend {
            Backend::Sqlite => ("1", "0"),
            Backend::Postgres => ("true", "false"),
        };
        let sql = sql.replace("{t}", t).replace("{f}", f);
        self.conn()
            .execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"));
    }

    pub fn thread(&self, id: &str, active: bool) {
        if !self.full_rows() {
            return self.forum.thread(id, active);
        }
        self.insert_thread(id, active, "2026-01-01 10:00:00", None);
    }

    /// An active thread made (and last active) at `at`.
    pub fn thread_at(&self, id: &str, at: &str) {
        assert!(
            self.full_rows(),
            "times are written in Django's column lists"
        );
        self.insert_thread(id, true, at, Some(at));
    }

    fn insert_thread(&self, id: &str, active: bool, at: &str, last_activity: Option<&str>) {
        self.web(&format!(
            "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
               view_count, post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
             VALUES ('{id}', 'Thread {id}', 'slug-{id}', '', {{f}}, {{f}}, {active}, 0, 0, {last}, \
               '{at}', '{at}', 1, 'c0000000000000000000000000000000')",
            active = flag(active),
            last = last_activity.map_or("NULL".into(), |t| format!("'{t}'")),
        ));
    }

    pub fn post(&self, id: &str, thread: &str, active: bool) {
        if !self.full_rows() {
            return self.forum.post(id, thread, active);
        }
        self.insert_post(id, thread, active, "2026-01-02 10:00:00");
    }

    /// An active post written at `at`.
    pub fn post_at(&self, id: &str, thread: &str, at: &str) {
        assert!(
            self.full_rows(),
            "times are written in Django's column lists"
        );
        self.insert_post(id, thread, true, at);
    }

    fn insert_post(&self, id: &str, thread: &str, active: bool, at: &str) {
        self.web(&format!(
            "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, \
               is_active, edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
             VALUES ('{id}', 'Text of {id}', NULL, 'markdown', {{f}}, {active}, NULL, \
               '{at}', '{at}', 1, NULL, '{thread}')",
            active = flag(active),
        ));
    }

    /// An attachment row, with its file (and one thumbnail) on disk when
    /// `with_file`. `deleted_at` set: deleted then.
    pub fn attachment(
        &self,
        id: &str,
        post: &str,
        image: &str,
        deleted_at: Option<&str>,
        with_file: bool,
    ) {
        match self.full_rows() {
            false => self
                .forum
                .attachment(id, post, image, deleted_at, with_file),
            true => {
                let at = deleted_at
                    .map(|t| format!("'{t}'"))
                    .unwrap_or_else(|| "NULL".into());
                self.web(&format!(
                    "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, \
                       display_order, alt_text, created_at, post_id, deleted_at, is_active) \
                     VALUES ('{id}', '{image}', 'photo.png', 10, 'image/png', 0, '', \
                       '2026-01-02 10:00:00', '{post}', {at}, {active})",
                    active = flag(deleted_at.is_none()),
                ));
                if with_file {
                    self.forum.file(image);
                    self.forum.file(&super::thumbnail(image));
                }
            }
        }
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.forum.exists(rel)
    }

    /// Every row of a query, each value as text as the console reads it
    /// (NULL as `None`).
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.conn()
            .query_map(sql, &[], |r| {
                let mut row = Vec::new();
                let mut i = 0;
                while let Ok(v) = r.opt_text(i) {
                    row.push(v);
                    i += 1;
                }
                Ok(row)
            })
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
    }

    /// The first value of a query, as text (`None`: no row, or NULL).
    pub fn text(&self, sql: &str) -> Option<String> {
        self.rows(sql).into_iter().next().and_then(|r| r[0].clone())
    }

    /// The ids of a table, as 32 hex digits.
    pub fn ids(&self, table: &str) -> std::collections::BTreeSet<String> {
        self.rows(&format!("SELECT id FROM {table}"))
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect()
    }

    /// Whether a row is active (`None`: there is no such row).
    pub fn active(&self, table: &str, id: &str) -> Option<bool> {
        self.text(&format!("SELECT is_active FROM {table} WHERE id = '{id}'"))
            .map(|v| v == "1")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn()
            .query_row(sql, &[], |r| r.get::<i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
    }

    /// `is_active` and (attachments) `deleted_at` of every row.
    pub fn state(&self) -> State {
        let mut map = State::new();
        for (kind, sql) in [
            ("thread", "SELECT id, is_active, NULL FROM forum_thread"),
            ("post", "SELECT id, is_active, NULL FROM forum_post"),
            (
                "attachment",
                "SELECT id, is_active, deleted_at FROM forum_attachment",
            ),
        ] {
            for row in self.rows(sql) {
                let id = row[0].clone().unwrap_or_default();
                let active: i64 = row[1].as_deref().unwrap_or("0").parse().unwrap();
                map.insert((kind.to_string(), id), (active, row[2].clone()));
            }
        }
        map
    }

    /// `modcon --db DB [--media-root MEDIA] --now NOW ARGS...` on this
    /// site from a clean environment, not yet run.
    pub fn command(&self, now: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = super::clean_command(self.dir());
        cmd.arg("--db").arg(self.db());
        if self.media_root {
            cmd.arg("--media-root").arg(&self.forum.media);
        }
        cmd.args(["--now", now])
            .args(args)
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// [`Site::command`], run to its end.
    pub fn output(&self, now: &str, args: &[&str]) -> std::process::Output {
        self.command(now, args).output().unwrap()
    }

    /// [`Site::command`], run, with assert_cmd's assertions.
    pub fn run(&self, now: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        assert_cmd::Command::from_std(self.command(now, args)).assert()
    }

    /// [`Site::run`] with `--json`, asserting success.
    pub fn json(&self, now: &str, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(now, &all).success().get_output().stdout.clone();
        serde_json::from_slice(&out).unwrap_or_else(|e| {
            panic!(
                "bad JSON from {args:?}: {e}: {}",
                String::from_utf8_lossy(&out)
            )
        })
    }
}

fn flag(b: bool) -> &'static str {
    if b { "{t}" } else { "{f}" }
}
