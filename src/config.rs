//! `config.toml`: defaults for the options, read from
//! `$XDG_CONFIG_HOME/modcon/` (`~/.config/modcon/` on every Unix, macOS
//! included). Flags beat environment variables, which beat this file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub db: Option<PathBuf>,
    pub media_root: Option<PathBuf>,
    pub actor: Option<String>,
    pub retention_days: Option<i64>,
    pub batch_size: Option<usize>,
    pub mouse: Option<bool>,
    /// "default" or "mono".
    pub theme: Option<String>,
    /// Draw the console with ASCII only, whatever the locale says.
    pub ascii: Option<bool>,
    /// Key overrides: action name → key, e.g. `delete = "x"`.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
}

/// Where the config file lives: `MODCON_CONFIG` when set, else
/// `$XDG_CONFIG_HOME/modcon/config.toml`, else `~/.config/modcon/config.toml`.
pub fn path() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("MODCON_CONFIG") {
        return Some(PathBuf::from(explicit));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("modcon").join("config.toml"))
}

/// Reads the config file; a missing file is an empty config, a bad one an
/// error naming the file and the key.
pub fn load() -> Result<Config> {
    let Some(path) = path() else {
        return Ok(Config::default());
    };
    if !path.exists() {
        return Ok(Config::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    parse(&text, &path)
}

pub fn parse(text: &str, path: &Path) -> Result<Config> {
    let config: Config = toml::from_str(text).map_err(|e| {
        // The whole line the error starts on (a span may start at the
        // beginning of a line, e.g. an unknown key).
        let at = e.span().map(|span| span.start.min(text.len()));
        let line = at.map(|a| text[..a].matches('\n').count() + 1).unwrap_or(0);
        let key = at
            .and_then(|a| {
                let start = text[..a].rfind('\n').map_or(0, |i| i + 1);
                text[start..].lines().next()
            })
            .and_then(|l| l.split('=').next())
            .map(str::trim)
            .filter(|k| !k.is_empty() && !k.starts_with('['))
            .map(|k| format!(" key `{k}`"))
            .unwrap_or_default();
        let message = e.message().replace('\n', " ");
        anyhow::anyhow!(
            "config file {}:{key} (line {line}): {message}",
            path.display()
        )
    })?;
    if let Some(days) = config.retention_days
        && days < 0
    {
        bail!(
            "config file {}: key `retention_days` must be 0 or more, not {days}",
            path.display()
        );
    }
    if config.batch_size == Some(0) {
        bail!(
            "config file {}: key `batch_size` must be at least 1",
            path.display()
        );
    }
    if let Some(theme) = &config.theme
        && !["default", "mono"].contains(&theme.as_str())
    {
        bail!(
            "config file {}: key `theme` must be \"default\" or \"mono\", not {theme:?}",
            path.display()
        );
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../assets/config.example.toml");
        let config = parse(text, Path::new("config.example.toml")).unwrap();
        assert_eq!(config.retention_days, Some(30));
    }

    #[test]
    fn names_the_bad_key() {
        let p = Path::new("/x/config.toml");
        let err = parse("actor = \"mo\"\nretention_days = \"lots\"\n", p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("retention_days"), "{err}");
        assert!(err.contains("/x/config.toml"), "{err}");
        let err = parse("colour = 1\n", p).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
        let err = parse("actor = \"mo\"\ncolour = 1\n", p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `colour` (line 2)"), "{err}");
        let err = parse("batch_size = 0\n", p).unwrap_err().to_string();
        assert!(err.contains("batch_size"), "{err}");
        assert!(parse("db = \"/srv/forum.sqlite3\"\n[keys]\ndelete = \"x\"\n", p).is_ok());
    }
}
