//! Dialogs and overlays: help, the confirmation, information dialogs, the
//! purge dialog and its gauge, list overlays (search results, the log,
//! messages), the check view, the search input. Every dialog wraps its
//! text and takes the height the text needs (scrolling when the screen is
//! shorter); its key line comes from the keymap, for the keys that work.

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, List, ListItem, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::centered;
use crate::display::{ago, fit, sanitize_line, short_id, wrap};
use crate::tui::app::{
    App, CheckView, Confirm, Entry, Field, Info, Level, Problem, ProblemKind, PurgeDialog, Results,
};
use crate::tui::executor::{Op, Preview};
use crate::tui::keymap::{Action, Keymap, Layer};
use crate::tui::theme::{Theme, marker};
use modcon_core::check::CheckReport;
use modcon_core::flags::ReviewAction;
use modcon_core::model::Kind;
use modcon_core::model::{Tally, plural};
use modcon_core::query::Hit;

/// The widest a dialog gets, and the room kept around it.
const DIALOG_WIDTH: u16 = 76;

pub(super) fn popup(frame: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(
            fit(title, area.width.saturating_sub(2) as usize),
            theme.border(true).add_modifier(Modifier::BOLD),
        ))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// The open dialog's keys, from the keymap: every key of each action that
/// works now, "y delete   n/Esc/Enter cancel (the default)".
pub fn keys_line(app: &App) -> Line<'static> {
    let layer = app.layer();
    let mut spans = Vec::new();
    let mut seen = Vec::new();
    for b in app.keymap.bindings.iter().filter(|b| b.layer == layer) {
        let Some(label) = b.hint else { continue };
        if seen.contains(&b.action) || !app.works(b.action) {
            continue;
        }
        seen.push(b.action);
        let keys = app
            .keymap
            .bindings
            .iter()
            .filter(|o| o.layer == layer && o.action == b.action)
            .map(|o| o.key.to_string())
            .collect::<Vec<_>>()
            .join("/");
        let label = match (layer, b.action, &app.overlay) {
            (Layer::Confirm, Action::Confirm, Some(crate::tui::app::Overlay::Confirm(c))) => {
                c.op.verb().to_string()
            }
            (Layer::Confirm, Action::Cancel, _) => "cancel (default)".to_string(),
            (Layer::QuitConfirm, Action::Cancel, _) => "stay (default)".to_string(),
            (Layer::PurgeSetup, Action::ConfirmPurge, _) => "purge (capital)".to_string(),
            _ => label.to_string(),
        };
        spans.push(Span::styled(keys, app.theme.key()));
        spans.push(Span::raw(format!(" {label}   ")));
    }
    Line::from(spans)
}

/// A dialog of wrapped lines, sized to them: at most `DIALOG_WIDTH` wide
/// and the screen's height; the lines scroll when they do not fit.
fn text_dialog(frame: &mut Frame, app: &App, title: &str, lines: Vec<Line<'static>>, scroll: u16) {
    let screen = frame.area();
    let keys = keys_line(app);
    // As wide as the longest line needs, within the dialog width.
    let longest = lines
        .iter()
        .chain(std::iter::once(&keys))
        .map(|l| l.width())
        .max()
        .unwrap_or(0) as u16;
    let width = (longest + 2)
        .max(title.width() as u16 + 4)
        .max(40)
        .min(dialog_width(screen));
    let height = (lines.len() as u16 + 4).min(screen.height.saturating_sub(2));
    let area = centered(screen, width, height);
    let inner = popup(frame, area, title, &app.theme);
    let [body, _, keys_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body);
    frame.render_widget(Paragraph::new(keys), keys_area);
}

fn dialog_width(screen: Rect) -> u16 {
    DIALOG_WIDTH.min(screen.width.saturating_sub(4))
}

/// The text width inside a dialog on this screen.
fn text_width(screen: Rect) -> usize {
    dialog_width(screen).saturating_sub(2) as usize
}

