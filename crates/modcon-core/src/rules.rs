//! Delete, restore and undo: the cascade rules (a delete takes the active
//! rows below with one timestamp; a restore puts back what that delete
//! changed; nothing active stays under a deleted parent), in one place.
//! Each operation has a `*_in` form that works inside a transaction the
//! caller owns (the demo generator batches thousands), and a plain form
//! that opens one short write transaction.

use anyhow::{Result, bail};
use serde::Serialize;

use super::Ctx;
use super::audit::{self, Action};
use super::conditions as cond;
use super::db::Db;
use super::model::Tally;
use super::model::{DeletionSource, Kind, RowState};
use super::sql::{Conn, Value, params};

/// A row named by kind and full id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Target {
    pub kind: Kind,
    pub id: String,
}

impl Target {
    pub fn new(kind: Kind, id: impl Into<String>) -> Self {
        Target {
            kind,
            id: id.into(),
        }
    }
}

/// A row an undo or a restore did not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftAlone {
    /// thread, post, attachment; for a review's undo also flag,
    /// moderation action.
    pub kind: String,
    pub id: String,
    pub reason: String,
}

/// What a delete, restore, undo or fix did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub action: Action,
    pub kind: Option<Kind>,
    pub id: Option<String>,
    /// False for a no-op (deleting a deleted row, nothing to undo...).
    pub changed: bool,
    #[serde(flatten)]
    pub tally: Tally,
    /// The audit-log entry, when something changed.
    pub action_id: Option<i64>,
    /// One plain sentence saying what happened.
    pub message: String,
    /// Rows that stayed deleted below a restored row.
    pub stay_deleted: Tally,
    /// Rows an undo left alone, with the reason.
    pub left_alone: Vec<LeftAlone>,
    /// For an undo: the action it reverted.
    pub undid: Option<i64>,
}

impl Outcome {
    fn unchanged(action: Action, target: Option<&Target>, message: String) -> Self {
        Outcome {
            action,
            kind: target.map(|t| t.kind),
            id: target.map(|t| t.id.clone()),
            changed: false,
            tally: Tally::default(),
            action_id: None,
            message,
            stay_deleted: Tally::default(),
            left_alone: Vec::new(),
            undid: None,
        }
    }
}

fn parent_of(conn: Conn, kind: Kind, id: &str) -> Result<Option<String>> {
    let Some(column) = kind.parent_column() else {
        return Ok(None);
    };
    Ok(conn
        .query_opt(
            &format!("SELECT {column} FROM {} WHERE id = ?1", kind.table()),
            params![id],
            |r| r.opt_text(0),
        )?
        .flatten())
}

/// The current state of a row, or `None` when it does not exist: for an
/// attachment its columns as stored (so an undo puts back exactly what was
/// there); for a thread or post its deletion time and where that comes
/// from, by the rules of `conditions::deletion_time`.
pub fn row_state(conn: Conn, kind: Kind, id: &str) -> Result<Option<RowState>> {
    if kind == Kind::Attachment {
        return conn.query_opt(
            "SELECT is_active, deleted_at FROM forum_attachment WHERE id = ?1",
            params![id],
            |r| {
                Ok(RowState {
                    active: r.get::<i64>(0)? != 0,
                    deleted_at: r.get::<Option<String>>(1).ok().flatten(),
                    source: None,
                })
            },
        );
    }
    let sql = format!(
        "SELECT r.is_active, {}, {} FROM {} r WHERE r.id = ?1",
        cond::deletion_time(conn.dialect(), kind, "r"),
        cond::deletion_source(conn.dialect(), kind, "r"),
        kind.table()
    );
    conn.query_opt(&sql, params![id], |r| {
        let active: i64 = r.get(0)?;
        let at: Option<String> = r.get::<Option<String>>(1).ok().flatten();
        let source: Option<String> = r.get::<Option<String>>(2).ok().flatten();
        Ok(if active != 0 {
            RowState::active()
        } else {
            RowState {
                active: false,
                source: at
                    .as_ref()
                    .and(source.as_deref().and_then(DeletionSource::parse)),
                deleted_at: at,
            }
        })
    })
}

