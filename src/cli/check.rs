//! `modcon check [--fix]`

use anyhow::Result;
use serde::Serialize;

use super::{Settings, open_for_writing, output, progress};
use crate::display::sanitize_line;
use modcon_core::db::Access;
use modcon_core::{check, rules};

/// How many entries of each section the human output lists.
const SHOWN: usize = 20;

fn section<T>(title: &str, items: &[T], line: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    println!("{title} ({}):", items.len());
    for item in items.iter().take(SHOWN) {
        println!("  {}", sanitize_line(&line(item)));
    }
    if items.len() > SHOWN {
        println!("  … and {} more (--json lists all)", items.len() - SHOWN);
    }
}

pub fn run(settings: &Settings, fix: bool, reason: Option<String>, json: bool) -> Result<()> {
    let mut db = if fix {
        open_for_writing(settings, "check --fix")?
    } else if settings.read_only {
        settings.open(Access::ReadOnly, false)?
    } else {
        settings.open(Access::ReadWrite, false)?
    };
    let ctx = settings.ctx().with_reason(reason);
    let media = settings.media()?;
    let spinner = progress::spinner(
        json,
        if media.is_some() {
            "checking rows and files"
        } else {
            "checking rows"
        },
    );
    let checked = (|| {
        let fixed = if fix {
            Some(rules::fix(&mut db, &ctx)?)
        } else {
            None
        };
        // The spinner says how far the file check has got.
        let mut on_progress = |p: check::CheckProgress| {
            if let Some(spinner) = &spinner {
                spinner.set_message(match p {
                    check::CheckProgress::Folders(n) => format!("reading the media folders: {n}"),
                    check::CheckProgress::Rows(done, total) => {
                        format!("checking rows and files: {done} of {total} attachments")
                    }
                });
            }
        };
        let report = check::run_with_progress(&mut db, &ctx, media.as_ref(), &mut on_progress)?;
        anyhow::Ok((fixed, report))
    })();
    progress::done(spinner);
    let (fixed, report) = checked?;
    if json {
        let written = output::json(&CheckJson {
            action: if fix { "fix" } else { "check" },
            kind: None,
            id: None,
            fix: fixed.as_ref(),
            threads: fixed.as_ref().map(|f| f.tally.threads).unwrap_or(0),
            posts: fixed.as_ref().map(|f| f.tally.posts).unwrap_or(0),
            attachments: fixed.as_ref().map(|f| f.tally.attachments).unwrap_or(0),
            files: 0,
            media_root: report.media_root.as_deref(),
            problems: report.problems(),
            report: &report,
        });
        ends_here(report);
        return written;
    }
    if let Some(outcome) = &fixed {
        println!("{}", sanitize_line(&outcome.message));
    }
    println!(
        "media root: {}",
        sanitize_line(&settings.media_root_used(report.media_root.as_deref()))
    );
    section(
        "active rows under a deleted parent",
        &report.violations,
        |v| {
            format!(
                "{} {} is active; its {} {} is deleted",
                v.kind, v.id, v.parent_kind, v.parent_id
            )
        },
    );
    section(
        "deleted rows with unknown deletion time",
        &report.unknown_deletion_time,
        |u| match &u.first_seen {
            Some(at) => format!("{} {} (first seen deleted {at})", u.kind, u.id),
            None => format!("{} {}", u.kind, u.id),
        },
    );
    section(
        "attachment rows whose file is missing",
        &report.missing_files,
        |f| format!("attachment {} {}", f.attachment_id, f.image),
    );
    section(
        "attachment paths outside the media root (never touched)",
        &report.unsafe_paths,
        |f| format!("attachment {} {:?}: {}", f.attachment_id, f.image, f.reason),
    );
    section("files no row references", &report.unreferenced_files, |f| {
        f.clone()
    });
    section(
        "thumbnails of images no row references",
        &report.unreferenced_thumbnails,
        |f| f.clone(),
    );
    section(
        "tables outside the web app's cascades referencing forum rows",
        &report.foreign_references,
        |f| f.clone(),
    );
    if !report.files_checked {
        println!("files not checked: no media root (give --media-root)");
    }
    if report.stamped > 0 {
        println!(
            "recorded {} deleted rows as first seen now (their retention starts today)",
            report.stamped
        );
    }
    if report.problems() == 0 {
        println!("no problems found");
    } else if !fix && !report.violations.is_empty() {
        println!(
            "`modcon check --fix` soft-deletes the active rows under deleted parents (undoable)"
        );
    }
    ends_here(report);
    Ok(())
}

/// The JSON of `check`, borrowing the report.
#[derive(Serialize)]
struct CheckJson<'a> {
    action: &'static str,
    kind: Option<&'static str>,
    id: Option<&'static str>,
    fix: Option<&'a rules::Outcome>,
    threads: i64,
    posts: i64,
    attachments: i64,
    files: i64,
    media_root: Option<&'a str>,
    problems: usize,
    report: &'a check::CheckReport,
}

/// The command ends with the report printed: the process's exit frees it
/// at once, where dropping it would free a million entries one by one.
fn ends_here(report: check::CheckReport) {
    std::mem::forget(report);
}
