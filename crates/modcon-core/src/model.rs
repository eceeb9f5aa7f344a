//! The vocabulary of the forum: kinds of rows, their ids, and the Django
//! datetime text form. Pure functions only; no database access.

use std::fmt;

use anyhow::{Result, bail};
use chrono::{DateTime, Duration, NaiveDateTime, Timelike};
use serde::Serialize;

/// The three kinds of row the console moderates, parent before child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Thread,
    Post,
    Attachment,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Thread, Kind::Post, Kind::Attachment];

    pub fn table(self) -> &'static str {
        match self {
            Kind::Thread => "forum_thread",
            Kind::Post => "forum_post",
            Kind::Attachment => "forum_attachment",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Thread => "thread",
            Kind::Post => "post",
            Kind::Attachment => "attachment",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Thread => "threads",
            Kind::Post => "posts",
            Kind::Attachment => "attachments",
        }
    }

    pub fn parent(self) -> Option<Kind> {
        match self {
            Kind::Thread => None,
            Kind::Post => Some(Kind::Thread),
            Kind::Attachment => Some(Kind::Post),
        }
    }

    pub fn child(self) -> Option<Kind> {
        match self {
            Kind::Thread => Some(Kind::Post),
            Kind::Post => Some(Kind::Attachment),
            Kind::Attachment => None,
        }
    }

    /// The column of this kind's table that points at its parent.
    pub fn parent_column(self) -> Option<&'static str> {
        match self {
            Kind::Thread => None,
            Kind::Post => Some("thread_id"),
            Kind::Attachment => Some("post_id"),
        }
    }

    /// Threads and posts keep their deletion time in the console's own
    /// table; attachments carry `deleted_at` themselves.
    pub fn has_deleted_at_column(self) -> bool {
        self == Kind::Attachment
    }

    pub fn parse(text: &str) -> Result<Kind> {
        match text.to_ascii_lowercase().as_str() {
            "thread" | "threads" => Ok(Kind::Thread),
            "post" | "posts" => Ok(Kind::Post),
            "attachment" | "attachments" => Ok(Kind::Attachment),
            other => bail!("unknown kind {other:?}: expected thread, post or attachment"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the user typed to name a row: a whole id or a prefix of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdQuery {
    /// All 32 hex digits, lowercase, as Django stores a UUIDField.
    Full(String),
    /// At least four lowercase hex digits; must match exactly one row.
    Prefix(String),
}

pub const MIN_PREFIX: usize = 4;

impl IdQuery {
    /// Accepts the 32 hex digits, the dashed UUID form (any case), or a
    /// prefix of at least four hex digits (dashes of the UUID form allowed).
    pub fn parse(text: &str) -> Result<IdQuery> {
        let trimmed = text.trim();
        if trimmed.len() == 36
            && let Ok(uuid) = uuid::Uuid::try_parse(trimmed)
        {
            return Ok(IdQuery::Full(uuid.simple().to_string()));
        }
        let digits: String = trimmed.chars().filter(|c| *c != '-').collect();
        let valid_dashes = trimmed
            .char_indices()
            .filter(|(_, c)| *c == '-')
            .all(|(i, _)| [8, 13, 18, 23].contains(&i));
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) || !valid_dashes {
            bail!(
                "invalid id {:?}: expected 32 hex digits, a dashed UUID, or a prefix of at least {MIN_PREFIX} hex digits",
                trimmed
            );
        }
        let digits = digits.to_ascii_lowercase();
        match digits.len() {
            32 => Ok(IdQuery::Full(digits)),
            n if n > 32 => bail!("invalid id {digits:?}: longer than 32 hex digits"),
            n if n < MIN_PREFIX => {
                bail!("id prefix {digits:?} is too short: give at least {MIN_PREFIX} hex digits")
            }
            _ => Ok(IdQuery::Prefix(digits)),
        }
    }
}

/// Where a deleted thread's or post's deletion time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionSource {
    /// The console deleted it (exact).
    Console,
    /// The web app's moderation queue removed it (exact).
    ModerationAction,
    /// Deleted by someone else; when the console first saw it.
    FirstSeen,
}

impl DeletionSource {
    /// As `modcon_deletion.source` and `modcon_change` store it.
    pub fn stored(self) -> &'static str {
        match self {
            DeletionSource::Console => "console",
            DeletionSource::ModerationAction => "moderation",
            DeletionSource::FirstSeen => "seen",
        }
    }

    /// Reads a stored value, or a name as `conditions::deletion_source`
    /// gives it.
    pub fn parse(text: &str) -> Option<DeletionSource> {
        match text {
            "console" => Some(DeletionSource::Console),
            "moderation" | "moderation_action" => Some(DeletionSource::ModerationAction),
            "seen" | "first_seen" => Some(DeletionSource::FirstSeen),
            _ => None,
        }
    }
}

