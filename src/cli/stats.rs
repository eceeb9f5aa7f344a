//! `modcon stats`

use anyhow::Result;
use serde::Serialize;

use super::{Settings, open_for_reading, output};
use modcon_core::flags::FlagCounts;
use modcon_core::model::Kind;
use modcon_core::query::{self, Counts, KindCounts};

#[derive(Serialize)]
struct StatsJson<'a> {
    action: &'static str,
    database: String,
    now: String,
    retention_days: i64,
    cutoff: String,
    threads: &'a KindCounts,
    posts: &'a KindCounts,
    attachments: &'a KindCounts,
    /// Active rows under a deleted parent, all kinds.
    violations: i64,
    /// The web app's flags per status (null without a flag queue).
    flags: Option<FlagCounts>,
}

pub fn run(settings: &Settings, json: bool) -> Result<()> {
    let mut db = open_for_reading(settings)?;
    let ctx = settings.ctx();
    let counts: Counts = {
        let schema = db.schema().clone();
        let tx = db.read_tx()?;
        query::counts(tx.conn(), &schema, &ctx.cutoff())?
    };
    let violations = counts.posts.violations + counts.attachments.violations;
    if json {
        return output::json(&StatsJson {
            action: "stats",
            database: modcon_core::sql::shown_location(&settings.db.display().to_string()),
            now: ctx.now_text(),
            retention_days: ctx.retention_days,
            cutoff: ctx.cutoff(),
            threads: &counts.threads,
            posts: &counts.posts,
            attachments: &counts.attachments,
            violations,
            flags: counts.flags,
        });
    }
    println!(
        "database   {}",
        crate::display::sanitize_line(&modcon_core::sql::shown_location(
            &settings.db.display().to_string()
        ))
    );
    println!(
        "retention  {} days (deleted at or before {})",
        ctx.retention_days,
        ctx.cutoff()
    );
    println!();
    let rows: Vec<Vec<String>> = Kind::ALL
        .iter()
        .map(|k| {
            let c = counts.of(*k);
            vec![
                k.plural().to_string(),
                c.total.to_string(),
                c.active.to_string(),
                c.deleted.to_string(),
                c.purgeable.to_string(),
                c.held_back.to_string(),
                c.unknown_deletion_time.to_string(),
                c.violations.to_string(),
            ]
        })
        .collect();
    output::table(
        &[
            "",
            "total",
            "active",
            "deleted",
            "purgeable",
            "held back",
            "unknown age",
            "violations",
        ],
        &rows,
        output::width(),
    );
    if let Some(f) = counts.flags {
        println!();
        println!(
            "flags      {} pending, {} approved, {} rejected, {} removed{}",
            f.pending,
            f.approved,
            f.rejected,
            f.removed,
            if f.pending > 0 {
                " (see `modcon flags`)"
            } else {
                ""
            }
        );
    }
    if violations > 0 {
        println!();
        println!("{violations} active rows under deleted parents: see `modcon check`");
    }
    Ok(())
}
