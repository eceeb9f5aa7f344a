//! A model-based property test of the rules under the web app's own
//! writes: random sequences interleave the console's actions (delete,
//! restore, undo, check --fix, check, purge at the clock of the moment,
//! through the core functions the command line calls) with the web app's
//! writes in plain SQL exactly as Django issues them, and reviews of the
//! flags it files (a removal: the console's delete and a moderation action). After every step the
//! database is compared with a small model of the rules, kept apart from
//! the engine: the model knows the true history (who deactivated each row,
//! and when) where the engine only sees rows and its own records.
//!
//! Checked after every step: which rows exist and are active, every
//! attachment's `deleted_at`, every deleted thread's and post's deletion
//! time and where it comes from, what restore, undo, fix and purge changed
//! (exactly the model's rows), that a purge removes no row deleted less
//! than the retention ago by its true history, the files of every
//! remaining row, and `PRAGMA foreign_key_check`.
//!
//! It runs on both backends: on PostgreSQL the web app writes in Django's
//! native types there (`uuid`, `boolean`, `timestamptz`), each write a
//! transaction of its own on its own session, as Django's PostgreSQL
//! backend does them.
//!
//! Bounded for `cargo test`; `MODCON_MODEL_CASES=N` runs N cases (and
//! `MODCON_MODEL_SEED=any text` a seed of its own) for a longer search,
//! on each backend; without it PostgreSQL runs fewer cases than SQLite
//! (each step is a round trip to the server), see `PG_CASES`.
//! A failure prints the shortest sequence proptest found: keep it as a
//! named test at the end of this file.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::sync::atomic::AtomicBool;

use chrono::{Duration, NaiveDateTime};
use modcon_core::Ctx;
use modcon_core::check;
use modcon_core::conditions as cond;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::flags::{self, ReviewAction};
use modcon_core::media::MediaRoot;
use modcon_core::model::{Kind, format_datetime, parse_datetime};
use modcon_core::purge::{self, PurgeOptions};
use modcon_core::rules::{self, Target};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use support::pg::PgDb;
use support::site::Backend;
use support::webapp::{self, DjangoForum};

type Time = NaiveDateTime;

// ------------------------------------------------------------- the forum

/// Two threads, two posts each, two attachments each post. Attachments 1
/// and 5 (in different threads) share one image file.
const THREADS: usize = 2;
const POSTS: usize = 4;
const ATTACHMENTS: usize = 8;
const SHARED: (usize, usize) = (1, 5);

fn start() -> Time {
    parse_datetime("2026-01-01 00:00:00").unwrap()
}

fn thread_id(i: usize) -> String {
    support::hex_id(0x100 + i as u32)
}
fn post_id(i: usize) -> String {
    support::hex_id(0x200 + i as u32)
}
fn attachment_id(i: usize) -> String {
    support::hex_id(0x300 + i as u32)
}

fn image_of(i: usize) -> String {
    let i = if i == SHARED.1 { SHARED.0 } else { i };
    format!("forum/attachments/2026/01/02/{}.png", attachment_id(i))
}

// ------------------------------------------------------------- the model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    Console,
    Moderation,
    Seen,
}

impl Src {
    /// As `conditions::deletion_source` names it.
    fn name(self) -> &'static str {
        match self {
            Src::Console => "console",
            Src::Moderation => "moderation_action",
            Src::Seen => "first_seen",
        }
    }
}

/// The console's record of a thread's or post's deletion time.
#[derive(Debug, Clone)]
struct Record {
    at: Time,
    src: Src,
    /// The row's `updated_at` when it was written: a later save means a
    /// new story.
    row_updated_at: Time,
    /// The console action that wrote it (none for a first-seen stamp).
    action: Option<usize>,
}

/// What moderation changes, as the engine's undo compares it.
#[derive(Debug, Clone, PartialEq)]
struct St {
    active: bool,
    at: Option<Time>,
    src: Option<Src>,
}

#[derive(Debug, Clone)]
struct Row {
    kind: Kind,
    parent: Option<usize>,
    exists: bool,
    active: bool,
    /// Attachments: the column.
    deleted_at: Option<Time>,
    /// Threads and posts.
    updated_at: Time,
    record: Option<Record>,
    /// Moderation-queue removals of it.
    removals: Vec<Time>,
    /// When the console made it active.
    console_on: Vec<Time>,
    /// The true history: its latest deactivation, and whether the console
    /// made it.
    last_off: Option<(Time, bool)>,
    image: String,
    /// The step that last changed it: recently changed rows are picked
    /// first, so sequences tell stories about the same rows.
    touched: usize,
}

#[derive(Debug, Clone)]
struct ActionM {
    kind: &'static str,
    changes: Vec<(usize, St, St)>,
    undone: bool,
    /// A review's moderation action: a removal of this row at this time.
    removal: Option<(usize, Time)>,
}

#[derive(Debug, Clone)]
struct Model {
    rows: Vec<Row>,
    actions: Vec<ActionM>,
}

impl Model {
    fn new() -> Model {
        let mut rows = Vec::new();
        let blank = |kind, parent, image: String| Row {
            kind,
            parent,
            exists: true,
            active: true,
            deleted_at: None,
            updated_at: start(),
            record: None,
            removals: Vec::new(),
            console_on: Vec::new(),
            last_off: None,
            image,
            touched: 0,
        };
        for _ in 0..THREADS {
            rows.push(blank(Kind::Thread, None, String::new()));
        }
        for p in 0..POSTS {
            rows.push(blank(Kind::Post, Some(p / 2), String::new()));
        }
        for a in 0..ATTACHMENTS {
            rows.push(blank(Kind::Attachment, Some(THREADS + a / 2), image_of(a)));
        }
        Model {
            rows,
            actions: Vec::new(),
        }
    }

    fn id(&self, r: usize) -> String {
        match self.rows[r].kind {
            Kind::Thread => thread_id(r),
            Kind::Post => post_id(r - THREADS),
            Kind::Attachment => attachment_id(r - THREADS - POSTS),
        }
    }

