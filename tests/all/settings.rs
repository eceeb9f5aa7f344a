//! Settings and the tools around them: where each setting comes from
//! (`config`), the default file, completions and the man page, JSON on
//! failure, values that must never panic, the media root that belongs to
//! its own database, and who acts when nothing says.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{FIXTURE_NOW, Forum, hex_id, modcon};
use support::{error_line, usage_line};

fn write_config(home: &Path, text: &str) -> PathBuf {
    let path = home.join(".config/modcon/config.toml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn parse_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn the_account_of_our_uid() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

// ------------------------------------------------------------- config

/// One row of the table: how a setting is given, and what `config` must
/// then say about it.
struct Case {
    setting: &'static str,
    flags: &'static [&'static str],
    /// Variables to set (`Some`) or remove (`None`); `{dir}` is the
    /// test's folder.
    env: &'static [(&'static str, Option<&'static str>)],
    /// The config file's text, if there is one.
    file: Option<&'static str>,
    value: Option<&'static str>,
    source: &'static str,
    /// The flag, the variable, or (for the file) `{config}`.
    from: Option<&'static str>,
}

const fn case(
    setting: &'static str,
    flags: &'static [&'static str],
    env: &'static [(&'static str, Option<&'static str>)],
    file: Option<&'static str>,
    value: Option<&'static str>,
    source: &'static str,
    from: Option<&'static str>,
) -> Case {
    Case {
        setting,
        flags,
        env,
        file,
        value,
        source,
        from,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // db: flag > environment > file > default.
    case("db", &["--db", "{dir}/flag.db"], &[("MODCON_DB", Some("{dir}/env.db"))], Some("db = \"{dir}/file.db\""), Some("{dir}/flag.db"), "flag", Some("--db")),
    case("db", &[], &[("MODCON_DB", Some("{dir}/env.db"))], Some("db = \"{dir}/file.db\""), Some("{dir}/env.db"), "environment", Some("MODCON_DB")),
    case("db", &[], &[], Some("db = \"{dir}/file.db\""), Some("{dir}/file.db"), "config file", Some("{config}")),
    case("db", &[], &[], Some("db = \"~/tilde.db\""), Some("{dir}/tilde.db"), "config file", Some("{config}")),
    case("db", &[], &[], None, Some("{dir}/data/modcon/demo.sqlite3"), "derived", None),
    // media_root: flag > environment > the file (for its own db) > beside.
    case("media_root", &["--media-root", "{dir}/m-flag"], &[("MODCON_MEDIA_ROOT", Some("{dir}/m-env"))], None, Some("{dir}/m-flag"), "flag", Some("--media-root")),
    case("media_root", &[], &[("MODCON_MEDIA_ROOT", Some("{dir}/m-env"))], Some("db = \"{dir}/file.db\"\nmedia_root = \"{dir}/m-file\""), Some("{dir}/m-env"), "environment", Some("MODCON_MEDIA_ROOT")),
    case("media_root", &[], &[], Some("db = \"{dir}/file.db\"\nmedia_root = \"{dir}/m-file\""), Some("{dir}/m-file"), "config file", Some("{config}")),
    case("media_root", &["--db", "{dir}/file.db"], &[], Some("db = \"{dir}/file.db\"\nmedia_root = \"{dir}/m-file\""), Some("{dir}/m-file"), "config file", Some("{config}")),
    case("media_root", &["--db", "{dir}/other.db"], &[], Some("db = \"{dir}/file.db\"\nmedia_root = \"{dir}/m-file\""), None, "derived", None),
    case("media_root", &["--db", "{dir}/with-media/forum.db"], &[], None, Some("{dir}/with-media/media"), "derived", None),
    // actor: flag > environment > file > SUDO_USER > USER > the account.
    case("actor", &["--actor", "flag"], &[("MODCON_ACTOR", Some("env"))], Some("actor = \"file\""), Some("flag"), "flag", Some("--actor")),
    case("actor", &[], &[("MODCON_ACTOR", Some("env"))], Some("actor = \"file\""), Some("env"), "environment", Some("MODCON_ACTOR")),
    case("actor", &[], &[("SUDO_USER", Some("sudoer"))], Some("actor = \"file\""), Some("file"), "config file", Some("{config}")),
    case("actor", &[], &[("SUDO_USER", Some("sudoer"))], None, Some("sudoer"), "environment", Some("SUDO_USER")),
    case("actor", &[], &[], None, Some("tester"), "environment", Some("USER")),
    case("actor", &[], &[("USER", None)], None, Some("{account}"), "derived", None),
    // The rest.
    case("read_only", &["--read-only"], &[], None, Some("true"), "flag", Some("--read-only")),
    case("read_only", &[], &[], None, Some("false"), "default", None),
    case("now", &["--now", "2026-11-26 11:00:08"], &[], None, Some("2026-11-26 11:00:08"), "flag", Some("--now")),
    case("retention_days", &[], &[], Some("retention_days = 12"), Some("12"), "config file", Some("{config}")),
    case("retention_days", &[], &[], None, Some("30"), "default", None),
    case("batch_size", &[], &[], Some("batch_size = 7"), Some("7"), "config file", Some("{config}")),
    case("batch_size", &[], &[], None, Some("100"), "default", None),
    case("mouse", &["--mouse"], &[], Some("mouse = false"), Some("true"), "flag", Some("--mouse")),
    case("mouse", &[], &[], Some("mouse = true"), Some("true"), "config file", Some("{config}")),
    case("mouse", &[], &[], None, Some("false"), "default", None),
    case("ascii", &["--ascii"], &[("LANG", Some("C.UTF-8")), ("LC_ALL", None), ("LC_CTYPE", None)], Some("ascii = false"), Some("true"), "flag", Some("--ascii")),
    case("ascii", &[], &[("LANG", Some("C.UTF-8")), ("LC_ALL", None), ("LC_CTYPE", None)], Some("ascii = true"), Some("true"), "config file", Some("{config}")),
    case("ascii", &[], &[("LANG", Some("C")), ("LC_ALL", None), ("LC_CTYPE", None)], Some("ascii = false"), Some("true"), "derived", None),
    case("ascii", &[], &[("LANG", Some("C.UTF-8")), ("LC_ALL", None), ("LC_CTYPE", None)], Some("ascii = false"), Some("false"), "config file", Some("{config}")),
    case("ascii", &[], &[("LANG", Some("en_GB.UTF-8")), ("LC_ALL", None), ("LC_CTYPE", None)], None, Some("false"), "default", None),
    case("theme", &[], &[("NO_COLOR", Some("1"))], Some("theme = \"default\""), Some("mono"), "environment", Some("NO_COLOR")),
    case("theme", &[], &[("NO_COLOR", None)], Some("theme = \"mono\""), Some("mono"), "config file", Some("{config}")),
    case("theme", &[], &[("NO_COLOR", None)], None, Some("default"), "default", None),
    case("busy_timeout_ms", &[], &[("MODCON_BUSY_TIMEOUT_MS", Some("1234"))], None, Some("1234"), "environment", Some("MODCON_BUSY_TIMEOUT_MS")),
    case("busy_timeout_ms", &[], &[("MODCON_BUSY_TIMEOUT_MS", None)], None, Some("5000"), "default", None),
    case("keys.delete", &[], &[], Some("[keys]\ndelete = \"x D\""), Some("x D"), "config file", Some("{config}")),
    case("keys.delete", &[], &[], None, Some("d"), "default", None),
    case("keys.down", &[], &[], None, Some("j down"), "default", None),
];

#[test]
fn config_shows_each_setting_with_the_flag_variable_file_or_default_it_came_from() {
    let account = the_account_of_our_uid();
    for (n, c) in CASES.iter().enumerate() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().to_str().unwrap().to_string();
        fs::create_dir_all(home.path().join("with-media/media")).unwrap();
        let fill = |text: &str| text.replace("{dir}", &dir);
        let mut cmd = modcon(home.path());
        cmd.env("XDG_DATA_HOME", home.path().join("data"));
        let config = c.file.map(|text| write_config(home.path(), &fill(text)));
        for (name, value) in c.env {
            match value {
                Some(v) => cmd.env(name, fill(v)),
                None => cmd.env_remove(name),
            };
        }
        for flag in c.flags {
            cmd.arg(fill(flag));
        }
        let out = cmd.args(["config", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "case {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = parse_json(&out);
        assert_eq!(json["action"], "config");
        assert_eq!(
            json["config_file"].as_str().map(PathBuf::from),
            config.clone(),
            "case {n}"
        );
        let setting = json["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == c.setting)
            .unwrap_or_else(|| panic!("case {n}: no {} in {json}", c.setting))
            .clone();
        let want_value = c.value.map(|v| fill(v).replace("{account}", &account));
        assert_eq!(
            setting["value"].as_str(),
            want_value.as_deref(),
            "case {n}: {setting}"
        );
        assert_eq!(setting["source"], c.source, "case {n}: {setting}");
        let config_text = config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let want_from = c.from.map(|f| f.replace("{config}", &config_text));
        if c.source != "derived" {
            assert_eq!(
                setting["from"].as_str(),
                want_from.as_deref(),
                "case {n}: {setting}"
            );
        }
    }
}

#[test]
fn config_says_why_a_derived_value_was_chosen_and_where_it_looked() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(
        home.path(),
        &format!(
            "db = \"{0}/prod.db\"\nmedia_root = \"{0}/prod-media\"\n",
            home.path().display()
        ),
    );
    let out = modcon(home.path())
        .env_remove("USER")
        .arg("--db")
        .arg(home.path().join("copy.db"))
        .arg("config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("config file  {}\n", config.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "searched     {} (from XDG_CONFIG_HOME): found",
            config.display()
        )),
        "{text}"
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert!(line("db").ends_with("flag --db"), "{text}");
    assert!(
        line("media_root").contains("(none)")
            && line("media_root").contains("the config file's media_root belongs to its own db"),
        "{text}"
    );
    assert!(
        line("actor").contains("derived: the account of user id"),
        "{text}"
    );
}

#[test]
fn config_default_is_the_shipped_example_and_a_valid_config() {
    let home = tempfile::tempdir().unwrap();
    let out = modcon(home.path())
        .args(["config", "--default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let example = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config.example.toml"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap(), example);
    // Used as it is, it is accepted, and its values are what `config`
    // reports.
    let path = write_config(home.path(), &String::from_utf8(out.stdout).unwrap());
    let out = modcon(home.path())
        .args(["config", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = parse_json(&out);
    assert_eq!(json["config_file"], path.display().to_string());
    let retention = json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "retention_days")
        .unwrap();
    assert_eq!(retention["value"], "30");
    assert_eq!(retention["source"], "config file");
}

// ------------------------------------------------ config that cannot surprise

#[test]
fn a_config_file_named_by_modcon_config_must_exist() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("typo.toml");
    let line = error_line(
        modcon(home.path())
            .env("MODCON_CONFIG", &missing)
            .args(["stats"])
            .assert(),
    );
    assert_eq!(
        line,
        format!(
            "error: config file {} (named by MODCON_CONFIG) does not exist",
            missing.display()
        )
    );
    // The demo database was not made instead.
    assert!(!home.path().join(".local").exists());
}

#[test]
fn key_errors_are_found_by_every_command_and_name_the_file() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/a.png", None, false);
    let home = tempfile::tempdir().unwrap();
    for (text, expect) in [
        (
            "[keys]\nfrobnicate = \"x\"\n",
            "there is no pane action called \"frobnicate\"",
        ),
        (
            "[keys]\ndelete = \"alt-d\"\n",
            "Alt combinations are not used",
        ),
        (
            "[keys]\nquit = \"\"\ninterrupt = \"\"\n",
            "leave no key to quit the console",
        ),
    ] {
        let path = write_config(home.path(), text);
        for args in [&["stats"][..], &["list", "threads"], &["log"], &["config"]] {
            let line = error_line(
                modcon(home.path())
                    .arg("--db")
                    .arg(&forum.db)
                    .args(args)
                    .assert(),
            );
            assert!(
                line.starts_with(&format!("error: config file {}: ", path.display())),
                "{args:?}: {line}"
            );
            assert!(line.contains(expect), "{args:?}: {line}");
        }
    }
}

#[test]
fn empty_or_unreadable_environment_values_are_usage_errors() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/a.png", None, false);
    let home = tempfile::tempdir().unwrap();
    for (name, value, expect) in [
        (
            "MODCON_DB",
            "",
            "error: MODCON_DB is set but empty: unset it, or name a database",
        ),
        (
            "MODCON_DB",
            "  ",
            "error: MODCON_DB is set but empty: unset it, or name a database",
        ),
        (
            "MODCON_MEDIA_ROOT",
            "",
            "error: MODCON_MEDIA_ROOT is set but empty: unset it, or name a media folder",
        ),
        (
            "MODCON_ACTOR",
            "",
            "error: MODCON_ACTOR is set but empty: unset it, or name who acts",
        ),
        (
            "MODCON_BUSY_TIMEOUT_MS",
            "abc",
            "error: MODCON_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to 86400000, not \"abc\"",
        ),
        (
            "MODCON_BUSY_TIMEOUT_MS",
            "-5",
            "error: MODCON_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to 86400000, not \"-5\"",
        ),
        (
            "MODCON_BUSY_TIMEOUT_MS",
            "99999999999",
            "error: MODCON_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to 86400000, not \"99999999999\"",
        ),
    ] {
        let mut cmd = modcon(home.path());
        cmd.env(name, value);
        if name != "MODCON_DB" {
            cmd.arg("--db").arg(&forum.db);
        }
        let line = usage_line(cmd.arg("stats").assert());
        assert_eq!(line, expect, "{name}={value:?}");
    }
    // `--actor ""` likewise.
    let line = usage_line(
        modcon(home.path())
            .arg("--db")
            .arg(&forum.db)
            .args(["--actor", "", "delete", "thread", &hex_id(1)])
            .assert(),
    );
    assert_eq!(line, "error: --actor must not be empty");
    assert!(
        !home.path().join(".local").exists(),
        "no demo database was made"
    );
}

