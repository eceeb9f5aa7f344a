//! The keymap is data: every binding names its layer, key, action and a
//! description. Key handling, the help overlay, the key-hint line, the
//! dialogs' key lines and every sentence that names a key are all read
//! from this one table, so they cannot drift apart. The layer of
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

/// Why a binding does nothing now. The key-hint line leaves such a key
/// out; the help keeps it and says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disabled {
    /// It would change the database, which was opened read-only.
    ReadOnly,
    /// It acts on the selected row, and no row is selected.
    NothingSelected,
}

impl Disabled {
    /// Said beside the key in the help: "d (read-only)".
    pub fn short(self) -> &'static str {
        match self {
            Disabled::ReadOnly => "read-only",
            Disabled::NothingSelected => "no row",
        }
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

/// A default binding: layer, keys, action, hint label, description.
type Default = (
    Layer,
    &'static [&'static str],
    Action,
    Option<&'static str>,
    &'static str,
);

/// One default binding a line: layer, keys, action, the label on the
/// key-hint line (`-`: none), and what the help says.
macro_rules! bindings {
    ($($layer:ident [$($key:literal),+] $action:ident $hint:tt $description:literal;)*) => {
        &[$((Layer::$layer, &[$($key),+], Action::$action, hint!($hint), $description)),*]
    };
}

macro_rules! hint {
    (-) => {
        None
    };
    ($label:literal) => {
        Some($label)
    };
}