/// Writes a row's state: the forum table, and for threads and posts the
/// console's record of the deletion time and its source.
fn write_state(conn: Conn, kind: Kind, id: &str, state: &RowState) -> Result<()> {
    let table = kind.table();
    if kind.has_deleted_at_column() {
        conn.execute(
            &format!("UPDATE {table} SET is_active = ?2, deleted_at = ?3 WHERE id = ?1"),
            params![id, state.active, state.deleted_at],
        )?;
        return Ok(());
    }
    conn.execute(
        &format!("UPDATE {table} SET is_active = ?2 WHERE id = ?1"),
        params![id, state.active],
    )?;
    match (state.active, &state.deleted_at) {
        (false, Some(at)) => record_deletion(
            conn,
            kind,
            id,
            at,
            state.source.unwrap_or(DeletionSource::Console),
        )?,
        _ => forget_deletion(conn, kind, id)?,
    }
    Ok(())
}

/// Records when a thread or post was deleted and how that is known, tied
/// to the row's current `updated_at` (see `conditions::deletion_time`).
pub fn record_deletion(
    conn: Conn,
    kind: Kind,
    id: &str,
    at: &str,
    source: DeletionSource,
) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO modcon_deletion (kind, row_id, deleted_at, source, row_updated_at) \
             VALUES (?1, ?2, ?3, ?4, (SELECT updated_at FROM {} WHERE id = ?2)) \
             ON CONFLICT (kind, row_id) DO UPDATE SET deleted_at = excluded.deleted_at, \
               source = excluded.source, row_updated_at = excluded.row_updated_at",
            kind.table()
        ),
        params![kind.name(), id, at, source.stored()],
    )?;
    Ok(())
}

pub fn forget_deletion(conn: Conn, kind: Kind, id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM modcon_deletion WHERE kind = ?1 AND row_id = ?2",
        params![kind.name(), id],
    )?;
    Ok(())
}

/// Changes one row and records the change under `action_id`.
fn change(
    conn: Conn,
    action_id: i64,
    kind: Kind,
    id: &str,
    before: &RowState,
    after: &RowState,
) -> Result<()> {
    write_state(conn, kind, id, after)?;
    audit::record_change(conn, action_id, kind, id, before, after)
}