/// The part of a row that moderation changes: whether it is active, and
/// when it was deleted — for an attachment its `deleted_at` column exactly
/// as stored (a stale value on an active row included); for a thread or
/// post the deletion time and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowState {
    pub active: bool,
    pub deleted_at: Option<String>,
    /// Threads and posts: where `deleted_at` comes from (`None` while
    /// active or unknown). Always `None` for attachments.
    pub source: Option<DeletionSource>,
}

impl RowState {
    pub fn active() -> Self {
        RowState {
            active: true,
            deleted_at: None,
            source: None,
        }
    }

    /// Deleted by the console at `at`.
    pub fn deleted_by_console(kind: Kind, at: String) -> Self {
        RowState {
            active: false,
            deleted_at: Some(at),
            source: (kind != Kind::Attachment).then_some(DeletionSource::Console),
        }
    }
}

/// Parses every datetime form found in Django's SQLite databases:
/// `YYYY-MM-DD HH:MM:SS[.f{1,9}]`, with `T` as separator, and an optional
/// trailing `Z` or `±HH:MM` offset (converted to UTC). Anything else —
/// empty text, words, bare numbers — is `None`: unknown, never "expired".
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    parse_django_form(text).or_else(|| parse_any_form(text))
}

fn parse_any_form(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if text.len() < 19 || !text.is_ascii() {
        return None;
    }
    let bytes = text.as_bytes();
    if !(bytes[10] == b' ' || bytes[10] == b'T') {
        return None;
    }
    let (body, offset) = split_offset(text)?;
    let normalised = format!("{} {}", &body[..10], &body[11..]);
    let naive = NaiveDateTime::parse_from_str(&normalised, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    // `%.f` also accepts a bare trailing dot; Django never writes one.
    if body.ends_with('.') {
        return None;
    }
    naive.checked_sub_signed(Duration::seconds(offset))
}

/// Splits a trailing `Z` or `±HH:MM` offset from a datetime (ASCII, at
/// least 19 bytes), giving the offset in seconds east of UTC.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(body) = text.strip_suffix(['Z', 'z']) {
        return Some((body, 0));
    }
    let Some(at) = text[19..].find(['+', '-']) else {
        return Some((text, 0));
    };
    let (body, tail) = text.split_at(19 + at);
    let t = tail.as_bytes();
    if tail.len() != 6 || t[3] != b':' {
        return None;
    }
    let hours: i64 = tail[1..3].parse().ok()?;
    let minutes: i64 = tail[4..6].parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let sign = if t[0] == b'-' { -1 } else { 1 };
    Some((body, sign * (hours * 3600 + minutes * 60)))
}

