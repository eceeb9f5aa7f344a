//! `modcon config`, `completions` and `man`: what modcon is set up to do,
//! and its description for shells and `man`, generated from the same
//! definitions as `--help`.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use serde::Serialize;

use super::{Cli, Settings, output};
use crate::config::settings::Effective;
use crate::config::{DEFAULT_FILE, Searched};
use crate::display::sanitize_line;

#[derive(Serialize)]
struct ConfigJson<'a> {
    action: &'static str,
    config_file: Option<String>,
    searched: &'a [Searched],
    settings: &'a [Effective],
}

/// Every effective setting with its source, and where the config file was
/// looked for.
pub fn show(settings: &Settings, json: bool) -> Result<()> {
    if json {
        return output::json(&ConfigJson {
            action: "config",
            config_file: settings
                .config_path
                .as_ref()
                .map(|p| p.display().to_string()),
            searched: &settings.searched,
            settings: &settings.effective,
        });
    }
    match &settings.config_path {
        Some(path) => println!(
            "config file  {}",
            sanitize_line(&path.display().to_string())
        ),
        None => println!("config file  none (`modcon config --default` prints one to start from)"),
    }
    if settings.searched.is_empty() {
        println!("searched     nowhere: neither MODCON_CONFIG, XDG_CONFIG_HOME nor HOME is set");
    }
    for place in &settings.searched {
        println!(
            "searched     {} (from {}): {}",
            sanitize_line(&place.path.display().to_string()),
            place.from,
            if place.found { "found" } else { "not there" }
        );
    }
    println!();
    let rows: Vec<[String; 3]> = settings
        .effective
        .iter()
        .map(|e| {
            [
                e.name.clone(),
                e.value
                    .as_deref()
                    .map(sanitize_line)
                    .unwrap_or_else(|| "(none)".into()),
                sanitize_line(&e.source.to_string()),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (name_width, value_width) = (width(0).max(7), width(1).max(5));
    println!(
        "{:<name_width$}  {:<value_width$}  source",
        "setting", "value"
    );
    for [name, value, source] in &rows {
        println!("{name:<name_width$}  {value:<value_width$}  {source}");
    }
    Ok(())
}

/// The commented default config file, exactly as shipped in the
/// repository's `assets/config.example.toml`.
pub fn default_file() -> Result<()> {
    print!("{DEFAULT_FILE}");
    std::io::stdout().flush()?;
    Ok(())
}

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut out = std::io::stdout();
    clap_complete::generate(shell, &mut Cli::command(), "modcon", &mut out);
    out.flush()?;
    Ok(())
}

/// One man page: the global options, then each command with its own
/// synopsis and options.
pub fn man() -> Result<()> {
    let page = man_page().context("cannot render the man page")?;
    let mut out = std::io::stdout();
    out.write_all(page.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn man_page() -> std::io::Result<String> {
    let cli = Cli::command();
    let man = clap_mangen::Man::new(cli.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    page.extend_from_slice(b".SH COMMANDS\n");
    for sub in cli.get_subcommands() {
        let name = format!("modcon {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(name.clone()));
        page.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
        if let Some(about) = sub.get_about() {
            page.extend_from_slice(format!("{}\n.PP\n", roff_text(&about.to_string())).as_bytes());
        }
        let mut synopsis = Vec::new();
        sub_man.render_synopsis_section(&mut synopsis)?;
        let mut options = Vec::new();
        sub_man.render_options_section(&mut options)?;
        for part in [synopsis, options] {
            let text = String::from_utf8_lossy(&part).into_owned();
            // Sections of their own would break the page: keep the text.
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with(".SH "))
                .map(|l| format!("{l}\n"))
                .collect();
            page.extend_from_slice(body.as_bytes());
        }
    }
    page.extend_from_slice(EXTRA_SECTIONS.as_bytes());
    man.render_version_section(&mut page)?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}

/// Plain text safe as a roff text line: no leading dot or quote, and
/// backslashes and hyphens escaped.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

const EXTRA_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
0
Success, a no\-op included.
.TP
1
An error: one line on standard error starting with error:.
.TP
2
A usage error: an unknown option, or a value out of range.
.PP
With \-\-json, a failure also prints one JSON object on standard output, with an error field.
.SH ENVIRONMENT
.TP
MODCON_DB, MODCON_MEDIA_ROOT, MODCON_ACTOR
Defaults for \-\-db, \-\-media\-root and \-\-actor. Set but empty is an error.
.TP
MODCON_CONFIG
The config file to read instead of the usual one; it must exist.
.TP
MODCON_BUSY_TIMEOUT_MS
How long to wait for another writer, in milliseconds (default 5000).
.TP
NO_COLOR
Draw the console without colour.
.SH FILES
.TP
$XDG_CONFIG_HOME/modcon/config.toml, else ~/.config/modcon/config.toml
The config file; modcon config shows what it sets, modcon config \-\-default prints a commented one.
"#;
