//! `modcon delete`, `restore` and `undo`: thin calls into `modcon_core::rules`.

use anyhow::Result;

use super::{Settings, open_for_writing, output};
use crate::display::sanitize_line;
use modcon_core::model::{IdQuery, Kind};
use modcon_core::query;
use modcon_core::rules::{self, Outcome, Target};

fn print(outcome: &Outcome, json: bool) -> Result<()> {
    if json {
        return output::json(outcome);
    }
    println!("{}", sanitize_line(&outcome.message));
    for left in &outcome.left_alone {
        println!(
            "  left alone: {} {} ({})",
            left.kind,
            left.id,
            sanitize_line(&left.reason)
        );
    }
    Ok(())
}

fn target(db: &modcon_core::db::Db, kind: Kind, id: &str) -> Result<Target> {
    let id = query::resolve(db.conn(), kind, &IdQuery::parse(id)?)?;
    Ok(Target::new(kind, id))
}

pub fn delete(
    settings: &Settings,
    kind: Kind,
    id: &str,
    reason: Option<String>,
    json: bool,
) -> Result<()> {
    let mut db = open_for_writing(settings, "delete")?;
    let target = target(&db, kind, id)?;
    let ctx = settings.ctx().with_reason(reason);
    print(&rules::delete(&mut db, &ctx, &target)?, json)
}

pub fn restore(
    settings: &Settings,
    kind: Kind,
    id: &str,
    reason: Option<String>,
    json: bool,
) -> Result<()> {
    let mut db = open_for_writing(settings, "restore")?;
    let target = target(&db, kind, id)?;
    let ctx = settings.ctx().with_reason(reason);
    print(&rules::restore(&mut db, &ctx, &target)?, json)
}

pub fn undo(settings: &Settings, reason: Option<String>, json: bool) -> Result<()> {
    let mut db = open_for_writing(settings, "undo")?;
    let ctx = settings.ctx().with_reason(reason);
    print(&rules::undo(&mut db, &ctx)?, json)
}
