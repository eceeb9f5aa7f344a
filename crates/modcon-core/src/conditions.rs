//! The SQL conditions that define each state a row can be in — deletion
//! time, purgeable, held back by an active descendant, breaking the
//! invariant. Written once here; lists, counts, check and purge all use
//! these, so the TUI markers, `stats` and `purge` can never disagree.
//!
//! Conditions take the dialect, a table alias, and use the parameter `?1`
//! (the cutoff: Django datetime text, now minus the retention): a statement
//! that holds one binds the cutoff first.

use anyhow::Result;

use super::model::Kind;
use super::schema::Schema;
use super::sql::{Conn, Dialect};

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

/// The views [`deletion_time`] reads the web app's moderation queue
/// through: `(row_id, removed_at)` of every `remove_post` /
/// `remove_thread` action on a flag pointing at a post / thread. A database
/// without the flag tables gets empty views, so the conditions read alike.
/// Views of the connection (see [`Conn::define_views`]): TEMP views on
/// SQLite, written into each statement on PostgreSQL; nothing is written
/// to the database. Looked up by the flag's post or thread (CROSS JOIN
/// fixes that order, and `+` keeps SQLite off the action-type index, which
/// would walk every removal in the forum for each row).
pub fn install(conn: Conn, schema: &Schema) -> Result<()> {
    let d = conn.dialect();
    let usable = schema.removal_times;
    let mut views = Vec::new();
    for (kind, column, action) in [
        (Kind::Post, "post_id", "remove_post"),
        (Kind::Thread, "thread_id", "remove_thread"),
    ] {
        let body = if usable {
            format!(
                "SELECT f.{column} AS row_id, ma.created_at AS removed_at \
                 FROM forum_flaggedcontent f {join} forum_moderationaction ma ON ma.flag_id = f.id \
                 WHERE {action_type} = '{action}'",
                join = d.fixed_join(),
                action_type = d.no_index("ma.action_type"),
            )
        } else {
            // Typed as the real view's columns would be.
            match d {
                Dialect::Sqlite => "SELECT NULL AS row_id, NULL AS removed_at WHERE 0".to_string(),
                Dialect::Postgres => {
                    "SELECT NULL::uuid AS row_id, NULL::timestamptz AS removed_at \
                                     WHERE false"
                        .to_string()
                }
            }
        };
        views.push((format!("modcon_{kind}_removal"), body));
    }
    conn.define_views(&views)
}

/// The console's record of the row aliased `alias` in `modcon_deletion d`,
/// while it still holds: a record belongs to the `updated_at` the row had
/// when it was made (a save by the web app since means a new story).
fn record(d: Dialect, kind: Kind, alias: &str) -> String {
    format!(
        "d.kind = '{kind}' AND d.row_id = {alias}.id AND {}",
        d.same("d.row_updated_at", &format!("{alias}.updated_at"))
    )
}

/// An attachment aliased `la` was deleted after `at`, and not by the
/// console (the console wrote no such `deleted_at` for it).
fn attachment_deleted_later(d: Dialect, at: &str) -> String {
    format!(
        "({la_deleted} > {at} AND NOT EXISTS (SELECT 1 FROM modcon_change lc \
           WHERE lc.kind = 'attachment' AND lc.row_id = la.id AND lc.after_active = {no} \
             AND {same}))",
        la_deleted = d.ts("la.deleted_at"),
        no = d.bool(false),
        same = d.same("lc.after_deleted_at", "la.deleted_at"),
    )
}

/// Some row below the thread or post aliased `alias` was deleted after
/// `at` by someone other than the console: the console's record of
/// deleting it at `at` no longer tells its story. A deleted post below a
/// thread was deleted later when the web app saved it after `at` (only a
/// save brings a post back) or its moderation removal is later, unless the
/// console's own record of it still holds.
fn deleted_later_below(d: Dialect, kind: Kind, alias: &str, at: &str) -> String {
    let attachment = attachment_deleted_later(d, at);
    let no = d.bool(false);
    let la_active = d.no_index("la.is_active");
    match kind {
        Kind::Attachment => d.bool(false).to_string(),
        Kind::Post => format!(
            "EXISTS (SELECT 1 FROM forum_attachment la \
                     WHERE la.post_id = {alias}.id AND {la_active} = {no} AND {attachment} {per_row})",
            per_row = d.per_outer_row(),
        ),
        Kind::Thread => format!(
            "(EXISTS (SELECT 1 FROM forum_post lp \
                      WHERE lp.thread_id = {alias}.id AND {lp_active} = {no} \
                        AND ({lp_updated} > {at} \
                             OR EXISTS (SELECT 1 FROM modcon_post_removal lr \
                                        WHERE lr.row_id = lp.id AND {lr_removed} > {at})) \
                        AND NOT EXISTS (SELECT 1 FROM modcon_deletion ld \
                                        WHERE ld.kind = 'post' AND ld.row_id = lp.id \
                                          AND {same} AND ld.source = 'console')) \
              OR EXISTS (SELECT 1 FROM forum_post lp {join} forum_attachment la ON la.post_id = lp.id \
                         WHERE lp.thread_id = {alias}.id AND {la_active} = {no} AND {attachment} {per_row}))",
            per_row = d.per_outer_row(),
            lp_active = d.no_index("lp.is_active"),
            lp_updated = d.ts("lp.updated_at"),
            lr_removed = d.ts("lr.removed_at"),
            same = d.same("ld.row_updated_at", "lp.updated_at"),
            join = d.fixed_join(),
        ),
    }
}