fn ids(conn: Conn, sql: &str, params: &[Value<'_>]) -> Result<Vec<String>> {
    conn.query_map(sql, params, |r| r.text(0))
}

fn require(conn: Conn, target: &Target) -> Result<RowState> {
    match row_state(conn, target.kind, &target.id)? {
        Some(state) => Ok(state),
        None => bail!("no {} with id {}", target.kind, target.id),
    }
}

// ---------------------------------------------------------------- delete

/// The rows a delete of `target` makes deleted, parents first: the row and
/// its active descendants (a thread's active posts and their active
/// attachments; a post's active attachments). Empty when it is already
/// deleted.
pub fn delete_set(conn: Conn, target: &Target) -> Result<Vec<Target>> {
    if !require(conn, target)?.active {
        return Ok(Vec::new());
    }
    let mut rows = vec![target.clone()];
    let id = target.id.as_str();
    let d = conn.dialect();
    let yes = d.bool(true);
    match target.kind {
        Kind::Thread => {
            for post in ids(
                conn,
                &format!(
                    "SELECT id FROM forum_post WHERE thread_id = ?1 AND is_active = {yes} ORDER BY id"
                ),
                params![id],
            )? {
                rows.push(Target::new(Kind::Post, post));
            }
            for att in ids(
                conn,
                &format!(
                    "SELECT a.id FROM forum_post p {join} forum_attachment a ON a.post_id = p.id \
                     WHERE p.thread_id = ?1 AND p.is_active = {yes} AND {a_active} = {yes} ORDER BY a.id",
                    join = d.fixed_join(),
                    a_active = d.no_index("a.is_active"),
                ),
                params![id],
            )? {
                rows.push(Target::new(Kind::Attachment, att));
            }
        }
        Kind::Post => {
            for att in ids(
                conn,
                &format!(
                    "SELECT id FROM forum_attachment WHERE post_id = ?1 AND is_active = {yes} ORDER BY id"
                ),
                params![id],
            )? {
                rows.push(Target::new(Kind::Attachment, att));
            }
        }
        Kind::Attachment => {}
    }
    Ok(rows)
}

fn tally_of(rows: &[Target]) -> Tally {
    let mut tally = Tally::default();
    for row in rows {
        tally.add(row.kind, 1);
    }
    tally
}

/// What a delete would touch, per kind (for a confirmation).
pub fn preview_delete(conn: Conn, target: &Target) -> Result<Tally> {
    Ok(tally_of(&delete_set(conn, target)?))
}

/// Makes `rows` deleted at `ctx.now`, recorded under `action_id`.
fn delete_rows(conn: Conn, ctx: &Ctx, action_id: i64, rows: &[Target]) -> Result<Tally> {
    let now = ctx.now_text();
    for row in rows {
        let before = require(conn, row)?;
        let after = RowState::deleted_by_console(row.kind, now.clone());
        change(conn, action_id, row.kind, &row.id, &before, &after)?;
    }
    Ok(tally_of(rows))
}

/// The console's delete of `target`, cascade included, recorded under an
/// action the caller began (a review's `remove_post` / `remove_thread`).
/// Nothing when it is already deleted.
pub fn delete_under(conn: Conn, ctx: &Ctx, action_id: i64, target: &Target) -> Result<Tally> {
    let rows = delete_set(conn, target)?;
    delete_rows(conn, ctx, action_id, &rows)
}

pub fn delete_in(conn: Conn, ctx: &Ctx, target: &Target) -> Result<Outcome> {
    let rows = delete_set(conn, target)?;
    if rows.is_empty() {
        return Ok(Outcome::unchanged(
            Action::Delete,
            Some(target),
            format!(
                "{} {} is already deleted; nothing changed",
                target.kind, target.id
            ),
        ));
    }
    let action_id = audit::begin(
        conn,
        ctx,
        Action::Delete,
        Some((target.kind, &target.id)),
        None,
    )?;
    let tally = delete_rows(conn, ctx, action_id, &rows)?;
    audit::finish(conn, action_id, &tally)?;
    Ok(Outcome {
        changed: true,
        action_id: Some(action_id),
        message: done_message("deleted", target, &tally),
        tally,
        ..Outcome::unchanged(Action::Delete, Some(target), String::new())
    })
}

/// "deleted thread … with 3 posts, 5 attachments": the row, then what
/// went with it.
fn done_message(verb: &str, target: &Target, tally: &Tally) -> String {
    let mut below = *tally;
    below.add(target.kind, -1);
    let with = if below.rows() > 0 {
        format!(" with {}", below.describe())
    } else {
        String::new()
    };
    format!("{verb} {} {}{with}", target.kind, target.id)
}

pub fn delete(db: &mut Db, ctx: &Ctx, target: &Target) -> Result<Outcome> {
    let tx = db.write_tx()?;
    let outcome = delete_in(tx.conn(), ctx, target)?;
    super::failpoint::hit("before-commit");
    tx.commit()?;
    Ok(outcome)
}

// ---------------------------------------------------------------- restore

/// Refuses to restore below a deleted row, naming the nearest one.
fn refuse_under_deleted_parent(conn: Conn, target: &Target) -> Result<()> {
    let mut kind = target.kind;
    let mut id = target.id.clone();
    while let (Some(parent_kind), Some(parent_id)) = (kind.parent(), parent_of(conn, kind, &id)?) {
        match row_state(conn, parent_kind, &parent_id)? {
            Some(state) if !state.active => bail!(
                "cannot restore {} {}: its {parent_kind} {parent_id} is deleted; restore the {parent_kind} first",
                target.kind,
                target.id
            ),
            Some(_) => {}
            None => bail!(
                "cannot restore {} {}: its {parent_kind} {parent_id} does not exist",
                target.kind,
                target.id
            ),
        }
        kind = parent_kind;
        id = parent_id;
    }
    Ok(())
}

/// Is `row` below `target` (or the target itself)?
fn is_within(conn: Conn, target: &Target, row: &Target) -> Result<bool> {
    if row == target {
        return Ok(true);
    }
    let mut kind = row.kind;
    let mut id = row.id.clone();
    while let (Some(parent_kind), Some(parent_id)) = (kind.parent(), parent_of(conn, kind, &id)?) {
        if parent_kind == target.kind && parent_id == target.id {
            return Ok(true);
        }
        kind = parent_kind;
        id = parent_id;
    }
    Ok(false)
}

/// What a restore of `target` brings back, parents first, and whether it
/// came from the console's own record of the latest delete.
pub struct RestorePlan {
    pub rows: Vec<Target>,
    /// The action whose delete is being reversed; `None` when the row was
    /// deleted outside the console and the fallback rule applies.
    pub from_action: Option<i64>,
}

/// Whether a row is still exactly as a recorded change left it (for a
/// thread or post: deleted at the same time, known the same way — so the
/// console's record of it still holds).
fn still_as_left(conn: Conn, ch: &audit::Change) -> Result<bool> {
    Ok(row_state(conn, ch.kind, &ch.row_id)?.is_some_and(|now| now == ch.after))
}

/// The rows a restore brings back. Empty when the row is active. Fails,
/// naming the parent, under a deleted parent.
///
/// When the console's record of the row's delete still holds (the deletion
/// time comes from the console): the row and exactly the rows that delete
/// changed below it which are still as it left them. Otherwise the row was
/// deleted outside the console: a thread alone; a post with those of its
/// attachments that share the latest `deleted_at` (the web app's cascade
/// stamps one time), none deleted before the post when its time is exact
/// (a moderation removal).
pub fn restore_plan(conn: Conn, target: &Target) -> Result<RestorePlan> {
    let state = require(conn, target)?;
    if state.active {
        return Ok(RestorePlan {
            rows: Vec::new(),
            from_action: None,
        });
    }
    refuse_under_deleted_parent(conn, target)?;
    if target.kind == Kind::Attachment {
        return Ok(RestorePlan {
            rows: vec![target.clone()],
            from_action: None,
        });
    }
    if state.source == Some(DeletionSource::Console)
        && let Some(latest) = audit::latest_change(conn, target.kind, &target.id)?
        && latest.after == state
    {
        let mut rows = vec![target.clone()];
        for ch in audit::changes(conn, latest.action_id)? {
            let row = Target::new(ch.kind, ch.row_id.clone());
            if row == *target || !ch.before.active || ch.after.active {
                continue;
            }
            if is_within(conn, target, &row)? && still_as_left(conn, &ch)? {
                rows.push(row);
            }
        }
        return Ok(RestorePlan {
            rows,
            from_action: Some(latest.action_id),
        });
    }
    let mut rows = vec![target.clone()];
    if target.kind == Kind::Post {
        let not_before = match state.source {
            Some(DeletionSource::ModerationAction) => state.deleted_at.clone(),
            _ => None,
        };
        let d = conn.dialect();
        for att in ids(
            conn,
            &format!(
                "SELECT id FROM forum_attachment WHERE post_id = ?1 AND is_active = {no} \
                   AND {at} = (SELECT max({at}) FROM forum_attachment \
                               WHERE post_id = ?1 AND is_active = {no}) \
                   AND {at} >= COALESCE(?2, {at}) \
                 ORDER BY id",
                no = d.bool(false),
                at = d.ts("deleted_at"),
            ),
            params![target.id, not_before],
        )? {
            rows.push(Target::new(Kind::Attachment, att));
        }
    }
    Ok(RestorePlan {
        rows,
        from_action: None,
    })
}

pub fn preview_restore(conn: Conn, target: &Target) -> Result<Tally> {
    Ok(tally_of(&restore_plan(conn, target)?.rows))
}

/// Rows below `target` that are still deleted after a restore.
fn still_deleted_below(conn: Conn, target: &Target) -> Result<Tally> {
    let mut tally = Tally::default();
    match target.kind {
        Kind::Thread => {
            let posts: i64 = conn.query_row(
                &format!(
                    "SELECT count(*) FROM forum_post WHERE thread_id = ?1 AND is_active = {}",
                    conn.dialect().bool(false)
                ),
                params![target.id],
                |r| r.get(0),
            )?;
            tally.add(Kind::Post, posts);
        }
        Kind::Post => {
            let atts: i64 = conn.query_row(
                &format!(
                    "SELECT count(*) FROM forum_attachment WHERE post_id = ?1 AND is_active = {}",
                    conn.dialect().bool(false)
                ),
                params![target.id],
                |r| r.get(0),
            )?;
            tally.add(Kind::Attachment, atts);
        }
        Kind::Attachment => {}
    }
    Ok(tally)
}

fn parent_active(conn: Conn, row: &Target) -> Result<bool> {
    let (Some(parent_kind), Some(parent_id)) =
        (row.kind.parent(), parent_of(conn, row.kind, &row.id)?)
    else {
        return Ok(true);
    };
    Ok(row_state(conn, parent_kind, &parent_id)?.is_some_and(|s| s.active))
}

pub fn restore_in(conn: Conn, ctx: &Ctx, target: &Target) -> Result<Outcome> {
    let plan = restore_plan(conn, target)?;
    if plan.rows.is_empty() {
        return Ok(Outcome::unchanged(
            Action::Restore,
            Some(target),
            format!(
                "{} {} is already active; nothing changed",
                target.kind, target.id
            ),
        ));
    }
    let detail = serde_json::json!({ "reverses": plan.from_action });
    let action_id = audit::begin(
        conn,
        ctx,
        Action::Restore,
        Some((target.kind, &target.id)),
        Some(&detail),
    )?;
    let mut tally = Tally::default();
    // Parents first, and only under an active parent: never a violation.
    for row in &plan.rows {
        if !parent_active(conn, row)? {
            continue;
        }
        let before = require(conn, row)?;
        change(
            conn,
            action_id,
            row.kind,
            &row.id,
            &before,
            &RowState::active(),
        )?;
        tally.add(row.kind, 1);
    }
    audit::finish(conn, action_id, &tally)?;
    let stay_deleted = still_deleted_below(conn, target)?;
    let mut message = done_message("restored", target, &tally);
    if stay_deleted.rows() > 0 {
        message.push_str(&format!(
            "; {} stay{} deleted",
            stay_deleted.describe(),
            if stay_deleted.rows() == 1 { "s" } else { "" }
        ));
    }
    if plan.from_action.is_none() && target.kind != Kind::Attachment {
        message.push_str(" (deleted outside the console)");
    }
    Ok(Outcome {
        changed: true,
        action_id: Some(action_id),
        message,
        tally,
        stay_deleted,
        ..Outcome::unchanged(Action::Restore, Some(target), String::new())
    })
}

pub fn restore(db: &mut Db, ctx: &Ctx, target: &Target) -> Result<Outcome> {
    let tx = db.write_tx()?;
    let outcome = restore_in(tx.conn(), ctx, target)?;
    super::failpoint::hit("before-commit");
    tx.commit()?;
    Ok(outcome)
}

// ---------------------------------------------------------------- undo

fn active_children(conn: Conn, row: &Target) -> Result<i64> {
    let Some(child) = row.kind.child() else {
        return Ok(0);
    };
    let column = child.parent_column().unwrap_or_default();
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE {column} = ?1 AND is_active = {}",
            child.table(),
            conn.dialect().bool(true)
        ),
        params![row.id],
        |r| r.get(0),
    )
}

