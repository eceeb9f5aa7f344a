//! `modcon demo`: a deterministic forum database with a media folder,
//! made to exercise every rule — and every way the web app breaks them.
//!
//! The same seed and the same `now` give the same database. Rows deleted
//! "by the console" go through the real rules (`rules::delete_in`) with a
//! back-dated clock, so the audit log and deletion records are genuine;
//! rows deleted "by the web app" are written the way it writes them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{Duration, NaiveDateTime};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rusqlite::Connection;
use serde::Serialize;

use super::Ctx;
use super::db::Db;
use super::flags::{MODERATORS_GROUP, ReviewAction};
use super::media::MediaRoot;
use super::model::{DeletionSource, Kind, format_datetime};
use super::rules::{self, Target};
use super::sql;

#[path = "demo_postgres.rs"]
mod on_postgres;

pub const DEFAULT_SEED: u64 = 42;
pub const DEFAULT_THREADS: usize = 200;
/// Attachment rows (in the order they are written) that get a real file;
/// the rest are rows only, so a million-row demo stays quick to make.
pub const FILES_FOR_FIRST: usize = 300;
/// Marks a media folder as the demo's own, so `--force` may replace it.
const MARKER: &str = ".modcon-demo";

const PNG: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/demo/leaf.png"
));
const JPEG: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/demo/leaf.jpg"
));
const THUMB: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/demo/thumb.jpg"
));

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub out: PathBuf,
    pub threads: usize,
    pub seed: u64,
    pub force: bool,
    pub now: NaiveDateTime,
    /// Where the media files go: by default `media` beside a SQLite file;
    /// required for a PostgreSQL URL, which has no "beside".
    pub media: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoSummary {
    pub database: String,
    pub media_root: String,
    pub seed: u64,
    pub now: String,
    pub users: u64,
    pub threads: u64,
    pub posts: u64,
    pub attachments: u64,
    pub reactions: u64,
    pub flags: u64,
    pub files: u64,
}

/// The media folder that goes with a demo database: `media` beside it.
pub fn media_dir_for(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("media")
}

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.rng.next_u64() % n }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(1000) < percent * 10
    }

    fn permille(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    /// A version-4 UUID as Django stores it: 32 lowercase hex digits.
    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .simple()
            .to_string()
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A moment `days_ago` days (plus up to six hours) before `now`, with
    /// microseconds like the web app's.
    fn ago(&mut self, now: NaiveDateTime, days_ago: i64) -> NaiveDateTime {
        now - Duration::days(days_ago)
            - Duration::seconds(self.below(6 * 3600) as i64)
            - Duration::microseconds(self.below(1_000_000) as i64)
    }
}

const PLANTS: &[&str] = &[
    "Monstera",
    "Pothos",
    "Calathea",
    "Ficus",
    "Aloe",
    "Snake plant",
    "Begonia",
    "Echeveria",
    "Basil",
    "Tomato",
    "Fern",
    "Orchid",
    "Peace lily",
    "Spider plant",
    "Cactus",
    "Hoya",
];
const TOPICS: &[&str] = &[
    "yellow leaves after repotting",
    "how often to water in winter",
    "brown tips — humidity?",
    "propagation in water vs soil",
    "is this root rot?",
    "best grow light for a north window",
    "pests on the underside of leaves",
    "first flower this year!",
    "soil mix recommendations",
    "drooping after moving it",
    "show your collection",
    "fertiliser schedule",
];
const SENTENCES: &[&str] = &[
    "I water it once a week and the top inch of soil is dry by then.",
    "The pot has drainage holes and sits on a saucer of pebbles.",
    "It gets bright indirect light for most of the day.",
    "Could it be overwatering? The lower leaves went soft.",
    "Try letting it dry out completely before watering again.",
    "Mine did the same and recovered after a month.",
    "Check the roots: they should be white and firm, not brown and mushy.",
    "A bit of neem oil on a cloth works well against mealybugs.",
    "Photos attached — the spots are on the newest leaves.",
    "Thanks, that helped a lot!",
    "Überwintern bei 12 °C, sehr wenig gießen.",
    "葉が黄色くなってきました。水のやりすぎでしょうか？",
    "J’ai rempoté la semaine dernière, les racines étaient tassées.",
];
const FILE_STEMS: &[&str] = &[
    "IMG_",
    "photo_",
    "Screenshot_",
    "PXL_",
    "leaf_closeup_",
    "plant.v",
];
const REACTIONS: &[&str] = &["like", "helpful", "love", "insightful"];
const FLAG_REASONS: &[&str] = &["spam", "offensive", "off_topic", "misinformation"];

/// Thread titles and post texts that try to break a terminal or a layout.
const HOSTILE_TITLE: &str =
    "\u{1b}[2J\u{1b}[31mRED ALERT\u{1b}[0m \u{1b}]0;pwned\u{7} clear-screen title";
const BIDI_TEXT: &str =
    "Invoice for \u{202e}gnp.exe\u{202c} — bidi override, and a NUL here:\u{0} end";
