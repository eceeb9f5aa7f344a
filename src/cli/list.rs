//! `modcon list threads|posts|attachments`

use anyhow::Result;
use serde::Serialize;

use super::{Settings, StateArg, open_for_reading, output};
use crate::display::{ago, sanitize_line, size};
use modcon_core::model::{IdQuery, Kind};
use modcon_core::query::{self, DeletionTime, Detail, ListQuery, Row, StateFilter};

#[derive(Serialize)]
struct ListJson<'a> {
    action: &'static str,
    kind: Kind,
    state: StateFilter,
    count: usize,
    rows: &'a [Row],
}

/// "active", "deleted 3d ago", "removed by the moderation queue 3d ago",
/// "deleted, seen 2d ago", "deleted, age unknown".
pub fn state_text(row: &Row, now: chrono::NaiveDateTime) -> String {
    if row.is_active {
        return "active".into();
    }
    match (&row.deleted_at, row.deletion_time) {
        (Some(at), Some(DeletionTime::FirstSeen)) => format!("deleted, seen {}", ago(now, at)),
        (Some(at), _) if row.deletion_source.as_deref() == Some("moderation_action") => {
            format!("removed by the moderation queue {}", ago(now, at))
        }
        (Some(at), _) => format!("deleted {}", ago(now, at)),
        _ => "deleted, age unknown".into(),
    }
}

/// The marks beside a row: past retention, held back, breaking the invariant.
pub fn marks(row: &Row) -> String {
    let mut marks = Vec::new();
    if row.purgeable {
        marks.push("purgeable");
    }
    if row.held_back {
        marks.push("held back");
    }
    if row.violation {
        marks.push("ACTIVE UNDER DELETED PARENT");
    }
    marks.join(", ")
}

pub fn run(
    settings: &Settings,
    kind: Kind,
    thread: Option<String>,
    post: Option<String>,
    state: StateArg,
    limit: usize,
    json: bool,
) -> Result<()> {
    let mut db = open_for_reading(settings)?;
    let schema = db.schema().clone();
    let ctx = settings.ctx();
    let tx = db.read_tx()?;
    let thread = thread
        .map(|t| query::resolve(tx.conn(), Kind::Thread, &IdQuery::parse(&t)?))
        .transpose()?;
    let post = post
        .map(|p| query::resolve(tx.conn(), Kind::Post, &IdQuery::parse(&p)?))
        .transpose()?;
    let state = match state {
        StateArg::Active => StateFilter::Active,
        StateArg::Deleted => StateFilter::Deleted,
        StateArg::All => StateFilter::All,
    };
    let q = ListQuery {
        kind: Some(kind),
        thread,
        post,
        state,
        limit,
        ..ListQuery::default()
    };
    let rows = query::list(tx.conn(), &schema, &q, &ctx.cutoff())?;
    if json {
        return output::json(&ListJson {
            action: "list",
            kind,
            state,
            count: rows.len(),
            rows: &rows,
        });
    }
    if rows.is_empty() {
        println!("no {} ({})", kind.plural(), state.name());
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let what = match &r.detail {
                Detail::Attachment {
                    image, file_size, ..
                } => {
                    format!(
                        "{} ({}) {}",
                        sanitize_line(&r.label),
                        size(*file_size),
                        sanitize_line(image)
                    )
                }
                Detail::Thread { post_count, .. } => {
                    format!("{} [{} posts]", sanitize_line(&r.label), post_count)
                }
                Detail::Post {
                    attachment_count, ..
                } => {
                    format!("{} [{} att.]", sanitize_line(&r.label), attachment_count)
                }
            };
            vec![
                sanitize_line(&r.id),
                state_text(r, ctx.now),
                marks(r),
                r.author.as_deref().map(sanitize_line).unwrap_or_default(),
                ago(ctx.now, &r.created_at),
                what,
            ]
        })
        .collect();
    output::table(
        &[
            "id",
            "state",
            "marks",
            "author",
            "created",
            "title / text / file",
        ],
        &table,
        output::width().max(160),
    );
    if rows.len() == limit {
        println!("(first {limit}; --limit N for more)");
    }
    Ok(())
}