    fn children(&self, r: usize) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&c| self.rows[c].parent == Some(r) && self.rows[c].exists)
            .collect()
    }

    fn descendants(&self, r: usize) -> Vec<usize> {
        let mut all = Vec::new();
        for c in self.children(r) {
            all.push(c);
            all.extend(self.descendants(c));
        }
        all
    }

    /// A row below `r` was deleted after `at`, and not by the console.
    fn deleted_later_below(&self, r: usize, at: Time) -> bool {
        self.descendants(r).into_iter().any(|d| {
            let row = &self.rows[d];
            !row.active && matches!(row.last_off, Some((t, false)) if t > at)
        })
    }

    /// A deleted thread's or post's deletion time and its source, by the
    /// rules: the console's record while nothing touched the rows since;
    /// the moderation queue's latest removal, unless the row was saved or
    /// the console brought it back after it; a first-seen time.
    fn deletion_time(&self, r: usize) -> Option<(Time, Src)> {
        let row = &self.rows[r];
        let rec = row
            .record
            .as_ref()
            .filter(|rec| rec.row_updated_at == row.updated_at);
        if let Some(rec) = rec
            && rec.src == Src::Console
            && !self.deleted_later_below(r, rec.at)
        {
            return Some((rec.at, Src::Console));
        }
        if let Some(&m) = row.removals.iter().max()
            && m >= row.updated_at
            && !row.console_on.iter().any(|&t| t >= m)
        {
            return Some((m, Src::Moderation));
        }
        rec.filter(|rec| rec.src != Src::Console)
            .map(|rec| (rec.at, rec.src))
    }

    fn state(&self, r: usize) -> St {
        let row = &self.rows[r];
        match row.kind {
            Kind::Attachment => St {
                active: row.active,
                at: row.deleted_at,
                src: None,
            },
            _ if row.active => St {
                active: true,
                at: None,
                src: None,
            },
            _ => {
                let known = self.deletion_time(r);
                St {
                    active: false,
                    at: known.map(|k| k.0),
                    src: known.map(|k| k.1),
                }
            }
        }
    }

    /// The console writes a row's state, as `rules::write_state` does.
    fn write(&mut self, r: usize, st: &St, now: Time, action: usize) {
        let was_active = self.rows[r].active;
        let updated_at = self.rows[r].updated_at;
        let row = &mut self.rows[r];
        row.active = st.active;
        if row.kind == Kind::Attachment {
            row.deleted_at = st.at;
        } else {
            row.record = match (st.active, st.at) {
                (false, Some(at)) => Some(Record {
                    at,
                    src: st.src.unwrap_or(Src::Console),
                    row_updated_at: updated_at,
                    action: Some(action),
                }),
                _ => None,
            };
        }
        if st.active && !was_active {
            row.console_on.push(now);
        }
        if !st.active && was_active {
            // A delete happens now; an undo puts back a deletion as it was,
            // its time included (as the rules say), so the row's retention
            // counts from then.
            let by_console = row.kind == Kind::Attachment || st.src == Some(Src::Console);
            row.last_off = Some((st.at.unwrap_or(now), by_console));
        }
    }

    fn parent_active(&self, r: usize) -> bool {
        match self.rows[r].parent {
            None => true,
            Some(p) => self.rows[p].exists && self.rows[p].active,
        }
    }

    fn action(&mut self, kind: &'static str, changes: Vec<(usize, St, St)>) -> usize {
        self.actions.push(ActionM {
            kind,
            changes,
            undone: false,
            removal: None,
        });
        self.actions.len() - 1
    }

    // ------------------------------------------------ the console's actions

    /// The rows a delete makes deleted: the row and its active
    /// descendants (a thread's active posts and their active attachments).
    fn delete_set(&self, r: usize) -> Vec<usize> {
        let mut rows = vec![r];
        match self.rows[r].kind {
            Kind::Thread => {
                let posts: Vec<usize> = self
                    .children(r)
                    .into_iter()
                    .filter(|&p| self.rows[p].active)
                    .collect();
                rows.extend(&posts);
                for p in posts {
                    rows.extend(
                        self.children(p)
                            .into_iter()
                            .filter(|&a| self.rows[a].active),
                    );
                }
            }
            Kind::Post => {
                rows.extend(
                    self.children(r)
                        .into_iter()
                        .filter(|&a| self.rows[a].active),
                );
            }
            Kind::Attachment => {}
        }
        rows
    }

    fn delete_rows(&mut self, kind: &'static str, rows: &[usize], now: Time) -> usize {
        let mut rows = rows.to_vec();
        rows.sort_by_key(|&r| self.rows[r].kind);
        let changes: Vec<(usize, St, St)> = rows
            .iter()
            .map(|&r| {
                let after = St {
                    active: false,
                    at: Some(now),
                    src: (self.rows[r].kind != Kind::Attachment).then_some(Src::Console),
                };
                (r, self.state(r), after)
            })
            .collect();
        let action = self.action(kind, changes.clone());
        for (r, _, after) in &changes {
            self.write(*r, after, now, action);
        }
        action
    }

    /// A review's `remove_post` / `remove_thread` of a flag on `r`: the
    /// console's delete and a moderation action removing `r` now; refused
    /// when `r` is already deleted.
    fn review(&mut self, r: usize, now: Time) -> Option<bool> {
        // Content already deleted is not removed again: its moderation
        // action would date the deletion wrongly.
        if !self.rows[r].exists || !self.rows[r].active {
            return None;
        }
        let rows = self.delete_set(r);
        let action = self.delete_rows("review", &rows, now);
        self.rows[r].removals.push(now);
        self.actions[action].removal = Some((r, now));
        Some(true)
    }

    /// `None` when the engine must fail.
    fn delete(&mut self, r: usize, now: Time) -> Option<bool> {
        if !self.rows[r].exists {
            return None;
        }
        if !self.rows[r].active {
            return Some(false);
        }
        let rows = self.delete_set(r);
        self.delete_rows("delete", &rows, now);
        Some(true)
    }

    fn fix(&mut self, now: Time) -> bool {
        let mut rows: Vec<usize> = Vec::new();
        for r in 0..self.rows.len() {
            let row = &self.rows[r];
            if row.exists && row.active && row.kind != Kind::Thread && !self.parent_active(r) {
                for d in self.delete_set(r) {
                    if !rows.contains(&d) {
                        rows.push(d);
                    }
                }
            }
        }
        if rows.is_empty() {
            return false;
        }
        self.delete_rows("fix", &rows, now);
        true
    }

    fn within(&self, target: usize, r: usize) -> bool {
        let mut at = Some(r);
        while let Some(x) = at {
            if x == target {
                return true;
            }
            at = self.rows[x].parent;
        }
        false
    }

    /// `None` when the engine must fail (gone, or under a deleted parent).
    fn restore(&mut self, r: usize, now: Time) -> Option<bool> {
        if !self.rows[r].exists {
            return None;
        }
        if self.rows[r].active {
            return Some(false);
        }
        let mut up = self.rows[r].parent;
        while let Some(p) = up {
            if !self.rows[p].exists || !self.rows[p].active {
                return None;
            }
            up = self.rows[p].parent;
        }
        let mut plan = vec![r];
        let st = self.state(r);
        if self.rows[r].kind != Kind::Attachment {
            let console_action = match (st.src, &self.rows[r].record) {
                (Some(Src::Console), Some(rec)) => rec.action,
                _ => None,
            };
            if let Some(action) = console_action {
                for (c, before, after) in self.actions[action].changes.clone() {
                    if c != r
                        && before.active
                        && !after.active
                        && self.rows[c].exists
                        && self.within(r, c)
                        && self.state(c) == after
                    {
                        plan.push(c);
                    }
                }
            } else if self.rows[r].kind == Kind::Post {
                // Deleted outside the console: the attachments that share
                // the latest deleted_at, none before a moderation removal.
                let inactive: Vec<usize> = self
                    .children(r)
                    .into_iter()
                    .filter(|&a| !self.rows[a].active && self.rows[a].deleted_at.is_some())
                    .collect();
                let latest = inactive
                    .iter()
                    .filter_map(|&a| self.rows[a].deleted_at)
                    .max();
                let not_before = match st.src {
                    Some(Src::Moderation) => st.at,
                    _ => None,
                };
                if let Some(latest) = latest
                    && not_before.is_none_or(|m| latest >= m)
                {
                    plan.extend(
                        inactive
                            .into_iter()
                            .filter(|&a| self.rows[a].deleted_at == Some(latest)),
                    );
                }
            }
        }
        plan.sort_by_key(|&x| self.rows[x].kind);
        let action = self.actions.len();
        let mut changes = Vec::new();
        for x in plan {
            if !self.parent_active(x) {
                continue;
            }
            let before = self.state(x);
            let after = St {
                active: true,
                at: None,
                src: None,
            };
            self.write(x, &after, now, action);
            changes.push((x, before, after));
        }
        self.action("restore", changes);
        Some(true)
    }

    /// `Err` when the engine must fail (the latest action is a purge).
    fn undo(&mut self, now: Time) -> Result<bool, ()> {
        let Some(entry) = (0..self.actions.len())
            .rev()
            .find(|&a| self.actions[a].kind != "undo" && !self.actions[a].undone)
        else {
            return Ok(false);
        };
        if self.actions[entry].kind == "purge" {
            return Err(());
        }
        let changes = self.actions[entry].changes.clone();
        let is_fix = self.actions[entry].kind == "fix";
        let changed: BTreeSet<usize> = changes.iter().map(|c| c.0).collect();
        let mut to_deleted: Vec<_> = changes.iter().filter(|c| !c.1.active).cloned().collect();
        to_deleted.sort_by_key(|c| std::cmp::Reverse(self.rows[c.0].kind));
        let to_active: Vec<_> = changes.iter().filter(|c| c.1.active).cloned().collect();
        let undo = self.actions.len();
        let mut done = Vec::new();
        for (r, before, after) in to_deleted.into_iter().chain(to_active) {
            if !self.rows[r].exists || self.state(r) != after {
                continue;
            }
            if !before.active && self.children(r).iter().any(|&c| self.rows[c].active) {
                continue;
            }
            if before.active && !self.parent_active(r) {
                let found_by_fix =
                    is_fix && self.rows[r].parent.is_some_and(|p| !changed.contains(&p));
                if !found_by_fix {
                    continue;
                }
            }
            let now_state = self.state(r);
            self.write(r, &before, now, undo);
            done.push((r, now_state, before));
        }
        let mut changed_any = !done.is_empty();
        // A review's undo removes its moderation action and puts its flag
        // back, while they exist (a purge of the row took them with it).
        if let Some((r, at)) = self.actions[entry].removal
            && self.rows[r].exists
        {
            let removals = &mut self.rows[r].removals;
            if let Some(i) = removals.iter().position(|&t| t == at) {
                removals.remove(i);
            }
            changed_any = true;
        }
        self.action("undo", done);
        self.actions[entry].undone = true;
        Ok(changed_any)
    }

    /// Stamps "first seen now" on deleted threads and posts of unknown age.
    fn stamp(&mut self, now: Time) {
        for r in 0..self.rows.len() {
            let row = &self.rows[r];
            if row.exists
                && !row.active
                && row.kind != Kind::Attachment
                && self.deletion_time(r).is_none()
            {
                let updated_at = row.updated_at;
                self.rows[r].record = Some(Record {
                    at: now,
                    src: Src::Seen,
                    row_updated_at: updated_at,
                    action: None,
                });
            }
        }
    }

    fn purgeable(&self, r: usize, cutoff: Time) -> bool {
        let row = &self.rows[r];
        if !row.exists || row.active {
            return false;
        }
        let at = match row.kind {
            Kind::Attachment => row.deleted_at,
            _ => self.deletion_time(r).map(|k| k.0),
        };
        at.is_some_and(|at| at <= cutoff)
            && !self.descendants(r).iter().any(|&d| self.rows[d].active)
    }

    /// The rows a purge removes (roots and what goes with them), after it
    /// stamps; each root's true deletion is checked to be past retention.
    fn purge(&mut self, now: Time, retention_days: i64) -> BTreeSet<usize> {
        self.stamp(now);
        let cutoff = now - Duration::days(retention_days);
        let mut gone = BTreeSet::new();
        for kind in [Kind::Thread, Kind::Post, Kind::Attachment] {
            for r in 0..self.rows.len() {
                if self.rows[r].kind != kind || gone.contains(&r) || !self.purgeable(r, cutoff) {
                    continue;
                }
                // Safety, by the true history: deleted at least the
                // retention ago.
                let (off, _) = self.rows[r]
                    .last_off
                    .expect("a purgeable row was deactivated");
                assert!(
                    off <= cutoff,
                    "purge would remove row {r} deleted at {off}, after the cutoff {cutoff}"
                );
                gone.insert(r);
                gone.extend(self.descendants(r));
            }
        }
        for &r in &gone {
            self.rows[r].exists = false;
        }
        if !gone.is_empty() {
            self.action("purge", Vec::new());
        }
        gone
    }

    // ---------------------------------------------- the web app's writes

    fn destroy_post(&mut self, p: usize, now: Time) -> bool {
        if !self.rows[p].exists || !self.rows[p].active {
            return false;
        }
        self.rows[p].active = false;
        self.rows[p].last_off = Some((now, false));
        for a in self.children(p) {
            if self.rows[a].active {
                let row = &mut self.rows[a];
                row.active = false;
                row.deleted_at = Some(now);
                row.last_off = Some((now, false));
            }
        }
        true
    }

    fn remove(&mut self, r: usize, now: Time) -> bool {
        if !self.rows[r].exists || !self.rows[r].active {
            return false;
        }
        let row = &mut self.rows[r];
        row.active = false;
        row.removals.push(now);
        row.last_off = Some((now, false));
        true
    }

    fn delete_attachment(&mut self, a: usize, now: Time) -> bool {
        let row = &mut self.rows[a];
        if !row.exists || !row.active {
            return false;
        }
        row.active = false;
        row.deleted_at = Some(now);
        row.last_off = Some((now, false));
        true
    }

    fn restore_attachment(&mut self, a: usize) -> bool {
        let row = &mut self.rows[a];
        if !row.exists || row.active {
            return false;
        }
        row.active = true;
        row.deleted_at = None;
        true
    }

    fn admin_save(&mut self, r: usize, active: bool, now: Time) -> bool {
        let row = &mut self.rows[r];
        if !row.exists {
            return false;
        }
        row.active = active;
        row.updated_at = now;
        if !active {
            row.last_off = Some((now, false));
        }
        true
    }
}