const WIDE_TITLE: &str = "Überwinterung von Kübelpflanzen — 冬の管理 🌱 cafe\u{301}";

struct Writer<'c> {
    conn: &'c Connection,
    g: Gen,
    now: NaiveDateTime,
    users: Vec<i64>,
    categories: Vec<String>,
    thread_seq: u64,
    image_seq: u64,
    summary: DemoSummary,
    later: Vec<Later>,
}

/// A deletion decided while writing rows, carried out after them.
enum Later {
    ConsoleDelete { target: Target, at: NaiveDateTime },
    WebappDeletePost { id: String, at: String },
    Deactivate(Target),
    Seen { target: Target, at: String },
}

struct NewThread {
    id: String,
    created: NaiveDateTime,
}

struct NewPost {
    id: String,
    created: NaiveDateTime,
}

impl<'c> Writer<'c> {
    fn users(&mut self) -> Result<()> {
        let names = [
            "alice",
            "bob",
            "moderator_mo",
            "zoë",
            "Łukasz",
            "山田太郎",
            "green_thumb",
            "fern_gully",
            "cactus_jack",
            "plantmom",
            "root_rot_rick",
            "sunny",
        ];
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO users_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined, id, uuid) \
             VALUES ('!', NULL, 0, ?1, '', '', ?2, ?3, 1, ?4, ?5, ?6)",
        )?;
        for (i, name) in names.iter().enumerate() {
            let id = i as i64 + 1;
            let joined = format_datetime(self.g.ago(self.now, 500 + i as i64));
            let uuid = self.g.uuid();
            stmt.execute((
                name,
                format!("user{id}@example.org"),
                name.starts_with("moderator"),
                joined,
                id,
                uuid,
            ))?;
            self.users.push(id);
        }
        self.summary.users = names.len() as u64;
        Ok(())
    }

    fn categories(&mut self) -> Result<()> {
        let names = [
            "Houseplants",
            "Succulents & Cacti",
            "Vegetable garden",
            "Pests & diseases",
            "Show & tell",
        ];
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO forum_category (id, name, slug, description, icon, display_order, is_active, \
             created_at, updated_at, parent_id) VALUES (?1, ?2, ?3, '', 'leaf', ?4, 1, ?5, ?5, NULL)",
        )?;
        for (i, name) in names.iter().enumerate() {
            let id = self.g.uuid();
            let slug = name
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
            let at = format_datetime(self.g.ago(self.now, 600));
            stmt.execute((&id, name, slug, i as i64, at))?;
            self.categories.push(id);
        }
        Ok(())
    }

    fn user(&mut self) -> i64 {
        self.users[self.g.below(self.users.len() as u64) as usize]
    }

    fn thread(
        &mut self,
        title: &str,
        created_days_ago: i64,
        pinned: bool,
        locked: bool,
    ) -> Result<NewThread> {
        self.thread_seq += 1;
        let id = self.g.uuid();
        let created = self.g.ago(self.now, created_days_ago);
        let category = self.categories[self.g.below(self.categories.len() as u64) as usize].clone();
        let author = self.user();
        let slug = format!("thread-{}", self.thread_seq);
        let at = format_datetime(created);
        self.conn
            .prepare_cached(
                "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, view_count, \
                 post_count, last_activity_at, created_at, updated_at, author_id, category_id) \
                 VALUES (?1, ?2, ?3, '', ?4, ?5, 1, ?6, 0, ?7, ?7, ?7, ?8, ?9)",
            )?
            .execute((&id, title, slug, pinned, locked, self.g.below(5000) as i64, &at, author, category))?;
        self.summary.threads += 1;
        Ok(NewThread { id, created })
    }

    fn post(
        &mut self,
        thread: &NewThread,
        text: &str,
        first: bool,
        offset_hours: i64,
    ) -> Result<NewPost> {
        let id = self.g.uuid();
        let created = thread.created
            + Duration::hours(offset_hours)
            + Duration::seconds(self.g.below(3600) as i64);
        let created = created.min(self.now);
        let at = format_datetime(created);
        let author = self.user();
        self.conn
            .prepare_cached(
                "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, is_active, \
                 edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
                 VALUES (?1, ?2, NULL, 'markdown', ?3, 1, NULL, ?4, ?4, ?5, NULL, ?6)",
            )?
            .execute((&id, text, first, &at, author, &thread.id))?;
        self.conn
            .prepare_cached(
                "UPDATE forum_thread SET post_count = post_count + 1, last_activity_at = ?2 WHERE id = ?1",
            )?
            .execute((&thread.id, &at))?;
        self.summary.posts += 1;
        if self.g.chance(30) {
            self.reaction(&id, &at)?;
        }
        Ok(NewPost { id, created })
    }

    fn random_text(&mut self) -> String {
        let n = 1 + self.g.below(4);
        (0..n)
            .map(|_| self.g.pick(SENTENCES))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// An attachment row; `image` overrides the generated file name.
    fn attachment(&mut self, post: &NewPost, order: i64, image: Option<&str>) -> Result<String> {
        self.image_seq += 1;
        let id = self.g.uuid();
        let png = self.g.chance(60);
        let ext = if png { "png" } else { "jpg" };
        let stem = self.g.pick(FILE_STEMS);
        let original = format!("{stem}{}.{ext}", self.image_seq);
        let generated = format!(
            "forum/attachments/{}/{original}",
            post.created.format("%Y/%m/%d")
        );
        let image = image.map(str::to_string).unwrap_or(generated);
        let size = if png { PNG.len() } else { JPEG.len() } as i64;
        let mime = if png { "image/png" } else { "image/jpeg" };
        self.conn
            .prepare_cached(
                "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, display_order, \
                 alt_text, created_at, post_id, deleted_at, is_active) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7, ?8, NULL, 1)",
            )?
            .execute((&id, &image, &original, size, mime, order, format_datetime(post.created), &post.id))?;
        self.summary.attachments += 1;
        Ok(id)
    }

    fn reaction(&mut self, post_id: &str, at: &str) -> Result<()> {
        let id = self.g.uuid();
        let kind = self.g.pick(REACTIONS);
        let user = self.user();
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO forum_reaction (id, reaction_type, is_active, created_at, updated_at, \
                 post_id, user_id) VALUES (?1, ?2, 1, ?3, ?3, ?4, ?5)",
            )?
            .execute((&id, kind, at, post_id, user))?;
        self.summary.reactions += 1;
        Ok(())
    }

    /// A flag on a post (or a thread) made after `not_before` (when the
    /// content was written), reviewed with a moderation action at once.
    fn flag(
        &mut self,
        post_id: Option<&str>,
        thread_id: Option<&str>,
        action_type: &str,
        not_before: NaiveDateTime,
    ) -> Result<()> {
        let id = self.g.uuid();
        let days = 2 + self.g.below(60) as i64;
        let mut at = self.g.ago(self.now, days);
        if at < not_before {
            at = not_before + (self.now - not_before) / 2;
        }
        let at = format_datetime(at);
        let reason = self.g.pick(FLAG_REASONS);
        let reporter = self.user();
        let content_type = if post_id.is_some() { "post" } else { "thread" };
        let status = ReviewAction::parse(action_type)?.status();
        self.conn
            .prepare_cached(
                "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, reviewed_at, \
                 moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, thread_id) \
                 VALUES (?1, ?2, ?3, '', ?8, ?4, '', ?4, ?4, ?5, 3, ?6, ?7)",
            )?
            .execute((&id, content_type, reason, &at, reporter, post_id, thread_id, status))?;
        let action_id = self.g.uuid();
        // The flagged content's author is the one the action affects.
        self.conn
            .prepare_cached(
                "INSERT INTO forum_moderationaction (id, action_type, reason, created_at, affected_user_id, \
                 flag_id, moderator_id) VALUES (?1, ?2, 'see flag', ?3, \
                 COALESCE((SELECT author_id FROM forum_post WHERE id = ?5), \
                          (SELECT author_id FROM forum_thread WHERE id = ?6)), ?4, 3)",
            )?
            .execute((&action_id, action_type, &at, &id, post_id, thread_id))?;
        self.summary.flags += 1;
        Ok(())
    }

    /// A delete through the console's own rules, `days_ago` days ago.
    fn console_delete(&mut self, kind: Kind, id: &str, days_ago: i64) -> Result<()> {
        let at = self.g.ago(self.now, days_ago);
        self.later.push(Later::ConsoleDelete {
            target: Target::new(kind, id),
            at,
        });
        Ok(())
    }

    /// The web app's API delete of a post: the post goes inactive, then one
    /// bulk UPDATE stamps its active attachments with a single deleted_at.
    fn webapp_delete_post(&mut self, post_id: &str, days_ago: i64) -> Result<()> {
        let at = format_datetime(self.g.ago(self.now, days_ago));
        self.later.push(Later::WebappDeletePost {
            id: post_id.to_string(),
            at,
        });
        Ok(())
    }

    /// The moderation queue's remove: only the row itself goes inactive.
    fn webapp_deactivate(&mut self, kind: Kind, id: &str) -> Result<()> {
        self.later.push(Later::Deactivate(Target::new(kind, id)));
        Ok(())
    }

    /// As if `check` had seen the row deleted `days_ago` days ago.
    fn seen_deleted(&mut self, kind: Kind, id: &str, days_ago: i64) -> Result<()> {
        let at = format_datetime(self.g.ago(self.now, days_ago));
        self.later.push(Later::Seen {
            target: Target::new(kind, id),
            at,
        });
        Ok(())
    }

    /// Carries out the deletions, in the order they were decided, once the
    /// rows are in and indexed.
    fn deletions(&mut self) -> Result<()> {
        // The demo's log entries are by actor `demo`, made by whoever ran it.
        let os_account = super::system::os_account_or_uid();
        for step in std::mem::take(&mut self.later) {
            match step {
                Later::ConsoleDelete { target, at } => {
                    let ctx = Ctx {
                        now: at,
                        actor: "demo".into(),
                        os_account: os_account.clone(),
                        retention_days: super::DEFAULT_RETENTION_DAYS,
                        ..Ctx::default()
                    };
                    rules::delete_in(self.conn.into(), &ctx, &target)?;
                }
                Later::WebappDeletePost { id, at } => {
                    self.conn
                        .prepare_cached("UPDATE forum_post SET is_active = 0 WHERE id = ?1")?
                        .execute([&id])?;
                    self.conn
                        .prepare_cached(
                            "UPDATE forum_attachment SET is_active = 0, deleted_at = ?2 \
                             WHERE post_id = ?1 AND is_active = 1",
                        )?
                        .execute((&id, &at))?;
                }
                Later::Deactivate(target) => {
                    self.conn
                        .prepare_cached(&format!(
                            "UPDATE {} SET is_active = 0 WHERE id = ?1",
                            target.kind.table()
                        ))?
                        .execute([&target.id])?;
                }
                Later::Seen { target, at } => rules::record_deletion(
                    self.conn.into(),
                    target.kind,
                    &target.id,
                    &at,
                    DeletionSource::FirstSeen,
                )?,
            }
        }
        Ok(())
    }

    fn set_attachment_deleted_at(&mut self, id: &str, deleted_at: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE forum_attachment SET is_active = 0, deleted_at = ?2 WHERE id = ?1",
            (id, deleted_at),
        )?;
        Ok(())
    }

    /// The hand-made cases every moderator should meet, newest threads so
    /// they sit at the top of the console.
    fn showcase(&mut self) -> Result<()> {
        // Welcome thread, pinned.
        let t = self.thread(
            "Welcome to the plant forum 🌱 — read this first",
            20,
            true,
            true,
        )?;
        let p = self.post(
            &t,
            "Be kind, post photos, and search before asking.",
            true,
            0,
        )?;
        self.attachment(&p, 0, None)?;

        // A thread the console deleted 45 days ago: purgeable whole.
        let t = self.thread(
            "Selling cheap seeds!!! (spam, deleted 45 days ago)",
            60,
            false,
            false,
        )?;
        for i in 0..3 {
            let text = self.random_text();
            let p = self.post(&t, &text, i == 0, i)?;
            self.attachment(&p, 0, None)?;
        }
        let id = t.id.clone();
        self.console_delete(Kind::Thread, &id, 45)?;

        // A thread the moderation queue removed: the thread alone went
        // inactive, its posts stayed active (an invariant violation).
        let t = self.thread(
            "Heated argument about peat (removed by the web app's queue)",
            12,
            false,
            false,
        )?;
        let mut last_post = t.created;
        for i in 0..3 {
            let text = self.random_text();
            let p = self.post(&t, &text, i == 0, i)?;
            self.attachment(&p, 0, None)?;
            last_post = p.created;
        }
        let id = t.id.clone();
        self.webapp_deactivate(Kind::Thread, &id)?;
        self.flag(None, Some(&id), "remove_thread", last_post)?;

        // A post the moderation queue deactivated without its attachments.
        let t = self.thread(
            "Moderation queue leftovers: a removed post with live photos",
            11,
            false,
            false,
        )?;
        self.post(&t, "Opening post, still fine.", true, 0)?;
        let p = self.post(
            &t,
            "Buy followers at example.invalid — removed by the queue.",
            false,
            1,
        )?;
        self.attachment(&p, 0, None)?;
        self.attachment(&p, 1, None)?;
        let id = p.id.clone();
        self.webapp_deactivate(Kind::Post, &id)?;
        self.flag(Some(&id), None, "remove_post", p.created)?;

        // Attachments deleted 1, 29, 31 and 45 days ago, side by side.
        let t = self.thread(
            "Retention boundary: photos deleted 1, 29, 31 and 45 days ago",
            70,
            false,
            false,
        )?;
        let p = self.post(&t, "Four photos, deleted at different times.", true, 0)?;
        for (order, days) in [1, 29, 31, 45].into_iter().enumerate() {
            let a = self.attachment(&p, order as i64, None)?;
            self.console_delete(Kind::Attachment, &a, days)?;
        }

        // Odd deletion times the web app has left behind.
        let t = self.thread(
            "Odd deletion times: NULL, garbage and ISO forms",
            50,
            false,
            false,
        )?;
        let p = self.post(
            &t,
            "Each attachment here was deleted with a strange deleted_at.",
            true,
            0,
        )?;
        let odd = [
            None,
            Some("yesterday".to_string()),
            Some(format!(
                "{}Z",
                format_datetime(self.g.ago(self.now, 40)).replace(' ', "T")
            )),
            Some(
                format_datetime(self.g.ago(self.now, 35))
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
        ];
        for (order, at) in odd.iter().enumerate() {
            let a = self.attachment(&p, order as i64, None)?;
            self.set_attachment_deleted_at(&a, at.as_deref())?;
        }

        // Two rows sharing one file: purging the deleted one keeps the file.
        let t = self.thread("Two attachments sharing one file name", 80, false, false)?;
        let p = self.post(&t, "The same photo was attached twice.", true, 0)?;
        let shared = format!(
            "forum/attachments/{}/shared_photo.jpg",
            p.created.format("%Y/%m/%d")
        );
        self.attachment(&p, 0, Some(&shared))?;
        let b = self.attachment(&p, 1, Some(&shared))?;
        self.console_delete(Kind::Attachment, &b, 45)?;

        // Paths that try to leave the media root: never touched.
        let t = self.thread(
            "Hostile paths: attachments pointing outside the media root",
            90,
            false,
            false,
        )?;
        let p = self.post(&t, "These rows were written by a buggy importer.", true, 0)?;
        for (order, bad) in [
            "../../etc/passwd",
            "/etc/hostname",
            "../media-evil/stolen.png",
        ]
        .iter()
        .enumerate()
        {
            let a = self.attachment(&p, order as i64, Some(bad))?;
            self.console_delete(Kind::Attachment, &a, 45)?;
        }

        // Text that tries to break the terminal or the layout.
        let t = self.thread(HOSTILE_TITLE, 5, false, false)?;
        self.post(&t, BIDI_TEXT, true, 0)?;
        self.post(
            &t,
            "Bell \u{7}, backspace \u{8}, carriage return \r and \u{1b}[1;1Hcursor moves.",
            false,
            1,
        )?;
        let t = self.thread(WIDE_TITLE, 6, false, false)?;
        let long = SENTENCES
            .iter()
            .cycle()
            .take(4000)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let p = self.post(&t, &long, true, 0)?;
        self.attachment(&p, 0, None)?;
        let very_long_title = format!("A very long title: {}", "leaves ".repeat(60));
        self.thread(very_long_title.trim_end(), 7, false, false)?;

        // A post the web app deleted through its API 10 days ago, after one
        // of its photos had been deleted on its own 40 days ago: restoring
        // the post brings back only the photos of the later delete.
        let t = self.thread(
            "Restore me: a post deleted by the web app's API",
            55,
            false,
            false,
        )?;
        self.post(&t, "Question about repotting.", true, 0)?;
        let p = self.post(&t, "My answer, with three photos.", false, 2)?;
        let early = self.attachment(&p, 0, None)?;
        self.attachment(&p, 1, None)?;
        self.attachment(&p, 2, None)?;
        let at = format_datetime(self.g.ago(self.now, 40));
        self.set_attachment_deleted_at(&early, Some(&at))?;
        let id = p.id.clone();
        self.webapp_delete_post(&id, 10)?;
        self.seen_deleted(Kind::Post, &id, 9)?;

        // A thread the console deleted 3 days ago, holding a post deleted
        // before it: restoring the thread leaves that post deleted.
        let t = self.thread("Restore me: a thread deleted 3 days ago", 30, false, false)?;
        let mut earlier = None;
        for i in 0..4 {
            let text = self.random_text();
            let p = self.post(&t, &text, i == 0, i)?;
            self.attachment(&p, 0, None)?;
            if i == 2 {
                earlier = Some(p.id);
            }
        }
        if let Some(post) = earlier {
            self.console_delete(Kind::Post, &post, 8)?;
        }
        let id = t.id.clone();
        self.console_delete(Kind::Thread, &id, 3)?;
        Ok(())
    }

    /// The bulk: ordinary threads, with a sprinkling of every state.
    fn bulk(&mut self, threads: usize) -> Result<()> {
        let ages = [1, 2, 5, 10, 29, 31, 45, 60, 90];
        for _ in 0..threads {
            let topic = format!("{}: {}", self.g.pick(PLANTS), self.g.pick(TOPICS));
            let created = 1 + self.g.below(400) as i64;
            let pinned = self.g.permille(5);
            let locked = self.g.permille(10);
            let t = self.thread(&topic, created, pinned, locked)?;
            let posts = 1 + self.g.below(19);
            for i in 0..posts {
                let text = self.random_text();
                let p = self.post(&t, &text, i == 0, i as i64 * 3)?;
                for order in 0..self.g.below(11) {
                    let a = self.attachment(&p, order as i64, None)?;
                    if self.g.permille(30) {
                        let age = ages[self.g.below(ages.len() as u64) as usize].min(created);
                        self.console_delete(Kind::Attachment, &a, age)?;
                    }
                }
                if i > 0 && self.g.permille(25) {
                    let age = ages[self.g.below(ages.len() as u64) as usize].min(created);
                    if self.g.chance(50) {
                        self.console_delete(Kind::Post, &p.id, age)?;
                    } else {
                        self.webapp_delete_post(&p.id, age)?;
                        if self.g.chance(50) {
                            self.seen_deleted(Kind::Post, &p.id, age)?;
                        }
                    }
                } else if i > 0 && self.g.permille(3) {
                    self.webapp_deactivate(Kind::Post, &p.id)?;
                    self.flag(Some(&p.id), None, "remove_post", p.created)?;
                } else if self.g.permille(10) {
                    self.flag(Some(&p.id), None, "warning", p.created)?;
                }
            }
            if self.g.permille(10) {
                let age = ages[self.g.below(ages.len() as u64) as usize].min(created);
                self.console_delete(Kind::Thread, &t.id, age)?;
            } else if self.g.permille(3) {
                self.webapp_deactivate(Kind::Thread, &t.id)?;
            }
        }
        Ok(())
    }
}