#[test]
fn tilde_in_the_config_file_is_the_home_folder() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/a.png", None, false);
    let home = forum.dir.path();
    write_config(home, "db = \"~/forum.sqlite3\"\n");
    let out = modcon(home).args(["stats", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse_json(&out)["threads"]["total"], 1);
    let path = write_config(home, "db = \"~mo/forum.sqlite3\"\n");
    let line = error_line(modcon(home).arg("stats").assert());
    assert!(
        line.starts_with(&format!("error: config file {}: key `db`", path.display())),
        "{line}"
    );
}

// ----------------------------------------------------- values out of range

#[test]
fn huge_retentions_never_panic_they_clamp_to_the_year_one() {
    let fx = support::fixture();
    let rows = |conn: &rusqlite::Connection| {
        ["forum_thread", "forum_post", "forum_attachment"]
            .map(|t| support::count(conn, &format!("SELECT count(*) FROM {t}")))
    };
    let before = rows(&support::open(&fx.db));
    for days in ["99999999", "9223372036854775807"] {
        for dry in [true, false] {
            let mut args = vec!["purge", "--older-than", days, "--json"];
            if dry {
                args.push("--dry-run");
            }
            let out = modcon(fx.dir.path())
                .arg("--db")
                .arg(&fx.db)
                .args(["--now", FIXTURE_NOW])
                .args(&args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {stderr}");
            assert!(!stderr.contains("internal error"), "{stderr}");
            let report = parse_json(&out);
            assert_eq!(report["cutoff"], "0001-01-01 00:00:00", "{args:?}");
            for kind in ["threads", "posts", "attachments", "files"] {
                assert_eq!(report[kind], 0, "{args:?} {kind}");
            }
        }
    }
    // The config file's retention, in stats and the dry run.
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "retention_days = 99999999999999\n");
    for args in [&["stats", "--json"][..], &["purge", "--dry-run", "--json"]] {
        let out = modcon(home.path())
            .arg("--db")
            .arg(&fx.db)
            .args(["--now", FIXTURE_NOW])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(parse_json(&out)["cutoff"], "0001-01-01 00:00:00");
    }
    // Nothing is past such a retention: every forum row is still there.
    assert_eq!(rows(&support::open(&fx.db)), before);
}