/// The default bindings.
#[rustfmt::skip]
const DEFAULTS: &[Default] = bindings! {
    List         ["j", "down"] Down - "move down (scroll the details)";
    List         ["k", "up"] Up - "move up";
    List         ["pgdn"] PageDown - "page down";
    List         ["pgup"] PageUp - "page up";
    List         ["g", "home"] Top - "first row";
    List         ["G", "end"] Bottom - "last row";
    List         ["l", "right"] PaneRight - "pane to the right";
    List         ["h", "left"] PaneLeft - "pane to the left";
    List         ["tab"] NextPane "pane" "next pane";
    List         ["backtab"] PrevPane - "previous pane";
    List         ["enter"] Enter "open" "go into the selected row's children";
    List         ["/"] Search "search" "search titles, text, authors, file names (as shown)";
    List         ["n"] NextHit "next" "go to the next search hit";
    List         ["N"] PrevHit "prev" "go to the previous search hit";
    List         ["f"] Filter "filter" "filter the pane: all, active, deleted";
    List         ["d"] Delete "delete" "soft-delete the selected row (asks first)";
    List         ["r"] Restore "restore" "restore the selected row (asks first)";
    List         ["u"] Undo "undo" "undo your latest action";
    List         ["P"] Purge "purge" "purge: the plan, then Y (read-only: the plan only)";
    List         ["c"] Check "check" "check the data for broken rules";
    List         ["L"] Log "log" "the audit log";
    List         ["F"] Flags "flags" "the web app's flag queue: review what users reported";
    List         ["m"] Messages "msgs" "this session's messages, in full";
    List         ["?"] Help "help" "this help";
    List         ["ctrl-l"] Redraw - "redraw the whole screen";
    List         ["q"] Quit "quit" "quit";
    List         ["ctrl-c"] Interrupt - "quit";
    Confirm      ["y"] Confirm "yes" "do it";
    Confirm      ["tab"] NextField "reason" "type a reason for the audit log (a review needs one)";
    Confirm      ["n", "esc", "enter"] Cancel "cancel" "cancel (the default)";
    Confirm      ["ctrl-l"] Redraw - "redraw the whole screen";
    Confirm      ["ctrl-c"] Interrupt - "quit";
    Info         ["j", "down"] Down "scroll" "scroll down";
    Info         ["k", "up"] Up - "scroll up";
    Info         ["esc", "enter", "q"] Cancel "close" "close";
    Info         ["ctrl-l"] Redraw - "redraw the whole screen";
    Info         ["ctrl-c"] Interrupt - "quit";
    PurgeSetup   ["Y"] ConfirmPurge "purge" "start the purge (capital Y only)";
    PurgeSetup   ["tab", "down", "up"] NextField "field" "next field: retention, batch size (digits edit), reason";
    PurgeSetup   ["esc", "n", "enter"] Cancel "cancel" "close without purging";
    PurgeSetup   ["ctrl-l"] Redraw - "redraw the whole screen";
    PurgeSetup   ["ctrl-c"] Interrupt - "quit";
    PurgeRunning ["esc"] Cancel "stop" "stop after the batch in flight";
    PurgeRunning ["q", "ctrl-c"] Interrupt "quit" "quit (asks first)";
    PurgeRunning ["ctrl-l"] Redraw - "redraw the whole screen";
    Help         ["j", "down"] Down "scroll" "scroll down";
    Help         ["k", "up"] Up - "scroll up";
    Help         ["pgdn"] PageDown - "page down";
    Help         ["pgup"] PageUp - "page up";
    Help         ["g", "home"] Top - "top";
    Help         ["G", "end"] Bottom - "bottom";
    Help         ["esc", "q", "?"] Cancel "close" "close";
    Help         ["ctrl-l"] Redraw - "redraw the whole screen";
    Help         ["ctrl-c"] Interrupt - "quit";
    Results      ["j", "down"] Down "move" "move down";
    Results      ["k", "up"] Up - "move up";
    Results      ["pgdn"] PageDown - "page down";
    Results      ["pgup"] PageUp - "page up";
    Results      ["g", "home"] Top - "first entry";
    Results      ["G", "end"] Bottom - "last entry";
    Results      ["enter"] Open "go to row" "go to the entry's row";
    Results      ["esc", "q"] Cancel "close" "close";
    Results      ["ctrl-l"] Redraw - "redraw the whole screen";
    Results      ["ctrl-c"] Interrupt - "quit";
    Check        ["j", "down"] Down "move" "move down";
    Check        ["k", "up"] Up - "move up";
    Check        ["pgdn"] PageDown - "page down";
    Check        ["pgup"] PageUp - "page up";
    Check        ["g", "home"] Top - "first entry";
    Check        ["G", "end"] Bottom - "last entry";
    Check        ["enter"] Open "go to row" "go to the problem's row";
    Check        ["f"] Filter "kind" "show one kind of problem, then the next, then all";
    Check        ["d"] Delete "delete" "soft-delete the problem's row (asks first)";
    Check        ["r"] Restore "restore" "restore the problem's row (asks first)";
    Check        ["F"] Fix "fix" "check --fix: soft-delete every active row under a deleted parent (asks first)";
    Check        ["m"] Messages - "this session's messages, in full (Esc comes back here)";
    Check        ["esc", "q"] Cancel "close" "close";
    Check        ["ctrl-l"] Redraw - "redraw the whole screen";
    Check        ["ctrl-c"] Interrupt - "quit";
    Flags        ["j", "down"] Down "move" "move down";
    Flags        ["k", "up"] Up - "move up";
    Flags        ["pgdn"] PageDown - "page down";
    Flags        ["pgup"] PageUp - "page up";
    Flags        ["g", "home"] Top - "newest flag";
    Flags        ["G", "end"] Bottom - "oldest flag";
    Flags        ["enter"] Open "go to row" "go to the flagged post or thread in the panes";
    Flags        ["a"] Approve "approve" "approve: the content stays, the flag is approved (asks a reason)";
    Flags        ["r"] Reject "reject" "reject: the flag was wrong (asks a reason)";
    Flags        ["d"] Remove "remove" "remove the flagged post or thread with the console's cascade (asks a reason, counts first)";
    Flags        ["l"] Lock "lock" "lock the thread (a post's flag: its thread) (asks a reason)";
    Flags        ["w"] Warn "warn" "warn the author: the content stays, the flag is approved (asks a reason)";
    Flags        ["m"] Messages - "this session's messages, in full (Esc comes back here)";
    Flags        ["esc", "q"] Cancel "close" "close";
    Flags        ["ctrl-l"] Redraw - "redraw the whole screen";
    Flags        ["ctrl-c"] Interrupt - "quit";
    Input        ["enter"] Submit "search" "search for what you typed";
    Input        ["esc"] Cancel "cancel" "cancel";
    Input        ["ctrl-c"] Interrupt - "quit";
    TextField    ["tab"] NextField "next field" "the next field, then the dialog's keys";
    TextField    ["enter"] Submit "done" "done typing: back to the dialog's keys (never confirms)";
    TextField    ["esc"] Cancel "cancel" "close the dialog; nothing changes";
    TextField    ["ctrl-l"] Redraw - "redraw the whole screen";
    TextField    ["ctrl-c"] Interrupt - "quit";
    QuitConfirm  ["y"] Confirm "quit" "stop the purge after its batch and quit";
    QuitConfirm  ["n", "esc", "enter"] Cancel "stay" "keep the purge running (the default)";
};