/// The console's own delete of the row, while its record holds: the
/// row's `updated_at` is what it was, and nothing below it was deleted
/// later by someone else.
fn console_time(d: Dialect, kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT {} FROM modcon_deletion d \
          WHERE {} AND d.source = 'console' AND NOT {})",
        d.ts("d.deleted_at"),
        record(d, kind, alias),
        deleted_later_below(d, kind, alias, &d.ts("d.deleted_at"))
    )
}

/// When the web app's moderation queue removed the row: the latest
/// `remove_post` / `remove_thread` action on a flag pointing at it, as
/// long as the row was not saved after it (a save is how the web app
/// brings a row back) and the console did not bring it back after it.
fn moderation_time(d: Dialect, kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT {removed} FROM modcon_{kind}_removal mr \
          WHERE mr.row_id = {alias}.id AND {removed} >= {updated} \
            AND NOT EXISTS (SELECT 1 FROM modcon_change rc JOIN modcon_action ra ON ra.id = rc.action_id \
                            WHERE rc.kind = '{kind}' AND rc.row_id = {alias}.id AND rc.after_active = {yes} \
                              AND ra.at >= {removed}) \
          ORDER BY 1 DESC LIMIT 1)",
        removed = d.ts("mr.removed_at"),
        updated = d.ts(&format!("{alias}.updated_at")),
        yes = d.bool(true),
    )
}

/// A first-seen time, or a moderation time an undo put back.
fn other_recorded_time(d: Dialect, kind: Kind, alias: &str) -> String {
    format!(
        "(SELECT {} FROM modcon_deletion d WHERE {} AND d.source <> 'console')",
        d.ts("d.deleted_at"),
        record(d, kind, alias)
    )
}

/// The deletion time of a row aliased `alias` (comparable: Django text on
/// SQLite, a timestamptz on PostgreSQL), or NULL when unknown. Attachments
/// carry it in `deleted_at`. For threads and posts, in this order: the
/// console's own delete while its record holds (see [`console_time`]); the
/// web app's moderation removal; the time the console first saw the row
/// deleted.
pub fn deletion_time(d: Dialect, kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => d.ts(&format!("{alias}.deleted_at")),
        _ => format!(
            "COALESCE({}, {}, {})",
            console_time(d, kind, alias),
            moderation_time(d, kind, alias),
            other_recorded_time(d, kind, alias)
        ),
    }
}

/// Where [`deletion_time`] came from: 'console', 'moderation_action',
/// 'first_seen', 'deleted_at' (an attachment's column), or NULL (unknown).
pub fn deletion_source(d: Dialect, kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => format!(
            "CASE WHEN {} IS NULL THEN NULL ELSE 'deleted_at' END",
            d.ts(&format!("{alias}.deleted_at"))
        ),
        _ => format!(
            "CASE WHEN {} IS NOT NULL THEN 'console' \
                  WHEN {} IS NOT NULL THEN 'moderation_action' \
                  ELSE (SELECT CASE d.source WHEN 'seen' THEN 'first_seen' WHEN 'moderation' THEN 'moderation_action' END \
                        FROM modcon_deletion d \
                        WHERE {} AND d.source <> 'console' AND {} IS NOT NULL) END",
            console_time(d, kind, alias),
            moderation_time(d, kind, alias),
            record(d, kind, alias),
            d.ts("d.deleted_at"),
        ),
    }
}

/// Deleted, with a known deletion time at or before the cutoff `?1`.
pub fn past_retention(d: Dialect, kind: Kind, alias: &str) -> String {
    past_retention_at(d, alias, &deletion_time(d, kind, alias))
}

/// [`past_retention`], the deletion time `dt` worked out already.
fn past_retention_at(d: Dialect, alias: &str, dt: &str) -> String {
    format!("({alias}.is_active = {} AND {dt} <= ?1)", d.bool(false))
}

/// The row has an active row below it.
pub fn has_active_descendant(d: Dialect, kind: Kind, alias: &str) -> String {
    let yes = d.bool(true);
    match kind {
        Kind::Attachment => d.bool(false).to_string(),
        Kind::Post => format!(
            "EXISTS (SELECT 1 FROM forum_attachment xa \
                     WHERE xa.post_id = {alias}.id AND xa.is_active = {yes})"
        ),
        Kind::Thread => format!(
            "(EXISTS (SELECT 1 FROM forum_post xp \
                      WHERE xp.thread_id = {alias}.id AND xp.is_active = {yes}) \
              OR EXISTS (SELECT 1 FROM forum_post xp {join} forum_attachment xa ON xa.post_id = xp.id \
                         WHERE xp.thread_id = {alias}.id AND {xa_active} = {yes}))",
            join = d.fixed_join(),
            xa_active = d.no_index("xa.is_active"),
        ),
    }
}