// ------------------------------------------------------------ operations

/// What happens in a step. Rows are chosen by `pick` among the rows the
/// action makes sense for at that moment (a restore among deleted rows, the
/// web app's delete among active ones), so random sequences keep meeting
/// the same rows, as real ones do.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Among active rows (any kind); among all rows when none is.
    Delete(u8),
    /// Among deleted rows (any kind).
    Restore(u8),
    Undo,
    Fix,
    Check,
    Purge(i64),
    /// The API's delete of an active post, with its cascade.
    DestroyPost(u8),
    /// The moderation queue removing an active post or thread. (A flag
    /// reviewed after its content was deleted is left out: its removal
    /// changes no row, yet dates it, which only the engine's own view of
    /// deletion times can follow.)
    Remove(Kind, u8),
    /// A flag filed on an active post or thread (when there is none, any)
    /// and the console's review removing it at once.
    Review(Kind, u8),
    /// `attachment.delete()` of an active attachment.
    DeleteAttachment(u8),
    /// `Attachment.restore()` of a deleted one.
    RestoreAttachment(u8),
    /// The admin saving a post or thread with `is_active` set: among rows
    /// it changes, else among all of that kind.
    AdminSave(Kind, bool, u8),
}

/// One step: the clock moves on by `wait` seconds (and a few
/// microseconds), then `op` happens.
#[derive(Debug, Clone, Copy)]
struct Step {
    wait: i64,
    micros: i64,
    op: Op,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    // Mostly the few rows changed last; sometimes any.
    let pick = || prop_oneof![3 => 0u8..3, 1 => any::<u8>()];
    let post_or_thread = || prop_oneof![3 => Just(Kind::Post), 1 => Just(Kind::Thread)];
    prop_oneof![
        4 => pick().prop_map(Op::Delete),
        4 => pick().prop_map(Op::Restore),
        2 => Just(Op::Undo),
        1 => Just(Op::Fix),
        1 => Just(Op::Check),
        2 => prop_oneof![Just(0i64), Just(1), Just(30)].prop_map(Op::Purge),
        2 => pick().prop_map(Op::DestroyPost),
        2 => (post_or_thread(), pick()).prop_map(|(k, i)| Op::Remove(k, i)),
        2 => (post_or_thread(), pick()).prop_map(|(k, i)| Op::Review(k, i)),
        2 => pick().prop_map(Op::DeleteAttachment),
        2 => pick().prop_map(Op::RestoreAttachment),
        3 => (post_or_thread(), any::<bool>(), pick()).prop_map(|(k, a, i)| Op::AdminSave(k, a, i)),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    (
        prop_oneof![
            3 => 1i64..3600,
            2 => 3600i64..5 * 86400,
            1 => 20 * 86400i64..40 * 86400,
        ],
        0i64..1_000_000,
        op_strategy(),
    )
        .prop_map(|(wait, micros, op)| Step { wait, micros, op })
}

impl Model {
    /// The `pick`-th of the existing rows that `keep`, most recently
    /// changed first, if any.
    fn choose(&self, pick: u8, keep: impl Fn(&Row) -> bool) -> Option<usize> {
        let mut rows: Vec<usize> = (0..self.rows.len())
            .filter(|&r| self.rows[r].exists && keep(&self.rows[r]))
            .collect();
        rows.sort_by_key(|&r| (std::cmp::Reverse(self.rows[r].touched), r));
        (!rows.is_empty()).then(|| rows[pick as usize % rows.len()])
    }

