//! `modcon demo`

use std::path::PathBuf;

use anyhow::Result;

use super::{Settings, output, progress};
use modcon_core::demo::{self, DemoOptions};

pub fn run(
    settings: &Settings,
    out: Option<PathBuf>,
    threads: usize,
    seed: u64,
    force: bool,
    json: bool,
) -> Result<()> {
    let out = match out {
        Some(path) => path,
        None => crate::config::settings::default_demo_path()?,
    };
    let started = std::time::Instant::now();
    let spinner = progress::spinner(
        json,
        &format!(
            "writing a demo of {threads} threads to {}",
            modcon_core::sql::shown_location(&out.to_string_lossy())
        ),
    );
    // A SQLite demo keeps its media beside the file; a PostgreSQL one has
    // no "beside" and writes them into the media root named (--media-root,
    // MODCON_MEDIA_ROOT or the config's), never a derived one.
    let media = (modcon_core::sql::is_postgres_url(&out.to_string_lossy())
        && settings.media_root_explicit)
        .then(|| settings.media_root.clone())
        .flatten();
    let summary = demo::generate(&DemoOptions {
        out,
        threads,
        seed,
        force,
        now: settings.now,
        media,
    });
    progress::done(spinner);
    let summary = summary?;
    if json {
        // One flat object: `action`, then the counts under the usual keys.
        let mut object = serde_json::to_value(&summary)?;
        if let Some(map) = object.as_object_mut() {
            map.insert("action".into(), "demo".into());
        }
        return output::json(&object);
    }
    println!(
        "wrote {} ({} threads, {} posts, {} attachments, {} users) in {:.1}s",
        summary.database,
        summary.threads,
        summary.posts,
        summary.attachments,
        summary.users,
        started.elapsed().as_secs_f64()
    );
    println!("media: {} ({} files)", summary.media_root, summary.files);
    Ok(())
}