/// Wrapped lines of sanitised text in one style.
fn wrapped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

/// The help's lines: the database, the status line's legend, the markers,
/// then every key of every layer.
fn help_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let heading = |t: &str| Line::from(Span::styled(t.to_string(), theme.key()));
    // Two columns in, continuation lines too.
    let plain = |t: String| -> Vec<Line<'static>> {
        wrap(t.trim_start(), width.saturating_sub(2))
            .into_iter()
            .map(|l| Line::from(format!("  {l}")))
            .collect()
    };
    let mut lines = vec![heading("Database")];
    lines.extend(plain(format!("  {}", sanitize_line(&app.db_path))));
    if app.read_only {
        lines.extend(plain("  opened read-only: nothing can be changed".into()));
    }
    if app.snapshot {
        lines.extend(plain(
            "  a snapshot: a WAL database read without its -wal and -shm (read-only, so none \
             is made), as the file was when opened; read again whenever the file changes"
                .into(),
        ));
    }
    lines.extend(plain(format!("  acting as {}", sanitize_line(&app.actor))));
    if let Some(c) = &app.counts.counts {
        for (kind, k) in [
            (Kind::Thread, &c.threads),
            (Kind::Post, &c.posts),
            (Kind::Attachment, &c.attachments),
        ] {
            lines.extend(plain(format!(
                "  {}: {} active, {} deleted, {} purgeable, {} held back, {} of unknown deletion time, {} violations",
                kind.plural(),
                k.active,
                k.deleted,
                k.purgeable,
                k.held_back,
                k.unknown_deletion_time,
                k.violations
            )));
        }
        if let Some(f) = c.flags {
            lines.extend(plain(format!(
                "  flags: {} pending, {} approved, {} rejected, {} removed",
                f.pending, f.approved, f.rejected, f.removed
            )));
        }
    }
    lines.push(Line::from(""));
    lines.push(heading("Status line"));
    lines.extend(plain(
        "  per kind active+deleted (x): threads (thr), posts (pst), attachments (att); \
         purgeable (P) at the retention; violations (!); pending flags of the web app's queue (F); \
         the focused pane's filter (f); \
         READ-ONLY: opened with --read-only; snapshot (snap): the data as the file was when opened, \
         read again whenever the file changes. Long counts: 12k = 12 thousand, 1.0M = a million."
            .into(),
    ));
    lines.push(Line::from(""));
    lines.push(heading("Markers"));
    lines.extend(plain(format!(
        "  {} active   {} deleted   {} purgeable (past retention)",
        marker::ACTIVE,
        marker::DELETED,
        marker::PURGEABLE
    )));
    lines.extend(plain(format!(
        "  {} past retention, held back by an active row below it",
        marker::HELD_BACK
    )));
    lines.extend(plain(format!(
        "  {} active under a deleted parent (the rules broken; see check)",
        marker::VIOLATION
    )));
    lines.extend(plain(
        "  20d: created 20 days ago   del 3d: deleted 3 days ago".into(),
    ));
    lines.extend(plain(
        "  seen 2d: found deleted 2 days ago   del ?: deletion time unknown".into(),
    ));
    lines.extend(plain(format!(
        "  {} marks the focused pane; 12/213: the selected row of the list",
        super::panes::FOCUS_MARK
    )));
    let mut layer = None;
    for (l, keys, description, off) in app.keymap.help(&|l, a| app.disabled(l, a)) {
        if layer != Some(l) {
            lines.push(Line::from(""));
            lines.push(heading(l.title()));
            layer = Some(l);
        }
        // A key that is off says why in its own column: "d (read-only)".
        let keys = match off {
            Some(off) => format!("{keys} ({})", off.short()),
            None => keys,
        };
        let described = wrap(description, width.saturating_sub(21).max(10));
        for (i, w) in described.into_iter().enumerate() {
            lines.push(Line::from(if i == 0 {
                format!("  {keys:<18} {w}")
            } else {
                format!("{:21}{w}", "")
            }));
        }
    }
    lines
}

