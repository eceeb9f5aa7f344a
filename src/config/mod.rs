//! `config.toml`: defaults for the options, read from `MODCON_CONFIG` when
//! set, else `$XDG_CONFIG_HOME/modcon/` (`~/.config/modcon/` on every
//! Unix, macOS included). Flags beat environment variables, which beat
//! this file. Every error names the file, and the key when there is one.

pub mod settings;

pub use settings::{GlobalFlags, Settings};

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde::{Deserialize, Serialize};

/// The commented default file `modcon config --default` prints.
pub const DEFAULT_FILE: &str = include_str!("../../assets/config.example.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// An absolute path once loaded (`~` expanded).
    pub db: Option<PathBuf>,
    /// Belongs to `db`: a file naming a media root names its database too.
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

/// One place a config file was looked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Searched {
    pub path: PathBuf,
    /// What named this place: `MODCON_CONFIG`, `XDG_CONFIG_HOME` or `HOME`.
    pub from: &'static str,
    pub found: bool,
}

/// The config as loaded: its values, the file they came from, and where
/// the search looked.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    /// The file read; `None` when there was none.
    pub path: Option<PathBuf>,
    pub searched: Vec<Searched>,
}

/// A way to read environment variables: the process's own, or a table in
/// tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// The config file's place: `MODCON_CONFIG` when set, else
/// `$XDG_CONFIG_HOME/modcon/config.toml` (an absolute one: a relative
/// value is ignored, as the XDG rules say), else
/// `~/.config/modcon/config.toml`.
fn place(env: Env) -> Result<Option<(PathBuf, &'static str)>> {
    if let Some(explicit) = env("MODCON_CONFIG") {
        if explicit.is_empty() {
            bail!("MODCON_CONFIG is set but empty: unset it, or name a config file");
        }
        return Ok(Some((PathBuf::from(explicit), "MODCON_CONFIG")));
    }
    let xdg = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    if let Some(base) = xdg {
        return Ok(Some((
            base.join("modcon").join("config.toml"),
            "XDG_CONFIG_HOME",
        )));
    }
    Ok(env("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| (PathBuf::from(h).join(".config/modcon/config.toml"), "HOME")))
}

/// Finds and reads the config file. No file is an empty config, except
/// that a file named by `MODCON_CONFIG` must exist: a typo there must not
/// quietly fall back to the demo database.
pub fn load(env: Env) -> Result<Loaded> {
    let Some((path, from)) = place(env)? else {
        return Ok(Loaded::default());
    };
    let found = path.exists();
    let searched = vec![Searched {
        path: path.clone(),
        from,
        found,
    }];
    if !found {
        if from == "MODCON_CONFIG" {
            bail!(
                "config file {} (named by MODCON_CONFIG) does not exist",
                path.display()
            );
        }
        return Ok(Loaded {
            searched,
            ..Loaded::default()
        });
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow!("cannot read config file {}: {e}", path.display()))?;
    let config = parse(&text, &path, env)?;
    Ok(Loaded {
        config,
        path: Some(path),
        searched,
    })
}

/// Parses and checks a config file's text; `env` gives `HOME` for `~`.
pub fn parse(text: &str, path: &Path, env: Env) -> Result<Config> {
    let mut config: Config = toml::from_str(text).map_err(|e| {
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
        anyhow!(
            "config file {}:{key} (line {line}): {message}",
            path.display()
        )
    })?;
    let bad = |key: &str, why: String| anyhow!("config file {}: key `{key}` {why}", path.display());
    if let Some(days) = config.retention_days
        && days < 0
    {
        return Err(bad(
            "retention_days",
            format!("must be 0 or more, not {days}"),
        ));
    }
    if let Some(size) = config.batch_size
        && !(1..=modcon_core::MAX_BATCH_SIZE).contains(&size)
    {
        return Err(bad(
            "batch_size",
            format!(
                "must be from 1 to {}, not {size}",
                modcon_core::MAX_BATCH_SIZE
            ),
        ));
    }
    if let Some(theme) = &config.theme
        && !["default", "mono"].contains(&theme.as_str())
    {
        return Err(bad(
            "theme",
            format!("must be \"default\" or \"mono\", not {theme:?}"),
        ));
    }
    if let Some(actor) = &config.actor
        && actor.trim().is_empty()
    {
        return Err(bad("actor", "must not be empty".into()));
    }
    for (key, value) in [
        ("db", &mut config.db),
        ("media_root", &mut config.media_root),
    ] {
        if let Some(given) = value.take() {
            *value = Some(expand_path(&given, env).map_err(|why| bad(key, why))?);
        }
    }
    if config.media_root.is_some() && config.db.is_none() {
        return Err(bad(
            "media_root",
            "needs `db` beside it: a media root belongs to one database (for others, use --media-root or MODCON_MEDIA_ROOT)".into(),
        ));
    }
    Ok(config)
}

/// `~` and `~/…` become the home folder; anything else must already be
/// absolute, since a relative path would depend on where modcon happens to
/// be started (cron starts it in the home folder, a shell anywhere).
pub fn expand_path(given: &Path, env: Env) -> std::result::Result<PathBuf, String> {
    let text = given.to_string_lossy();
    if let Some(rest) = text.strip_prefix('~') {
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Err(format!(
                "{text:?}: only `~` and `~/…` are understood; write the full path"
            ));
        }
        let home = env("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{text:?}: HOME is not set, so `~` cannot be expanded"))?;
        let home = PathBuf::from(home);
        let rest = rest.trim_start_matches('/');
        return Ok(if rest.is_empty() {
            home
        } else {
            home.join(rest)
        });
    }
    if given.as_os_str().is_empty() {
        return Err("must not be empty".into());
    }
    if !given.is_absolute() {
        return Err(format!(
            "{text:?} is relative: write an absolute path or start it with `~/`"
        ));
    }
    Ok(given.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn parse_in_home(text: &str) -> Result<Config> {
        let env = env_of(&[("HOME", "/home/mo")]);
        parse(text, Path::new("/x/config.toml"), &env)
    }

    #[test]
    fn the_example_config_is_valid() {
        let config = parse_in_home(DEFAULT_FILE).unwrap();
        assert_eq!(config.retention_days, Some(30));
        assert_eq!(config.batch_size, Some(100));
    }

    #[test]
    fn names_the_bad_key() {
        let err = |text: &str| parse_in_home(text).unwrap_err().to_string();
        let e = err("actor = \"mo\"\nretention_days = \"lots\"\n");
        assert!(e.contains("retention_days"), "{e}");
        assert!(e.contains("/x/config.toml"), "{e}");
        let e = err("colour = 1\n");
        assert!(e.contains("colour"), "{e}");
        let e = err("actor = \"mo\"\ncolour = 1\n");
        assert!(e.contains("key `colour` (line 2)"), "{e}");
        for bad in ["batch_size = 0\n", "batch_size = 10001\n"] {
            let e = err(bad);
            assert!(
                e.contains("/x/config.toml: key `batch_size` must be from 1 to 10000"),
                "{e}"
            );
        }
        let e = err("retention_days = -1\n");
        assert!(e.contains("key `retention_days` must be 0 or more"), "{e}");
        let e = err("actor = \" \"\n");
        assert!(e.contains("key `actor` must not be empty"), "{e}");
        assert!(parse_in_home("db = \"/srv/forum.sqlite3\"\n[keys]\ndelete = \"x\"\n").is_ok());
        // A huge retention is allowed: the cutoff clamps to the year 1.
        assert!(parse_in_home("retention_days = 99999999999999\n").is_ok());
    }

    #[test]
    fn tilde_expands_to_home_and_relative_paths_are_refused() {
        let config = parse_in_home("db = \"~/forum.db\"\nmedia_root = \"~/media\"\n").unwrap();
        assert_eq!(config.db.unwrap(), Path::new("/home/mo/forum.db"));
        assert_eq!(config.media_root.unwrap(), Path::new("/home/mo/media"));
        assert_eq!(
            parse_in_home("db = \"~\"\n").unwrap().db.unwrap(),
            Path::new("/home/mo")
        );
        let e = parse_in_home("db = \"~bob/forum.db\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config file /x/config.toml: key `db`"), "{e}");
        assert!(e.contains("write the full path"), "{e}");
        let e = parse_in_home("db = \"forum.db\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("key `db` \"forum.db\" is relative"), "{e}");
        let no_home = env_of(&[]);
        let e = parse("db = \"~/f.db\"\n", Path::new("/x/config.toml"), &no_home)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/x/config.toml: key `db`"), "{e}");
        assert!(e.contains("HOME is not set"), "{e}");
    }

    #[test]
    fn a_media_root_needs_its_database() {
        let e = parse_in_home("media_root = \"/srv/media\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("key `media_root` needs `db`"), "{e}");
    }

    #[test]
    fn the_search_follows_modcon_config_then_xdg_then_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        // Nothing there: an empty config, and the place looked at.
        let loaded = load(&env_of(&[("HOME", home)])).unwrap();
        assert!(loaded.path.is_none());
        assert_eq!(
            loaded.searched,
            vec![Searched {
                path: dir.path().join(".config/modcon/config.toml"),
                from: "HOME",
                found: false
            }]
        );
        // XDG_CONFIG_HOME when absolute; a relative one is ignored.
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("modcon")).unwrap();
        std::fs::write(xdg.join("modcon/config.toml"), "actor = \"xdg\"\n").unwrap();
        let env = env_of(&[("HOME", home), ("XDG_CONFIG_HOME", xdg.to_str().unwrap())]);
        let loaded = load(&env).unwrap();
        assert_eq!(loaded.config.actor.as_deref(), Some("xdg"));
        assert_eq!(loaded.path, Some(xdg.join("modcon/config.toml")));
        let env = env_of(&[("HOME", home), ("XDG_CONFIG_HOME", "xdg")]);
        assert_eq!(load(&env).unwrap().searched[0].from, "HOME");
        // MODCON_CONFIG wins, and must exist.
        let named = dir.path().join("named.toml");
        let env = env_of(&[("HOME", home), ("MODCON_CONFIG", named.to_str().unwrap())]);
        let e = load(&env).unwrap_err().to_string();
        assert!(
            e.contains("named.toml (named by MODCON_CONFIG) does not exist"),
            "{e}"
        );
        std::fs::write(&named, "actor = \"named\"\n").unwrap();
        assert_eq!(load(&env).unwrap().config.actor.as_deref(), Some("named"));
        let e = load(&env_of(&[("MODCON_CONFIG", "")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("MODCON_CONFIG is set but empty"), "{e}");
    }
}
