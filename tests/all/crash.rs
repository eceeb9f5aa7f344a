//! Crashes: a real purge by the binary, on a forum with thousands of
//! expired rows and their files, killed with SIGKILL at many seeded points
//! spread over the whole purge; and delete/restore killed mid-way. After
//! every kill the database is sound, nothing that had to stay is gone, the
//! next purge finishes the file journal, and the files on disk are exactly
//! the ones still referenced plus the ones that were never the console's.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::model::Kind;
use modcon_core::rules::{self, Target};
use support::{Forum, hex_id};
use support::{Rng, arg, assert_sound, bin, dump, run};

const NOW: &str = "2026-11-26 12:00:00";
/// 45 days before NOW: past the default retention of 30 days.
const OLD: &str = "2026-10-12 12:00:00";
/// 5 days before NOW.
const RECENT: &str = "2026-11-21 12:00:00";
const SEED: u64 = 0x5eed_c4a5;
const BATCH: &str = "10";

/// The kill tests time their kills against a run measured first: run
/// side by side, one would measure its span while the other loads the
/// machine and then kill runs that go faster, so they take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

type Row = (&'static str, String);

/// A forum built for crashing: the database, its media root, files outside
/// the root, and what a complete purge must do (the oracle, written from
/// how the data was made, not from the console's own conditions).
struct Site {
    dir: tempfile::TempDir,
    /// Rows that go together: a purgeable root with its children and the
    /// web app's cascade dependents.
    groups: Vec<Vec<Row>>,
    /// Rows every purge must leave in place.
    kept: BTreeSet<Row>,
    /// Image paths that leave the media root: never touched, reported.
    refused: BTreeSet<String>,
    /// Every attachment image as first made.
    images: BTreeSet<String>,
}

impl Site {
    fn purged_rows(&self) -> BTreeSet<Row> {
        self.groups.iter().flatten().cloned().collect()
    }

    /// A fresh copy of the whole site (database, media, outside files),
    /// with the absolute image path pointed at the copy's own file.
    fn copy(&self) -> Copy {
        let dir = support::scratch();
        support::copy_dir(self.dir.path(), dir.path());
        let copy = Copy { dir };
        let conn = copy.conn();
        conn.execute(
            "UPDATE forum_attachment SET image = ?1 WHERE image = ?2",
            (
                arg(&copy.dir.path().join("outside/secret.txt")),
                arg(&self.dir.path().join("outside/secret.txt")),
            ),
        )
        .unwrap();
        copy
    }
}

struct Copy {
    dir: tempfile::TempDir,
}

impl Copy {
    fn db(&self) -> PathBuf {
        self.dir.path().join("forum.sqlite3")
    }

    fn conn(&self) -> rusqlite::Connection {
        support::web_conn(&self.db())
    }

    fn purge(&self) -> std::process::Command {
        let mut cmd = bin(self.dir.path());
        cmd.arg("--db")
            .arg(self.db())
            .arg("--media-root")
            .arg(self.dir.path().join("media"))
            .args(["--now", NOW, "purge", "--batch-size", BATCH, "--json"]);
        cmd
    }

    /// Starts a purge and SIGKILLs it after `delay`. True when it was
    /// still running (a real kill), false when it had already finished.
    fn purge_killed_after(&self, delay: Duration) -> bool {
        let mut child = self
            .purge()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        match status.signal() {
            Some(9) => true,
            _ => {
                assert_eq!(
                    status.code(),
                    Some(0),
                    "a purge that finished before the kill"
                );
                false
            }
        }
    }

    fn rows(&self) -> BTreeSet<Row> {
        let conn = self.conn();
        let mut rows = BTreeSet::new();
        for table in support::PURGED_TABLES {
            let mut stmt = conn.prepare(&format!("SELECT id FROM {table}")).unwrap();
            for id in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
                rows.insert((table, id.unwrap()));
            }
        }
        rows
    }

    fn images(&self) -> BTreeSet<String> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT image FROM forum_attachment").unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn journal(&self) -> i64 {
        support::count(&self.conn(), "SELECT count(*) FROM modcon_file_journal")
    }

    /// Files relative to the copy's folder, the database files left out.
    fn files(&self) -> BTreeSet<String> {
        support::listing(self.dir.path())
            .into_iter()
            .filter(|f| !f.starts_with("forum.sqlite3"))
            .collect()
    }
}

/// Makes rows and remembers where they belong.
struct Builder {
    forum: Forum,
    rng: Rng,
    next: u32,
    groups: Vec<Vec<Row>>,
    kept: BTreeSet<Row>,
    refused: BTreeSet<String>,
    images: BTreeSet<String>,
}