fn help_area(screen: Rect) -> Rect {
    centered(
        screen,
        dialog_width(screen),
        screen.height.saturating_sub(2),
    )
}

pub fn help_max_scroll(app: &App) -> u16 {
    let area = help_area(app.area);
    let inner_height = area.height.saturating_sub(4) as usize;
    let lines = help_lines(app, area.width.saturating_sub(2) as usize).len();
    lines.saturating_sub(inner_height) as u16
}

pub fn help(frame: &mut Frame, app: &App, scroll: u16) {
    let area = help_area(frame.area());
    let lines = help_lines(app, area.width.saturating_sub(2) as usize);
    let max = help_max_scroll(app);
    let title = format!(" Help: every key ({}/{}) ", scroll.min(max) + 1, max + 1);
    let inner = popup(frame, area, &title, &app.theme);
    let [body, _, keys] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines).scroll((scroll.min(max), 0)), body);
    frame.render_widget(Paragraph::new(keys_line(app)), keys);
}

/// "  1 thread", "  12 posts" — the kinds with a count.
fn tally_lines(tally: &Tally, none: &str) -> Vec<Line<'static>> {
    let lines: Vec<Line> = Kind::ALL
        .iter()
        .filter(|k| tally.of(**k) != 0)
        .map(|k| Line::from(format!("  {}", plural(tally.of(*k), *k))))
        .collect();
    if lines.is_empty() {
        vec![Line::from(format!("  {none}"))]
    } else {
        lines
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

pub fn confirm(frame: &mut Frame, app: &App, c: &Confirm) {
    let theme = &app.theme;
    let width = text_width(frame.area());
    let title = match (&c.op, c.op.target()) {
        (Op::Review { action, target, .. }, _) => match action {
            ReviewAction::Approve => " Approve this flag? ".to_string(),
            ReviewAction::Reject => " Reject this flag? ".to_string(),
            ReviewAction::Warning => format!(" Warn the {}'s author? ", target.kind),
            ReviewAction::LockThread => " Lock the thread? ".to_string(),
            ReviewAction::RemovePost | ReviewAction::RemoveThread => {
                format!(" Remove this {}? ", target.kind)
            }
        },
        (_, Some(t)) => format!(" {} this {}? ", capitalise(c.op.verb()), t.kind),
        (_, None) => " Fix: delete every active row under a deleted parent? ".to_string(),
    };
    let mut lines = wrapped(&c.label, width, Style::default());
    if let Some(t) = c.op.target() {
        lines.extend(wrapped(&format!("{} {}", t.kind, t.id), width, theme.dim()));
    }
    lines.push(Line::from(""));
    match &c.preview {
        None => lines.push(Line::from("working out what this does…")),
        Some(Err(e)) => lines.extend(wrapped(&sanitize_line(e), width, theme.error())),
        Some(Ok(p)) if c.op.is_review() => lines.extend(review_lines(c, p, width, theme)),
        Some(Ok(p)) if p.changes.rows() == 0 => lines.push(Line::from(match c.op {
            Op::Delete(_) => "Already deleted: nothing would change.",
            Op::Restore(_) => "Already active: nothing would change.",
            _ => "Nothing to change.",
        })),
        Some(Ok(p)) => {
            let verb = match c.op {
                Op::Restore(_) => "This brings back:",
                _ => "This soft-deletes:",
            };
            lines.push(Line::from(verb));
            lines.extend(tally_lines(&p.changes, "nothing"));
            if matches!(c.op, Op::Restore(_)) {
                lines.push(Line::from("Stays deleted below it:"));
                lines.extend(tally_lines(&p.stay_deleted, "nothing"));
            }
            if matches!(c.op, Op::Delete(_) | Op::Fix) {
                lines.extend(wrapped(
                    "u undoes it; a purge removes it for good once past retention.",
                    width,
                    theme.dim(),
                ));
            }
        }
    }
    if c.changed {
        lines.extend(wrapped(
            "The rows changed since this opened: these are the new counts.",
            width,
            theme.warning(),
        ));
    }
    lines.push(Line::from(""));
    let reason_label = if c.op.is_review() {
        "Reason (required)"
    } else {
        "Reason (optional)"
    };
    let to_type = app.keymap.key(Layer::Confirm, Action::NextField);
    lines.extend(field_lines(
        theme,
        &to_type,
        reason_label,
        &c.reason,
        c.field == Some(Field::Reason),
        width,
    ));
    if let Some(notes) = &c.notes {
        lines.extend(field_lines(
            theme,
            &to_type,
            "Note (optional)",
            notes,
            c.field == Some(Field::Notes),
            width,
        ));
    }
    if c.field.is_some() {
        lines.extend(wrapped(
            &format!(
                "Typing: {} when done (it never confirms), {} for the next field.",
                app.keymap.key(Layer::TextField, Action::Submit),
                app.keymap.key(Layer::TextField, Action::NextField)
            ),
            width,
            theme.dim(),
        ));
    }
    text_dialog(frame, app, &title, lines, 0);
}

/// What a review will do: the content change (a removal's cascade
/// counted), the flag's new status, the moderation action.
fn review_lines(c: &Confirm, p: &Preview, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Op::Review { action, target, .. } = &c.op else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    match action {
        ReviewAction::RemovePost | ReviewAction::RemoveThread => {
            lines.push(Line::from("This soft-deletes (the console's cascade):"));
            lines.extend(tally_lines(&p.changes, "nothing"));
        }
        ReviewAction::LockThread => lines.push(Line::from(match target.kind {
            modcon_core::model::Kind::Post => "This locks the post's thread.",
            _ => "This locks the thread.",
        })),
        _ => lines.extend(wrapped(
            &format!("The {} stays as it is.", target.kind),
            width,
            Style::default(),
        )),
    }
    lines.extend(wrapped(
        &format!(
            "The flag becomes {}; a moderation action records the reason. u undoes it all.",
            action.status()
        ),
        width,
        theme.dim(),
    ));
    lines
}

/// A text field: its label, then the text typed so far, wrapped, with a
/// cursor when it has the keyboard.
fn field_lines(
    theme: &Theme,
    to_type: &str,
    label: &str,
    text: &str,
    focused: bool,
    width: usize,
) -> Vec<Line<'static>> {
    let style = if focused {
        theme.selected(true)
    } else {
        theme.dim()
    };
    let mut shown = sanitize_line(text);
    if focused {
        shown.push('▏');
    } else if shown.is_empty() {
        shown.push_str(&format!("(none; {to_type} to type)"));
    }
    let prefix = format!("{label}: ");
    let room = width.saturating_sub(prefix.width()).max(10);
    let mut lines = Vec::new();
    for (i, part) in wrap(&shown, room).into_iter().enumerate() {
        let head = if i == 0 {
            prefix.clone()
        } else {
            " ".repeat(prefix.width())
        };
        lines.push(Line::from(vec![Span::raw(head), Span::styled(part, style)]));
    }
    lines
}