    /// Notes the rows a step changed.
    fn mark_touched(&mut self, before: &[Row], step: usize) {
        for (row, old) in self.rows.iter_mut().zip(before) {
            let changed = row.exists != old.exists
                || row.active != old.active
                || row.deleted_at != old.deleted_at
                || row.updated_at != old.updated_at;
            if changed {
                row.touched = step;
            }
        }
    }
}

// ------------------------------------------------------------ the world

struct World {
    forum: Web,
    db: Db,
    media: MediaRoot,
    model: Model,
    now: Time,
    flags: u32,
}

impl World {
    fn new(backend: Backend) -> World {
        let forum = match backend {
            Backend::Sqlite => Web::Sqlite(DjangoForum::new()),
            Backend::Postgres => Web::Postgres(Box::new(PgWeb::new())),
        };
        let at = format_datetime(start());
        for t in 0..THREADS {
            forum.thread(&thread_id(t), &at);
        }
        for p in 0..POSTS {
            forum.post(&post_id(p), &thread_id(p / 2), &at);
        }
        for a in 0..ATTACHMENTS {
            let image = forum.attachment(&attachment_id(a), &post_id(a / 2), &at);
            if a == SHARED.1 {
                forum.set_image(&attachment_id(a), &image_of(a));
                let own = forum.media().join(&image);
                fs::remove_file(own).unwrap();
            }
        }
        // The console's actor is a staff user of the forum, so it may review.
        forum.staff_user(3, "mo", "a0000000000000000000000000000003");
        let db = Db::open(&forum.db(), &OpenOptions::new(Access::ReadWrite)).unwrap();
        // Durability is not what is tested here: no sync on each commit.
        match &forum {
            Web::Sqlite(f) => {
                for conn in [db.sqlite("test").unwrap(), &f.web] {
                    conn.pragma_update(None, "synchronous", "OFF").unwrap();
                }
            }
            Web::Postgres(_) => db
                .conn()
                .execute_batch("SET synchronous_commit = off")
                .unwrap(),
        }
        let media = MediaRoot::open(forum.media()).unwrap();
        World {
            forum,
            db,
            media,
            model: Model::new(),
            now: start(),
            flags: 0,
        }
    }

    fn ctx(&self, retention_days: i64) -> Ctx {
        Ctx {
            now: self.now,
            actor: "mo".into(),
            os_account: None,
            client_addr: None,
            reason: None,
            retention_days,
        }
    }

    fn text(&self) -> String {
        format_datetime(self.now)
    }

    fn next_flag(&mut self) -> (String, String) {
        self.flags += 1;
        (
            support::hex_id(0xf000 + self.flags),
            support::hex_id(0xa000 + self.flags),
        )
    }

