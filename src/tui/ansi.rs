//! A crossterm backend that writes colours as the 16 ANSI colours
//! (`ESC[31m`, `ESC[96m`), not as 256-colour indexes (`ESC[38;5;9m`), which
//! is how crossterm writes even the named colours. A 16-colour terminal (a
//! Linux console, an old xterm) then shows the colours the theme chose.
//! Everything but drawing cells is crossterm's.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::cursor::MoveTo;
use ratatui::crossterm::queue;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

pub struct AnsiBackend<W: Write> {
    inner: CrosstermBackend<W>,
}

impl<W: Write> AnsiBackend<W> {
    pub fn new(writer: W) -> AnsiBackend<W> {
        AnsiBackend {
            inner: CrosstermBackend::new(writer),
        }
    }
}

/// The SGR parameter of a colour, foreground (`base` 30) or background
/// (`base` 40). `None` for the terminal's default.
fn colour_code(color: Color, base: u8) -> Option<String> {
    let bright = base + 60;
    let code = match color {
        Color::Reset => return None,
        Color::Black => base,
        Color::Red => base + 1,
        Color::Green => base + 2,
        Color::Yellow => base + 3,
        Color::Blue => base + 4,
        Color::Magenta => base + 5,
        Color::Cyan => base + 6,
        Color::Gray => base + 7,
        Color::DarkGray => bright,
        Color::LightRed => bright + 1,
        Color::LightGreen => bright + 2,
        Color::LightYellow => bright + 3,
        Color::LightBlue => bright + 4,
        Color::LightMagenta => bright + 5,
        Color::LightCyan => bright + 6,
        Color::White => bright + 7,
        Color::Indexed(n) if n < 8 => base + n,
        Color::Indexed(n) if n < 16 => bright + n - 8,
        // Never chosen by the theme; written as the terminal would expect.
        Color::Indexed(n) => return Some(format!("{};5;{n}", base + 8)),
        Color::Rgb(r, g, b) => return Some(format!("{};2;{r};{g};{b}", base + 8)),
    };
    Some(code.to_string())
}

/// One SGR sequence that sets exactly this style, from a reset.
pub fn sgr(fg: Color, bg: Color, modifier: Modifier) -> String {
    let mut params = vec!["0".to_string()];
    for (flag, code) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::RAPID_BLINK, "6"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if modifier.contains(flag) {
            params.push(code.to_string());
        }
    }
    params.extend(colour_code(fg, 30));
    params.extend(colour_code(bg, 40));
    format!("\x1b[{}m", params.join(";"))
}

impl<W: Write> Backend for AnsiBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut style: Option<(Color, Color, Modifier)> = None;
        let mut last: Option<Position> = None;
        for (x, y, cell) in content {
            if !matches!(last, Some(p) if x == p.x + 1 && y == p.y) {
                queue!(self.inner, MoveTo(x, y))?;
            }
            last = Some(Position { x, y });
            let wanted = (cell.fg, cell.bg, cell.modifier);
            if style != Some(wanted) {
                self.inner
                    .write_all(sgr(cell.fg, cell.bg, cell.modifier).as_bytes())?;
                style = Some(wanted);
            }
            self.inner.write_all(cell.symbol().as_bytes())?;
        }
        self.inner.write_all(b"\x1b[0m")
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::style::Style;
    use ratatui::text::Span;
    use ratatui::widgets::Paragraph;

    fn drawn(style: Style) -> String {
        let mut out = Vec::new();
        {
            let backend = AnsiBackend::new(&mut out);
            let mut terminal = Terminal::with_options(
                backend,
                ratatui::TerminalOptions {
                    viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 4, 1)),
                },
            )
            .unwrap();
            terminal
                .draw(|f| f.render_widget(Paragraph::new(Span::styled("ab", style)), f.area()))
                .unwrap();
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn colours_are_the_16_ansi_ones_never_256_colour_indexes() {
        for (color, fg) in [
            (Color::Red, "31"),
            (Color::Cyan, "36"),
            (Color::Yellow, "33"),
            (Color::Green, "32"),
            (Color::Magenta, "35"),
            (Color::DarkGray, "90"),
            (Color::LightCyan, "96"),
        ] {
            let out = drawn(Style::default().fg(color).add_modifier(Modifier::BOLD));
            assert!(
                out.contains(&format!("\x1b[0;1;{fg}mab")),
                "{color:?}: {out:?}"
            );
            assert!(!out.contains("38;5"), "{color:?}: {out:?}");
        }
        let out = drawn(Style::default().bg(Color::Blue));
        assert!(out.contains("\x1b[0;44mab"), "{out:?}");
        assert!(!out.contains("48;5"), "{out:?}");
    }
}