fn info_lines(info: &Info, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let style = match info.level {
        Level::Error => theme.error(),
        Level::Warning => theme.warning(),
        Level::Info => Style::default(),
    };
    wrapped(&info.text, width, style)
}

pub fn info_max_scroll(app: &App, info: &Info) -> u16 {
    let screen = app.area;
    let lines = info_lines(info, text_width(screen), &app.theme).len() as u16;
    let height = (lines + 4).min(screen.height.saturating_sub(2));
    lines.saturating_sub(height.saturating_sub(4))
}

pub fn info(frame: &mut Frame, app: &App, info: &Info) {
    let lines = info_lines(info, text_width(frame.area()), &app.theme);
    let title = format!(" {} ", info.title);
    text_dialog(frame, app, &title, lines, info.scroll);
}

/// A gauge: ratatui's, or in ASCII "[#####-----] batch 2/5".
fn gauge(frame: &mut Frame, area: Rect, theme: &Theme, ratio: f64, label: String) {
    if theme.ascii {
        let room = area.width.saturating_sub(label.width() as u16 + 5) as usize;
        let done = ((room as f64) * ratio).round() as usize;
        let bar = format!(
            "[{}{}] {label}",
            "#".repeat(done),
            "-".repeat(room.saturating_sub(done))
        );
        frame.render_widget(
            Paragraph::new(bar).block(Block::default().borders(Borders::ALL).title(" progress ")),
            area,
        );
        return;
    }
    frame.render_widget(
        Gauge::default()
            .block(Block::default().borders(Borders::ALL).title(" progress "))
            .gauge_style(theme.gauge())
            .ratio(ratio)
            .label(label),
        area,
    );
}

