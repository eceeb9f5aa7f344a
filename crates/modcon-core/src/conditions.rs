//! The SQL conditions that define each state a row can be in — deletion
//! time, purgeable, held back by an active descendant, breaking the
//! invariant. Written once here; lists, counts, check and purge all use
//! these, so the TUI markers, `stats` and `purge` can never disagree.
//!
//! Conditions take a table alias and use the named parameter `:cutoff`
//! (Django datetime text: now minus the retention).

use anyhow::Result;
use rusqlite::Connection;

use super::model::Kind;
use super::schema::{self, Schema};

/// Where a deleted thread's or post's deletion time comes from, as
/// `modcon_deletion.source` stores it.
pub mod source {
    /// The console deleted the row then (exact).
    pub const CONSOLE: &str = "console";
    /// The web app's moderation queue removed it then (exact).
    pub const MODERATION: &str = "moderation";
    /// Found deleted by someone else: when the console first saw it.
    pub const SEEN: &str = "seen";
}

/// The temporary views [`deletion_time`] reads the web app's moderation
/// queue through: `(row_id, removed_at)` of every `remove_post` /
/// `remove_thread` action on a flag pointing at a post / thread. A database
/// without the flag tables gets empty views, so the conditions read alike.
/// Made on every connection (TEMP: nothing is written to the database).
/// Looked up by the flag's post or thread (CROSS JOIN fixes that order, and
/// `+` keeps SQLite off the action-type index, which would walk every
/// removal in the forum for each row).
pub fn install(conn: &Connection, schema: &Schema) -> Result<()> {
    let usable = schema.flags
        && schema.moderation_actions
        && ["action_type", "created_at"]
            .iter()
            .all(|c| schema::column_exists(conn, "forum_moderationaction", c).unwrap_or(false));
    for (kind, column, action) in [
        (Kind::Post, "post_id", "remove_post"),
        (Kind::Thread, "thread_id", "remove_thread"),
    ] {
        let body = if usable {
            format!(
                "SELECT f.{column} AS row_id, ma.created_at AS removed_at \
                 FROM forum_flaggedcontent f CROSS JOIN forum_moderationaction ma ON ma.flag_id = f.id \
                 WHERE +ma.action_type = '{action}'"
            )
        } else {
            "SELECT NULL AS row_id, NULL AS removed_at WHERE 0".to_string()
        };
        conn.execute_batch(&format!(
            "DROP VIEW IF EXISTS temp.modcon_{kind}_removal; \
             CREATE TEMP VIEW modcon_{kind}_removal AS {body};"
        ))?;
    }
    Ok(())
}

/// The console's record of the row aliased `alias` in `modcon_deletion d`,
/// while it still holds: a record belongs to the `updated_at` the row had
/// when it was made (a save by the web app since means a new story).
fn record(kind: Kind, alias: &str) -> String {
    format!(
        "d.kind = '{kind}' AND d.row_id = {alias}.id AND d.row_updated_at IS {alias}.updated_at"
    )
}

/// An attachment aliased `la` was deleted after `at`, and not by the
/// console (the console wrote no such `deleted_at` for it).
fn attachment_deleted_later(at: &str) -> String {
    format!(
        "(modcon_ts(la.deleted_at) > {at} AND NOT EXISTS (SELECT 1 FROM modcon_change lc \
           WHERE lc.kind = 'attachment' AND lc.row_id = la.id AND lc.after_active = 0 \
             AND lc.after_deleted_at IS la.deleted_at))"
    )
}

/// Some row below the thread or post aliased `alias` was deleted after
/// `at` by someone other than the console: the console's record of
/// deleting it at `at` no longer tells its story. A deleted post below a
/// thread was deleted later when the web app saved it after `at` (only a
/// save brings a post back) or its moderation removal is later, unless the
/// console's own record of it still holds.
fn deleted_later_below(kind: Kind, alias: &str, at: &str) -> String {
    let attachment = attachment_deleted_later(at);
    match kind {
        Kind::Attachment => "0".to_string(),
        Kind::Post => format!(
            "EXISTS (SELECT 1 FROM forum_attachment la \
                     WHERE la.post_id = {alias}.id AND +la.is_active = 0 AND {attachment})"
        ),
        Kind::Thread => format!(
            "(EXISTS (SELECT 1 FROM forum_post lp \
                      WHERE lp.thread_id = {alias}.id AND +lp.is_active = 0 \
                        AND (modcon_ts(lp.updated_at) > {at} \
                             OR EXISTS (SELECT 1 FROM modcon_post_removal lr \
                                        WHERE lr.row_id = lp.id AND modcon_ts(lr.removed_at) > {at})) \
                        AND NOT EXISTS (SELECT 1 FROM modcon_deletion ld \
                                        WHERE ld.kind = 'post' AND ld.row_id = lp.id \
                                          AND ld.row_updated_at IS lp.updated_at AND ld.source = 'console')) \
              OR EXISTS (SELECT 1 FROM forum_post lp CROSS JOIN forum_attachment la ON la.post_id = lp.id \
                         WHERE lp.thread_id = {alias}.id AND +la.is_active = 0 AND {attachment}))"
        ),
    }
}

