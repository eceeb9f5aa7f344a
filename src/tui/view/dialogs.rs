//! Dialogs and overlays: help, the confirmation, the purge dialog and its
//! gauge, list overlays (check, search, log), the search input.

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, List, ListItem, Paragraph, Wrap};

use super::centered;
use crate::core::audit::Tally;
use crate::display::{ago, fit, sanitize_line};
use crate::tui::app::{Confirm, ListOverlay, PurgeDialog};
use crate::tui::executor::Op;
use crate::tui::keymap::Keymap;
use crate::tui::theme::{Theme, marker};

fn popup(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn keys_line(theme: &Theme, keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, what) in keys {
        spans.push(Span::styled(key.to_string(), theme.key()));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}

pub fn help(frame: &mut Frame, keymap: &Keymap, theme: &Theme, scroll: u16) {
    let area = centered(frame.area(), 76, frame.area().height.saturating_sub(2));
    let inner = popup(
        frame,
        area,
        " Help — every key (Esc closes, j/k scroll) ",
        theme,
    );
    let mut lines = vec![
        Line::from(Span::styled("Markers", theme.key())),
        Line::from(format!(
            "  {} active   {} deleted   {} purgeable (past retention)",
            marker::ACTIVE,
            marker::DELETED,
            marker::PURGEABLE
        )),
        Line::from(format!(
            "  {} past retention, held back by an active row below it",
            marker::HELD_BACK
        )),
        Line::from(format!(
            "  {} active under a deleted parent (the rules broken; see check)",
            marker::VIOLATION
        )),
        Line::from("  20d: created 20 days ago   del 3d: deleted 3 days ago"),
        Line::from("  seen 2d: found deleted 2 days ago   del ?: deletion time unknown"),
        Line::from("  status counts: active+deleted (x) per kind, P purgeable, ! violations"),
    ];
    let mut layer = None;
    for (l, keys, description) in keymap.help() {
        if layer != Some(l) {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(l.title(), theme.key())));
            layer = Some(l);
        }
        lines.push(Line::from(format!("  {keys:<18} {description}")));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

/// "  1 thread", "  12 posts" — the kinds with a count.
fn tally_lines(tally: &Tally) -> Vec<Line<'static>> {
    let lines: Vec<Line> = crate::core::model::Kind::ALL
        .iter()
        .filter(|k| tally.of(**k) != 0)
        .map(|k| {
            Line::from(format!(
                "  {}",
                crate::core::audit::plural(tally.of(*k), *k)
            ))
        })
        .collect();
    if lines.is_empty() {
        vec![Line::from("  nothing")]
    } else {
        lines
    }
}

pub fn confirm(frame: &mut Frame, theme: &Theme, c: &Confirm) {
    let (verb, Some(target)) = (c.op.verb(), c.op.target()) else {
        return;
    };
    let area = centered(frame.area(), 64, 14);
    let title = format!(" {} this {}? ", capitalise(verb), target.kind);
    let inner = popup(frame, area, &title, theme);
    let mut lines = vec![
        Line::from(fit(&c.label, inner.width as usize)),
        Line::from(Span::styled(
            format!("{} {}", target.kind, target.id),
            theme.dim(),
        )),
        Line::from(""),
    ];
    match &c.preview {
        None => lines.push(Line::from("counting what this touches…")),
        Some(Err(e)) => {
            lines.push(Line::from(Span::styled(sanitize_line(e), theme.error())));
        }
        Some(Ok(tally)) if tally.rows() == 0 => lines.push(Line::from(match c.op {
            Op::Delete(_) => "Already deleted: nothing would change.",
            _ => "Already active: nothing would change.",
        })),
        Some(Ok(tally)) => {
            lines.push(Line::from(format!(
                "This {}s:",
                if matches!(c.op, Op::Delete(_)) {
                    "soft-delete"
                } else {
                    "restore"
                }
            )));
            lines.extend(tally_lines(tally));
        }
    }
    if c.changed {
        lines.push(Line::from(Span::styled(
            "The rows changed since this opened: these are the new counts.",
            theme.warning(),
        )));
    }
    let mut rows = lines.len() as u16;
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    rows = rows.min(inner.height.saturating_sub(1));
    frame.render_widget(
        text,
        Rect {
            height: rows,
            ..inner
        },
    );
    let keys = match &c.preview {
        Some(Err(_)) => keys_line(theme, &[("n/Esc/Enter", "close")]),
        _ => keys_line(theme, &[("y", verb), ("n/Esc/Enter", "cancel (default)")]),
    };
    frame.render_widget(
        Paragraph::new(keys),
        Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1,
            ..inner
        },
    );
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