pub fn purge(frame: &mut Frame, app: &App, d: &PurgeDialog) {
    let theme = &app.theme;
    let screen = frame.area();
    let area = centered(screen, dialog_width(screen), 22);
    let title = if d.plan_only {
        " Purge plan (read-only: nothing will be removed) "
    } else {
        " Purge: hard-delete rows past retention "
    };
    let inner = popup(frame, area, title, theme);
    let width = inner.width as usize;
    // A plan alone (read-only) changes nothing: no reason to give.
    let field_rows = if d.plan_only { 2 } else { 3 };
    let [fields, body, keys] = Layout::vertical([
        Constraint::Length(field_rows),
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
    let reason_focused = d.field == crate::tui::app::PURGE_REASON_FIELD && d.running.is_none();
    let mut reason = sanitize_line(&d.reason);
    if reason_focused {
        reason.push('▏');
    }
    let reason_style = if reason_focused {
        theme.selected(true)
    } else {
        theme.dim()
    };
    let mut field_lines = vec![
        field("retention, days", &d.retention, d.field == 0),
        field("batch size", &d.batch, d.field == 1),
    ];
    if !d.plan_only {
        field_lines.push(Line::from(vec![
            Span::raw(format!("{:<16}", "reason, optional")),
            Span::styled(
                format!(
                    " {} ",
                    crate::display::fit_tail(&reason, width.saturating_sub(19))
                ),
                reason_style,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(field_lines), fields);
    frame.render_widget(Paragraph::new(keys_line(app)), keys);
    if let Some(run) = &d.running {
        let p = &run.progress;
        let ratio = if p.batches == 0 {
            0.0
        } else {
            (p.batch as f64 / p.batches as f64).min(1.0)
        };
        let [gauge_area, text] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(body);
        gauge(
            frame,
            gauge_area,
            theme,
            ratio,
            format!("batch {}/{}", p.batch, p.batches),
        );
        let mut lines = wrapped(
            &format!(
                "removed: {}",
                Tally {
                    files: 0,
                    ..p.removed
                }
                .describe()
            ),
            width,
            Style::default(),
        );
        lines.extend(wrapped(
            &format!(
                "files removed {}, missing {}, refused {}; rows skipped {}",
                p.removed.files, p.files_missing, p.files_refused, p.skipped
            ),
            width,
            Style::default(),
        ));
        if run.cancelling {
            lines.push(Line::from(Span::styled(
                "stopping after the batch in flight…",
                theme.warning(),
            )));
        }
        frame.render_widget(Paragraph::new(lines), text);
        return;
    }
    if let Some(finished) = &d.finished {
        frame.render_widget(Paragraph::new(report_lines(theme, finished, width)), body);
        return;
    }
    let mut lines = Vec::new();
    match &d.plan {
        None => lines.push(Line::from("working out the plan (dry run)…")),
        Some(Err(e)) => lines.extend(wrapped(&sanitize_line(e), width, theme.error())),
        Some(Ok(plan)) => {
            lines.push(Line::from(format!(
                "Deleted at or before {} ({}):",
                plan.cutoff.split('.').next().unwrap_or(&plan.cutoff),
                crate::display::batches(plan.batches)
            )));
            lines.extend(tally_lines(
                &Tally {
                    files: 0,
                    ..plan.removed
                },
                "nothing to purge",
            ));
            if plan.held_back.rows() > 0 {
                lines.extend(wrapped(
                    &format!(
                        "kept, an active row below them: {}",
                        plan.held_back.describe()
                    ),
                    width,
                    Style::default(),
                ));
            }
            if plan.removed.attachments > 0 {
                lines.extend(match &plan.media_root {
                    None => wrapped(
                        "Files: not counted, no media root is set (give --media-root); \
                         without one this purge is refused, as it would leave files behind.",
                        width,
                        theme.warning(),
                    ),
                    Some(_) => wrapped(
                        &format!(
                            "Files to remove: {} (and {} thumbnails); {} already missing, \
                             {} refused (outside the media root)",
                            plan.removed.files,
                            plan.thumbnails,
                            plan.files_missing,
                            plan.files_refused
                        ),
                        width,
                        Style::default(),
                    ),
                });
            }
            if !plan.skipped_rows.is_empty() {
                lines.push(Line::from(format!(
                    "skipped, referenced from other tables: {}",
                    plan.skipped_rows.len()
                )));
            }
            let warning = if d.plan_only {
                Vec::new()
            } else {
                wrapped(
                    "A purge cannot be undone: rows and their files are gone for good.",
                    width,
                    theme.warning(),
                )
            };
            // The counts and the warning always show whole; examples fill
            // what room is left.
            let room = (body.height as usize).saturating_sub(lines.len() + warning.len());
            for s in plan.samples.iter().take(5.min(room)) {
                lines.push(Line::from(Span::styled(
                    fit(
                        &format!(
                            "  {:<10} {:<30} deleted {}",
                            s.kind.name(),
                            fit(&sanitize_line(&s.name), 30),
                            ago(app.now, &s.deleted_at)
                        ),
                        width,
                    ),
                    theme.dim(),
                )));
            }
            lines.extend(warning);
        }
    }
    frame.render_widget(Paragraph::new(lines), body);
}

/// What a finished purge did.
fn report_lines(
    theme: &Theme,
    result: &Result<modcon_core::purge::PurgeReport, String>,
    width: usize,
) -> Vec<Line<'static>> {
    let report = match result {
        Err(e) => {
            return wrapped(
                &format!("The purge failed: {}", sanitize_line(e)),
                width,
                theme.error(),
            );
        }
        Ok(report) => report,
    };
    let mut lines = vec![Line::from(if report.cancelled {
        "Stopped after the batch in flight; purge again to continue.".to_string()
    } else {
        format!("Done in {}.", crate::display::batches(report.batches))
    })];
    lines.push(Line::from("Removed:"));
    lines.extend(tally_lines(
        &Tally {
            files: 0,
            ..report.removed
        },
        "nothing",
    ));
    lines.extend(wrapped(
        &format!(
            "Files: {} removed (and {} thumbnails), {} already missing, {} refused (outside the media root)",
            report.removed.files, report.thumbnails, report.files_missing, report.files_refused
        ),
        width,
        Style::default(),
    ));
    if report.skipped > 0 {
        lines.push(Line::from(format!(
            "Rows left in place: {}",
            report.skipped
        )));
    }
    for r in report.refused_paths.iter().take(3) {
        lines.extend(wrapped(
            &format!("  refused {:?}: {}", sanitize_line(&r.image), r.reason),
            width,
            theme.warning(),
        ));
    }
    lines
}

pub fn quit(frame: &mut Frame, app: &App) {
    let width = text_width(frame.area()).min(54);
    let lines = wrapped(
        "A purge is running. Quitting stops it after the batch in flight; a later purge continues.",
        width,
        Style::default(),
    );
    let screen = frame.area();
    let area = centered(screen, width as u16 + 2, lines.len() as u16 + 4);
    let inner = popup(frame, area, " Quit while purging? ", &app.theme);
    let [body, _, keys] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(lines), body);
    frame.render_widget(Paragraph::new(keys_line(app)), keys);
}

/// A search hit: kind and state, its thread, author, what matched.
fn search_line(h: &Hit) -> String {
    let who = h.author.as_deref().map(sanitize_line).unwrap_or_default();
    let thread = match h.kind {
        Kind::Thread => "(this thread)".to_string(),
        _ => sanitize_line(&h.thread_title),
    };
    let thread = crate::display::fit(&thread, 28);
    let pad = 28usize.saturating_sub(unicode_width::UnicodeWidthStr::width(thread.as_str()));
    format!(
        "{:<4} {} {thread}{} {who}: {}",
        match h.kind {
            Kind::Thread => "thr",
            Kind::Post => "post",
            Kind::Attachment => "att",
        },
        if h.is_active { "+" } else { "x" },
        " ".repeat(pad),
        sanitize_line(&h.text),
    )
}

/// One problem of the check report, as the check view lists it.
pub fn problem_line(report: &CheckReport, p: &Problem) -> String {
    let file =
        |id: &str, image: &str| format!("attachment {} {}", short_id(id), sanitize_line(image));
    match p.kind {
        ProblemKind::Violation => {
            let v = &report.violations[p.at];
            format!(
                "{} {} active under deleted {} {}",
                v.kind,
                short_id(&v.id),
                v.parent_kind,
                short_id(&v.parent_id)
            )
        }
        ProblemKind::UnknownTime => {
            let u = &report.unknown_deletion_time[p.at];
            format!(
                "{} {}{}",
                u.kind,
                short_id(&u.id),
                u.first_seen
                    .as_ref()
                    .map(|s| format!(": first seen deleted {}", s.split('.').next().unwrap_or(s)))
                    .unwrap_or_else(|| ": unknown".into())
            )
        }
        ProblemKind::MissingFile => {
            let f = &report.missing_files[p.at];
            file(&f.attachment_id, &f.image)
        }
        ProblemKind::UnsafePath => {
            let f = &report.unsafe_paths[p.at];
            format!(
                "{}: {}",
                file(&f.attachment_id, &f.image),
                sanitize_line(&f.reason)
            )
        }
        ProblemKind::UnreferencedFile => sanitize_line(&report.unreferenced_files[p.at]),
        ProblemKind::UnreferencedThumbnail => sanitize_line(&report.unreferenced_thumbnails[p.at]),
        ProblemKind::ForeignReference => sanitize_line(&report.foreign_references[p.at]),
    }
}

/// An entry of a list overlay, as shown.
fn entry_text(entry: &Entry, now: NaiveDateTime) -> String {
    match entry {
        Entry::Hit(h) => search_line(h),
        Entry::Log(e) => crate::display::log_line_short(e, now),
        Entry::Message { at, text } => format!(
            "{} {}",
            modcon_core::model::format_datetime(*at)
                .split('.')
                .next()
                .unwrap_or_default(),
            text
        ),
    }
}

pub fn results(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    now: NaiveDateTime,
    results: &mut Results,
) {
    let title = format!(" {} ", sanitize_line(&results.title));
    let inner = popup(frame, area, &title, theme);
    let header_rows = if results.header.is_empty() { 0 } else { 1 };
    let [header, body] =
        Layout::vertical([Constraint::Length(header_rows), Constraint::Min(1)]).areas(inner);
    if header_rows > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(&results.header, header.width as usize),
                theme.dim(),
            )),
            header,
        );
    }
    let width = body.width as usize;
    if results.entries.is_empty() {
        let nothing = match results.kind {
            crate::tui::app::ResultsKind::Search => "no hits",
            _ => "nothing to show",
        };
        frame.render_widget(Paragraph::new(nothing), body);
    } else {
        let items: Vec<ListItem> = results
            .entries
            .iter()
            .map(|e| {
                // A whole message wraps; other entries keep to one line.
                let text = entry_text(e, now);
                let lines: Vec<Line> = if results.kind == crate::tui::app::ResultsKind::Messages {
                    wrap(&text, width).into_iter().map(Line::from).collect()
                } else {
                    vec![Line::from(fit(&text, width))]
                };
                ListItem::new(lines)
            })
            .collect();
        frame.render_stateful_widget(
            List::new(items).highlight_style(theme.selected(true)),
            body,
            &mut results.state,
        );
    }
}

