//! The keymap is data: every binding names its layer, key, action and a
//! description. Key handling, the help overlay and the key-hint line are
//! all read from this one table, so they cannot drift apart. The layer of
//! whatever is open (a dialog, the search input, an overlay) owns the
//! keyboard: keys not bound in that layer do nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::{Result, bail};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::settings::{Effective, Settings, Source};

/// Which part of the console has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// The panes.
    List,
    /// The delete/restore/fix confirmation.
    Confirm,
    /// A dialog that only informs (a refusal, a whole result): close only.
    Info,
    /// The purge dialog: retention, batch size and the dry-run plan.
    PurgeSetup,
    /// A purge running, its gauge on screen.
    PurgeRunning,
    /// The help overlay.
    Help,
    /// Search results, the audit log, this session's messages.
    Results,
    /// The check view: problems grouped by kind.
    Check,
    /// The flag view: the web app's pending flags.
    Flags,
    /// Typing a search.
    Input,
    /// "A purge is running: quit anyway?"
    QuitConfirm,
    /// Typing into a dialog's text field (a reason, a note): printable
    /// keys are text, and Enter never confirms.
    TextField,
}

impl Layer {
    pub fn title(self) -> &'static str {
        match self {
            Layer::List => "Panes",
            Layer::Confirm => "Confirmation",
            Layer::Info => "Information dialog",
            Layer::PurgeSetup => "Purge dialog",
            Layer::PurgeRunning => "Purge running",
            Layer::Help => "Help",
            Layer::Results => "Lists (search results, log, messages)",
            Layer::Check => "Check view",
            Layer::Flags => "Flag view (the web app's queue)",
            Layer::Input => "Search input",
            Layer::QuitConfirm => "Quit while purging",
            Layer::TextField => "Typing a reason or a note",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    PaneLeft,
    PaneRight,
    Enter,
    Search,
    NextHit,
    PrevHit,
    Filter,
    Delete,
    Restore,
    Undo,
    Purge,
    Check,
    Log,
    Messages,
    Help,
    Redraw,
    Quit,
    Interrupt,
    Confirm,
    ConfirmPurge,
    Cancel,
    NextField,
    Open,
    Submit,
    Fix,
    Flags,
    Approve,
    Reject,
    Remove,
    Lock,
    Warn,
}

impl Action {
    /// The name used in `config.toml`'s `[keys]` table.
    pub fn name(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::PaneLeft => "pane_left",
            Action::PaneRight => "pane_right",
            Action::Enter => "enter",
            Action::Search => "search",
            Action::NextHit => "next_hit",
            Action::PrevHit => "prev_hit",
            Action::Filter => "filter",
            Action::Delete => "delete",
            Action::Restore => "restore",
            Action::Undo => "undo",
            Action::Purge => "purge",
            Action::Check => "check",
            Action::Log => "log",
            Action::Messages => "messages",
            Action::Help => "help",
            Action::Redraw => "redraw",
            Action::Quit => "quit",
            Action::Interrupt => "interrupt",
            Action::Confirm => "confirm",
            Action::ConfirmPurge => "confirm_purge",
            Action::Cancel => "cancel",
            Action::NextField => "next_field",
            Action::Open => "open",
            Action::Submit => "submit",
            Action::Fix => "fix",
            Action::Flags => "flags",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Remove => "remove",
            Action::Lock => "lock",
            Action::Warn => "warn",
        }
    }

    /// Actions that change the database: refused with a reason under
    /// `--read-only`.
    pub fn mutates(self) -> bool {
        matches!(
            self,
            Action::Delete
                | Action::Restore
                | Action::Undo
                | Action::Fix
                | Action::Approve
                | Action::Reject
                | Action::Remove
                | Action::Lock
                | Action::Warn
        )
    }
}

/// A key with its modifiers. Shift is folded into the character, so `P`
/// matches however the terminal reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
}