// ------------------------------------------------------- the media root

/// Production (database and media) named in the config file, and a copy
/// of its database elsewhere opened with --db: the copy must never reach
/// production's files.
#[test]
fn a_copy_of_production_opened_with_db_never_touches_productions_files() {
    let prod = support::fixture();
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!(
            "db = {:?}\nmedia_root = {:?}\n",
            prod.db.display().to_string(),
            prod.media.display().to_string()
        ),
    );
    let copies = tempfile::tempdir().unwrap();
    let copy = copies.path().join("copy.sqlite3");
    fs::copy(&prod.db, &copy).unwrap();
    let prod_db = fs::read(&prod.db).unwrap();
    let prod_files = hardening_snapshot(&prod.media);
    let run = |args: &[&str]| {
        modcon(home.path())
            .arg("--db")
            .arg(&copy)
            .args(["--now", FIXTURE_NOW])
            .args(args)
            .output()
            .unwrap()
    };
    // No media root for the copy: a purge that would leave files behind
    // is refused.
    let out = run(&["purge", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("media root"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // check looks at no files of production, and says why.
    let out = run(&["check", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse_json(&out)["report"]["files_checked"], false);
    let out = run(&["--read-only", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "media root: none: no --media-root or MODCON_MEDIA_ROOT, and no `media` folder \
             beside the database; the config file's media_root belongs to its own db\n"
        ),
        "{text}"
    );
    // --keep-files purges the copy's rows and nothing on disk.
    let out = run(&["purge", "--keep-files", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(parse_json(&out)["attachments"].as_u64().unwrap() > 0);
    assert_eq!(hardening_snapshot(&prod.media), prod_files);
    assert_eq!(fs::read(&prod.db).unwrap(), prod_db);

    // The same file under the config's own name keeps the config's root.
    let out = modcon(home.path())
        .arg("--db")
        .arg(&prod.db)
        .args(["config", "--json"])
        .output()
        .unwrap();
    let json = parse_json(&out);
    let media = json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "media_root")
        .unwrap()
        .clone();
    assert_eq!(media["value"], prod.media.display().to_string());
    assert_eq!(media["source"], "config file");

    // A copy with a media folder of its own uses that one.
    fs::create_dir_all(copies.path().join("media")).unwrap();
    let out = run(&["config", "--json"]);
    let json = parse_json(&out);
    let media = json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "media_root")
        .unwrap()
        .clone();
    assert_eq!(
        media["value"],
        copies.path().join("media").display().to_string()
    );
    assert_eq!(media["source"], "derived");
}

/// Every file under a folder with its bytes.
fn hardening_snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

// ------------------------------------------------------------ who acts

#[test]
fn without_user_the_actor_is_the_account_of_the_process_uid() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/a.png", None, false);
    let out = modcon(forum.dir.path())
        .env_remove("USER")
        .env_remove("SUDO_USER")
        .arg("--db")
        .arg(&forum.db)
        .args(["delete", "thread", &hex_id(1), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actor: String = forum
        .conn
        .query_row("SELECT actor FROM modcon_action", [], |r| r.get(0))
        .unwrap();
    assert_eq!(actor, the_account_of_our_uid());
    assert_ne!(actor, "unknown");
}

// ---------------------------------------------- completions and man page

const SUBCOMMANDS: &[&str] = &[
    "demo",
    "stats",
    "list",
    "delete",
    "restore",
    "undo",
    "purge",
    "check",
    "log",
    "flags",
    "review",
    "migrate",
    "config",
    "completions",
    "man",
];

#[test]
fn completions_for_every_shell_and_the_man_page_name_every_command() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = modcon(home.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            script.contains("older-than"),
            "{shell} lacks purge's options"
        );
    }
    let out = modcon(home.path()).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains("\n.TH modcon 1 "), "{}", &page[..200]);
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SS \"modcon {sub}\"")),
            "man lacks {sub}"
        );
    }
    for section in [
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
    ] {
        assert!(page.contains(section), "man lacks {section}");
    }
    // The global options are described once, the commands' own below.
    assert!(
        page.contains("\\-\\-older\\-than"),
        "man lacks purge's options"
    );
}

