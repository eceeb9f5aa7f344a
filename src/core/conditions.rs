//! The SQL conditions that define each state a row can be in — deletion
//! time, purgeable, held back by an active descendant, breaking the
//! invariant. Written once here; lists, counts, check and purge all use
//! these, so the TUI markers, `stats` and `purge` can never disagree.
//!
//! Conditions take a table alias and use the named parameter `:cutoff`
//! (Django datetime text: now minus the retention).

use super::model::Kind;

/// The deletion time of a row aliased `alias`, as Django text, or NULL
/// when unknown. Threads and posts keep it in `modcon_deletion`; a record
/// is trusted only while the row's `updated_at` is what it was when the
/// record was made (a save by the web app since means a new story).
pub fn deletion_time(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => format!("modcon_ts({alias}.deleted_at)"),
        _ => format!(
            "(SELECT modcon_ts(d.deleted_at) FROM modcon_deletion d \
              WHERE d.kind = '{kind}' AND d.row_id = {alias}.id \
                AND d.row_updated_at IS {alias}.updated_at)"
        ),
    }
}

/// Where the deletion time came from: 'console' (exact), 'seen' (first
/// seen deleted), or NULL (unknown).
pub fn deletion_source(kind: Kind, alias: &str) -> String {
    match kind {
        Kind::Attachment => {
            format!("CASE WHEN modcon_ts({alias}.deleted_at) IS NULL THEN NULL ELSE 'column' END")
        }
        _ => format!(
            "(SELECT d.source FROM modcon_deletion d \
              WHERE d.kind = '{kind}' AND d.row_id = {alias}.id \
                AND d.row_updated_at IS {alias}.updated_at \
                AND modcon_ts(d.deleted_at) IS NOT NULL)"
        ),
    }
}

/// Deleted, with a known deletion time at or before `:cutoff`.
pub fn past_retention(kind: Kind, alias: &str) -> String {
    format!(
        "({alias}.is_active = 0 AND {} <= :cutoff)",
        deletion_time(kind, alias)
    )
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
    format!(
        "({} AND NOT {})",
        past_retention(kind, alias),
        has_active_descendant(kind, alias)
    )
}

/// Past retention but held back by an active descendant: a purge skips it.
pub fn held_back(kind: Kind, alias: &str) -> String {
    format!(
        "({} AND {})",
        past_retention(kind, alias),
        has_active_descendant(kind, alias)
    )
}

/// Deleted with no known deletion time.
pub fn unknown_deletion_time(kind: Kind, alias: &str) -> String {
    format!(
        "({alias}.is_active = 0 AND {} IS NULL)",
        deletion_time(kind, alias)
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