impl Builder {
    fn id(&mut self) -> String {
        self.next += 1;
        hex_id(self.next)
    }

    fn thread(&mut self) -> String {
        let id = self.id();
        self.forum.thread(&id, true);
        id
    }

    fn post(&mut self, thread: &str) -> String {
        let id = self.id();
        self.forum.post(&id, thread, true);
        id
    }

    /// An attachment with its file and thumbnail folder, active or deleted
    /// at `deleted_at`.
    fn attachment(&mut self, post: &str, deleted_at: Option<&str>) -> (String, String) {
        let id = self.id();
        let image = format!(
            "forum/attachments/2026/{:02}/img_{}.png",
            self.next % 12 + 1,
            self.next
        );
        self.forum.attachment(&id, post, &image, deleted_at, true);
        self.images.insert(image.clone());
        (id, image)
    }

    /// An attachment row naming `image` as it is (no file made).
    fn attachment_named(&mut self, post: &str, image: &str, deleted_at: Option<&str>) -> String {
        let id = self.id();
        self.forum.attachment(&id, post, image, deleted_at, false);
        self.images.insert(image.to_string());
        id
    }

    fn reaction(&mut self, post: &str) -> String {
        let id = self.id();
        self.forum
            .conn
            .execute(
                "INSERT INTO forum_reaction VALUES (?1, 'like', 1, ?2, 1)",
                (&id, post),
            )
            .unwrap();
        id
    }

    fn flag(&mut self, post: Option<&str>, thread: Option<&str>) -> String {
        let id = self.id();
        self.forum
            .conn
            .execute(
                "INSERT INTO forum_flaggedcontent VALUES (?1, ?2, 'spam', 'open', '2026-01-03 10:00:00', 1, ?3, ?4)",
                (&id, if post.is_some() { "post" } else { "thread" }, post, thread),
            )
            .unwrap();
        id
    }

    fn moderation(&mut self, flag: &str) -> String {
        let id = self.id();
        self.forum
            .conn
            .execute(
                "INSERT INTO forum_moderationaction VALUES (?1, 'review', '2026-01-04 10:00:00', ?2, 1)",
                (&id, flag),
            )
            .unwrap();
        id
    }

    /// Reactions, a flag and its moderation actions on a post; all go
    /// where the post goes.
    fn dependents(&mut self, post: &str, into: &mut Vec<Row>) {
        for _ in 0..1 + self.rng.below(2) {
            let r = self.reaction(post);
            into.push(("forum_reaction", r));
        }
        if self.rng.chance(50) {
            let f = self.flag(Some(post), None);
            into.push(("forum_flaggedcontent", f.clone()));
            for _ in 0..self.rng.below(3) {
                let m = self.moderation(&f);
                into.push(("forum_moderationaction", m));
            }
        }
    }

    fn keep(&mut self, rows: Vec<Row>) {
        self.kept.extend(rows);
    }
}

use support::ctx;