/// Runs bash with the generated completion script and asks it to complete
/// the words given; returns what it offers.
fn bash_completes(home: &Path, words: &[&str]) -> Vec<String> {
    let script = home.join("modcon.bash");
    let out = modcon(home).args(["completions", "bash"]).output().unwrap();
    fs::write(&script, out.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_modcon modcon '{}' '{}' 2>/dev/null\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = std::process::Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .current_dir(home)
        .output()
        .expect("bash runs");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_options_and_database_files() {
    let home = tempfile::tempdir().unwrap();
    fs::write(home.path().join("forum.sqlite3"), b"").unwrap();
    assert_eq!(bash_completes(home.path(), &["modcon", "pu"]), ["purge"]);
    assert_eq!(
        bash_completes(home.path(), &["modcon", "purge", "--ol"]),
        ["--older-than"]
    );
    assert_eq!(
        bash_completes(home.path(), &["modcon", "--db", "fo"]),
        ["forum.sqlite3"]
    );
    let kinds = bash_completes(home.path(), &["modcon", "list", ""]);
    for kind in ["threads", "posts", "attachments"] {
        assert!(kinds.iter().any(|k| k == kind), "{kinds:?}");
    }
}

// --------------------------------------------------- JSON on failure

/// Asserts a failed `--json` run: exit `status`, one JSON object on stdout
/// with the action and the error, the same error as one line on stderr.
fn assert_json_failure(out: &Output, status: i32, action: Option<&str>) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(status), "stderr: {stderr}");
    let json = parse_json(out);
    let object = json.as_object().expect("an object");
    assert_eq!(object.len(), 2, "{json}");
    assert_eq!(json["action"].as_str(), action, "{json}");
    let error = json["error"].as_str().expect("an error field").to_string();
    assert_eq!(stderr, format!("error: {error}\n"));
    error
}

