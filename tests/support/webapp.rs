//! The web app's own writes, in plain SQL exactly as Django issues them on
//! SQLite, on a database with the Django-made fixture's schema (its tables
//! and indexes, no rows). Tests drive the console between these writes.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use tempfile::TempDir;

use super::fixture_dir;

/// The Django-made fixture's schema with no forum rows: one staff user
/// (id 1, `moderator`), one ordinary user (id 2) and one category.
pub struct DjangoForum {
    pub dir: TempDir,
    pub db: PathBuf,
    pub media: PathBuf,
    /// The web app's connection (foreign keys on, as Django runs).
    pub web: Connection,
}

pub const CATEGORY: &str = "c0000000000000000000000000000000";
pub const MODERATOR: i64 = 1;
pub const USER: i64 = 2;

/// The bytes of an empty database with the fixture's exact schema: made
/// once per test binary, written to a new file for each forum.
fn empty_bytes() -> Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("empty.sqlite3");
            fs::copy(fixture_dir().join("db.sqlite3"), &path).unwrap();
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "PRAGMA foreign_keys = OFF;
                 DELETE FROM forum_moderationaction; DELETE FROM forum_flaggedcontent;
                 DELETE FROM forum_reaction; DELETE FROM forum_attachment; DELETE FROM forum_post;
                 DELETE FROM forum_thread; DELETE FROM forum_userprofile;
                 DELETE FROM users_user_groups; DELETE FROM users_user_user_permissions;
                 DELETE FROM users_user; DELETE FROM forum_category;
                 INSERT INTO users_user (password, last_login, is_superuser, username, first_name, last_name, \
                   email, is_staff, is_active, date_joined, id, uuid) VALUES \
                   ('!', NULL, 0, 'moderator', '', '', 'mo@example.org', 1, 1, '2025-01-01 00:00:00', 1, \
                    'a0000000000000000000000000000001'), \
                   ('!', NULL, 0, 'user', '', '', 'u@example.org', 0, 1, '2025-01-01 00:00:00', 2, \
                    'a0000000000000000000000000000002');
                 INSERT INTO forum_category (id, name, slug, description, icon, display_order, is_active, \
                   created_at, updated_at, parent_id) VALUES \
                   ('c0000000000000000000000000000000', 'General', 'general', '', '', 0, 1, \
                    '2025-01-01 00:00:00', '2025-01-01 00:00:00', NULL);
                 VACUUM;",
            )
            .unwrap();
            drop(conn);
            fs::read(&path).unwrap()
        })
        .clone()
}

impl DjangoForum {
    pub fn new() -> DjangoForum {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("forum.sqlite3");
        fs::write(&db, empty_bytes()).unwrap();
        let media = dir.path().join("media");
        fs::create_dir_all(media.join("forum/attachments")).unwrap();
        let web = Connection::open(&db).unwrap();
        web.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        DjangoForum {
            dir,
            db,
            media,
            web,
        }
    }

    pub fn path(&self) -> &Path {
        &self.db
    }

    // ------------------------------------------------------------ new rows

    pub fn thread(&self, id: &str, at: &str) {
        self.web
            .execute(
                "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
                 view_count, post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
                 VALUES (?1, 'Thread ' || ?1, 'thread-' || ?1, '', 0, 0, 1, 0, 0, ?2, ?2, ?2, ?3, ?4)",
                (id, at, USER, CATEGORY),
            )
            .unwrap();
    }

    pub fn post(&self, id: &str, thread: &str, at: &str) {
        self.web
            .execute(
                "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, \
                 is_active, edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
                 VALUES (?1, 'Text of ' || ?1, NULL, 'markdown', 0, 1, NULL, ?2, ?2, ?3, NULL, ?4)",
                (id, at, USER, thread),
            )
            .unwrap();
    }