    /// Runs a step on both the database and the model; checks what the
    /// console's action reported against the model.
    fn apply(&mut self, step: &Step) -> Result<(), String> {
        self.now = self.now + Duration::seconds(step.wait) + Duration::microseconds(step.micros);
        let now = self.now;
        let at = self.text();
        let ctx = self.ctx(30);
        let m = &self.model;
        let target = |r: usize| Target::new(m.rows[r].kind, m.id(r));
        match step.op {
            Op::Delete(pick) => {
                let Some(r) = m
                    .choose(pick, |row| row.active)
                    .or_else(|| m.choose(pick, |_| true))
                else {
                    return Ok(());
                };
                let target = target(r);
                let want = self.model.delete(r, now);
                let got = rules::delete(&mut self.db, &ctx, &target);
                agree(&format!("delete {r}"), want, got.map(|o| o.changed))?;
            }
            Op::Restore(pick) => {
                let Some(r) = m.choose(pick, |row| !row.active) else {
                    return Ok(());
                };
                let target = target(r);
                let want = self.model.restore(r, now);
                let got = rules::restore(&mut self.db, &ctx, &target);
                agree(&format!("restore {r}"), want, got.map(|o| o.changed))?;
            }
            Op::Undo => {
                let want = self.model.undo(now).ok();
                let got = rules::undo(&mut self.db, &ctx);
                agree("undo", want, got.map(|o| o.changed))?;
            }
            Op::Fix => {
                let want = self.model.fix(now);
                let got = rules::fix(&mut self.db, &ctx);
                agree("fix", Some(want), got.map(|o| o.changed))?;
            }
            Op::Check => {
                self.model.stamp(now);
                check::run(&mut self.db, &ctx, Some(&self.media))
                    .map_err(|e| format!("check failed: {e:#}"))?;
            }
            Op::Purge(days) => {
                let gone = self.model.purge(now, days);
                let options = PurgeOptions {
                    retention_days: days,
                    batch_size: 2,
                    dry_run: false,
                    keep_files: false,
                };
                let purge_ctx = self.ctx(days);
                let report = purge::run(
                    &mut self.db,
                    &purge_ctx,
                    Some(&self.media),
                    &options,
                    &mut |_| {},
                    &AtomicBool::new(false),
                )
                .map_err(|e| format!("purge failed: {e:#}"))?;
                let removed =
                    report.removed.threads + report.removed.posts + report.removed.attachments;
                if removed as usize != gone.len() {
                    return Err(format!("purge removed {removed} rows, the model {gone:?}"));
                }
                // The files of purged attachments go, unless a remaining
                // row names the same one.
                for &r in &gone {
                    let image = &self.model.rows[r].image;
                    let kept = self.model.rows.iter().any(|row| {
                        row.exists && row.kind == Kind::Attachment && &row.image == image
                    });
                    if self.model.rows[r].kind == Kind::Attachment
                        && !kept
                        && self.forum.media().join(image).exists()
                    {
                        return Err(format!(
                            "purged attachment {r}: its file {image} is still there"
                        ));
                    }
                }
                if report.action_id.is_some() == gone.is_empty() {
                    return Err(format!(
                        "purge action {:?} for {} rows",
                        report.action_id,
                        gone.len()
                    ));
                }
            }
            Op::DestroyPost(pick) => {
                if let Some(r) = m.choose(pick, |row| row.kind == Kind::Post && row.active) {
                    let id = m.id(r);
                    self.model.destroy_post(r, now);
                    self.forum.destroy_post(&id, &at);
                }
            }
            Op::Remove(kind, pick) => {
                if let Some(r) = m.choose(pick, |row| row.kind == kind && row.active) {
                    let id = m.id(r);
                    self.model.remove(r, now);
                    let (flag, action) = self.next_flag();
                    match kind {
                        Kind::Thread => self.forum.remove_thread(&id, &flag, &action, &at),
                        _ => self.forum.remove_post(&id, &flag, &action, &at),
                    }
                }
            }
            Op::Review(kind, pick) => {
                let r = m
                    .choose(pick, |row| row.kind == kind && row.active)
                    .or_else(|| m.choose(pick, |row| row.kind == kind));
                if let Some(r) = r {
                    let id = m.id(r);
                    let (flag, _) = self.next_flag();
                    match kind {
                        Kind::Thread => self.forum.flag(&flag, None, Some(&id), &at),
                        _ => self.forum.flag(&flag, Some(&id), None, &at),
                    }
                    let want = self.model.review(r, now);
                    let action = match kind {
                        Kind::Thread => ReviewAction::RemoveThread,
                        _ => ReviewAction::RemovePost,
                    };
                    let review_ctx = ctx.with_reason(Some("reported".into()));
                    let got = flags::review(&mut self.db, &review_ctx, &flag, action, None);
                    agree(&format!("review {r}"), want, got.map(|o| o.outcome.changed))?;
                }
            }
            Op::DeleteAttachment(pick) => {
                if let Some(r) = m.choose(pick, |row| row.kind == Kind::Attachment && row.active) {
                    let id = m.id(r);
                    self.model.delete_attachment(r, now);
                    self.forum.delete_attachment(&id, &at);
                }
            }
            Op::RestoreAttachment(pick) => {
                if let Some(r) = m.choose(pick, |row| row.kind == Kind::Attachment && !row.active) {
                    let id = m.id(r);
                    self.model.restore_attachment(r);
                    self.forum.restore_attachment(&id);
                }
            }
            Op::AdminSave(kind, active, pick) => {
                let r = m
                    .choose(pick, |row| row.kind == kind && row.active != active)
                    .or_else(|| m.choose(pick, |row| row.kind == kind));
                if let Some(r) = r {
                    let id = m.id(r);
                    self.model.admin_save(r, active, now);
                    match kind {
                        Kind::Thread => self.forum.admin_save_thread(&id, active, &at),
                        _ => self.forum.admin_save_post(&id, active, &at),
                    }
                }
            }
        }
        Ok(())
    }

