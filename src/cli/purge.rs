//! `modcon purge`: the plan, a progress bar per batch on a terminal, and
//! the report. Ctrl-C or SIGTERM stops a purge after the batch in flight
//! (see `interrupt`).

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use super::interrupt::{Interrupts, Stopped};
use super::{Settings, output, progress, refuse_read_only};
use crate::display::{ago, sanitize_line};
use modcon_core::db::Access;
use modcon_core::purge::{self, PurgeOptions, PurgeReport};

pub fn run(
    settings: &Settings,
    older_than: Option<i64>,
    batch_size: Option<usize>,
    dry_run: bool,
    keep_files: bool,
    reason: Option<String>,
    json: bool,
) -> Result<()> {
    // --older-than and --batch-size were checked when the arguments were read.
    if !dry_run {
        refuse_read_only(settings, "purge")?;
    }
    let access = if dry_run {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let mut db = settings.open(access, false)?;
    db.prepare_purge_plan()?;
    let mut ctx = settings.ctx().with_reason(reason);
    ctx.retention_days = older_than.unwrap_or(settings.retention_days);
    let options = PurgeOptions {
        retention_days: ctx.retention_days,
        batch_size: batch_size.unwrap_or(settings.batch_size),
        dry_run,
        keep_files,
    };
    let media = settings.media()?;
    // The plan can take a while on a large database; then one step per batch.
    let bar = progress::bar(json, "{bar:30} batch {pos}/{len} {msg}");
    if let Some(bar) = &bar {
        bar.set_message(if dry_run {
            "planning"
        } else {
            "planning the purge"
        });
    }
    // A dry run changes nothing: a signal may end it as usual.
    let interrupts = if dry_run {
        None
    } else {
        Some(Interrupts::watch()?)
    };
    let never = AtomicBool::new(false);
    let cancel = interrupts.as_ref().map_or(&never, |i| i.cancel.as_ref());
    let mut on_progress = |p: &purge::Progress| {
        if let Some(bar) = &bar {
            bar.set_length(p.batches);
            bar.set_position(p.batch);
            bar.set_message(if cancel.load(Ordering::SeqCst) {
                "stopping after this batch (again: stop at once)".to_string()
            } else {
                format!(
                    "{} removed, {} files",
                    p.removed.describe(),
                    p.removed.files
                )
            });
        }
    };
    let report = purge::run(
        &mut db,
        &ctx,
        media.as_ref(),
        &options,
        &mut on_progress,
        cancel,
    );
    progress::done(bar);
    let report = report?;
    let stopped = if report.cancelled {
        interrupts.as_ref().and_then(Interrupts::stopped_by)
    } else {
        None
    };
    if json {
        output::json(&report)?;
    } else {
        print_human(&report, settings, stopped.map(|(name, _)| name));
    }
    match stopped {
        Some((_, status)) => Err(Stopped(status).into()),
        None => Ok(()),
    }
}

fn print_human(r: &PurgeReport, settings: &Settings, stopped_by: Option<&str>) {
    let rows = modcon_core::model::Tally {
        files: 0,
        ..r.removed
    };
    if r.dry_run {
        println!(
            "purge plan (dry run): retention {} days, deleted at or before {}, batches of {}",
            r.retention_days, r.cutoff, r.batch_size
        );
        println!(
            "  would remove: {} in {} batch(es)",
            rows.describe(),
            r.batches
        );
        if r.removed.attachments > 0 {
            if r.keep_files {
                println!("  files kept (--keep-files)");
            } else if r.media_root.is_none() {
                println!(
                    "  files: not counted, no media root is set (without one a purge that \
                     would leave files behind is refused: give --media-root, or --keep-files)"
                );
            } else {
                println!(
                    "  and their files: {} (and {} thumbnails); already missing: {}; refused: {}",
                    r.removed.files, r.thumbnails, r.files_missing, r.files_refused
                );
            }
        }
    } else {
        println!(
            "purged {} in {} batch(es) (retention {} days, deleted at or before {})",
            rows.describe(),
            r.batches,
            r.retention_days,
            r.cutoff
        );
        if r.keep_files {
            println!("  files kept (--keep-files)");
        } else {
            let failed = if r.files_failed > 0 {
                format!(
                    "; could not remove: {} (kept for the next purge)",
                    r.files_failed
                )
            } else {
                String::new()
            };
            println!(
                "  files removed: {} (and {} thumbnails); missing: {}; refused: {}{failed}",
                r.removed.files, r.thumbnails, r.files_missing, r.files_refused
            );
        }
        if r.journal_finished > 0 {
            println!(
                "  finished {} file removals left by an interrupted purge",
                r.journal_finished
            );
        }
    }
    println!(
        "  media root: {}",
        sanitize_line(&settings.media_root_used(r.media_root.as_deref()))
    );
    if r.held_back.rows() > 0 {
        println!(
            "  held back (an active row below them): {}",
            r.held_back.describe()
        );
    }
    for skip in &r.skipped_rows {
        println!(
            "  skipped {} {}: {}",
            skip.kind,
            sanitize_line(&skip.id),
            sanitize_line(&skip.reason)
        );
    }
    for refused in &r.refused_paths {
        println!(
            "  refused path {:?}: {}",
            sanitize_line(&refused.image),
            refused.reason
        );
    }
    for failed in &r.failed_paths {
        println!(
            "  could not remove {:?}: {}",
            sanitize_line(&failed.image),
            sanitize_line(&failed.reason)
        );
    }
    if r.dry_run && !r.samples.is_empty() {
        println!("  for example:");
        for s in &r.samples {
            println!(
                "    {:<10} {}  {}  deleted {} ({})",
                s.kind.name(),
                sanitize_line(&s.id),
                crate::display::fit(&sanitize_line(&s.name), 40),
                s.deleted_at,
                ago(settings.now, &s.deleted_at)
            );
        }
    }
    if r.dry_run {
        println!("nothing was changed; a purge cannot be undone");
    }
    if let Some(holder) = &r.lock_taken_over {
        println!("  took over the purge lock left by {holder}, which is no longer running");
    }
    if r.cancelled {
        let by = stopped_by.map(|s| format!(" by {s}")).unwrap_or_default();
        println!(
            "cancelled{by} after the batch in flight: what is above is done; run purge again to continue"
        );
    }
}