pub fn undo_in(conn: Conn, ctx: &Ctx) -> Result<Outcome> {
    let Some(entry) = audit::latest_not_undone(conn, &ctx.actor)? else {
        return Ok(Outcome::unchanged(
            Action::Undo,
            None,
            format!("nothing to undo for {}", ctx.actor),
        ));
    };
    if entry.action == Action::Purge {
        bail!(
            "your latest action (#{} at {}) was a purge, which cannot be undone",
            entry.id,
            entry.at
        );
    }
    let changes = audit::changes(conn, entry.id)?;
    let detail = serde_json::json!({ "undoes": entry.id });
    let target_kind = entry.kind;
    let target = target_kind.zip(entry.target_id.as_deref());
    let undo_id = audit::begin(conn, ctx, Action::Undo, target, Some(&detail))?;
    let mut tally = Tally::default();
    let mut left_alone = Vec::new();
    // Rows going back to deleted: children first, so a parent is checked
    // for active children after its own children were handled. Rows going
    // back to active: parents first, so a child finds its parent active.
    let mut to_deleted: Vec<_> = changes.iter().filter(|c| !c.before.active).collect();
    to_deleted.sort_by_key(|c| std::cmp::Reverse(c.kind));
    let to_active: Vec<_> = changes.iter().filter(|c| c.before.active).collect();
    // A fix deleted active rows it found under deleted parents: undoing it
    // puts back exactly that state, a violation others made, so for those
    // rows (the ones whose parent the fix did not change) a deleted parent
    // does not hold the undo back. Any other row never goes active under a
    // deleted parent.
    let changed_rows: std::collections::HashSet<Target> = changes
        .iter()
        .map(|c| Target::new(c.kind, c.row_id.clone()))
        .collect();
    let found_by_fix = |row: &Target| -> Result<bool> {
        if entry.action != Action::Fix {
            return Ok(false);
        }
        let (Some(parent_kind), Some(parent_id)) =
            (row.kind.parent(), parent_of(conn, row.kind, &row.id)?)
        else {
            return Ok(false);
        };
        Ok(!changed_rows.contains(&Target::new(parent_kind, parent_id)))
    };
    for ch in to_deleted.into_iter().chain(to_active) {
        let row = Target::new(ch.kind, ch.row_id.clone());
        let reason = match row_state(conn, ch.kind, &ch.row_id)? {
            None => Some("no longer exists".to_string()),
            Some(now) if now != ch.after => Some("changed since".to_string()),
            Some(_) if !ch.before.active && active_children(conn, &row)? > 0 => {
                Some("active rows below it would be left under a deleted parent".to_string())
            }
            Some(_) if ch.before.active && !parent_active(conn, &row)? && !found_by_fix(&row)? => {
                Some("its parent is deleted".to_string())
            }
            Some(now) => {
                change(conn, undo_id, ch.kind, &ch.row_id, &now, &ch.before)?;
                tally.add(ch.kind, 1);
                None
            }
        };
        if let Some(reason) = reason {
            left_alone.push(LeftAlone {
                kind: ch.kind.name().to_string(),
                id: ch.row_id.clone(),
                reason,
            });
        }
    }
    // A review's flag, moderation action and lock.
    let columns = super::flags::undo_columns(conn, &entry, undo_id)?;
    left_alone.extend(columns.left_alone.iter().cloned());
    audit::finish(conn, undo_id, &tally)?;
    audit::mark_undone(conn, entry.id, undo_id)?;
    let mut message = format!(
        "undid #{} ({}{}): {} back as before",
        entry.id,
        entry.action,
        target
            .map(|(k, id)| format!(" {k} {id}"))
            .unwrap_or_default(),
        tally.describe()
    );
    for said in &columns.said {
        message.push_str(&format!("; {said}"));
    }
    if !left_alone.is_empty() {
        message.push_str(&format!(
            "; {} left alone ({})",
            left_alone.len(),
            left_alone
                .iter()
                .take(5)
                .map(|l| format!("{} {}: {}", l.kind, l.id, l.reason))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(Outcome {
        action: Action::Undo,
        kind: target_kind,
        id: entry.target_id.clone(),
        changed: tally.rows() > 0 || columns.rows > 0,
        tally,
        action_id: Some(undo_id),
        message,
        stay_deleted: Tally::default(),
        left_alone,
        undid: Some(entry.id),
    })
}

pub fn undo(db: &mut Db, ctx: &Ctx) -> Result<Outcome> {
    let tx = db.write_tx()?;
    let outcome = undo_in(tx.conn(), ctx)?;
    super::failpoint::hit("before-commit");
    tx.commit()?;
    Ok(outcome)
}

// ---------------------------------------------------------------- fix

/// `check --fix`: soft-deletes every active row under a deleted parent
/// (posts with their active attachments), as one undoable action.
pub fn fix_in(conn: Conn, ctx: &Ctx) -> Result<Outcome> {
    let mut rows: Vec<Target> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for kind in [Kind::Post, Kind::Attachment] {
        let found = ids(conn, &cond::violating_rows(conn.dialect(), kind), params![])?;
        for id in found {
            for row in delete_set(conn, &Target::new(kind, id))? {
                if seen.insert(row.clone()) {
                    rows.push(row);
                }
            }
        }
    }
    if rows.is_empty() {
        return Ok(Outcome::unchanged(
            Action::Fix,
            None,
            "no active rows under deleted parents; nothing changed".into(),
        ));
    }
    rows.sort_by_key(|r| r.kind);
    let action_id = audit::begin(conn, ctx, Action::Fix, None, None)?;
    let tally = delete_rows(conn, ctx, action_id, &rows)?;
    audit::finish(conn, action_id, &tally)?;
    Ok(Outcome {
        changed: true,
        action_id: Some(action_id),
        message: format!(
            "deleted {} that were active under deleted parents",
            tally.describe()
        ),
        tally,
        ..Outcome::unchanged(Action::Fix, None, String::new())
    })
}

pub fn fix(db: &mut Db, ctx: &Ctx) -> Result<Outcome> {
    // Not while a purge (or another fix) runs on this database.
    super::lock::hold(db, "check --fix", &ctx.actor, |db, _| {
        let tx = db.write_tx()?;
        let outcome = fix_in(tx.conn(), ctx)?;
        super::failpoint::hit("before-commit");
        tx.commit()?;
        Ok(outcome)
    })
}