#[test]
fn every_command_with_json_fails_as_one_json_object() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing.sqlite3");
    let id = hex_id(1);
    let commands: &[(&[&str], &str)] = &[
        (&["stats"], "stats"),
        (&["list", "threads"], "list"),
        (&["delete", "thread", &id], "delete"),
        (&["restore", "thread", &id], "restore"),
        (&["undo"], "undo"),
        (&["purge"], "purge"),
        (&["purge", "--dry-run"], "purge"),
        (&["check"], "check"),
        (&["check", "--fix"], "fix"),
        (&["log"], "log"),
        (&["flags"], "flags"),
        (&["review", &id, "approve", "--reason", "ok"], "review"),
        (&["migrate"], "migrate"),
        (&["migrate", "--dry-run"], "migrate"),
    ];
    // An error: the database is missing.
    for (args, action) in commands {
        let out = modcon(home.path())
            .arg("--db")
            .arg(&missing)
            .args(*args)
            .arg("--json")
            .output()
            .unwrap();
        let error = assert_json_failure(&out, 1, Some(action));
        assert!(error.contains("missing.sqlite3"), "{args:?}: {error}");
    }
    // demo refuses to overwrite a file it did not make; config a missing
    // config file.
    fs::write(&missing, b"not a demo").unwrap();
    let out = modcon(home.path())
        .args(["demo", "--json", "--out"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_json_failure(&out, 1, Some("demo"));
    let out = modcon(home.path())
        .env("MODCON_CONFIG", home.path().join("nope.toml"))
        .args(["config", "--json"])
        .output()
        .unwrap();
    assert_json_failure(&out, 1, Some("config"));

    // Usage errors, found by clap or by the settings: exit 2, still JSON.
    for (args, action) in commands {
        let out = modcon(home.path())
            .arg("--db")
            .arg(&missing)
            .args(*args)
            .args(["--json", "--no-such-option"])
            .output()
            .unwrap();
        let error = assert_json_failure(&out, 2, Some(action));
        assert!(error.contains("--no-such-option"), "{error}");
        let out = modcon(home.path())
            .env("MODCON_DB", "")
            .args(*args)
            .arg("--json")
            .output()
            .unwrap();
        assert_json_failure(&out, 2, Some(action));
    }
    let out = modcon(home.path())
        .args(["purge", "--json", "--batch-size", "0"])
        .output()
        .unwrap();
    let error = assert_json_failure(&out, 2, Some("purge"));
    assert!(
        error.contains("the batch size must be a number from 1 to 10000"),
        "{error}"
    );
    let out = modcon(home.path())
        .args(["--json", "frobnicate"])
        .output()
        .unwrap();
    assert_json_failure(&out, 2, None);
}
