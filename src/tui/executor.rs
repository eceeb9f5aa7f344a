//! The one place a mutation runs in the console. It enforces read-only
//! mode, re-checks what a confirmation showed inside the very transaction
//! that acts, and calls the same core functions as the command line (which
//! write the audit log).

use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{Result, bail};

use crate::core::Ctx;
use crate::core::audit::Tally;
use crate::core::db::{Access, Db, OpenOptions};
use crate::core::media::MediaRoot;
use crate::core::purge::{self, Progress, PurgeOptions, PurgeReport};
use crate::core::rules::{self, Outcome, Target};

/// The moderation actions a view may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Delete(Target),
    Restore(Target),
    Undo,
}

impl Op {
    pub fn verb(&self) -> &'static str {
        match self {
            Op::Delete(_) => "delete",
            Op::Restore(_) => "restore",
            Op::Undo => "undo",
        }
    }

    pub fn target(&self) -> Option<&Target> {
        match self {
            Op::Delete(t) | Op::Restore(t) => Some(t),
            Op::Undo => None,
        }
    }
}

/// What executing an op came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Executed {
    Done(Outcome),
    /// The rows changed since the confirmation was shown: here is what the
    /// op would touch now. Nothing was changed.
    Stale(Tally),
}

fn refuse_read_only(db: &Db, what: &str) -> Result<()> {
    if db.is_read_only() {
        bail!("read-only: {what} would change the database (opened with --read-only)");
    }
    Ok(())
}

/// What an op would touch, for its confirmation.
pub fn preview(db: &Db, op: &Op) -> Result<Tally> {
    match op {
        Op::Delete(t) => rules::preview_delete(db.conn(), t),
        Op::Restore(t) => rules::preview_restore(db.conn(), t),
        Op::Undo => Ok(Tally::default()),
    }
}

/// Runs an op. With `expected`, the preview is computed again inside the
/// write transaction and the op goes ahead only if it still matches.
pub fn execute(db: &mut Db, ctx: &Ctx, op: &Op, expected: Option<Tally>) -> Result<Executed> {
    refuse_read_only(db, op.verb())?;
    let tx = db.write_tx()?;
    if let Some(expected) = expected {
        let now = match op {
            Op::Delete(t) => rules::preview_delete(&tx, t)?,
            Op::Restore(t) => rules::preview_restore(&tx, t)?,
            Op::Undo => expected,
        };
        if now != expected {
            return Ok(Executed::Stale(now));
        }
    }
    let outcome = match op {
        Op::Delete(t) => rules::delete_in(&tx, ctx, t)?,
        Op::Restore(t) => rules::restore_in(&tx, ctx, t)?,
        Op::Undo => rules::undo_in(&tx, ctx)?,
    };
    tx.commit()?;
    Ok(Executed::Done(outcome))
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
    purge::run(
        db,
        ctx,
        media,
        &options,
        &mut |_| {},
        &AtomicBool::new(false),
    )
}

/// A real purge on a connection of its own (it runs on its own thread).
pub fn purge(
    db_path: &Path,
    read_only: bool,
    ctx: &Ctx,
    media: Option<&MediaRoot>,
    batch_size: usize,
    progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<PurgeReport> {
    if read_only {
        bail!("read-only: purge would change the database (opened with --read-only)");
    }
    let mut db = Db::open(db_path, &OpenOptions::new(Access::ReadWrite))?;
    let options = PurgeOptions {
        retention_days: ctx.retention_days,
        batch_size,
        dry_run: false,
        keep_files: false,
    };
    purge::run(&mut db, ctx, media, &options, progress, cancel)
}