/// Builds the site: about 3000 attachments deleted 45 days ago (whole
/// threads, posts, lone attachments), their reactions, flags and
/// moderation actions, plus everything a purge must leave alone.
fn build(seed: u64) -> Site {
    let forum = Forum::new();
    let root = forum.dir.path().to_path_buf();
    let mut b = Builder {
        forum,
        rng: Rng::new(seed),
        next: 0,
        groups: Vec::new(),
        kept: BTreeSet::new(),
        refused: BTreeSet::new(),
        images: BTreeSet::new(),
    };
    b.forum.conn.execute_batch("BEGIN").unwrap();
    // Files that were never the console's: outside the root, in a sibling
    // whose name starts like the root, and unreferenced inside it.
    for rel in [
        "outside/secret.txt",
        "outside/x.png",
        "outside/y.png",
        "media-evil/z.png",
    ] {
        fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        fs::write(root.join(rel), b"not yours").unwrap();
    }
    std::os::unix::fs::symlink(
        "../../../outside",
        root.join("media/forum/attachments/link"),
    )
    .unwrap();
    for rel in [
        "forum/attachments/orphans/o1.png",
        "forum/attachments/orphans/o2.jpg",
        "avatars/a.png",
        "CACHE/images/forum/attachments/orphans/o1/thumb.jpg",
        "CACHE/images/avatars/a/thumb.jpg",
    ] {
        b.forum.file(rel);
    }

    // Whole threads deleted by the console 45 days ago.
    let mut to_delete: Vec<(&str, Target)> = Vec::new();
    let mut thread_groups = Vec::new();
    for _ in 0..30 {
        let t = b.thread();
        let mut group = vec![("forum_thread", t.clone())];
        let f = b.flag(None, Some(&t));
        group.push(("forum_flaggedcontent", f.clone()));
        let m = b.moderation(&f);
        group.push(("forum_moderationaction", m));
        for _ in 0..3 {
            let p = b.post(&t);
            group.push(("forum_post", p.clone()));
            b.dependents(&p, &mut group);
            for _ in 0..8 {
                let (a, _) = b.attachment(&p, None);
                group.push(("forum_attachment", a));
            }
        }
        to_delete.push((OLD, Target::new(Kind::Thread, t)));
        thread_groups.push(group);
    }
    b.groups.extend(thread_groups);

    // Active threads: active posts with active attachments and attachments
    // deleted 45 days ago (lone roots), and one post deleted 45 days ago.
    let mut shared_with_active = Vec::new();
    for i in 0..80 {
        let t = b.thread();
        let mut kept = vec![("forum_thread", t.clone())];
        for _ in 0..3 {
            let p = b.post(&t);
            kept.push(("forum_post", p.clone()));
            b.dependents(&p, &mut kept);
            for _ in 0..2 {
                let (a, image) = b.attachment(&p, None);
                kept.push(("forum_attachment", a));
                if i % 4 == 0 {
                    shared_with_active.push((p.clone(), image));
                }
            }
            for _ in 0..7 {
                let (a, _) = b.attachment(&p, Some(OLD));
                b.groups.push(vec![("forum_attachment", a)]);
            }
        }
        let p = b.post(&t);
        let mut group = vec![("forum_post", p.clone())];
        b.dependents(&p, &mut group);
        for _ in 0..5 {
            let (a, _) = b.attachment(&p, None);
            group.push(("forum_attachment", a));
        }
        to_delete.push((OLD, Target::new(Kind::Post, p)));
        b.groups.push(group);
        b.keep(kept);
    }

    let t = b.thread();
    b.keep(vec![("forum_thread", t.clone())]);
    let p = b.post(&t);
    b.keep(vec![("forum_post", p.clone())]);
    // Expired rows naming the file of an active row: the row goes, the
    // file stays.
    for (_, image) in shared_with_active.iter().take(20) {
        let a = b.attachment_named(&p, image, Some(OLD));
        b.groups.push(vec![("forum_attachment", a)]);
    }
    // Expired rows without a file: counted as missing.
    for n in 0..20 {
        let a = b.attachment_named(&p, &format!("forum/attachments/gone/{n}.png"), Some(OLD));
        b.groups.push(vec![("forum_attachment", a)]);
    }
    // Paths that leave the media root: rows purged, files never touched.
    let absolute = arg(&root.join("outside/secret.txt"));
    for image in [
        "../outside/x.png",
        "forum/../../outside/x.png",
        absolute.as_str(),
        "forum/attachments/link/y.png",
        "../media-evil/z.png",
    ] {
        let a = b.attachment_named(&p, image, Some(OLD));
        b.groups.push(vec![("forum_attachment", a)]);
        b.refused.insert(image.to_string());
    }
    // A held-back post: deleted 45 days ago, but the web app's moderation
    // queue re-activated one attachment under it.
    let q = b.post(&t);
    let (q1, _) = b.attachment(&q, None);
    let (q2, _) = b.attachment(&q, None);
    to_delete.push((OLD, Target::new(Kind::Post, q.clone())));
    b.keep(vec![
        ("forum_post", q.clone()),
        ("forum_attachment", q1.clone()),
    ]);
    b.groups.push(vec![("forum_attachment", q2)]);
    // A held-back thread: deleted 45 days ago, one post active again.
    let h = b.thread();
    let h1 = b.post(&h);
    let mut kept = vec![("forum_thread", h.clone()), ("forum_post", h1.clone())];
    b.dependents(&h1, &mut kept);
    b.keep(kept);
    let (h1a, _) = b.attachment(&h1, None);
    b.groups.push(vec![("forum_attachment", h1a)]);
    to_delete.push((OLD, Target::new(Kind::Thread, h.clone())));
    // Deleted 5 days ago: kept, files and all.
    let r = b.thread();
    let mut kept = vec![("forum_thread", r.clone())];
    for _ in 0..2 {
        let rp = b.post(&r);
        kept.push(("forum_post", rp.clone()));
        for _ in 0..5 {
            let (a, _) = b.attachment(&rp, None);
            kept.push(("forum_attachment", a));
        }
    }
    to_delete.push((RECENT, Target::new(Kind::Thread, r)));
    b.keep(kept);
    for _ in 0..30 {
        let (a, _) = b.attachment(&p, Some(RECENT));
        b.keep(vec![("forum_attachment", a)]);
    }
    // Deleted with an unknown or unreadable time: never expired.
    for (n, when) in ["", "yesterday", "12345", "2026-10-12", "NULL"]
        .into_iter()
        .enumerate()
    {
        let (a, _) = b.attachment(&p, Some(OLD));
        let value: Option<&str> = (when != "NULL").then_some(when);
        b.forum
            .conn
            .execute(
                "UPDATE forum_attachment SET deleted_at = ?2 WHERE id = ?1",
                (&a, value),
            )
            .unwrap();
        if n == 2 {
            b.forum
                .conn
                .execute(
                    "UPDATE forum_attachment SET deleted_at = 12345 WHERE id = ?1",
                    [&a],
                )
                .unwrap();
        }
        b.keep(vec![("forum_attachment", a)]);
    }
    // A post deleted by the web app (no console record: first seen at the
    // purge, so kept), its attachments deleted 45 days ago (purged).
    let u = b.post(&t);
    b.forum
        .conn
        .execute("UPDATE forum_post SET is_active = 0 WHERE id = ?1", [&u])
        .unwrap();
    b.keep(vec![("forum_post", u.clone())]);
    for _ in 0..3 {
        let (a, _) = b.attachment(&u, Some(OLD));
        b.groups.push(vec![("forum_attachment", a)]);
    }
    // Two expired rows sharing one file, far apart in id order (so in
    // different batches): the file goes only with the second.
    let (first, pair_image) = b.attachment(&p, Some(OLD));
    b.groups.push(vec![("forum_attachment", first)]);
    b.next += 100_000;
    let second = b.attachment_named(&p, &pair_image, Some(OLD));
    b.groups.push(vec![("forum_attachment", second)]);
    b.forum.conn.execute_batch("COMMIT").unwrap();

    // The console's deletions, through the rules themselves.
    let db_path = b.forum.db.clone();
    let mut db = Db::open(&db_path, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let tx = db.write_tx().unwrap();
    for (at, target) in &to_delete {
        rules::delete_in(tx.conn(), &ctx(at), target).unwrap();
    }
    tx.commit().unwrap();
    drop(db);
    // The web app's moderation queue, after the deletes.
    b.forum
        .conn
        .execute_batch(&format!(
            "UPDATE forum_attachment SET is_active = 1, deleted_at = NULL WHERE id = '{q1}';
             UPDATE forum_post SET is_active = 1 WHERE id = '{h1}';"
        ))
        .unwrap();

    let Builder {
        forum,
        groups,
        kept,
        refused,
        images,
        ..
    } = b;
    let Forum { dir, conn, .. } = forum;
    drop(conn);
    Site {
        dir,
        groups,
        kept,
        refused,
        images,
    }
}

/// What is on disk for one image that a purge may remove: the file and
/// everything in its thumbnail folder (relative to the site's folder).
fn console_files(image: &str, all: &BTreeSet<String>) -> Vec<String> {
    let stem = Path::new(image).with_extension("");
    let thumbs = format!("media/CACHE/images/{}/", stem.display());
    let file = format!("media/{image}");
    let mut found: Vec<String> = all
        .range(thumbs.clone()..)
        .take_while(|f| f.starts_with(&thumbs))
        .cloned()
        .collect();
    if all.contains(&file) {
        found.push(file);
    }
    found
}

/// The checks after a kill (and after any run): the database is sound,
/// every row that must stay is there, every purgeable group is wholly
/// there or wholly gone, nothing appeared, and no file a remaining row
/// names (or that was never the console's) is gone.
fn check_after_kill(site: &Site, copy: &Copy, initial_files: &BTreeSet<String>, label: &str) {
    // A command that only reads works straight after the kill.
    let mut stats = bin(copy.dir.path());
    stats
        .arg("--db")
        .arg(copy.db())
        .args(["--now", NOW, "stats", "--json"]);
    let r = run(stats);
    assert_eq!(
        r.code,
        Some(0),
        "{label}: stats after the kill: {}",
        r.stderr
    );
    assert_sound(&copy.conn());
    let rows = copy.rows();
    let missing: Vec<_> = site.kept.iter().filter(|r| !rows.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "{label}: rows that had to stay are gone: {missing:?}"
    );
    let all = site.purged_rows();
    let extra: Vec<_> = rows
        .iter()
        .filter(|r| !site.kept.contains(*r) && !all.contains(*r))
        .collect();
    assert!(extra.is_empty(), "{label}: rows from nowhere: {extra:?}");
    for group in &site.groups {
        let present = group.iter().filter(|r| rows.contains(*r)).count();
        assert!(
            present == 0 || present == group.len(),
            "{label}: half a purge: {present} of {group:?} left"
        );
    }
    let files = copy.files();
    assert!(files.is_subset(initial_files), "{label}: files appeared");
    let expected = expected_files(site, copy, initial_files);
    let lost: Vec<_> = expected.difference(&files).collect();
    assert!(
        lost.is_empty(),
        "{label}: files removed that had to stay: {lost:?}"
    );
}

/// The files that must be on disk once the journal is finished: all the
/// files there were, minus those of images that no remaining row names.
fn expected_files(site: &Site, copy: &Copy, initial_files: &BTreeSet<String>) -> BTreeSet<String> {
    let remaining = copy.images();
    let mut expected = initial_files.clone();
    for image in site.images.difference(&remaining) {
        if site.refused.contains(image) {
            continue;
        }
        for f in console_files(image, initial_files) {
            expected.remove(&f);
        }
    }
    expected
}

/// The next purge finishes the journal first: stopped right after it has
/// planned, the journal is empty and the files are exactly as expected.
fn check_journal_finished(site: &Site, copy: &Copy, initial_files: &BTreeSet<String>, label: &str) {
    let mut cmd = copy.purge();
    cmd.env("MODCON_FAILPOINT", "purge-after-plan:exit");
    let r = run(cmd);
    assert_eq!(
        r.code,
        Some(3),
        "{label}: the purge stops at the failpoint: {}",
        r.stderr
    );
    assert_eq!(
        copy.journal(),
        0,
        "{label}: the next purge finishes the journal"
    );
    same(
        &copy.files(),
        &expected_files(site, copy, initial_files),
        &format!("{label}: files on disk"),
    );
    check_after_kill(site, copy, initial_files, label);
}

/// Two sets are equal; a failure shows (the start of) the difference.
fn same<T: Ord + std::fmt::Debug>(actual: &BTreeSet<T>, expected: &BTreeSet<T>, label: &str) {
    let missing: Vec<_> = expected.difference(actual).take(10).collect();
    let extra: Vec<_> = actual.difference(expected).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{label}: missing {missing:?}; unexpected {extra:?}"
    );
}