/// The console's own delete of the row, while its record holds: the
/// row's `updated_at` is what it was, and nothing below it was deleted
/// later by someone else.
fn console_time(kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT modcon_ts(d.deleted_at) FROM modcon_deletion d \
          WHERE {} AND d.source = 'console' AND NOT {})",
        record(kind, alias),
        deleted_later_below(kind, alias, "modcon_ts(d.deleted_at)")
    )
}

/// When the web app's moderation queue removed the row: the latest
/// `remove_post` / `remove_thread` action on a flag pointing at it, as
/// long as the row was not saved after it (a save is how the web app
/// brings a row back) and the console did not bring it back after it.
fn moderation_time(kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT modcon_ts(mr.removed_at) FROM modcon_{kind}_removal mr \
          WHERE mr.row_id = {alias}.id AND modcon_ts(mr.removed_at) >= modcon_ts({alias}.updated_at) \
            AND NOT EXISTS (SELECT 1 FROM modcon_change rc JOIN modcon_action ra ON ra.id = rc.action_id \
                            WHERE rc.kind = '{kind}' AND rc.row_id = {alias}.id AND rc.after_active = 1 \
                              AND ra.at >= modcon_ts(mr.removed_at)) \
          ORDER BY 1 DESC LIMIT 1)"
    )
}

/// A first-seen time, or a moderation time an undo put back.
fn other_recorded_time(kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT modcon_ts(d.deleted_at) FROM modcon_deletion d WHERE {} AND d.source <> 'console')",
        record(kind, alias)
    )
}

/// The deletion time of a row aliased `alias`, as Django text, or NULL
/// when unknown. Attachments carry it in `deleted_at`. For threads and
/// posts, in this order: the console's own delete while its record holds
/// (see [`console_time`]); the web app's moderation removal; the time the
/// console first saw the row deleted.
pub fn deletion_time(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => format!("modcon_ts({alias}.deleted_at)"),
        _ => format!(
            "COALESCE({}, {}, {})",
            console_time(kind, alias),
            moderation_time(kind, alias),
            other_recorded_time(kind, alias)
        ),
    }
}

/// Where [`deletion_time`] came from: 'console', 'moderation_action',
/// 'first_seen', 'deleted_at' (an attachment's column), or NULL (unknown).
pub fn deletion_source(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => format!(
            "CASE WHEN modcon_ts({alias}.deleted_at) IS NULL THEN NULL ELSE 'deleted_at' END"
        ),
        _ => format!(
            "CASE WHEN {} IS NOT NULL THEN 'console' \
                  WHEN {} IS NOT NULL THEN 'moderation_action' \
                  ELSE (SELECT CASE d.source WHEN 'seen' THEN 'first_seen' WHEN 'moderation' THEN 'moderation_action' END \
                        FROM modcon_deletion d \
                        WHERE {} AND d.source <> 'console' AND modcon_ts(d.deleted_at) IS NOT NULL) END",
            console_time(kind, alias),
            moderation_time(kind, alias),
            record(kind, alias)
        ),
    }
}

/// Deleted, with a known deletion time at or before `:cutoff`.
pub fn past_retention(kind: Kind, alias: &str) -> String {
    past_retention_at(alias, &deletion_time(kind, alias))
}

/// [`past_retention`], the deletion time `dt` worked out already.
fn past_retention_at(alias: &str, dt: &str) -> String {
    format!("({alias}.is_active = 0 AND {dt} <= :cutoff)")
}