/// Writes a datetime exactly as Django does on SQLite: microseconds, and no
/// fraction at all when they are zero.
pub fn format_datetime(dt: NaiveDateTime) -> String {
    let dt = truncate_to_micros(dt);
    if dt.nanosecond() == 0 {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

pub fn truncate_to_micros(dt: NaiveDateTime) -> NaiveDateTime {
    let nanos = dt.nanosecond() % 1_000_000_000;
    dt.with_nanosecond(nanos - nanos % 1000).unwrap_or(dt)
}

/// Normalises any accepted datetime text to the Django form, which sorts
/// correctly as text; `None` for anything unreadable.
pub fn canonical_datetime(text: &str) -> Option<String> {
    // Text Django wrote is kept as it is (a zero fraction it never writes).
    if let Some(dt) = parse_django_form(text)
        && (text.len() == 19 || dt.nanosecond() != 0)
    {
        return Some(text.to_owned());
    }
    parse_datetime(text).map(format_datetime)
}

/// Text exactly in Django's form, `YYYY-MM-DD HH:MM:SS` or with a six-digit
/// fraction, read byte by byte. Nearly every stored value has this form,
/// and a count or a frame meets thousands of them; anything else is left
/// to the general parser (`None`).
fn parse_django_form(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19 && b.len() != 26 {
        return None;
    }
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b[i] != c) || (b.len() == 26 && b[19] != b'.') {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = number(0, 4).filter(|y| *y >= 1)?;
    let micros = if b.len() == 26 { number(20, 26)? } else { 0 };
    // A leap second (:60) is left to the general parser.
    let second = number(17, 19).filter(|s| *s < 60)?;
    chrono::NaiveDate::from_ymd_opt(year as i32, number(5, 7)?, number(8, 10)?)?.and_hms_micro_opt(
        number(11, 13)?,
        number(14, 16)?,
        second,
        micros,
    )
}

/// The current time, truncated to what Django stores.
pub fn utc_now() -> NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

/// Parses the `--now` option: any datetime form above, or RFC 3339.
pub fn parse_now(text: &str) -> Result<NaiveDateTime> {
    if let Some(dt) = parse_datetime(text) {
        return Ok(truncate_to_micros(dt));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Ok(truncate_to_micros(dt.naive_utc()));
    }
    bail!("invalid time {text:?}: expected YYYY-MM-DD HH:MM:SS[.ffffff] in UTC")
}

/// How many rows of each kind (and files) an action touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub threads: i64,
    pub posts: i64,
    pub attachments: i64,
    pub files: i64,
}

impl Tally {
    pub fn add(&mut self, kind: Kind, n: i64) {
        match kind {
            Kind::Thread => self.threads += n,
            Kind::Post => self.posts += n,
            Kind::Attachment => self.attachments += n,
        }
    }

    pub fn of(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Thread => self.threads,
            Kind::Post => self.posts,
            Kind::Attachment => self.attachments,
        }
    }

    pub fn rows(&self) -> i64 {
        self.threads + self.posts + self.attachments
    }

    pub fn merge(&mut self, other: &Tally) {
        self.threads += other.threads;
        self.posts += other.posts;
        self.attachments += other.attachments;
        self.files += other.files;
    }

    /// "2 posts, 5 attachments" — the kinds with a count, or "nothing".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for kind in Kind::ALL {
            let n = self.of(kind);
            if n > 0 {
                parts.push(plural(n, kind));
            }
        }
        if self.files > 0 {
            parts.push(format!(
                "{} file{}",
                self.files,
                if self.files == 1 { "" } else { "s" }
            ));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// "1 post", "3 posts".
pub fn plural(n: i64, kind: Kind) -> String {
    if n == 1 {
        format!("1 {kind}")
    } else {
        format!("{n} {}", kind.plural())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    /// Text in Django's own form, read byte by byte, reads as the general
    /// parser reads it, and is kept exactly as writing it again would give,
    /// for every shape of value.
    #[test]
    fn django_form_is_read_and_kept_exactly_as_the_general_parser_would() {
        let check = |t: &str| {
            assert_eq!(parse_datetime(t), parse_any_form(t), "{t:?}");
            assert_eq!(
                canonical_datetime(t),
                parse_any_form(t).map(format_datetime),
                "{t:?}"
            );
        };
        for text in [
            "2026-10-12 07:48:53",
            "2026-10-12 07:48:53.361151",
            "2026-10-12 07:48:53.000000",
            "2026-10-12 07:48:53.000001",
            "2024-02-29 23:59:59",
            "2026-02-29 00:00:00",
            "2026-04-31 00:00:00",
            "2026-13-01 00:00:00",
            "2026-00-10 00:00:00",
            "2026-10-12 24:00:00",
            "2026-10-12 23:60:00",
            "2026-10-12 23:59:60",
            "0001-01-01 00:00:00",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59.999999",
            "2026-10-12T07:48:53",
            "2026-10-12 07:48:53Z",
            " 2026-10-12 07:48:53",
            "2026-10-12 07:48:5x",
            "2026-1a-12 07:48:53",
            "2026-10-12 07:48:53.36115",
            "2026-10-12 07:48:53.3611519",
            "+026-10-12 07:48:53",
            "2026-10-12 07:48:53.+61151",
        ] {
            check(text);
        }
        proptest::proptest!(|(y in 0u32..10000, mo in 0u32..14, d in 0u32..33,
                              h in 0u32..26, mi in 0u32..62, s in 0u32..62,
                              f in proptest::option::of(0u32..1_000_000))| {
            let mut text = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if let Some(f) = f {
                text.push_str(&format!(".{f:06}"));
            }
            check(&text);
        });
    }

    #[test]
    fn reads_every_django_form() {
        let want = dt("2026-10-12 07:48:53.361151");
        for form in [
            "2026-10-12 07:48:53.361151",
            "2026-10-12T07:48:53.361151",
            "2026-10-12 07:48:53.361151Z",
            "2026-10-12T07:48:53.361151+00:00",
            "2026-10-12 09:48:53.361151+02:00",
        ] {
            assert_eq!(parse_datetime(form), Some(want), "{form}");
        }
        assert_eq!(
            parse_datetime("2026-10-12 07:48:53"),
            Some(dt("2026-10-12 07:48:53"))
        );
        assert_eq!(
            parse_datetime("2026-10-12 07:48:53+00:00"),
            Some(dt("2026-10-12 07:48:53"))
        );
    }

    #[test]
    fn garbage_is_unknown() {
        for bad in [
            "",
            "yesterday",
            "12345",
            "0",
            "2026-13-01 00:00:00",
            "2026-10-12",
            "2026-10-12 25:00:00",
            "2026-10-12 07:48:53.",
            "2026-10-12x07:48:53",
            "२०२६-10-12 07:48:53",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn writes_the_django_form() {
        assert_eq!(
            format_datetime(dt("2026-10-12 07:48:53.361151")),
            "2026-10-12 07:48:53.361151"
        );
        assert_eq!(
            format_datetime(dt("2026-10-12 07:48:53")),
            "2026-10-12 07:48:53"
        );
        assert_eq!(
            format_datetime(dt("2026-10-12 07:48:53.000001")),
            "2026-10-12 07:48:53.000001"
        );
        // Nanoseconds are cut, as Django's microsecond field would.
        assert_eq!(
            format_datetime(dt("2026-10-12 07:48:53.123456789")),
            "2026-10-12 07:48:53.123456"
        );
    }

    #[test]
    fn ids_in_every_accepted_form() {
        let full = "5d4f91872e1c4ab9912e3ba58775da8b";
        assert_eq!(IdQuery::parse(full).unwrap(), IdQuery::Full(full.into()));
        assert_eq!(
            IdQuery::parse("5D4F9187-2E1C-4AB9-912E-3BA58775DA8B").unwrap(),
            IdQuery::Full(full.into())
        );
        assert_eq!(
            IdQuery::parse("5d4f").unwrap(),
            IdQuery::Prefix("5d4f".into())
        );
        assert_eq!(
            IdQuery::parse("5d4f9187-2e1c").unwrap(),
            IdQuery::Prefix("5d4f91872e1c".into())
        );
        for bad in [
            "5d4",
            "",
            "xyz12",
            "5d4f91872e1c4ab9912e3ba58775da8b0",
            "5d-4f9",
            "../../etc",
        ] {
            assert!(IdQuery::parse(bad).is_err(), "{bad:?}");
        }
    }
}