/// After a complete purge: exactly the kept rows, exactly the files.
fn check_final(site: &Site, copy: &Copy, initial_files: &BTreeSet<String>, label: &str) {
    assert_sound(&copy.conn());
    same(
        &copy.rows(),
        &site.kept,
        &format!("{label}: rows after the purge"),
    );
    assert_eq!(copy.journal(), 0, "{label}: journal");
    same(
        &copy.files(),
        &expected_files(site, copy, initial_files),
        &format!("{label}: files"),
    );
    // Outside files were never touched.
    for rel in [
        "outside/secret.txt",
        "outside/x.png",
        "outside/y.png",
        "media-evil/z.png",
    ] {
        assert_eq!(
            fs::read(copy.dir.path().join(rel)).unwrap(),
            b"not yours",
            "{rel}"
        );
    }
}

#[test]
fn purge_killed_at_many_points_loses_nothing_and_finishes_its_files() {
    let _turn = one_at_a_time();
    let site = build(SEED);
    if let Ok(keep) = std::env::var("CRASH_KEEP") {
        support::copy_dir(site.dir.path(), Path::new(&keep));
        return;
    }
    let initial_files = support::listing(site.dir.path())
        .into_iter()
        .filter(|f| !f.starts_with("forum.sqlite3"))
        .collect::<BTreeSet<_>>();
    // The oracle covers every row, and no active row is in a group.
    {
        let copy = site.copy();
        let rows = copy.rows();
        let all = site.purged_rows();
        assert_eq!(rows.len(), site.kept.len() + all.len());
        assert!(site.kept.is_disjoint(&all));
        let conn = copy.conn();
        for kind in Kind::ALL {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT id FROM {} WHERE is_active = 1",
                    kind.table()
                ))
                .unwrap();
            for id in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
                let row = (kind.table(), id.unwrap());
                assert!(
                    site.kept.contains(&row),
                    "active row in a purge group: {row:?}"
                );
            }
        }
        let expired = support::count(
            &conn,
            "SELECT count(*) FROM forum_attachment WHERE is_active = 0",
        );
        assert!(expired >= 2800, "{expired} deleted attachments");
    }

    // One uninterrupted purge: what it reports, and how long it takes (the
    // span the kill points are spread over).
    let copy = site.copy();
    let started = Instant::now();
    let r = run(copy.purge());
    let span = started.elapsed();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    let all = site.purged_rows();
    let count_of = |table: &str| all.iter().filter(|(t, _)| *t == table).count() as i64;
    assert_eq!(report["threads"], count_of("forum_thread"));
    assert_eq!(report["posts"], count_of("forum_post"));
    assert_eq!(report["attachments"], count_of("forum_attachment"));
    assert_eq!(report["files_missing"], 20);
    assert_eq!(report["files_refused"], 5);
    let refused: BTreeSet<String> = report["refused_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image"].as_str().unwrap().to_string())
        .collect();
    let mut want_refused = site.refused.clone();
    want_refused.remove(&arg(&site.dir.path().join("outside/secret.txt")));
    want_refused.insert(arg(&copy.dir.path().join("outside/secret.txt")));
    assert_eq!(refused, want_refused);
    check_final(&site, &copy, &initial_files, "uninterrupted");
    let again = run(copy.purge()).json();
    assert_eq!(
        (
            again["threads"].clone(),
            again["posts"].clone(),
            again["attachments"].clone()
        ),
        (0.into(), 0.into(), 0.into())
    );

    // The kill points: stratified over the span, jittered by the seed.
    // Under a varying load a run can finish before its kill (it then counts
    // as a whole run, checked all the same); more rounds follow until 30
    // kills landed mid-run, so the test's reach does not depend on the load.
    let mut rng = Rng::new(SEED ^ 0x6b69_6c6c);
    let points = 32;
    let wanted_kills = 30;
    let mut kills = 0;
    let mut i = 0;
    while i < points || (kills < wanted_kills && i < 3 * points) {
        let copy = site.copy();
        let stratum = (i % points) as f64;
        let at = span.mul_f64((stratum + rng.unit()) / points as f64 * 0.95);
        let label = format!("point {i} ({at:?} of {span:?})");
        kills += copy.purge_killed_after(at) as u32;
        check_after_kill(&site, &copy, &initial_files, &label);
        // A second kill early in the next run: while it finishes the
        // journal, stamps, plans or runs its first batches.
        let early = span.mul_f64(rng.unit() * 0.25);
        kills += copy.purge_killed_after(early) as u32;
        check_after_kill(
            &site,
            &copy,
            &initial_files,
            &format!("{label}, then {early:?}"),
        );
        check_journal_finished(&site, &copy, &initial_files, &label);
        if i % 4 == 3 {
            let r = run(copy.purge());
            assert_eq!(
                r.code,
                Some(0),
                "{label}: the rerun completes: {}",
                r.stderr
            );
            check_final(&site, &copy, &initial_files, &label);
        }
        i += 1;
    }
    assert!(
        kills >= wanted_kills,
        "only {kills} of {} runs were still going when killed",
        2 * i
    );
}