#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Keymap {
    pub fn defaults() -> Keymap {
        Keymap::from_table(DEFAULTS)
    }

    /// The bindings of a table of defaults. A key in it that does not
    /// parse is a bug of this file, never a silent placeholder: it stops
    /// the program (and `the_default_table_builds` fails first).
    fn from_table(table: &[Default]) -> Keymap {
        let mut bindings = Vec::new();
        for (layer, keys, action, hint, description) in table {
            for (i, key) in keys.iter().enumerate() {
                bindings.push(Binding {
                    layer: *layer,
                    key: Key::parse(key)
                        .unwrap_or_else(|e| panic!("the default key {key:?} of {action:?}: {e}")),
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

    /// The first key bound to an action in a layer, as shown to people
    /// ("Enter"): what a sentence on screen names. Every text that names a
    /// key takes it from here, so an override in `[keys]` shows too.
    pub fn key(&self, layer: Layer, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.layer == layer && b.action == action)
            .map(|b| b.key.to_string())
            .unwrap_or_else(|| "(unbound)".into())
    }

    /// [`Keymap::key`], but `preferred` when it is one of the action's keys
    /// (the dialogs' ways out read best as "Esc").
    pub fn key_preferring(&self, layer: Layer, action: Action, preferred: &str) -> String {
        let preferred = Key::parse(preferred).ok();
        self.bindings
            .iter()
            .find(|b| b.layer == layer && b.action == action && Some(&b.key) == preferred.as_ref())
            .map(|b| b.key.to_string())
            .unwrap_or_else(|| self.key(layer, action))
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
    /// overlay: (layer, keys, description, why it is off now if it is).
    pub fn help(
        &self,
        disabled: &dyn Fn(Layer, Action) -> Option<Disabled>,
    ) -> Vec<(Layer, String, &'static str, Option<Disabled>)> {
        let mut seen: Vec<(Layer, Action)> = Vec::new();
        let mut lines = Vec::new();
        for b in &self.bindings {
            if seen.contains(&(b.layer, b.action)) {
                continue;
            }
            seen.push((b.layer, b.action));
            lines.push((
                b.layer,
                self.keys_for(b.layer, b.action),
                b.description,
                disabled(b.layer, b.action),
            ));
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
    fn the_default_table_builds() {
        let map = Keymap::defaults();
        let keys: usize = DEFAULTS.iter().map(|(_, keys, ..)| keys.len()).sum();
        assert_eq!(map.bindings.len(), keys);
    }

    #[test]
    #[should_panic(expected = "the default key \"ctrl-\" of Redraw")]
    fn a_bad_default_key_is_a_bug_not_a_placeholder() {
        Keymap::from_table(&[(Layer::List, &["ctrl-"], Action::Redraw, None, "redraw")]);
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
        let help = map.help(&|_, _| None);
        for (layer, _, action, _, description) in DEFAULTS {
            assert!(
                help.iter()
                    .any(|(l, _, d, _)| l == layer && d == description),
                "{layer:?} {action:?} missing from help"
            );
        }
    }
}