    /// The database against the model, row by row.
    fn compare(&self) -> Result<(), String> {
        let conn = self.db.conn();
        let d = conn.dialect();
        let mut problems = Vec::new();
        for (r, row) in self.model.rows.iter().enumerate() {
            let id = self.model.id(r);
            let kind = row.kind;
            let sql = format!(
                "SELECT r.is_active, {}, {}, {} FROM {} r WHERE r.id = ?1",
                if kind == Kind::Attachment {
                    "r.deleted_at"
                } else {
                    "r.updated_at"
                },
                cond::deletion_time(d, kind, "r"),
                cond::deletion_source(d, kind, "r"),
                kind.table()
            );
            let found: Option<Found> = conn
                .query_opt(&sql, modcon_core::sql::params![id.as_str()], |q| {
                    Ok((q.flag(0)?, q.opt_text(1)?, q.opt_text(2)?, q.opt_text(3)?))
                })
                .map_err(|e| format!("{kind} {r}: {e:#}"))?;
            let Some((active, column, time, source)) = found else {
                if row.exists {
                    problems.push(format!("{kind} {r} is gone, the model has it"));
                }
                continue;
            };
            if !row.exists {
                problems.push(format!("{kind} {r} is still there, the model purged it"));
                continue;
            }
            if active != row.active {
                problems.push(format!(
                    "{kind} {r}: is_active {active}, the model {}",
                    row.active
                ));
            }
            let want_column = match kind {
                Kind::Attachment => row.deleted_at.map(format_datetime),
                _ => Some(format_datetime(row.updated_at)),
            };
            if column != want_column {
                problems.push(format!(
                    "{kind} {r}: column {column:?}, the model {want_column:?}"
                ));
            }
            if !row.active && kind != Kind::Attachment {
                let want = self.model.deletion_time(r);
                let want_time = want.map(|k| format_datetime(k.0));
                let want_source = want.map(|k| k.1.name().to_string());
                if (time.clone(), source.clone()) != (want_time.clone(), want_source.clone()) {
                    problems.push(format!(
                        "{kind} {r}: deletion time {time:?} from {source:?}, the model {want_time:?} from {want_source:?}"
                    ));
                }
            }
            if kind == Kind::Attachment && row.exists {
                let file = self.forum.media().join(&row.image);
                if !file.exists() {
                    problems.push(format!("attachment {r}: its file {} is gone", row.image));
                }
            }
        }
        // PostgreSQL checks Django's deferred foreign keys at every commit;
        // SQLite is asked.
        if let Ok(sqlite) = conn.sqlite("the foreign key check") {
            let fk: i64 = sqlite
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |q| {
                    q.get(0)
                })
                .map_err(|e| e.to_string())?;
            if fk > 0 {
                problems.push(format!("{fk} foreign key problems"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// A row as the database has it: `is_active`, `deleted_at` (attachments)
/// or `updated_at`, deletion time and its source.
type Found = (bool, Option<String>, Option<String>, Option<String>);

/// The console's action and the model agree: `None` means it must fail.
fn agree(what: &str, want: Option<bool>, got: anyhow::Result<bool>) -> Result<(), String> {
    match (want, got) {
        (None, Err(_)) => Ok(()),
        (Some(w), Ok(g)) if w == g => Ok(()),
        (want, got) => Err(format!(
            "{what}: the model says {want:?}, the console {:?}",
            got.map_err(|e| format!("{e:#}"))
        )),
    }
}

/// Runs a whole sequence, comparing after every step.
fn run_steps(backend: Backend, steps: &[Step]) -> Result<(), String> {
    let mut world = World::new(backend);
    world.compare()?;
    for (n, step) in steps.iter().enumerate() {
        let before = world.model.rows.clone();
        world
            .apply(step)
            .and_then(|()| world.compare())
            .map_err(|e| format!("after step {n} ({step:?}):\n{e}"))?;
        world.model.mark_touched(&before, n + 1);
    }
    Ok(())
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Cases on PostgreSQL without `MODCON_MODEL_CASES`: each step is a few
/// round trips to the server, so fewer than on SQLite keep the suite
/// within minutes on two cores.
const PG_CASES: u32 = 24;

fn search(backend: Backend, default_cases: u32) {
    let cases = env_number("MODCON_MODEL_CASES", default_cases);
    let seed = std::env::var("MODCON_MODEL_SEED").unwrap_or_else(|_| "modcon interleavings".into());
    let mut bytes = [0u8; 32];
    for (i, b) in seed.bytes().enumerate() {
        bytes[i % 32] ^= b.wrapping_add(i as u8);
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let result = runner.run(
        &proptest::collection::vec(step_strategy(), 1..40),
        |steps| run_steps(backend, &steps).map_err(TestCaseError::fail),
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn console_and_web_app_interleaved_follow_the_rules() {
    search(Backend::Sqlite, 120);
}

#[test]
fn console_and_web_app_interleaved_follow_the_rules_on_postgresql() {
    search(Backend::Postgres, PG_CASES);
}

/// A fixed sequence of every kind of step, compared step by step on both
/// backends.
#[test]
fn every_kind_of_step_in_one_sequence_on_both_backends() {
    let steps = [
        s(1, 0, Op::Delete(1)),
        s(1, 0, Op::Delete(3)),
        s(1, 0, Op::RestoreAttachment(1)),
        s(80397, 798094, Op::Restore(1)),
        s(278, 45415, Op::DestroyPost(2)),
        s(889, 634991, Op::Undo),
        s(2324, 854936, Op::DestroyPost(1)),
        s(1, 0, Op::Remove(Kind::Post, 0)),
        s(1, 0, Op::AdminSave(Kind::Thread, false, 0)),
        s(1, 0, Op::Check),
        s(1, 0, Op::Fix),
        s(1, 0, Op::Undo),
        s(40 * 86400, 0, Op::Purge(30)),
        s(1, 0, Op::DeleteAttachment(0)),
        s(1, 0, Op::AdminSave(Kind::Post, true, 0)),
        s(1, 0, Op::Delete(0)),
        s(1, 0, Op::Restore(0)),
        s(1, 0, Op::Review(Kind::Thread, 0)),
        s(1, 0, Op::Undo),
    ];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Err(e) = run_steps(backend, &steps) {
            panic!("{backend:?}: {e}");
        }
    }
}

// ---------------------------------------------------------- the web app

/// The web app over either backend: Django's writes on SQLite (the shared
/// [`DjangoForum`]) or on PostgreSQL ([`PgWeb`]).
enum Web {
    Sqlite(DjangoForum),
    Postgres(Box<PgWeb>),
}

macro_rules! on_web {
    ($web:expr, $f:ident => $body:expr) => {
        match $web {
            Web::Sqlite($f) => $body,
            Web::Postgres($f) => $body,
        }
    };
}

impl Web {
    fn db(&self) -> std::path::PathBuf {
        match self {
            Web::Sqlite(f) => f.db.clone(),
            Web::Postgres(f) => f.pg.arg(),
        }
    }
    fn media(&self) -> &std::path::Path {
        on_web!(self, f => &f.media)
    }
    fn thread(&self, id: &str, at: &str) {
        on_web!(self, f => f.thread(id, at))
    }
    fn post(&self, id: &str, thread: &str, at: &str) {
        on_web!(self, f => f.post(id, thread, at))
    }
    fn attachment(&self, id: &str, post: &str, at: &str) -> String {
        on_web!(self, f => f.attachment(id, post, at))
    }
    fn set_image(&self, id: &str, image: &str) {
        match self {
            Web::Sqlite(f) => {
                f.web
                    .execute(
                        "UPDATE forum_attachment SET image = ?2 WHERE id = ?1",
                        (id, image),
                    )
                    .unwrap();
            }
            Web::Postgres(f) => {
                f.run(
                    "UPDATE forum_attachment SET image = $2 WHERE id = $1",
                    &[&uuid_of(id), &image],
                );
            }
        }
    }
    fn staff_user(&self, id: i64, name: &str, uuid: &str) {
        match self {
            Web::Sqlite(f) => {
                f.web
                    .execute(
                        "INSERT INTO users_user (password, last_login, is_superuser, username, \
                         first_name, last_name, email, is_staff, is_active, date_joined, id, uuid) \
                         VALUES ('!', NULL, 0, ?2, '', '', '', 1, 1, '2025-01-01 00:00:00', ?1, ?3)",
                        (id, name, uuid),
                    )
                    .unwrap();
            }
            Web::Postgres(f) => f.staff_user(id, name, uuid),
        }
    }
    fn destroy_post(&self, post: &str, at: &str) {
        on_web!(self, f => f.destroy_post(post, at))
    }
    fn flag(&self, flag_id: &str, post: Option<&str>, thread: Option<&str>, at: &str) {
        on_web!(self, f => f.flag(flag_id, post, thread, at))
    }
    fn remove_post(&self, post: &str, flag_id: &str, action_id: &str, at: &str) {
        on_web!(self, f => f.remove_post(post, flag_id, action_id, at))
    }
    fn remove_thread(&self, thread: &str, flag_id: &str, action_id: &str, at: &str) {
        on_web!(self, f => f.remove_thread(thread, flag_id, action_id, at))
    }
    fn delete_attachment(&self, id: &str, at: &str) {
        on_web!(self, f => f.delete_attachment(id, at))
    }
    fn restore_attachment(&self, id: &str) {
        on_web!(self, f => f.restore_attachment(id))
    }
    fn admin_save_post(&self, id: &str, active: bool, at: &str) {
        on_web!(self, f => f.admin_save_post(id, active, at))
    }
    fn admin_save_thread(&self, id: &str, active: bool, at: &str) {
        on_web!(self, f => f.admin_save_thread(id, active, at))
    }
}

fn uuid_of(hex: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(hex).unwrap()
}

/// A Django datetime as the `timestamptz` Django's PostgreSQL backend
/// sends (UTC).
fn tz(at: &str) -> chrono::DateTime<chrono::Utc> {
    parse_datetime(at).unwrap().and_utc()
}

/// The web app on PostgreSQL: the schema Django made there (`pg.sql`, its
/// rows removed), the same users and category as [`DjangoForum`]'s, and
/// the same writes, each in the types Django's PostgreSQL backend binds.
struct PgWeb {
    pg: PgDb,
    client: std::cell::RefCell<postgres::Client>,
    _dir: tempfile::TempDir,
    media: std::path::PathBuf,
}

impl PgWeb {
    fn new() -> PgWeb {
        let pg = PgDb::fixture();
        let mut client = pg.client();
        client
            .batch_execute(
                "SET synchronous_commit = off;
                 TRUNCATE forum_moderationaction, forum_flaggedcontent, forum_reaction,
                          forum_attachment, forum_post, forum_thread, forum_userprofile,
                          forum_category, users_user_groups, users_user_user_permissions,
                          users_user CASCADE;",
            )
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        fs::create_dir_all(media.join("forum/attachments")).unwrap();
        let web = PgWeb {
            pg,
            client: std::cell::RefCell::new(client),
            _dir: dir,
            media,
        };
        web.user(
            webapp::MODERATOR,
            "moderator",
            "a0000000000000000000000000000001",
            true,
        );
        web.user(
            webapp::USER,
            "user",
            "a0000000000000000000000000000002",
            false,
        );
        web.run(
            "INSERT INTO forum_category (id, name, slug, description, icon, display_order, \
             is_active, created_at, updated_at, parent_id) \
             VALUES ($1, 'General', 'general', '', '', 0, true, $2, $2, NULL)",
            &[&uuid_of(webapp::CATEGORY), &tz("2025-01-01 00:00:00")],
        );
        web
    }

    fn run(&self, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> u64 {
        self.client
            .borrow_mut()
            .execute(sql, params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn user(&self, id: i64, name: &str, uuid: &str, staff: bool) {
        self.run(
            "INSERT INTO users_user (password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined, id, uuid) \
             VALUES ('!', NULL, false, $2, '', '', '', $4, true, $5, $1, $3)",
            &[
                &id,
                &name,
                &uuid_of(uuid),
                &staff,
                &tz("2025-01-01 00:00:00"),
            ],
        );
    }

    fn staff_user(&self, id: i64, name: &str, uuid: &str) {
        self.user(id, name, uuid, true);
    }

    fn thread(&self, id: &str, at: &str) {
        self.run(
            "INSERT INTO forum_thread (id, title, slug, excerpt, is_pinned, is_locked, is_active, \
             view_count, post_count, last_activity_at, created_at, updated_at, author_id, \
             category_id) VALUES ($1, $2, $3, '', false, false, true, 0, 0, $4, $4, $4, $5, $6)",
            &[
                &uuid_of(id),
                &format!("Thread {id}"),
                &format!("thread-{id}"),
                &tz(at),
                &webapp::USER,
                &uuid_of(webapp::CATEGORY),
            ],
        );
    }

    fn post(&self, id: &str, thread: &str, at: &str) {
        self.run(
            "INSERT INTO forum_post (id, content_raw, content_rich, content_format, is_first_post, \
             is_active, edited_at, created_at, updated_at, author_id, edited_by_id, thread_id) \
             VALUES ($1, $2, NULL, 'markdown', false, true, NULL, $3, $3, $4, NULL, $5)",
            &[
                &uuid_of(id),
                &format!("Text of {id}"),
                &tz(at),
                &webapp::USER,
                &uuid_of(thread),
            ],
        );
    }

    /// An active attachment, its file and one thumbnail on disk (as
    /// [`DjangoForum::attachment`]).
    fn attachment(&self, id: &str, post: &str, at: &str) -> String {
        let image = format!("forum/attachments/2026/01/02/{id}.png");
        self.run(
            "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, \
             display_order, alt_text, created_at, post_id, deleted_at, is_active) \
             VALUES ($1, $2, 'photo.png', 3, 'image/png', 0, '', $3, $4, NULL, true)",
            &[&uuid_of(id), &image, &tz(at), &uuid_of(post)],
        );
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

    /// The API's `perform_destroy` of a post (see
    /// [`DjangoForum::destroy_post`]).
    fn destroy_post(&self, post: &str, at: &str) {
        self.run(
            "UPDATE \"forum_post\" SET \"is_active\" = false WHERE \"forum_post\".\"id\" = $1",
            &[&uuid_of(post)],
        );
        self.run(
            "UPDATE \"forum_attachment\" SET \"is_active\" = false, \"deleted_at\" = $2 \
             WHERE (\"forum_attachment\".\"is_active\" AND \"forum_attachment\".\"post_id\" = $1)",
            &[&uuid_of(post), &tz(at)],
        );
    }

    fn flag(&self, flag_id: &str, post: Option<&str>, thread: Option<&str>, at: &str) {
        let content_type = if post.is_some() { "post" } else { "thread" };
        self.run(
            "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
             reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, \
             post_id, thread_id) \
             VALUES ($1, $2, 'spam', '', 'pending', NULL, '', $3, $3, $4, NULL, $5, $6)",
            &[
                &uuid_of(flag_id),
                &content_type,
                &tz(at),
                &webapp::USER,
                &post.map(uuid_of),
                &thread.map(uuid_of),
            ],
        );
    }

    /// The review endpoint removing flagged content, in one transaction
    /// (see [`DjangoForum::review_remove`]).
    fn review_remove(&self, flag_id: &str, action_id: &str, at: &str) {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().unwrap();
        let row = tx
            .query_one(
                "SELECT content_type, post_id, thread_id FROM forum_flaggedcontent WHERE id = $1",
                &[&uuid_of(flag_id)],
            )
            .unwrap();
        let content_type: String = row.get(0);
        let post: Option<uuid::Uuid> = row.get(1);
        let thread: Option<uuid::Uuid> = row.get(2);
        let action_type = if content_type == "post" {
            tx.execute(
                "UPDATE \"forum_post\" SET \"is_active\" = false WHERE \"forum_post\".\"id\" = $1",
                &[&post.unwrap()],
            )
            .unwrap();
            "remove_post"
        } else {
            tx.execute(
                "UPDATE \"forum_thread\" SET \"is_active\" = false WHERE \"forum_thread\".\"id\" = $1",
                &[&thread.unwrap()],
            )
            .unwrap();
            "remove_thread"
        };
        tx.execute(
            "UPDATE forum_flaggedcontent SET status = 'removed', reviewed_by_id = $2, \
             reviewed_at = $3, moderator_notes = '', updated_at = $3 WHERE id = $1",
            &[&uuid_of(flag_id), &webapp::MODERATOR, &tz(at)],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO forum_moderationaction (id, action_type, reason, created_at, \
             affected_user_id, flag_id, moderator_id) VALUES ($1, $2, 'removed', $3, $4, $5, $6)",
            &[
                &uuid_of(action_id),
                &action_type,
                &tz(at),
                &webapp::USER,
                &uuid_of(flag_id),
                &webapp::MODERATOR,
            ],
        )
        .unwrap();
        tx.commit().unwrap();
    }

    fn remove_post(&self, post: &str, flag_id: &str, action_id: &str, at: &str) {
        self.flag(flag_id, Some(post), None, at);
        self.review_remove(flag_id, action_id, at);
    }

    fn remove_thread(&self, thread: &str, flag_id: &str, action_id: &str, at: &str) {
        self.flag(flag_id, None, Some(thread), at);
        self.review_remove(flag_id, action_id, at);
    }

    fn delete_attachment(&self, id: &str, at: &str) {
        self.run(
            "UPDATE \"forum_attachment\" SET \"is_active\" = false, \"deleted_at\" = $2 \
             WHERE \"forum_attachment\".\"id\" = $1",
            &[&uuid_of(id), &tz(at)],
        );
    }

    fn restore_attachment(&self, id: &str) {
        self.run(
            "UPDATE \"forum_attachment\" SET \"is_active\" = true, \"deleted_at\" = NULL \
             WHERE \"forum_attachment\".\"id\" = $1",
            &[&uuid_of(id)],
        );
    }

    fn admin_save_post(&self, id: &str, active: bool, at: &str) {
        self.run(
            "UPDATE \"forum_post\" SET \"content_raw\" = \"content_raw\", \"content_rich\" = \"content_rich\", \
             \"content_format\" = \"content_format\", \"is_first_post\" = \"is_first_post\", \
             \"is_active\" = $2, \"edited_at\" = \"edited_at\", \"created_at\" = \"created_at\", \
             \"updated_at\" = $3, \"author_id\" = \"author_id\", \"edited_by_id\" = \"edited_by_id\", \
             \"thread_id\" = \"thread_id\" WHERE \"forum_post\".\"id\" = $1",
            &[&uuid_of(id), &active, &tz(at)],
        );
    }

    fn admin_save_thread(&self, id: &str, active: bool, at: &str) {
        self.run(
            "UPDATE \"forum_thread\" SET \"title\" = \"title\", \"slug\" = \"slug\", \"excerpt\" = \"excerpt\", \
             \"is_pinned\" = \"is_pinned\", \"is_locked\" = \"is_locked\", \"is_active\" = $2, \
             \"view_count\" = \"view_count\", \"post_count\" = \"post_count\", \
             \"last_activity_at\" = \"last_activity_at\", \"created_at\" = \"created_at\", \
             \"updated_at\" = $3, \"author_id\" = \"author_id\", \"category_id\" = \"category_id\" \
             WHERE \"forum_thread\".\"id\" = $1",
            &[&uuid_of(id), &active, &tz(at)],
        );
    }
}

// ------------------------------------------------ sequences found failing
// Each a shortest sequence the search above found (with the picks as it
// made them), kept so it runs every time.

fn s(wait: i64, micros: i64, op: Op) -> Step {
    Step { wait, micros, op }
}

/// A restore undone puts the deletion back as it was, its time included:
/// the post's retention counts from the thread's delete, not from the
/// undo (and a thread with a row the web app re-activated below stays).
#[test]
fn an_undone_restore_keeps_the_original_deletion_time_for_retention() {
    let steps = [
        // The console deletes thread 1, then attachment 6 in thread 0.
        s(1, 0, Op::Delete(1)),
        s(1, 0, Op::Delete(3)),
        // The web app restores attachment 10 below thread 1.
        s(1, 0, Op::RestoreAttachment(1)),
        // The console restores thread 1; the web app deletes post 2.
        s(80397, 798094, Op::Restore(1)),
        s(278, 45415, Op::DestroyPost(2)),
        // Undo of the restore: post 5 goes back, post 4 (with the web
        // app's attachment 10 active) stays.
        s(889, 634991, Op::Undo),
        s(2324, 854936, Op::DestroyPost(1)),
        // A day after the thread's delete, the undo under a day ago.
        s(2507, 666564, Op::Purge(1)),
    ];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Err(e) = run_steps(backend, &steps) {
            panic!("{backend:?}: {e}");
        }
    }
}

/// A removal by review of a post someone already deleted is refused: its
/// moderation action, dated now, would read as the post being removed now,
/// later than the console's delete of its thread, whose deletion time
/// would then be lost.
#[test]
fn a_review_never_removes_a_post_already_deleted_under_a_thread_the_console_deleted() {
    let steps = [
        s(1, 0, Op::Delete(0)),
        s(1, 0, Op::Delete(1)),
        // The admin deactivates post 5; check sees it.
        s(1, 0, Op::AdminSave(Kind::Post, false, 0)),
        s(1, 0, Op::Check),
        // The console deletes thread 1 (post 5's photos stay active).
        s(1, 0, Op::Delete(0)),
        s(1, 0, Op::Check),
        s(1_728_000, 0, Op::Purge(0)),
        s(1, 0, Op::Undo),
        s(1, 0, Op::Delete(0)),
        s(1, 0, Op::Delete(0)),
        // A flag on post 5, reviewed as remove_post: refused.
        s(1, 0, Op::Review(Kind::Post, 0)),
    ];
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Err(e) = run_steps(backend, &steps) {
            panic!("{backend:?}: {e}");
        }
    }
}
