//! The one place the console writes to the database. It enforces
//! read-only mode, re-checks what a confirmation showed inside the very
//! transaction that acts, and calls the same core functions as the
//! command line (which write the audit log). A check is here too: on a
//! database opened read-write it stamps deleted rows of unknown time as
//! first seen now, which is a write.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::Result;

use modcon_core::Ctx;
use modcon_core::audit;
use modcon_core::check::CheckReport;
use modcon_core::db::{self, Access, Db, FileId, OpenOptions, ReadOnly};
use modcon_core::flags::{self, ReviewAction};
use modcon_core::media::MediaRoot;
use modcon_core::model::Tally;
use modcon_core::purge::{self, Progress, PurgeOptions, PurgeReport};
use modcon_core::rules::{self, Outcome, Target};
use modcon_core::sql::{Conn, Savepoint};

/// The moderation actions a view may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Delete(Target),
    Restore(Target),
    Undo,
    /// `check --fix`: soft-delete every active row under a deleted parent.
    Fix,
    /// A review of a pending flag on `target` (the flagged post or thread).
    Review {
        flag: String,
        action: ReviewAction,
        target: Target,
    },
}

impl Op {
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Delete(_) => "delete",
            Op::Restore(_) => "restore",
            Op::Undo => "undo",
            Op::Fix => "fix",
            Op::Review { .. } => "review",
        }
    }

    /// A review of a flag: its reason is required, its note optional.
    pub fn is_review(&self) -> bool {
        matches!(self, Op::Review { .. })
    }

    pub fn target(&self) -> Option<&Target> {
        match self {
            Op::Delete(t) | Op::Restore(t) | Op::Review { target: t, .. } => Some(t),
            Op::Undo | Op::Fix => None,
        }
    }
}

/// What the moderator wrote with an op: the reason (kept in the audit
/// log) and, for a review, the note for the flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Why {
    pub reason: Option<String>,
    pub notes: Option<String>,
}

impl Why {
    /// From the dialog's fields: blank is none.
    pub fn of(reason: &str, notes: Option<&str>) -> Why {
        let words = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty());
        Why {
            reason: words(reason),
            notes: notes.and_then(words),
        }
    }
}

/// What an op would do, for its confirmation: the rows it changes, and
/// (for a restore) the rows below that stay deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preview {
    pub changes: Tally,
    pub stay_deleted: Tally,
}

/// What executing an op came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Executed {
    Done(Outcome),
    /// The rows changed since the confirmation was shown: here is what the
    /// op would do now. Nothing was changed.
    Stale(Preview),
}

/// Runs an op's rule inside the caller's transaction.
fn apply(conn: Conn, ctx: &Ctx, op: &Op, why: &Why) -> Result<Outcome> {
    match op {
        Op::Delete(t) => rules::delete_in(conn, ctx, t),
        Op::Restore(t) => rules::restore_in(conn, ctx, t),
        Op::Undo => rules::undo_in(conn, ctx),
        Op::Fix => rules::fix_in(conn, ctx),
        Op::Review { flag, action, .. } => {
            Ok(flags::review_in(conn, ctx, flag, *action, why.notes.as_deref())?.outcome)
        }
    }
}

/// What an op would do, worked out by the very rule that will do it,
/// inside a savepoint that is then rolled back: the counts cannot differ
/// from what "yes" does, and nothing is changed. A review is worked out by
/// its plan, which refuses what the review would refuse (who acts, a flag
/// already reviewed) before its reason is typed.
fn dry_run(conn: Conn, ctx: &Ctx, op: &Op) -> Result<Preview> {
    if let Op::Review { flag, action, .. } = op {
        let plan = flags::plan(conn, ctx, flag, *action)?;
        return Ok(Preview {
            changes: plan.removes,
            stay_deleted: Tally::default(),
        });
    }
    // Dropped unreleased: everything the rule did is rolled back.
    let preview = Savepoint::new(conn)?;
    audit::rehearse(preview.conn())?;
    let outcome = apply(preview.conn(), ctx, op, &Why::default());
    drop(preview);
    let outcome = outcome?;
    Ok(Preview {
        changes: outcome.tally,
        stay_deleted: outcome.stay_deleted,
    })
}

/// What an op would do, for its confirmation. Read-only: refused.
pub fn preview(db: &mut Db, ctx: &Ctx, op: &Op) -> Result<Preview> {
    db.refuse_read_only(op.verb())?;
    let preview = (|| {
        let tx = db.write_tx()?;
        let preview = dry_run(tx.conn(), ctx, op);
        drop(tx);
        preview
    })();
    preview.map_err(|e| db.explain(e))
}

/// Runs an op, with the moderator's reason. With `expected`, the preview is
/// worked out again inside the write transaction and the op goes ahead only
/// if it still matches.
pub fn execute(
    db: &mut Db,
    ctx: &Ctx,
    op: &Op,
    expected: Option<Preview>,
    why: &Why,
) -> Result<Executed> {
    db.refuse_read_only(op.verb())?;
    let ctx = &ctx.with_reason(why.reason.clone());
    let executed = (|| {
        let tx = db.write_tx()?;
        if let Some(expected) = expected {
            let now = dry_run(tx.conn(), ctx, op)?;
            if now != expected {
                return Ok(Executed::Stale(now));
            }
        }
        let outcome = apply(tx.conn(), ctx, op, why)?;
        tx.commit()?;
        Ok(Executed::Done(outcome))
    })();
    // A lock, a full disk...: said with the file and what to do.
    executed.map_err(|e| db.explain(e))
}

/// Runs `check`: the report and, unless the database is read-only, the
/// first-seen stamps of deleted rows whose deletion time is unknown.
pub fn check(db: &mut Db, ctx: &Ctx, media: Option<&MediaRoot>) -> Result<CheckReport> {
    modcon_core::check::run(db, ctx, media).map_err(|e| db.explain(e))
}

/// The purge's dry-run plan, on the caller's (read) connection.
pub fn purge_plan(
    db: &mut Db,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    batch_size: usize,
) -> Result<PurgeReport> {
    let options = PurgeOptions {
        retention_days: ctx.retention_days,
        batch_size,
        dry_run: true,
        keep_files: false,
    };
    db.prepare_purge_plan().map_err(|e| db.explain(e))?;
    purge::run(
        db,
        ctx,
        media,
        &options,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .map_err(|e| db.explain(e))
}

/// A real purge on a connection of its own (it runs on its own thread).
/// `planned_on` is the database file the moderator saw the plan of: a
/// file replaced since is refused before anything is done.
#[allow(clippy::too_many_arguments)]
pub fn purge(
    db_path: &Path,
    read_only: bool,
    planned_on: Option<FileId>,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    batch_size: usize,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<PurgeReport> {
    if read_only {
        return Err(ReadOnly::new("purge").into());
    }
    let mut db = Db::open(db_path, &OpenOptions::new(Access::ReadWrite))?;
    db.refuse_unless_file(planned_on)
        .map_err(|e| match db::file_replaced(&e) {
            Some(replaced) => replaced.stopping_purge(0).into(),
            None => e,
        })?;
    let options = PurgeOptions {
        retention_days: ctx.retention_days,
        batch_size,
        dry_run: false,
        keep_files: false,
    };
    purge::run(&mut db, ctx, media, &options, progress, cancel).map_err(|e| db.explain(e))
}