pub fn purge(frame: &mut Frame, theme: &Theme, d: &PurgeDialog, now: NaiveDateTime) {
    let area = centered(frame.area(), 76, 22);
    let inner = popup(
        frame,
        area,
        " Purge: hard-delete rows past retention ",
        theme,
    );
    let [fields, body, keys] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(inner);
    let field = |label: &str, value: &str, active: bool| {
        let style = if active && d.running.is_none() {
            theme.selected(true)
        } else {
            theme.dim()
        };
        Line::from(vec![
            Span::raw(format!("{label:<16}")),
            Span::styled(format!(" {value:<6} "), style),
        ])
    };
    frame.render_widget(
        Paragraph::new(vec![
            field("retention, days", &d.retention, d.field == 0),
            field("batch size", &d.batch, d.field == 1),
        ]),
        fields,
    );
    if let Some(run) = &d.running {
        let p = &run.progress;
        let ratio = if p.batches == 0 {
            0.0
        } else {
            (p.batch as f64 / p.batches as f64).min(1.0)
        };
        let [gauge, text] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(body);
        frame.render_widget(
            Gauge::default()
                .block(Block::default().borders(Borders::ALL).title(" progress "))
                .gauge_style(theme.gauge())
                .ratio(ratio)
                .label(format!("batch {}/{}", p.batch, p.batches)),
            gauge,
        );
        let mut lines = vec![
            Line::from(format!(
                "removed: {}",
                Tally {
                    files: 0,
                    ..p.removed
                }
                .describe()
            )),
            Line::from(format!(
                "files removed {}, missing {}, refused {}; rows skipped {}",
                p.removed.files, p.files_missing, p.files_refused, p.skipped
            )),
        ];
        if run.cancelling {
            lines.push(Line::from(Span::styled(
                "stopping after the batch in flight…",
                theme.warning(),
            )));
        }
        frame.render_widget(Paragraph::new(lines), text);
        frame.render_widget(
            Paragraph::new(keys_line(
                theme,
                &[("Esc", "stop after this batch"), ("q", "quit (asks)")],
            )),
            keys,
        );
        return;
    }
    if let Some(finished) = &d.finished {
        frame.render_widget(
            Paragraph::new(report_lines(theme, finished)).wrap(Wrap { trim: false }),
            body,
        );
        frame.render_widget(
            Paragraph::new(keys_line(theme, &[("Esc/Enter", "close")])),
            keys,
        );
        return;
    }
    let mut lines = Vec::new();
    match &d.plan {
        None => lines.push(Line::from("working out the plan (dry run)…")),
        Some(Err(e)) => lines.push(Line::from(Span::styled(sanitize_line(e), theme.error()))),
        Some(Ok(plan)) => {
            lines.push(Line::from(format!(
                "Deleted at or before {} ({} batches):",
                plan.cutoff.split('.').next().unwrap_or(&plan.cutoff),
                plan.batches
            )));
            lines.extend(tally_lines(&Tally {
                files: 0,
                ..plan.removed
            }));
            if plan.held_back.rows() > 0 {
                lines.push(Line::from(format!(
                    "kept, an active row below them: {}",
                    plan.held_back.describe()
                )));
            }
            if !plan.skipped_rows.is_empty() {
                lines.push(Line::from(format!(
                    "skipped, referenced from other tables: {}",
                    plan.skipped_rows.len()
                )));
            }
            for s in plan.samples.iter().take(5) {
                lines.push(Line::from(Span::styled(
                    format!(
                        "  {:<10} {:<30} deleted {}",
                        s.kind.name(),
                        fit(&sanitize_line(&s.name), 30),
                        ago(now, &s.deleted_at)
                    ),
                    theme.dim(),
                )));
            }
            lines.push(Line::from(Span::styled(
                "A purge cannot be undone: rows and their files are gone for good.",
                theme.warning(),
            )));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    frame.render_widget(
        Paragraph::new(keys_line(
            theme,
            &[
                ("Y", "purge (capital)"),
                ("Tab", "field"),
                ("0-9", "edit"),
                ("Esc/n/Enter", "cancel"),
            ],
        )),
        keys,
    );
}

/// What a finished purge did.
fn report_lines(
    theme: &Theme,
    result: &Result<crate::core::purge::PurgeReport, String>,
) -> Vec<Line<'static>> {
    let report = match result {
        Err(e) => {
            return vec![Line::from(Span::styled(
                format!("The purge failed: {}", sanitize_line(e)),
                theme.error(),
            ))];
        }
        Ok(report) => report,
    };
    let mut lines = vec![Line::from(if report.cancelled {
        "Stopped after the batch in flight; purge again to continue.".to_string()
    } else {
        format!("Done in {} batches.", report.batches)
    })];
    lines.push(Line::from("Removed:"));
    lines.extend(tally_lines(&Tally {
        files: 0,
        ..report.removed
    }));
    lines.push(Line::from(format!(
        "Files: {} removed (and {} thumbnails), {} already missing, {} refused (outside the media root)",
        report.removed.files, report.thumbnails, report.files_missing, report.files_refused
    )));
    if report.skipped > 0 {
        lines.push(Line::from(format!(
            "Rows left in place: {}",
            report.skipped
        )));
    }
    for r in report.refused_paths.iter().take(3) {
        lines.push(Line::from(Span::styled(
            format!("  refused {:?}: {}", sanitize_line(&r.image), r.reason),
            theme.warning(),
        )));
    }
    lines
}

pub fn quit(frame: &mut Frame, theme: &Theme) {
    let area = centered(frame.area(), 56, 6);
    let inner = popup(frame, area, " Quit while purging? ", theme);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from("A purge is running. Quitting stops it after the"),
            Line::from("batch in flight; a later purge continues."),
            Line::from(""),
            keys_line(
                theme,
                &[
                    ("y", "stop and quit"),
                    ("n/Esc/Enter", "keep going (default)"),
                ],
            ),
        ]),
        inner,
    );
}