pub fn check(frame: &mut Frame, area: Rect, theme: &Theme, keymap: &Keymap, view: &mut CheckView) {
    let report = &view.report;
    let title = format!(
        " Check: {} problems{} ",
        report.problems(),
        if report.files_checked {
            ""
        } else {
            " (files not checked: no media root)"
        }
    );
    let inner = popup(frame, area, &title, theme);
    let width = inner.width as usize;
    let mut summary = crate::tui::app::ProblemKind::ALL
        .iter()
        .filter(|k| view.count(**k) > 0)
        .map(|k| format!("{} {}", view.count(*k), k.title()))
        .collect::<Vec<_>>()
        .join(" · ");
    if summary.is_empty() {
        summary = "nothing breaks the rules".into();
    }
    let mut head = wrapped(&summary, width, Style::default());
    let filter = keymap.key(Layer::Check, Action::Filter);
    let showing = match view.only {
        Some(k) => format!("showing: {} ({filter}: next kind)", k.title()),
        None => format!("showing: every kind ({filter}: one kind at a time)"),
    };
    head.push(Line::from(Span::styled(fit(&showing, width), theme.dim())));
    if report.stamped > 0 {
        head.extend(wrapped(
            &format!(
                "This check stamped {} deleted row{} of unknown time as first seen now: the retention clock starts today.",
                report.stamped,
                if report.stamped == 1 { "" } else { "s" }
            ),
            width,
            theme.warning(),
        ));
    }
    let head_rows = (head.len() as u16).min(inner.height.saturating_sub(2));
    let [head_area, body] =
        Layout::vertical([Constraint::Length(head_rows), Constraint::Min(1)]).areas(inner);
    frame.render_widget(Paragraph::new(head), head_area);
    let items: Vec<ListItem> = view
        .shown()
        .into_iter()
        .map(|(problem, kind)| match problem {
            None => {
                let heading = format!("{} ({})", kind.title(), view.count(kind));
                ListItem::new(Line::from(Span::styled(fit(&heading, width), theme.key())))
            }
            Some(p) => ListItem::new(fit(&format!("  {}", problem_line(report, p)), width)),
        })
        .collect();
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selected(true)),
        body,
        &mut view.state,
    );
}

pub fn search(frame: &mut Frame, theme: &Theme, keymap: &Keymap, input: &str, hints: Rect) {
    let area = Rect {
        y: hints.y.saturating_sub(3),
        height: 3,
        ..hints
    };
    let inner = popup(
        frame,
        area,
        &format!(
            " Search titles, text, authors, file names ({} searches, {} cancels) ",
            keymap.key(Layer::Input, Action::Submit),
            keymap.key(Layer::Input, Action::Cancel)
        ),
        theme,
    );
    frame.render_widget(Paragraph::new(format!("/{}▏", sanitize_line(input))), inner);
}
