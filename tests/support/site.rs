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
        let forum = Forum::new();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let db = PgDb::fixture();
                let conn = PgConn::connect(&db.url).unwrap();
                Conn::Postgres(&conn).execute_batch(EMPTY_PG).unwrap();
                Some((db, conn))
            }
        };
        Site { backend, forum, pg }
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
        match self.backend {
            Backend::Sqlite => self.forum.thread(id, active),
            Backend::Postgres => self.web(&format!(
                "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
                   view_count, post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
                 VALUES ('{id}', 'Thread {id}', 'slug-{id}', '', {{f}}, {{f}}, {active}, 0, 0, NULL, \
                   '2026-01-01 10:00:00', '2026-01-01 10:00:00', 1, 'c0000000000000000000000000000000')",
                active = flag(active),
            )),
        }
    }

    pub fn post(&self, id: &str, thread: &str, active: bool) {
        match self.backend {
            Backend::Sqlite => self.forum.post(id, thread, active),
            Backend::Postgres => self.web(&format!(
                "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, \
                   is_active, edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
                 VALUES ('{id}', 'Text of {id}', NULL, 'markdown', {{f}}, {active}, NULL, \
                   '2026-01-02 10:00:00', '2026-01-02 10:00:00', 1, NULL, '{thread}')",
                active = flag(active),
            )),
        }
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
        match self.backend {
            Backend::Sqlite => self
                .forum
                .attachment(id, post, image, deleted_at, with_file),
            Backend::Postgres => {
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
                    let stem = Path::new(image).with_extension("");
                    self.forum
                        .file(&format!("CACHE/images/{}/thumb.jpg", stem.display()));
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

    /// `modcon ARGS...` on this site from a clean environment.
    pub fn run(&self, now: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut cmd = super::modcon(self.dir());
        cmd.arg("--db")
            .arg(self.db())
            .arg("--now")
            .arg(now)
            .args(args);
        cmd.assert()
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