/// The row has an active row below it.
pub fn has_active_descendant(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => "0".to_string(),
        Kind::Post => format!(
            "EXISTS (SELECT 1 FROM forum_attachment xa \
                     WHERE xa.post_id = {alias}.id AND xa.is_active = 1)"
        ),
        Kind::Thread => format!(
            "(EXISTS (SELECT 1 FROM forum_post xp \
                      WHERE xp.thread_id = {alias}.id AND xp.is_active = 1) \
              OR EXISTS (SELECT 1 FROM forum_post xp CROSS JOIN forum_attachment xa ON xa.post_id = xp.id \
                         WHERE xp.thread_id = {alias}.id AND +xa.is_active = 1))"
        ),
    }
}

/// Purgeable: past retention and nothing below it still active.
pub fn purgeable(kind: Kind, alias: &str) -> String {
    purgeable_at(kind, alias, &deletion_time(kind, alias))
}

fn purgeable_at(kind: Kind, alias: &str, dt: &str) -> String {
    format!(
        "({} AND NOT {})",
        past_retention_at(alias, dt),
        has_active_descendant(kind, alias)
    )
}

/// Past retention but held back by an active descendant: a purge skips it.
pub fn held_back(kind: Kind, alias: &str) -> String {
    held_back_at(kind, alias, &deletion_time(kind, alias))
}

fn held_back_at(kind: Kind, alias: &str, dt: &str) -> String {
    format!(
        "({} AND {})",
        past_retention_at(alias, dt),
        has_active_descendant(kind, alias)
    )
}

/// Deleted with no known deletion time.
pub fn unknown_deletion_time(kind: Kind, alias: &str) -> String {
    unknown_deletion_time_at(alias, &deletion_time(kind, alias))
}

fn unknown_deletion_time_at(alias: &str, dt: &str) -> String {
    format!("({alias}.is_active = 0 AND {dt} IS NULL)")
}

/// How many deleted rows of `kind` are purgeable, held back and of unknown
/// deletion time: one row of three counts (parameter `:cutoff`). Each
/// deleted row's deletion time is worked out once, in a subquery that
/// `LIMIT -1` keeps SQLite from merging into the sums (merged, every
/// condition would work it out again); the deleted rows are found by the
/// `is_active` index, or by the purge indexes after `modcon migrate`.
pub fn deleted_state_counts(kind: Kind) -> String {
    let dt = "r.modcon_dt";
    format!(
        "SELECT COALESCE(sum({purgeable}), 0), COALESCE(sum({held}), 0), COALESCE(sum({unknown}), 0) \
         FROM (SELECT {id} 0 AS is_active, {time} AS modcon_dt \
               FROM {table} r WHERE r.is_active = 0 LIMIT -1) r",
        // An attachment's conditions need no id: its deletion time can then
        // come from an index alone.
        id = if kind == Kind::Attachment {
            ""
        } else {
            "r.id AS id,"
        },
        purgeable = purgeable_at(kind, "r", dt),
        held = held_back_at(kind, "r", dt),
        unknown = unknown_deletion_time_at("r", dt),
        time = deletion_time(kind, "r"),
        table = kind.table(),
    )
}

/// Breaks the invariant: active, with a deleted parent.
pub fn violation(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Thread => "0".to_string(),
        Kind::Post => format!(
            "({alias}.is_active = 1 AND EXISTS (SELECT 1 FROM forum_thread vt \
              WHERE vt.id = {alias}.thread_id AND vt.is_active = 0))"
        ),
        Kind::Attachment => format!(
            "({alias}.is_active = 1 AND EXISTS (SELECT 1 FROM forum_post vp \
              WHERE vp.id = {alias}.post_id AND vp.is_active = 0))"
        ),
    }
}

/// The same invariant as [`violation`], driven from the deleted parents
/// (few) rather than every active row (many): `(id, parent_id)` pairs.
/// CROSS JOIN fixes the join order and `+` keeps SQLite off the child's
/// `is_active` index, which without statistics it would otherwise pick
/// and walk every active row.
pub fn violating_rows(kind: Kind) -> String {
    match kind {
        Kind::Thread => "SELECT NULL, NULL WHERE 0".to_string(),
        Kind::Post => "SELECT vr.id, vt.id FROM forum_thread vt \
                       CROSS JOIN forum_post vr ON vr.thread_id = vt.id \
                       WHERE vt.is_active = 0 AND +vr.is_active = 1"
            .to_string(),
        Kind::Attachment => "SELECT vr.id, vp.id FROM forum_post vp \
                             CROSS JOIN forum_attachment vr ON vr.post_id = vp.id \
                             WHERE vp.is_active = 0 AND +vr.is_active = 1"
            .to_string(),
    }
}