// ------------------------------------------------------- delete / restore

/// A forum with one big thread (2000 attachments) and a small one.
fn big_thread() -> (Forum, String) {
    let forum = Forum::new();
    forum.conn.execute_batch("BEGIN").unwrap();
    let t = hex_id(1);
    forum.thread(&t, true);
    forum.thread(&hex_id(2), true);
    forum.post(&hex_id(3), &hex_id(2), true);
    let mut n = 10;
    for _ in 0..20 {
        n += 1;
        let p = hex_id(n);
        forum.post(&p, &t, true);
        for _ in 0..100 {
            n += 1;
            forum.attachment(
                &hex_id(n),
                &p,
                &format!("forum/attachments/{n}.png"),
                None,
                false,
            );
        }
    }
    // One attachment deleted earlier: a restore must leave it deleted.
    forum
        .conn
        .execute(
            "UPDATE forum_attachment SET is_active = 0, deleted_at = '2026-11-01 00:00:00' WHERE id = ?1",
            [hex_id(12)],
        )
        .unwrap();
    forum.conn.execute_batch("COMMIT").unwrap();
    // The console's own tables exist before the first copy.
    Db::open(&forum.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    (forum, t)
}

fn state(db: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = support::web_conn(db);
    assert_sound(&conn);
    dump(&conn)
}

fn copy_db(db: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = support::scratch();
    let path = dir.path().join("forum.sqlite3");
    fs::copy(db, &path).unwrap();
    (dir, path)
}

fn moderate(db: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = bin(db.parent().unwrap());
    cmd.arg("--db").arg(db).args(["--now", NOW]).args(args);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// Runs `args` on copies of `db`: stopped before its commit, and killed at
/// seeded points over its measured duration; each time the database is
/// exactly as before or exactly as after a complete run. Returns the
/// state after, and the copy holding it.
fn all_or_nothing(db: &Path, args: &[&str], rng: &mut Rng) -> (tempfile::TempDir, PathBuf) {
    let before = state(db);
    let (dir, stopped) = copy_db(db);
    let mut cmd = moderate(&stopped, args);
    cmd.env("MODCON_FAILPOINT", "before-commit:exit");
    assert_eq!(
        cmd.status().unwrap().code(),
        Some(3),
        "{args:?} stops at the failpoint"
    );
    assert_eq!(
        state(&stopped),
        before,
        "{args:?} stopped before its commit changed something"
    );
    drop(dir);

    let (done_dir, done) = copy_db(db);
    let started = Instant::now();
    assert!(
        moderate(&done, args).status().unwrap().success(),
        "{args:?}"
    );
    let span = started.elapsed();
    let after = state(&done);
    assert_ne!(after, before, "{args:?} changed something");

    let points = 8;
    let mut ends = [0; 2];
    for i in 0..points {
        let (_dir, copy) = copy_db(db);
        let at = span.mul_f64((i as f64 + rng.unit()) / points as f64);
        let mut child = moderate(&copy, args).spawn().unwrap();
        std::thread::sleep(at);
        child.kill().unwrap();
        child.wait().unwrap();
        let now = state(&copy);
        if now == before {
            ends[0] += 1;
        } else {
            assert_eq!(
                now, after,
                "{args:?} killed after {at:?}: neither before nor after"
            );
            ends[1] += 1;
        }
    }
    assert_eq!(ends[0] + ends[1], points);
    (done_dir, done)
}

#[test]
fn delete_and_restore_killed_mid_way_are_all_or_nothing() {
    let _turn = one_at_a_time();
    let (forum, t) = big_thread();
    let mut rng = Rng::new(SEED ^ 0xde1e7e);
    let (_d1, deleted) = all_or_nothing(&forum.db, &["delete", "thread", &t], &mut rng);
    {
        let conn = support::web_conn(&deleted);
        assert_eq!(
            support::count(
                &conn,
                "SELECT count(*) FROM forum_attachment WHERE is_active = 1 AND post_id IN (SELECT id FROM forum_post WHERE thread_id = '00000000000000000000000000000001')"
            ),
            0
        );
    }
    let (_d2, restored) = all_or_nothing(&deleted, &["restore", "thread", &t], &mut rng);
    {
        let conn = support::web_conn(&restored);
        assert_eq!(
            support::count(
                &conn,
                "SELECT count(*) FROM forum_attachment WHERE is_active = 0"
            ),
            1
        );
        assert_eq!(
            support::count(&conn, "SELECT count(*) FROM forum_post WHERE is_active = 0"),
            0
        );
    }
    // Undo (of the restore) and check --fix stop before their commit too.
    for args in [&["undo"][..], &["check", "--fix"][..]] {
        let (_dir, copy) = copy_db(&restored);
        if args[0] == "check" {
            // Something for --fix to do: an active post under a deleted thread.
            support::web_conn(&copy)
                .execute_batch("UPDATE forum_thread SET is_active = 0 WHERE id = '00000000000000000000000000000002'")
                .unwrap();
        }
        let before = state(&copy);
        let mut cmd = moderate(&copy, args);
        cmd.env("MODCON_FAILPOINT", "before-commit:exit");
        assert_eq!(cmd.status().unwrap().code(), Some(3), "{args:?}");
        assert_eq!(
            state(&copy),
            before,
            "{args:?} stopped before its commit changed something"
        );
        assert!(
            moderate(&copy, args).status().unwrap().success(),
            "{args:?}"
        );
        assert_ne!(
            state(&copy),
            before,
            "{args:?} does change something when it completes"
        );
    }
}

// ------------------------------------------------------------- signals

/// Starts a purge of `copy` (with `args` after `purge`) that waits at the
/// `purge-after-commit` failpoint after its first batch committed, and
/// returns once it is waiting there, with the gate that lets it go on.
fn purge_held_after_first_batch(
    copy: &Copy,
    args: &[&str],
) -> (std::process::Child, PathBuf, tempfile::TempDir) {
    // Beside the copy, not in it: the copy's files are compared.
    let gates = tempfile::tempdir().unwrap();
    let gate = gates.path().join("gate");
    let mut cmd = bin(copy.dir.path());
    cmd.arg("--db")
        .arg(copy.db())
        .arg("--media-root")
        .arg(copy.dir.path().join("media"))
        .args(["--now", NOW, "purge", "--batch-size", BATCH])
        .args(args)
        .env(
            "MODCON_FAILPOINT",
            format!("purge-after-commit:wait={}", gate.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let waiting = PathBuf::from(format!("{}.waiting", gate.display()));
    while !waiting.exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(waiting.exists(), "the purge never committed a batch");
    (child, gate, gates)
}

fn send(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// The rows gone from the copy, which were all there before.
fn removed_rows(site: &Site, copy: &Copy) -> BTreeSet<Row> {
    let now = copy.rows();
    site.kept
        .iter()
        .chain(site.purged_rows().iter())
        .filter(|r| !now.contains(*r))
        .cloned()
        .collect()
}

/// The rows the purge's audit entry records as removed, by table.
fn recorded_rows(copy: &Copy, action_id: i64) -> BTreeSet<Row> {
    let conn = copy.conn();
    let mut stmt = conn
        .prepare("SELECT kind, row_id FROM modcon_purged WHERE action_id = ?1")
        .unwrap();
    stmt.query_map([action_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .map(|(kind, id)| {
        let table = match kind.as_str() {
            "thread" => "forum_thread",
            "post" => "forum_post",
            "attachment" => "forum_attachment",
            "reaction" => "forum_reaction",
            "flag" => "forum_flaggedcontent",
            _ => "forum_moderationaction",
        };
        (table, id)
    })
    .collect()
}

#[test]
fn ctrl_c_or_sigterm_stops_a_purge_after_its_batch_and_a_second_signal_at_once() {
    // Not timed itself, but its purges would load the machine while the
    // kill test measures the span it spreads its kills over.
    let _turn = one_at_a_time();
    let site = build(SEED ^ 0x5167);
    let initial_files = support::listing(site.dir.path())
        .into_iter()
        .filter(|f| !f.starts_with("forum.sqlite3"))
        .collect::<BTreeSet<_>>();

    // Ctrl-C (SIGINT) with --json: the batch in flight finishes, the
    // report says what was done and that it was cancelled, exit 130.
    let copy = site.copy();
    let (child, gate, _gates) = purge_held_after_first_batch(&copy, &["--json"]);
    send(&child, "INT");
    fs::write(&gate, b"").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "stderr: {stderr}");
    assert_eq!(stderr, "", "a cancelled purge is no error");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cancelled"], true, "{report}");
    assert_eq!(report["batches"], 1, "stopped after the batch in flight");
    let removed = removed_rows(&site, &copy);
    let of = |table: &str| removed.iter().filter(|(t, _)| *t == table).count() as i64;
    assert!(of("forum_attachment") > 0, "the first batch removed rows");
    assert_eq!(report["threads"], of("forum_thread"));
    assert_eq!(report["posts"], of("forum_post"));
    assert_eq!(report["attachments"], of("forum_attachment"));
    assert_eq!(
        recorded_rows(&copy, report["action_id"].as_i64().unwrap()),
        removed,
        "the rows purged are exactly those recorded"
    );
    assert_eq!(copy.journal(), 0, "the batch's files are removed");
    let gone_files = initial_files.difference(&copy.files()).count() as i64;
    assert_eq!(
        gone_files,
        report["files"].as_i64().unwrap() + report["thumbnails"].as_i64().unwrap(),
        "the files removed are those reported"
    );
    same(
        &copy.files(),
        &expected_files(&site, &copy, &initial_files),
        "files after a cancelled purge",
    );
    check_after_kill(&site, &copy, &initial_files, "SIGINT");
    // The next purge goes on where it stopped.
    let r = run(copy.purge());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    check_final(&site, &copy, &initial_files, "after SIGINT");

    // SIGTERM (systemctl stop), the text report: exit 143.
    let copy = site.copy();
    let (child, gate, _gates) = purge_held_after_first_batch(&copy, &[]);
    send(&child, "TERM");
    fs::write(&gate, b"").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{stdout}");
    assert!(
        stdout.contains("cancelled by SIGTERM after the batch in flight"),
        "{stdout}"
    );
    assert!(stdout.contains("purged "), "{stdout}");
    assert_eq!(copy.journal(), 0);
    check_after_kill(&site, &copy, &initial_files, "SIGTERM");

    // A second signal ends the process at once, with no report: the batch
    // that committed stays done, its files wait in the journal, and the
    // next purge finishes them first.
    let copy = site.copy();
    let (child, _gate, _gates) = purge_held_after_first_batch(&copy, &["--json"]);
    send(&child, "INT");
    send(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(130 | 143)),
        "{:?}",
        out.status
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no report");
    assert!(copy.journal() > 0, "the batch's files are journalled");
    check_after_kill(&site, &copy, &initial_files, "two signals");
    let r = run(copy.purge());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.json()["journal_finished"].as_i64().unwrap() > 0);
    check_final(&site, &copy, &initial_files, "after two signals");
}