    /// An active attachment, its file and one thumbnail on disk.
    pub fn attachment(&self, id: &str, post: &str, at: &str) -> String {
        let image = format!("forum/attachments/2026/01/02/{id}.png");
        self.web
            .execute(
                "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, \
                 display_order, alt_text, created_at, post_id, deleted_at, is_active) \
                 VALUES (?1, ?2, 'photo.png', 3, 'image/png', 0, '', ?3, ?4, NULL, 1)",
                (id, &image, at, post),
            )
            .unwrap();
        let file = self.media.join(&image);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, b"png").unwrap();
        let thumbs = self
            .media
            .join(format!("CACHE/images/forum/attachments/2026/01/02/{id}"));
        fs::create_dir_all(&thumbs).unwrap();
        fs::write(thumbs.join("thumb.jpg"), b"jpg").unwrap();
        image
    }

    // ------------------------------------------------- the web app's writes

    /// The API's `perform_destroy` of a post: `post.is_active = False;
    /// post.save(update_fields=['is_active'])` (so `updated_at` is NOT
    /// changed), then one bulk UPDATE stamping its active attachments.
    pub fn destroy_post(&self, post: &str, at: &str) {
        self.web
            .execute(
                "UPDATE \"forum_post\" SET \"is_active\" = 0 WHERE \"forum_post\".\"id\" = ?1",
                [post],
            )
            .unwrap();
        self.web
            .execute(
                "UPDATE \"forum_attachment\" SET \"is_active\" = 0, \"deleted_at\" = ?2 \
                 WHERE (\"forum_attachment\".\"is_active\" AND \"forum_attachment\".\"post_id\" = ?1)",
                (post, at),
            )
            .unwrap();
    }

    /// A pending flag on a post or a thread (`content_type` as the CHECK
    /// constraint wants it).
    pub fn flag(&self, flag_id: &str, post: Option<&str>, thread: Option<&str>, at: &str) {
        let content_type = if post.is_some() { "post" } else { "thread" };
        self.web
            .execute(
                "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
                 reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, \
                 post_id, thread_id) VALUES (?1, ?2, 'spam', '', 'pending', NULL, '', ?3, ?3, ?4, NULL, ?5, ?6)",
                (flag_id, content_type, at, USER, post, thread),
            )
            .unwrap();
    }

    /// The review endpoint removing flagged content: the post or thread
    /// alone goes inactive (`update_fields=['is_active']`, no cascade),
    /// the flag is marked removed, and one moderation action is written,
    /// all at `at`.
    pub fn review_remove(&self, flag_id: &str, action_id: &str, at: &str) {
        let (content_type, post, thread): (String, Option<String>, Option<String>) = self
            .web
            .query_row(
                "SELECT content_type, post_id, thread_id FROM forum_flaggedcontent WHERE id = ?1",
                [flag_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let tx = self.web.unchecked_transaction().unwrap();
        let action_type = if content_type == "post" {
            tx.execute(
                "UPDATE \"forum_post\" SET \"is_active\" = 0 WHERE \"forum_post\".\"id\" = ?1",
                [post.as_deref().unwrap()],
            )
            .unwrap();
            "remove_post"
        } else {
            tx.execute(
                "UPDATE \"forum_thread\" SET \"is_active\" = 0 WHERE \"forum_thread\".\"id\" = ?1",
                [thread.as_deref().unwrap()],
            )
            .unwrap();
            "remove_thread"
        };
        tx.execute(
            "UPDATE forum_flaggedcontent SET status = 'removed', reviewed_by_id = ?2, reviewed_at = ?3, \
             moderator_notes = '', updated_at = ?3 WHERE id = ?1",
            (flag_id, MODERATOR, at),
        )
        .unwrap();
        tx.execute(
            "INSERT INTO forum_moderationaction (id, action_type, reason, created_at, affected_user_id, \
             flag_id, moderator_id) VALUES (?1, ?2, 'removed', ?3, ?4, ?5, ?6)",
            (action_id, action_type, at, USER, flag_id, MODERATOR),
        )
        .unwrap();
        tx.commit().unwrap();
    }

    /// Flag and remove in one go: the moderation queue's `remove_post`.
    pub fn remove_post(&self, post: &str, flag_id: &str, action_id: &str, at: &str) {
        self.flag(flag_id, Some(post), None, at);
        self.review_remove(flag_id, action_id, at);
    }

    /// The moderation queue's `remove_thread`.
    pub fn remove_thread(&self, thread: &str, flag_id: &str, action_id: &str, at: &str) {
        self.flag(flag_id, None, Some(thread), at);
        self.review_remove(flag_id, action_id, at);
    }

    /// `attachment.delete()`, the model's soft delete.
    pub fn delete_attachment(&self, id: &str, at: &str) {
        self.web
            .execute(
                "UPDATE \"forum_attachment\" SET \"is_active\" = 0, \"deleted_at\" = ?2 \
                 WHERE \"forum_attachment\".\"id\" = ?1",
                (id, at),
            )
            .unwrap();
    }

    /// `Attachment.restore()`: active again, `deleted_at` cleared.
    pub fn restore_attachment(&self, id: &str) {
        self.web
            .execute(
                "UPDATE \"forum_attachment\" SET \"is_active\" = 1, \"deleted_at\" = NULL \
                 WHERE \"forum_attachment\".\"id\" = ?1",
                [id],
            )
            .unwrap();
    }

    /// The admin's save of a post: every column written, `updated_at`
    /// bumped by auto_now.
    pub fn admin_save_post(&self, id: &str, active: bool, at: &str) {
        self.web
            .execute(
                "UPDATE \"forum_post\" SET \"content_raw\" = \"content_raw\", \"content_rich\" = \"content_rich\", \
                 \"content_format\" = \"content_format\", \"is_first_post\" = \"is_first_post\", \
                 \"is_active\" = ?2, \"edited_at\" = \"edited_at\", \"created_at\" = \"created_at\", \
                 \"updated_at\" = ?3, \"author_id\" = \"author_id\", \"edited_by_id\" = \"edited_by_id\", \
                 \"thread_id\" = \"thread_id\" WHERE \"forum_post\".\"id\" = ?1",
                (id, active, at),
            )
            .unwrap();
    }

    /// The admin's save of a thread (every column, `updated_at` bumped).
    pub fn admin_save_thread(&self, id: &str, active: bool, at: &str) {
        self.web
            .execute(
                "UPDATE \"forum_thread\" SET \"title\" = \"title\", \"slug\" = \"slug\", \"excerpt\" = \"excerpt\", \
                 \"is_pinned\" = \"is_pinned\", \"is_locked\" = \"is_locked\", \"is_active\" = ?2, \
                 \"view_count\" = \"view_count\", \"post_count\" = \"post_count\", \
                 \"last_activity_at\" = \"last_activity_at\", \"created_at\" = \"created_at\", \
                 \"updated_at\" = ?3, \"author_id\" = \"author_id\", \"category_id\" = \"category_id\" \
                 WHERE \"forum_thread\".\"id\" = ?1",
                (id, active, at),
            )
            .unwrap();
    }

    // ------------------------------------------------------------- reading

    pub fn is_active(&self, table: &str, id: &str) -> Option<bool> {
        self.web
            .query_row(
                &format!("SELECT is_active FROM {table} WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .ok()
    }

    pub fn deleted_at(&self, id: &str) -> Option<String> {
        self.web
            .query_row(
                "SELECT deleted_at FROM forum_attachment WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// The web app in a process of its own (`modcon-test-web-app`), driven a
/// step at a time: each call returns once the process has done it. Only
/// another process's connections show what SQLite does across processes:
/// the last connection to close removes the -wal and -shm, the next to
/// open makes new ones.
pub struct WebAppProcess {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl WebAppProcess {
    pub fn start(db: &Path) -> WebAppProcess {
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_modcon-test-web-app"))
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = std::io::BufReader::new(child.stdout.take().unwrap());
        WebAppProcess {
            child,
            input,
            output,
        }
    }

    fn ask(&mut self, command: &str) {
        use std::io::{BufRead, Write};
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        let mut reply = String::new();
        self.output.read_line(&mut reply).unwrap();
        assert_eq!(reply.trim_end(), "ok", "the web app's {command:?}");
    }

    /// Opens a connection as Django does (busy timeout 5 s, foreign keys on).
    pub fn open(&mut self) {
        self.ask("open");
    }

    /// Runs statements on the open connection (autocommit).
    pub fn exec(&mut self, sql: &str) {
        assert!(!sql.contains('\n'), "one line of SQL");
        self.ask(&format!("exec {sql}"));
    }

    /// Closes the connection: the last one removes the -wal and -shm.
    pub fn close(&mut self) {
        self.ask("close");
    }

    /// Starts, writes `sql`, and stops again: a web app restarted for one
    /// request.
    pub fn open_write_close(&mut self, sql: &str) {
        self.open();
        self.exec(sql);
        self.close();
    }
}

impl Drop for WebAppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The INSERT of a new active thread as Django issues it, as one line of
/// SQL for [`WebAppProcess::exec`].
pub fn insert_thread_sql(id: &str, title: &str, at: &str) -> String {
    format!(
        "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
         view_count, post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
         VALUES ('{id}', '{title}', 'thread-{id}', '', 0, 0, 1, 0, 0, '{at}', '{at}', '{at}', {USER}, '{CATEGORY}')"
    )
}

/// A pending flag on a thread as Django's INSERT writes it, as one line of
/// SQL for [`WebAppProcess::exec`].
pub fn insert_thread_flag_sql(flag_id: &str, thread: &str, explanation: &str, at: &str) -> String {
    format!(
        "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
         reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, \
         post_id, thread_id) VALUES ('{flag_id}', 'thread', 'spam', '{explanation}', 'pending', NULL, '', \
         '{at}', '{at}', {USER}, NULL, NULL, '{thread}')"
    )
}
