//! ASCII only, for terminals whose locale is not UTF-8 (or `--ascii`):
//! after a frame is drawn, every cell that is not plain ASCII is replaced
//! by its nearest ASCII look-alike — box lines by `-`, `|` and `+`, an
//! ellipsis by `~`, arrows by `^ v < >` — and anything else (text from the
//! database in other scripts) by one `?` per column it covers, so the
//! layout stays as drawn. Done in one place, it cannot be forgotten by a
//! pane or a dialog.

use ratatui::buffer::Buffer;
use unicode_width::UnicodeWidthStr;

/// The ASCII stand-in for one drawn symbol.
pub fn stand_in(symbol: &str) -> &'static str {
    let mut chars = symbol.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return "?";
    };
    match c {
        // Box drawing: lines, then corners, tees and crosses.
        '─' | '━' | '═' | '╌' | '╍' | '┄' | '┅' | '┈' | '┉' | '╴' | '╶' | '╸' | '╺' => {
            "-"
        }
        '│' | '┃' | '║' | '╎' | '╏' | '┆' | '┇' | '┊' | '┋' | '╵' | '╷' | '╹' | '╻' => {
            "|"
        }
        '\u{2500}'..='\u{257f}' => "+",
        '▏' | '▕' | '▎' | '▍' => "|",
        '█' | '▉' | '▊' | '▋' | '▌' | '▐' | '▓' | '▒' | '░' | '■' => "#",
        '…' => "~",
        '—' | '–' | '‐' | '−' => "-",
        '·' | '•' => ".",
        '‘' | '’' | '′' => "'",
        '“' | '”' | '″' => "\"",
        '←' => "<",
        '→' | '▶' | '►' => ">",
        '↑' => "^",
        '↓' => "v",
        '×' => "x",
        _ => "?",
    }
}

/// Replaces every non-ASCII cell of the frame.
pub fn downgrade(buffer: &mut Buffer) {
    let area = buffer.area;
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            let symbol = buffer[(x, y)].symbol();
            if symbol.is_ascii() {
                x += 1;
                continue;
            }
            let width = symbol.width().max(1) as u16;
            let ascii = stand_in(symbol);
            buffer[(x, y)].set_symbol(ascii);
            // A wide character covered the cells after it: each gets a `?`
            // so the columns stay where they were.
            for covered in 1..width {
                if x + covered < area.right() {
                    buffer[(x + covered, y)].set_symbol("?");
                }
            }
            x += width;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn every_cell_becomes_ascii_and_keeps_its_column() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 1));
        buffer.set_string(0, 0, "┌─│…葉a↓┘", ratatui::style::Style::default());
        downgrade(&mut buffer);
        let line: String = (0..12)
            .map(|x| buffer[(x, 0)].symbol().to_string())
            .collect();
        assert_eq!(line, "+-|~??av+   ");
    }
}