/// Django's auth tables that moderator groups live in, as Django creates
/// them on SQLite.
const AUTH_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS "users_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX IF NOT EXISTS "users_user_groups_user_id_group_id_b88eab82_uniq" ON "users_user_groups" ("user_id", "group_id");
CREATE INDEX IF NOT EXISTS "users_user_groups_user_id_5f6f5a90" ON "users_user_groups" ("user_id");
CREATE INDEX IF NOT EXISTS "users_user_groups_group_id_9afc8d0e" ON "users_user_groups" ("group_id");
"#;

/// Who may review in the demo: `moderator_mo` is staff; `green_thumb` is
/// in the `Moderators` group; `alice` (and everyone else) may not.
pub const DEMO_STAFF: &str = "moderator_mo";
pub const DEMO_GROUP_MODERATOR: &str = "green_thumb";
pub const DEMO_NOT_A_MODERATOR: &str = "alice";

/// What reporters write when they flag something.
const EXPLANATIONS: &[&str] = &[
    "Same link posted in three threads today.",
    "Rude to a beginner, again.",
    "This has nothing to do with plants.",
    "Recommends a pesticide that is banned here.",
    "",
];

impl Writer<'_> {
    /// The moderator roles: the `Moderators` group and its member.
    fn roles(&mut self) -> Result<()> {
        self.conn.execute_batch(AUTH_TABLES)?;
        self.conn.execute(
            "INSERT INTO auth_group (id, name) VALUES (1, ?1), (2, 'Newsletter editors')",
            [MODERATORS_GROUP],
        )?;
        self.conn.execute(
            "INSERT INTO users_user_groups (user_id, group_id) \
             SELECT id, 1 FROM users_user WHERE username = ?1 \
             UNION ALL SELECT id, 2 FROM users_user WHERE username = ?2",
            [DEMO_GROUP_MODERATOR, DEMO_NOT_A_MODERATOR],
        )?;
        Ok(())
    }

    /// A pending flag on a post or thread, filed after it was written.
    fn pending_flag(
        &mut self,
        q: &mut Gen,
        kind: Kind,
        id: &str,
        reason: &str,
        explanation: &str,
    ) -> Result<()> {
        let (created, author): (String, i64) = self.conn.query_row(
            &format!(
                "SELECT created_at, author_id FROM {} WHERE id = ?1",
                kind.table()
            ),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let created = super::model::parse_datetime(&created).unwrap_or(self.now);
        // Somewhere between the content and now, most recent last.
        let span = (self.now - created).num_seconds().max(60);
        let at = self.now
            - Duration::seconds(1 + q.below(span as u64 / 2) as i64)
            - Duration::microseconds(q.below(1_000_000) as i64);
        let at = format_datetime(at.max(created));
        let reporter = loop {
            let user = self.users[q.below(self.users.len() as u64) as usize];
            if user != author || self.users.len() < 2 {
                break user;
            }
        };
        let (post, thread) = match kind {
            Kind::Post => (Some(id), None),
            _ => (None, Some(id)),
        };
        self.conn
            .prepare_cached(
                "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, reviewed_at, \
                 moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, thread_id) \
                 VALUES (?1, ?2, ?3, ?4, 'pending', NULL, '', ?5, ?5, ?6, NULL, ?7, ?8)",
            )?
            .execute((
                q.uuid(),
                kind.name(),
                reason,
                explanation,
                &at,
                reporter,
                post,
                thread,
            ))?;
        self.summary.flags += 1;
        Ok(())
    }

    fn one_id(&self, sql: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row(sql, [], |r| r.get(0)).optional()?)
    }

    /// The queue a moderator works through: pending flags on posts and
    /// threads — a post reported twice, a thread to remove, one to lock, a
    /// post already deleted, an explanation full of escape sequences — and
    /// a sprinkling over the bulk. Drawn from a random stream of its own
    /// (`q`), after everything else, so the rest of the demo is the same
    /// with or without it.
    fn flag_queue(&mut self, q: &mut Gen, threads: usize) -> Result<()> {
        let posts_with_photos = "SELECT p.id FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id \
             WHERE p.is_active = 1 AND t.is_active = 1 AND p.is_first_post = 0 \
               AND (SELECT count(*) FROM forum_attachment a WHERE a.post_id = p.id AND a.is_active = 1) >= 2 \
             ORDER BY p.created_at DESC, p.id LIMIT 1";
        if let Some(post) = self.one_id(posts_with_photos)? {
            self.pending_flag(q, Kind::Post, &post, "spam", EXPLANATIONS[0])?;
            self.pending_flag(q, Kind::Post, &post, "spam", "")?;
        }
        // Busy, unpinned threads: the newest to remove, the next to lock.
        let busy = "SELECT t.id FROM forum_thread t WHERE t.is_active = 1 AND t.is_pinned = 0 \
             AND t.is_locked = 0 \
             AND (SELECT count(*) FROM forum_post p WHERE p.thread_id = t.id AND p.is_active = 1) >= 3 \
             ORDER BY t.created_at DESC, t.id LIMIT 2";
        let busy: Vec<String> = {
            let mut stmt = self.conn.prepare(busy)?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        if let Some(thread) = busy.first() {
            self.pending_flag(q, Kind::Thread, thread, "off_topic", EXPLANATIONS[2])?;
        }
        if let Some(thread) = busy.get(1) {
            self.pending_flag(q, Kind::Thread, thread, "offensive", EXPLANATIONS[1])?;
        }
        // Content someone already deleted: the flag view marks it.
        if let Some(post) = self.one_id(
            "SELECT p.id FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id \
             WHERE p.is_active = 0 AND t.is_active = 1 AND t.title LIKE 'Restore me: a post%' LIMIT 1",
        )? {
            self.pending_flag(q, Kind::Post, &post, "misinformation", EXPLANATIONS[3])?;
        }
        // A reporter who types escape sequences.
        let hostile = format!("{HOSTILE_TITLE} — look at this");
        let bidi: Option<String> = {
            use rusqlite::OptionalExtension;
            self.conn
                .query_row(
                    "SELECT id FROM forum_post WHERE is_active = 1 AND content_raw = ?1 LIMIT 1",
                    [BIDI_TEXT],
                    |r| r.get(0),
                )
                .optional()?
        };
        if let Some(post) = bidi {
            self.pending_flag(q, Kind::Post, &post, "spam", &hostile)?;
        }
        // A sprinkling over the bulk: ids are random, so their order is too.
        let mut stmt = self.conn.prepare(
            "SELECT p.id FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id \
             WHERE p.is_active = 1 AND t.is_active = 1 ORDER BY p.id LIMIT ?1",
        )?;
        let sample: Vec<String> = stmt
            .query_map([(threads / 20) as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        for post in sample {
            let reason = FLAG_REASONS[q.below(FLAG_REASONS.len() as u64) as usize];
            let explanation = EXPLANATIONS[q.below(EXPLANATIONS.len() as u64) as usize];
            self.pending_flag(q, Kind::Post, &post, reason, explanation)?;
        }
        Ok(())
    }
}

/// Real files for the first attachment rows, their thumbnails, and a few
/// files no row references (as the web app's hard deletes leave behind).
fn write_media(media: &Path, images: &[String]) -> Result<u64> {
    let root = MediaRoot::open(media)?;
    let mut written = 0;
    let mut write = |rel: &str, bytes: &[u8]| -> Result<()> {
        // Hostile rows name paths outside the root: those get no file.
        let Ok(path) = root.resolve(rel) else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written += 1;
        Ok(())
    };
    for (i, image) in images.iter().enumerate() {
        let bytes = if image.ends_with(".png") { PNG } else { JPEG };
        write(image, bytes)?;
        let Some(thumbs) = MediaRoot::thumbnail_dir_of(image) else {
            continue;
        };
        for n in 0..(1 + i % 2) {
            write(
                &format!("{thumbs}/{:032x}.jpg", (i * 7 + n) as u128 * 0x9e37_79b9),
                THUMB,
            )?;
        }
    }
    for n in 0..5 {
        let orphan = format!("forum/attachments/2025/01/0{}/left_behind_{n}.jpg", n + 1);
        write(&orphan, JPEG)?;
        if let Some(thumbs) = MediaRoot::thumbnail_dir_of(&orphan) {
            write(&format!("{thumbs}/{n:032x}.jpg"), THUMB)?;
        }
    }
    Ok(written)
}

/// The files SQLite keeps beside a database while it writes.
const SIDE_FILES: [&str; 3] = ["-journal", "-wal", "-shm"];

/// Whether `path` is a database the demo made: modcon created its forum
/// tables itself (migration 0001 recorded as applied), which it does for
/// the demo alone; on any other database 0001 is recorded as satisfied, or
/// not at all. Read without locks or journals (SQLite's `immutable`), so
/// looking changes nothing, whatever lies beside the file.
pub fn made_by_demo(path: &Path) -> bool {
    let read = || -> Result<bool> {
        let conn = Db::open_immutable(path)?;
        let outcome: Option<String> = conn
            .query_row(
                "SELECT outcome FROM modcon_migrations WHERE name = ?1",
                [super::migrate::FORUM_SCHEMA],
                |r| r.get(0),
            )
            .ok();
        Ok(outcome.as_deref() == Some("applied"))
    };
    path.is_file() && read().unwrap_or(false)
}

/// A media folder the demo may fill: new, or one it made before.
fn check_media_folder(media: &Path, choose: &str) -> Result<()> {
    if media.exists() && !media.join(MARKER).exists() {
        bail!(
            "{} exists and was not made by `modcon demo`; choose another {choose}",
            media.display()
        );
    }
    Ok(())
}

/// The media folder, made afresh (a demo's own is replaced) with the files
/// of `images`; the number of files written.
fn fill_media_folder(media: &Path, images: &[String]) -> Result<u64> {
    check_media_folder(media, "media folder")?;
    if media.exists() {
        fs::remove_dir_all(media).with_context(|| format!("cannot replace {}", media.display()))?;
    }
    fs::create_dir_all(media).with_context(|| format!("cannot create {}", media.display()))?;
    fs::write(
        media.join(MARKER),
        b"made by modcon demo; --force may replace this folder\n",
    )?;
    write_media(media, images)
}

/// The attachments that get a real file: the first rows, in the order they
/// were written.
fn images_with_files(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT image FROM forum_attachment ORDER BY rowid LIMIT ?1")?;
    let images = stmt
        .query_map([FILES_FOR_FIRST as i64], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(images)
}

/// Writes the demo database and its media folder: a SQLite file, or an
/// empty PostgreSQL database named by a `postgres://` URL.
pub fn generate(options: &DemoOptions) -> Result<DemoSummary> {
    if let Some(url) = options.out.to_str().filter(|o| sql::is_postgres_url(o)) {
        let Some(media) = &options.media else {
            bail!(
                "a demo on PostgreSQL needs a folder for its media files: pass --media-root DIR \
                 (and the same --media-root to the console)"
            );
        };
        return on_postgres::generate(options, url, media);
    }
    let out = &options.out;
    let media = options.media.clone().unwrap_or_else(|| media_dir_for(out));
    if out.exists() && !options.force {
        bail!(
            "{} already exists; pass --force to replace it",
            out.display()
        );
    }
    if out.is_dir() {
        bail!("{} is a directory", out.display());
    }
    if out.exists() && !made_by_demo(out) {
        bail!(
            "{} was not made by `modcon demo`, so --force will not replace it; choose another --out",
            out.display()
        );
    }
    check_media_folder(&media, "--out folder")?;
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Built beside the target and renamed into place, so a failed run never
    // leaves half a database where a good one was.
    let building = out.with_extension(format!("building-{}", std::process::id()));
    let _ = fs::remove_file(&building);
    let result = build(options, &building);
    if result.is_err() {
        let _ = fs::remove_file(&building);
    }
    let mut summary = result?;
    let images = images_with_files(&Connection::open(&building)?)?;
    summary.files = fill_media_folder(&media, &images)?;
    // The old file's journal or WAL would be replayed into the new one.
    for suffix in SIDE_FILES {
        let side = super::db::side_file(out, suffix);
        match fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", side.display()));
            }
            _ => {}
        }
    }
    fs::rename(&building, out)
        .with_context(|| format!("cannot move the new database to {}", out.display()))?;
    summary.database = out.display().to_string();
    summary.media_root = media.display().to_string();
    Ok(summary)
}

fn build(options: &DemoOptions, path: &Path) -> Result<DemoSummary> {
    let now_text = format_datetime(options.now);
    let db = Db::create(path, &now_text)?;
    let conn = db.sqlite("the demo")?;
    // Our own new file: no journal while filling it, then back to SQLite's
    // default so the web app and the console find an ordinary database.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;",
    )?;
    conn.execute_batch("BEGIN")?;
    let mut w = Writer {
        conn,
        g: Gen {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
        },
        now: options.now,
        users: Vec::new(),
        categories: Vec::new(),
        thread_seq: 0,
        image_seq: 0,
        summary: DemoSummary::default(),
        later: Vec::new(),
    };
    // Rows go in without the forum tables' secondary indexes, which are
    // then built in one sorted pass each: far faster than a million random
    // inserts into each. The schema ends up exactly as the migration made it.
    let indexes: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name LIKE 'forum\\_%' ESCAPE '\\'",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    w.users()?;
    w.categories()?;
    w.showcase()?;
    w.bulk(options.threads)?;
    for (_, sql) in &indexes {
        conn.execute_batch(sql)?;
    }
    w.deletions()?;
    w.roles()?;
    // The flag queue draws from a stream of its own, so the rest of the
    // demo does not depend on it.
    let mut queue = Gen {
        rng: ChaCha8Rng::seed_from_u64(options.seed ^ 0x0051_5545_5545),
    };
    w.flag_queue(&mut queue, options.threads)?;
    conn.execute_batch("COMMIT")?;
    conn.execute_batch("PRAGMA journal_mode = DELETE;")?;
    let mut summary = w.summary;
    summary.seed = options.seed;
    summary.now = now_text;
    Ok(summary)
}
