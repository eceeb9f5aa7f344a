//! `modcon migrate`

use anyhow::{Context, Result};

use super::{Settings, output, progress, refuse_read_only};
use modcon_core::db::{Access, OpenOptions};
use modcon_core::{migrate, model};

pub fn run(settings: &Settings, dry_run: bool, json: bool) -> Result<()> {
    if !dry_run {
        refuse_read_only(settings, "migrate")?;
    }
    let access = if dry_run {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let mut options = OpenOptions::new(access);
    options.allow_outdated = true;
    // The console's own tables too go in the one transaction below.
    options.own_tables_on_open = false;
    let mut db = settings.open_with(options)?;
    let now = model::format_datetime(settings.now);
    let spinner = (!dry_run)
        .then(|| progress::spinner(json, "migrating (indexes over large tables take a while)"))
        .flatten();
    let steps = (|| {
        if dry_run {
            return migrate::apply_requested(db.conn(), &now, true);
        }
        let tx = db.write_tx()?;
        let steps = migrate::apply_requested(tx.conn(), &now, false)
            .context("nothing was changed (the migration runs as one transaction)")?;
        tx.commit()?;
        Ok(steps)
    })();
    progress::done(spinner);
    let steps = steps?;
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
        // Only what is missing, for a partly migrated database.
        if step.outcome == "applied" && step.partial {
            println!("{:<30} adds {}", "", step.adds.join(", "));
        }
    }
    let pending = steps.iter().filter(|s| s.outcome == "applied").count();
    match (pending, dry_run) {
        (0, _) => println!("the database is up to date"),
        (n, true) => println!("{n} migration(s) to apply; nothing was changed"),
        (n, false) => println!("{n} migration(s) applied"),
    }
    Ok(())
}
