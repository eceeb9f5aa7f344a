//! `modcon flags` and `modcon review`: the web app's flag queue, listed
//! and reviewed through `modcon_core::flags`.

use anyhow::Result;
use serde::Serialize;

use super::{Settings, open_for_reading, open_for_writing, output};
use crate::display::{ago, fit, sanitize_line, short_id};
use modcon_core::flags::{self, FlagRow, ReviewAction, StatusFilter};

#[derive(Serialize)]
struct FlagsJson<'a> {
    action: &'static str,
    status: StatusFilter,
    count: usize,
    rows: &'a [FlagRow],
}

/// The flagged content's state, as a word.
fn content_state(row: &FlagRow) -> &'static str {
    match row.target_is_active {
        Some(true) => "active",
        Some(false) => "DELETED",
        None => "missing",
    }
}

pub fn list(settings: &Settings, filter: StatusFilter, limit: usize, json: bool) -> Result<()> {
    let db = open_for_reading(settings)?;
    let rows = flags::list(db.conn(), filter, limit)?;
    if json {
        return output::json(&FlagsJson {
            action: "flags",
            status: filter,
            count: rows.len(),
            rows: &rows,
        });
    }
    if rows.is_empty() {
        let which = match filter.status() {
            Some(s) => format!("no {s} flags"),
            None => "no flags".to_string(),
        };
        println!("{which}");
        return Ok(());
    }
    let now = settings.now;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let target = r
                .post_id
                .as_deref()
                .or(r.thread_id.as_deref())
                .map(short_id)
                .unwrap_or_default();
            let mut status = r.status.clone();
            if let Some(by) = &r.reviewed_by {
                status = format!("{status} by {by}");
            }
            vec![
                short_id(&r.id),
                ago(now, &r.created_at),
                r.reporter.clone().unwrap_or_default(),
                r.flag_reason.clone(),
                status,
                format!("{} {target}", r.content_type),
                content_state(r).to_string(),
                if r.other_pending > 0 {
                    format!("+{}", r.other_pending)
                } else {
                    String::new()
                },
                fit(
                    &r.target_label
                        .as_deref()
                        .unwrap_or("")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    200,
                ),
            ]
            .into_iter()
            .map(|c| sanitize_line(&c))
            .collect()
        })
        .collect();
    output::table(
        &[
            "flag", "filed", "reporter", "reason", "status", "content", "state", "others", "text",
        ],
        &table,
        output::width(),
    );
    Ok(())
}

pub fn review(
    settings: &Settings,
    flag: &str,
    action: ReviewAction,
    reason: String,
    notes: Option<String>,
    json: bool,
) -> Result<()> {
    let mut db = open_for_writing(settings, "review")?;
    let flag_id = flags::resolve(db.conn(), flag)?;
    let ctx = settings.ctx().with_reason(Some(reason));
    let reviewed = flags::review(&mut db, &ctx, &flag_id, action, notes.as_deref())?;
    if json {
        return output::json(&reviewed);
    }
    println!("{}", sanitize_line(&reviewed.outcome.message));
    println!(
        "  moderation action {} by {} at {}",
        reviewed.moderation_action_id,
        sanitize_line(&reviewed.moderator),
        reviewed.reviewed_at
    );
    Ok(())
}