pub fn list(frame: &mut Frame, theme: &Theme, list: &mut ListOverlay) {
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4).max(10),
        screen.height.saturating_sub(4).max(5),
    );
    let title = format!(" {} ", sanitize_line(&list.title));
    let inner = popup(frame, area, &title, theme);
    let [body, keys] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    if list.entries.is_empty() {
        frame.render_widget(Paragraph::new("nothing to show"), body);
    } else {
        let width = body.width as usize;
        let items: Vec<ListItem> = list
            .entries
            .iter()
            .map(|e| ListItem::new(fit(&sanitize_line(&e.text), width)))
            .collect();
        frame.render_stateful_widget(
            List::new(items).highlight_style(theme.selected(true)),
            body,
            &mut list.state,
        );
    }
    frame.render_widget(
        Paragraph::new(keys_line(
            theme,
            &[("Enter", "go to row"), ("j/k", "move"), ("Esc", "close")],
        )),
        keys,
    );
}

pub fn search(frame: &mut Frame, theme: &Theme, input: &str, hints: Rect) {
    let area = Rect {
        y: hints.y.saturating_sub(3),
        height: 3,
        ..hints
    };
    let inner = popup(
        frame,
        area,
        " Search titles, text, authors, file names (Enter searches, Esc cancels) ",
        theme,
    );
    frame.render_widget(Paragraph::new(format!("/{}▏", sanitize_line(input))), inner);
}
