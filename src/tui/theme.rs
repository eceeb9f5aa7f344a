//! Colours and text markers. Every state has a text marker, so nothing is
//! told by colour alone; colours use the 16 ANSI colours only; `NO_COLOR`
//! (or `theme = "mono"`) drops colour but keeps the markers. A terminal
//! whose locale is not UTF-8 (or `--ascii`) gets ASCII only.

use ratatui::style::{Color, Modifier, Style};

use modcon_core::query::Row;

/// Text markers, shown in the first columns of every row.
pub mod marker {
    pub const ACTIVE: &str = "+";
    pub const DELETED: &str = "x";
    pub const PURGEABLE: &str = "P";
    pub const HELD_BACK: &str = "H";
    pub const VIOLATION: &str = "!";
}

/// What the terminal's environment says about drawing: colour wanted,
/// UTF-8 understood. Read once from the process at start; tests build it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermEnv {
    pub no_color: bool,
    pub utf8: bool,
}

impl TermEnv {
    pub fn from_process() -> TermEnv {
        TermEnv::from_lookup(&|name| std::env::var(name).ok())
    }

    /// `NO_COLOR` set to anything non-empty turns colour off; UTF-8 is
    /// the locale's (see [`crate::display::locale_is_utf8`]).
    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> TermEnv {
        let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
        let utf8 = crate::display::locale_is_utf8(env);
        TermEnv { no_color, utf8 }
    }

    /// A UTF-8 terminal with colour: what the tests draw on by default.
    pub fn standard() -> TermEnv {
        TermEnv {
            no_color: false,
            utf8: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    /// Draw with ASCII only: borders, markers, the gauge, and text.
    pub ascii: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set or the theme is "mono"; ASCII when
    /// asked for or when the locale is not UTF-8.
    pub fn new(env: TermEnv, theme: Option<&str>, force_ascii: bool) -> Theme {
        Theme {
            color: !env.no_color && theme != Some("mono"),
            ascii: force_ascii || !env.utf8,
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }

    pub fn row(&self, row: &Row) -> Style {
        if row.violation {
            self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else if row.purgeable {
            self.fg(Color::Magenta)
        } else if !row.is_active {
            self.fg(Color::Red)
        } else {
            Style::default()
        }
    }

    pub fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn gauge(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Green)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

/// The two marker columns of a row: its state, then its most urgent mark.
pub fn markers(row: &Row) -> String {
    let state = if row.is_active {
        marker::ACTIVE
    } else {
        marker::DELETED
    };
    let mark = if row.violation {
        marker::VIOLATION
    } else if row.purgeable {
        marker::PURGEABLE
    } else if row.held_back {
        marker::HELD_BACK
    } else {
        " "
    };
    format!("{state}{mark}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use modcon_core::model::Kind;
    use modcon_core::query::{Detail, Row};

    fn row(active: bool, purgeable: bool, violation: bool) -> Row {
        Row {
            kind: Kind::Attachment,
            id: "a".repeat(32),
            parent_id: None,
            is_active: active,
            label: "x.png".into(),
            author: None,
            created_at: "2026-01-01 00:00:00".into(),
            deleted_at: None,
            deletion_time: None,
            deletion_source: None,
            purgeable,
            held_back: false,
            violation,
            detail: Detail::Attachment {
                image: "x.png".into(),
                file_size: 1,
                mime_type: "image/png".into(),
                display_order: 0,
            },
        }
    }

    #[test]
    fn every_state_has_a_text_marker() {
        assert_eq!(markers(&row(true, false, false)), "+ ");
        assert_eq!(markers(&row(false, false, false)), "x ");
        assert_eq!(markers(&row(false, true, false)), "xP");
        assert_eq!(markers(&row(true, false, true)), "+!");
    }

    #[test]
    fn mono_has_no_colour_but_keeps_the_selection_visible() {
        let mono = Theme {
            color: false,
            ascii: false,
        };
        for r in [
            row(true, false, false),
            row(false, false, false),
            row(false, true, false),
        ] {
            assert_eq!(mono.row(&r).fg, None);
        }
        assert!(
            mono.selected(true)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        let colour = Theme {
            color: true,
            ascii: false,
        };
        assert_eq!(colour.row(&row(false, false, false)).fg, Some(Color::Red));
        assert_eq!(Theme::new(TermEnv::standard(), Some("mono"), false), mono);
        let no_color = TermEnv {
            no_color: true,
            utf8: true,
        };
        assert_eq!(Theme::new(no_color, None, false), mono);
    }

    #[test]
    fn the_locale_decides_utf8_in_posix_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            TermEnv::from_lookup(&move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert!(env(&[("LANG", "en_US.UTF-8")]).utf8);
        assert!(env(&[("LANG", "C.utf8")]).utf8);
        assert!(!env(&[("LANG", "C")]).utf8);
        assert!(!env(&[]).utf8, "no locale at all is C");
        assert!(!env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "C")]).utf8);
        assert!(!env(&[("LANG", "en_US.UTF-8"), ("LC_CTYPE", "POSIX")]).utf8);
        assert!(env(&[("LANG", "C"), ("LC_CTYPE", "de_DE.UTF-8")]).utf8);
        assert!(env(&[("LC_ALL", ""), ("LANG", "en_US.UTF-8")]).utf8);
        assert!(env(&[("NO_COLOR", "1")]).no_color);
        assert!(!env(&[("NO_COLOR", "")]).no_color);
    }
}