/// Purgeable: past retention and nothing below it still active.
pub fn purgeable(d: Dialect, kind: Kind, alias: &str) -> String {
    purgeable_at(d, kind, alias, &deletion_time(d, kind, alias))
}

fn purgeable_at(d: Dialect, kind: Kind, alias: &str, dt: &str) -> String {
    format!(
        "({} AND NOT {})",
        past_retention_at(d, alias, dt),
        has_active_descendant(d, kind, alias)
    )
}

/// Past retention but held back by an active descendant: a purge skips it.
pub fn held_back(d: Dialect, kind: Kind, alias: &str) -> String {
    held_back_at(d, kind, alias, &deletion_time(d, kind, alias))
}

fn held_back_at(d: Dialect, kind: Kind, alias: &str, dt: &str) -> String {
    format!(
        "({} AND {})",
        past_retention_at(d, alias, dt),
        has_active_descendant(d, kind, alias)
    )
}

/// Deleted with no known deletion time.
pub fn unknown_deletion_time(d: Dialect, kind: Kind, alias: &str) -> String {
    unknown_deletion_time_at(d, alias, &deletion_time(d, kind, alias))
}

fn unknown_deletion_time_at(d: Dialect, alias: &str, dt: &str) -> String {
    format!("({alias}.is_active = {} AND {dt} IS NULL)", d.bool(false))
}

/// A condition as a number to add up: 1 when it holds, else 0.
pub fn one_if(condition: &str) -> String {
    format!("CASE WHEN {condition} THEN 1 ELSE 0 END")
}

/// How many deleted rows of `kind` are purgeable, held back and of unknown
/// deletion time: one row of three counts (parameter `?1`, the cutoff).
/// Each deleted row's deletion time is worked out once, in a subquery kept
/// from being merged into the sums (merged, every condition would work it
/// out again); the deleted rows are found by the `is_active` index, or by
/// the purge indexes after `modcon migrate`.
pub fn deleted_state_counts(d: Dialect, kind: Kind) -> String {
    let dt = "r.modcon_dt";
    format!(
        "SELECT COALESCE(sum({purgeable}), 0), COALESCE(sum({held}), 0), COALESCE(sum({unknown}), 0) \
         FROM (SELECT {id} {no} AS is_active, {time} AS modcon_dt \
               FROM {table} r WHERE r.is_active = {no} {no_flatten}) r",
        // An attachment's conditions need no id: its deletion time can then
        // come from an index alone.
        id = if kind == Kind::Attachment {
            ""
        } else {
            "r.id AS id,"
        },
        purgeable = one_if(&purgeable_at(d, kind, "r", dt)),
        held = one_if(&held_back_at(d, kind, "r", dt)),
        unknown = one_if(&unknown_deletion_time_at(d, "r", dt)),
        time = deletion_time(d, kind, "r"),
        table = kind.table(),
        no = d.bool(false),
        no_flatten = d.no_flatten(),
    )
}

/// Breaks the invariant: active, with a deleted parent.
pub fn violation(d: Dialect, kind: Kind, alias: &str) -> String {
    let (yes, no) = (d.bool(true), d.bool(false));
    match kind {
        Kind::Thread => no.to_string(),
        Kind::Post => format!(
            "({alias}.is_active = {yes} AND EXISTS (SELECT 1 FROM forum_thread vt \
              WHERE vt.id = {alias}.thread_id AND vt.is_active = {no}))"
        ),
        Kind::Attachment => format!(
            "({alias}.is_active = {yes} AND EXISTS (SELECT 1 FROM forum_post vp \
              WHERE vp.id = {alias}.post_id AND vp.is_active = {no}))"
        ),
    }
}

/// The same invariant as [`violation`], driven from the deleted parents
/// (few) rather than every active row (many): `(id, parent_id)` pairs.
/// The join order is fixed and the child's `is_active` kept out of index
/// choice: SQLite, without statistics, would otherwise pick that index and
/// walk every active row.
pub fn violating_rows(d: Dialect, kind: Kind) -> String {
    let (yes, no) = (d.bool(true), d.bool(false));
    let join = d.fixed_join();
    let child_active = d.no_index("vr.is_active");
    match kind {
        Kind::Thread => match d {
            Dialect::Sqlite => "SELECT NULL, NULL WHERE 0".to_string(),
            Dialect::Postgres => "SELECT NULL::uuid, NULL::uuid WHERE false".to_string(),
        },
        Kind::Post => format!(
            "SELECT vr.id, vt.id FROM forum_thread vt \
             {join} forum_post vr ON vr.thread_id = vt.id \
             WHERE vt.is_active = {no} AND {child_active} = {yes}"
        ),
        Kind::Attachment => format!(
            "SELECT vr.id, vp.id FROM forum_post vp \
             {join} forum_attachment vr ON vr.post_id = vp.id \
             WHERE vp.is_active = {no} AND {child_active} = {yes}"
        ),
    }
}
