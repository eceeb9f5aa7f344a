//! `modcon migrate`

use anyhow::Result;

use super::{Settings, output, refuse_read_only};
use crate::core::db::Access;
use crate::core::{migrate, model};

pub fn run(settings: &Settings, dry_run: bool, json: bool) -> Result<()> {
    if !dry_run {
        refuse_read_only(settings, "migrate")?;
    }
    let access = if dry_run {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let mut db = settings.open(access, true)?;
    let now = model::format_datetime(settings.now);
    let steps = if dry_run {
        migrate::apply_requested(db.conn(), &now, true)?
    } else {
        let tx = db.write_tx()?;
        let steps = migrate::apply_requested(&tx, &now, false)?;
        tx.commit()?;
        steps
    };
    if json {
        return output::json(
            &serde_json::json!({ "action": "migrate", "dry_run": dry_run, "steps": steps }),
        );
    }
    let verb = |outcome: &str| match (outcome, dry_run) {
        ("applied", true) => "would apply",
        ("applied", false) => "applied",
        ("satisfied", _) => "already in the schema",
        _ => "done before",
    };
    for step in &steps {
        println!(
            "{:<30} {:<22} {}",
            step.name,
            verb(step.outcome),
            step.purpose
        );
    }
    let pending = steps.iter().filter(|s| s.outcome == "applied").count();
    match (pending, dry_run) {
        (0, _) => println!("the database is up to date"),
        (n, true) => println!("{n} migration(s) to apply; nothing was changed"),
        (n, false) => println!("{n} migration(s) applied"),
    }
    Ok(())
}