/// `KeyCode` wrapped so keys can be sorted and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    F(u8),
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::F(n) => KeyCodeOrd::F(n),
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        })
    }

    /// Parses "j", "P", "ctrl-l", "enter", "esc", "tab", "backtab", "up",
    /// "pgdn", "f5", "space"... Alt combinations are refused: terminals
    /// and tmux eat them.
    pub fn parse(text: &str) -> Result<Key> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("alt-") || lower.starts_with("meta-") {
            bail!("key {text:?}: Alt combinations are not used (terminals and tmux eat them)");
        }
        let (ctrl, rest) = match lower.strip_prefix("ctrl-") {
            Some(_) => (true, &text[5..]),
            None => (false, text),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCodeOrd::Enter,
            "esc" | "escape" => KeyCodeOrd::Esc,
            "tab" => KeyCodeOrd::Tab,
            "backtab" | "shift-tab" => KeyCodeOrd::BackTab,
            "backspace" => KeyCodeOrd::Backspace,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "pgup" | "pageup" => KeyCodeOrd::PageUp,
            "pgdn" | "pagedown" => KeyCodeOrd::PageDown,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "space" => KeyCodeOrd::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                    }
                    _ => bail!("key {text:?} is not a key this console knows"),
                }
            }
        };
        Ok(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::PageUp => f.write_str("PgUp"),
            KeyCodeOrd::PageDown => f.write_str("PgDn"),
            KeyCodeOrd::Home => f.write_str("Home"),
            KeyCodeOrd::End => f.write_str("End"),
            KeyCodeOrd::Enter => f.write_str("Enter"),
            KeyCodeOrd::Esc => f.write_str("Esc"),
            KeyCodeOrd::Tab => f.write_str("Tab"),
            KeyCodeOrd::BackTab => f.write_str("Shift-Tab"),
            KeyCodeOrd::Backspace => f.write_str("Backspace"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub layer: Layer,
    pub key: Key,
    pub action: Action,
    pub description: &'static str,
    /// Shown on the key-hint line (the first key of an action only).
    pub hint: Option<&'static str>,
}

use Action as A;
use Layer as L;

/// A default binding: layer, keys, action, hint label, description.
type Default = (
    Layer,
    &'static [&'static str],
    Action,
    Option<&'static str>,
    &'static str,
);

/// The default bindings.
const DEFAULTS: &[Default] = &[
    (
        L::List,
        &["j", "down"],
        A::Down,
        None,
        "move down (scroll the details)",
    ),
    (L::List, &["k", "up"], A::Up, None, "move up"),
    (L::List, &["pgdn"], A::PageDown, None, "page down"),
    (L::List, &["pgup"], A::PageUp, None, "page up"),
    (L::List, &["g", "home"], A::Top, None, "first row"),
    (L::List, &["G", "end"], A::Bottom, None, "last row"),
    (
        L::List,
        &["l", "right"],
        A::PaneRight,
        None,
        "pane to the right",
    ),
    (
        L::List,
        &["h", "left"],
        A::PaneLeft,
        None,
        "pane to the left",
    ),
    (L::List, &["tab"], A::NextPane, Some("pane"), "next pane"),
    (L::List, &["backtab"], A::PrevPane, None, "previous pane"),
    (
        L::List,
        &["enter"],
        A::Enter,
        Some("open"),
        "go into the selected row's children",
    ),
    (
        L::List,
        &["/"],
        A::Search,
        Some("search"),
        "search titles, text, authors, file names (as shown)",
    ),
    (
        L::List,
        &["n"],
        A::NextHit,
        Some("next"),
        "go to the next search hit",
    ),
    (
        L::List,
        &["N"],
        A::PrevHit,
        Some("prev"),
        "go to the previous search hit",
    ),
    (
        L::List,
        &["f"],
        A::Filter,
        Some("filter"),
        "filter the pane: all, active, deleted",
    ),
    (
        L::List,
        &["d"],
        A::Delete,
        Some("delete"),
        "soft-delete the selected row (asks first)",
    ),
    (
        L::List,
        &["r"],
        A::Restore,
        Some("restore"),
        "restore the selected row (asks first)",
    ),
    (
        L::List,
        &["u"],
        A::Undo,
        Some("undo"),
        "undo your latest action",
    ),
    (
        L::List,
        &["P"],
        A::Purge,
        Some("purge"),
        "purge: the plan, then Y (read-only: the plan only)",
    ),
    (
        L::List,
        &["c"],
        A::Check,
        Some("check"),
        "check the data for broken rules",
    ),
    (L::List, &["L"], A::Log, Some("log"), "the audit log"),
    (
        L::List,
        &["F"],
        A::Flags,
        Some("flags"),
        "the web app's flag queue: review what users reported",
    ),
    (
        L::List,
        &["m"],
        A::Messages,
        Some("msgs"),
        "this session's messages, in full",
    ),
    (L::List, &["?"], A::Help, Some("help"), "this help"),
    (
        L::List,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::List, &["q"], A::Quit, Some("quit"), "quit"),
    (L::List, &["ctrl-c"], A::Interrupt, None, "quit"),
    (L::Confirm, &["y"], A::Confirm, Some("yes"), "do it"),
    (
        L::Confirm,
        &["tab"],
        A::NextField,
        Some("reason"),
        "type a reason for the audit log (a review needs one)",
    ),
    (
        L::Confirm,
        &["n", "esc", "enter"],
        A::Cancel,
        Some("cancel"),
        "cancel (the default)",
    ),
    (
        L::Confirm,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Confirm, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::Info,
        &["j", "down"],
        A::Down,
        Some("scroll"),
        "scroll down",
    ),
    (L::Info, &["k", "up"], A::Up, None, "scroll up"),
    (
        L::Info,
        &["esc", "enter", "q"],
        A::Cancel,
        Some("close"),
        "close",
    ),
    (
        L::Info,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Info, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::PurgeSetup,
        &["Y"],
        A::ConfirmPurge,
        Some("purge"),
        "start the purge (capital Y only)",
    ),
    (
        L::PurgeSetup,
        &["tab", "down", "up"],
        A::NextField,
        Some("field"),
        "next field: retention, batch size (digits edit), reason",
    ),
    (
        L::PurgeSetup,
        &["esc", "n", "enter"],
        A::Cancel,
        Some("cancel"),
        "close without purging",
    ),
    (
        L::PurgeSetup,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::PurgeSetup, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::PurgeRunning,
        &["esc"],
        A::Cancel,
        Some("stop"),
        "stop after the batch in flight",
    ),
    (
        L::PurgeRunning,
        &["q", "ctrl-c"],
        A::Interrupt,
        Some("quit"),
        "quit (asks first)",
    ),
    (
        L::PurgeRunning,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (
        L::Help,
        &["j", "down"],
        A::Down,
        Some("scroll"),
        "scroll down",
    ),
    (L::Help, &["k", "up"], A::Up, None, "scroll up"),
    (L::Help, &["pgdn"], A::PageDown, None, "page down"),
    (L::Help, &["pgup"], A::PageUp, None, "page up"),
    (L::Help, &["g", "home"], A::Top, None, "top"),
    (L::Help, &["G", "end"], A::Bottom, None, "bottom"),
    (
        L::Help,
        &["esc", "q", "?"],
        A::Cancel,
        Some("close"),
        "close",
    ),
    (
        L::Help,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Help, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::Results,
        &["j", "down"],
        A::Down,
        Some("move"),
        "move down",
    ),
    (L::Results, &["k", "up"], A::Up, None, "move up"),
    (L::Results, &["pgdn"], A::PageDown, None, "page down"),
    (L::Results, &["pgup"], A::PageUp, None, "page up"),
    (L::Results, &["g", "home"], A::Top, None, "first entry"),
    (L::Results, &["G", "end"], A::Bottom, None, "last entry"),
    (
        L::Results,
        &["enter"],
        A::Open,
        Some("go to row"),
        "go to the entry's row",
    ),
    (L::Results, &["esc", "q"], A::Cancel, Some("close"), "close"),
    (
        L::Results,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Results, &["ctrl-c"], A::Interrupt, None, "quit"),
    (L::Check, &["j", "down"], A::Down, Some("move"), "move down"),
    (L::Check, &["k", "up"], A::Up, None, "move up"),
    (L::Check, &["pgdn"], A::PageDown, None, "page down"),
    (L::Check, &["pgup"], A::PageUp, None, "page up"),
    (L::Check, &["g", "home"], A::Top, None, "first entry"),
    (L::Check, &["G", "end"], A::Bottom, None, "last entry"),
    (
        L::Check,
        &["enter"],
        A::Open,
        Some("go to row"),
        "go to the problem's row",
    ),
    (
        L::Check,
        &["f"],
        A::Filter,
        Some("kind"),
        "show one kind of problem, then the next, then all",
    ),
    (
        L::Check,
        &["d"],
        A::Delete,
        Some("delete"),
        "soft-delete the problem's row (asks first)",
    ),
    (
        L::Check,
        &["r"],
        A::Restore,
        Some("restore"),
        "restore the problem's row (asks first)",
    ),
    (
        L::Check,
        &["F"],
        A::Fix,
        Some("fix"),
        "check --fix: soft-delete every active row under a deleted parent (asks first)",
    ),
    (
        L::Check,
        &["m"],
        A::Messages,
        None,
        "this session's messages, in full (Esc comes back here)",
    ),
    (L::Check, &["esc", "q"], A::Cancel, Some("close"), "close"),
    (
        L::Check,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Check, &["ctrl-c"], A::Interrupt, None, "quit"),
    (L::Flags, &["j", "down"], A::Down, Some("move"), "move down"),
    (L::Flags, &["k", "up"], A::Up, None, "move up"),
    (L::Flags, &["pgdn"], A::PageDown, None, "page down"),
    (L::Flags, &["pgup"], A::PageUp, None, "page up"),
    (L::Flags, &["g", "home"], A::Top, None, "newest flag"),
    (L::Flags, &["G", "end"], A::Bottom, None, "oldest flag"),
    (
        L::Flags,
        &["enter"],
        A::Open,
        Some("go to row"),
        "go to the flagged post or thread in the panes",
    ),
    (
        L::Flags,
        &["a"],
        A::Approve,
        Some("approve"),
        "approve: the content stays, the flag is approved (asks a reason)",
    ),
    (
        L::Flags,
        &["r"],
        A::Reject,
        Some("reject"),
        "reject: the flag was wrong (asks a reason)",
    ),
    (
        L::Flags,
        &["d"],
        A::Remove,
        Some("remove"),
        "remove the flagged post or thread with the console's cascade (asks a reason, counts first)",
    ),
    (
        L::Flags,
        &["l"],
        A::Lock,
        Some("lock"),
        "lock the thread (a post's flag: its thread) (asks a reason)",
    ),
    (
        L::Flags,
        &["w"],
        A::Warn,
        Some("warn"),
        "warn the author: the content stays, the flag is approved (asks a reason)",
    ),
    (
        L::Flags,
        &["m"],
        A::Messages,
        None,
        "this session's messages, in full (Esc comes back here)",
    ),
    (L::Flags, &["esc", "q"], A::Cancel, Some("close"), "close"),
    (
        L::Flags,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::Flags, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::Input,
        &["enter"],
        A::Submit,
        Some("search"),
        "search for what you typed",
    ),
    (L::Input, &["esc"], A::Cancel, Some("cancel"), "cancel"),
    (L::Input, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::TextField,
        &["tab"],
        A::NextField,
        Some("next field"),
        "the next field, then the dialog's keys",
    ),
    (
        L::TextField,
        &["enter"],
        A::Submit,
        Some("done"),
        "done typing: back to the dialog's keys (never confirms)",
    ),
    (
        L::TextField,
        &["esc"],
        A::Cancel,
        Some("cancel"),
        "close the dialog; nothing changes",
    ),
    (
        L::TextField,
        &["ctrl-l"],
        A::Redraw,
        None,
        "redraw the whole screen",
    ),
    (L::TextField, &["ctrl-c"], A::Interrupt, None, "quit"),
    (
        L::QuitConfirm,
        &["y"],
        A::Confirm,
        Some("quit"),
        "stop the purge after its batch and quit",
    ),
    (
        L::QuitConfirm,
        &["n", "esc", "enter"],
        A::Cancel,
        Some("stay"),
        "keep the purge running (the default)",
    ),
];

#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Keymap {
    pub fn defaults() -> Keymap {
        let mut bindings = Vec::new();
        for (layer, keys, action, hint, description) in DEFAULTS {
            for (i, key) in keys.iter().enumerate() {
                bindings.push(Binding {
                    layer: *layer,
                    // The table is written here; `every_default_key_parses`
                    // catches a typo.
                    key: Key::parse(key).unwrap_or(Key {
                        code: KeyCodeOrd::F(63),
                        ctrl: false,
                    }),
                    action: *action,
                    description,
                    hint: if i == 0 { *hint } else { None },
                });
            }
        }
        Keymap { bindings }
    }

    /// The defaults with `config.toml`'s `[keys]` applied: each entry
    /// replaces the keys of a pane action (`delete = "x"`, or several
    /// keys separated by spaces: `down = "j down n"`).
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Keymap> {
        let mut map = Keymap::defaults();
        for (name, keys) in overrides {
            let Some(action) = map
                .bindings
                .iter()
                .filter(|b| b.layer == Layer::List)
                .map(|b| b.action)
                .find(|a| a.name() == name)
            else {
                bail!("config key `keys.{name}`: there is no pane action called {name:?}");
            };
            let template = map
                .bindings
                .iter()
                .find(|b| b.layer == Layer::List && b.action == action)
                .cloned();
            let Some(template) = template else { continue };
            map.bindings
                .retain(|b| !(b.layer == Layer::List && b.action == action));
            for (i, text) in keys.split_whitespace().enumerate() {
                let key = Key::parse(text)
                    .map_err(|e| anyhow::anyhow!("config key `keys.{name}`: {e}"))?;
                // Terminals and tmux eat these: no action may rest on them.
                if key.ctrl
                    && matches!(
                        key.code,
                        KeyCodeOrd::Enter | KeyCodeOrd::Char('h' | 'j' | 'k' | 'l')
                    )
                {
                    bail!(
                        "config key `keys.{name}`: {key} is eaten by terminals and tmux; choose another key"
                    );
                }
                if let Some(other) = map
                    .bindings
                    .iter()
                    .find(|b| b.layer == Layer::List && b.key == key)
                {
                    bail!(
                        "config key `keys.{name}`: {key} is already bound to {}",
                        other.action.name()
                    );
                }
                map.bindings.push(Binding {
                    key,
                    hint: if i == 0 { template.hint } else { None },
                    ..template.clone()
                });
            }
        }
        let can_quit = map.bindings.iter().any(|b| {
            b.layer == Layer::List && matches!(b.action, Action::Quit | Action::Interrupt)
        });
        if !can_quit {
            bail!(
                "config keys `keys.quit` and `keys.interrupt` leave no key to quit the console; bind one of them"
            );
        }
        Ok(map)
    }

    /// The keymap of the config file's `[keys]` table, checked: every
    /// command checks it at start, so a bad override is found before the
    /// night's cron run opens the console's keys. An error names the file.
    pub fn from_settings(settings: &Settings) -> Result<Keymap> {
        Keymap::with_overrides(&settings.config.keys).map_err(|e| match &settings.config_path {
            Some(path) => anyhow::anyhow!("config file {}: {e:#}", path.display()),
            None => e,
        })
    }

    /// Each pane action's keys, as `modcon config` lists them: from the
    /// config file when overridden there.
    pub fn effective(&self, settings: &Settings) -> Vec<Effective> {
        let file = Source::File(
            settings
                .config_path
                .clone()
                .unwrap_or_else(|| PathBuf::from("config.toml")),
        );
        let mut actions = Vec::new();
        for b in Keymap::defaults().bindings {
            if b.layer == Layer::List && !actions.contains(&b.action) {
                actions.push(b.action);
            }
        }
        actions
            .into_iter()
            .map(|action| {
                let keys: Vec<String> = self
                    .bindings
                    .iter()
                    .filter(|b| b.layer == Layer::List && b.action == action)
                    .map(|b| key_as_configured(&b.key))
                    .collect();
                Effective {
                    name: format!("keys.{}", action.name()),
                    value: Some(keys.join(" ")),
                    source: if settings.config.keys.contains_key(action.name()) {
                        file.clone()
                    } else {
                        Source::Default
                    },
                }
            })
            .collect()
    }

    /// The action a key press means in a layer, if any.
    pub fn action(&self, layer: Layer, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        self.bindings
            .iter()
            .find(|b| b.layer == layer && b.key == key)
            .map(|b| b.action)
    }

    /// The keys bound to an action in a layer, as shown to people: "j, ↓".
    pub fn keys_for(&self, layer: Layer, action: Action) -> String {
        self.bindings
            .iter()
            .filter(|b| b.layer == layer && b.action == action)
            .map(|b| b.key.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The key hints of a layer, for the actions that do something now
    /// (`works`): ("?", "help"), ("q", "quit"), ... The ways out first,
    /// then what the layer is for, then moving about.
    pub fn hints(
        &self,
        layer: Layer,
        works: &dyn Fn(Action) -> bool,
    ) -> Vec<(String, &'static str)> {
        let rank = |a: Action| match a {
            Action::Help | Action::Quit => 0,
            Action::NextPane | Action::Enter | Action::Down | Action::NextField => 2,
            _ => 1,
        };
        let mut hinted: Vec<&Binding> = self
            .bindings
            .iter()
            .filter(|b| b.layer == layer && b.hint.is_some() && works(b.action))
            .collect();
        hinted.sort_by_key(|b| rank(b.action));
        hinted
            .into_iter()
            .filter_map(|b| b.hint.map(|h| (b.key.to_string(), h)))
            .collect()
    }

    /// Every binding of every layer, one line per action, for the help
    /// overlay: (layer title, keys, description).
    pub fn help(&self) -> Vec<(Layer, String, &'static str)> {
        let mut seen: Vec<(Layer, Action)> = Vec::new();
        let mut lines = Vec::new();
        for b in &self.bindings {
            if seen.contains(&(b.layer, b.action)) {
                continue;
            }
            seen.push((b.layer, b.action));
            lines.push((b.layer, self.keys_for(b.layer, b.action), b.description));
        }
        lines
    }
}

/// A key as the config file's `[keys]` table writes it: `j`, `down`,
/// `ctrl-l`, `pgup`.
fn key_as_configured(key: &Key) -> String {
    let shown = key.to_string();
    match shown.as_str() {
        "↑" => "up".to_string(),
        "↓" => "down".to_string(),
        "←" => "left".to_string(),
        "→" => "right".to_string(),
        one if one.chars().count() == 1 => one.to_string(),
        other => match other.strip_prefix("Ctrl-") {
            Some(rest) if rest.chars().count() == 1 => format!("ctrl-{rest}"),
            _ => other.to_ascii_lowercase(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: ratatui::crossterm::event::KeyEventState::NONE,
        }
    }

    #[test]
    fn every_default_key_parses() {
        for (_, keys, _, _, _) in DEFAULTS {
            for key in *keys {
                Key::parse(key).unwrap_or_else(|e| panic!("{key}: {e}"));
            }
        }
    }

    #[test]
    fn no_layer_binds_a_key_twice() {
        let map = Keymap::defaults();
        for (i, a) in map.bindings.iter().enumerate() {
            for b in &map.bindings[i + 1..] {
                assert!(
                    !(a.layer == b.layer && a.key == b.key),
                    "{:?} {} bound twice",
                    a.layer,
                    a.key
                );
            }
        }
    }

    #[test]
    fn shift_is_folded_into_capitals() {
        let map = Keymap::defaults();
        assert_eq!(
            map.action(Layer::List, &press(KeyCode::Char('P'), KeyModifiers::SHIFT)),
            Some(Action::Purge)
        );
        assert_eq!(
            map.action(Layer::List, &press(KeyCode::Char('P'), KeyModifiers::NONE)),
            Some(Action::Purge)
        );
        assert_eq!(
            map.action(Layer::List, &press(KeyCode::Char('p'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.action(
                Layer::List,
                &press(KeyCode::Char('l'), KeyModifiers::CONTROL)
            ),
            Some(Action::Redraw)
        );
    }

    #[test]
    fn a_dialog_owns_the_keyboard() {
        let map = Keymap::defaults();
        // `d` deletes in the panes, but means nothing in a confirmation.
        assert_eq!(
            map.action(
                Layer::Confirm,
                &press(KeyCode::Char('d'), KeyModifiers::NONE)
            ),
            None
        );
        // Enter never confirms.
        assert_eq!(
            map.action(Layer::Confirm, &press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Cancel)
        );
        assert_eq!(
            map.action(
                Layer::PurgeSetup,
                &press(KeyCode::Char('y'), KeyModifiers::NONE)
            ),
            None
        );
    }

    #[test]
    fn overrides_replace_keys_and_refuse_bad_ones() {
        let mut o = BTreeMap::new();
        o.insert("delete".to_string(), "x".to_string());
        let map = Keymap::with_overrides(&o).unwrap();
        assert_eq!(
            map.action(Layer::List, &press(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Delete)
        );
        assert_eq!(
            map.action(Layer::List, &press(KeyCode::Char('d'), KeyModifiers::NONE)),
            None
        );
        for (name, key) in [
            ("delete", "alt-d"),
            ("delete", "ctrl-j"),
            ("delete", "r"),
            ("explode", "x"),
            ("delete", "ctrl-enter"),
        ] {
            let mut o = BTreeMap::new();
            o.insert(name.to_string(), key.to_string());
            let err = Keymap::with_overrides(&o).unwrap_err().to_string();
            assert!(err.contains(&format!("keys.{name}")), "{err}");
        }
    }

    #[test]
    fn a_keymap_without_a_way_to_quit_is_refused() {
        let overrides = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        // Either way out alone is enough.
        assert!(Keymap::with_overrides(&overrides(&[("quit", "")])).is_ok());
        assert!(Keymap::with_overrides(&overrides(&[("interrupt", "")])).is_ok());
        assert!(Keymap::with_overrides(&overrides(&[("quit", "x"), ("interrupt", "")])).is_ok());
        let err = Keymap::with_overrides(&overrides(&[("quit", ""), ("interrupt", " ")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no key to quit"), "{err}");
    }

    #[test]
    fn help_lists_every_action_of_every_layer() {
        let map = Keymap::defaults();
        let help = map.help();
        for (layer, _, action, _, description) in DEFAULTS {
            assert!(
                help.iter().any(|(l, _, d)| l == layer && d == description),
                "{layer:?} {action:?} missing from help"
            );
        }
    }
}
