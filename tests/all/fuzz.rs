//! Property tests for what reads untrusted text: id parsing, datetime
//! parsing and the terminal sanitiser. None may panic; the sanitiser never
//! lets a control character through; a datetime the console writes reads
//! back as itself.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use modcon::display::{sanitize_line, sanitize_text};
use modcon_core::model::{IdQuery, canonical_datetime, format_datetime, parse_datetime};
use proptest::prelude::*;

/// Characters that reorder text: the sanitiser shows them as `<U+XXXX>`.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Text weighted towards what attacks a terminal: C0, DEL, C1, ESC
/// sequences, bidi controls, wide and combining characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(String::from),
        2 => proptest::char::range('\u{0}', '\u{1f}').prop_map(String::from),
        1 => proptest::char::range('\u{7f}', '\u{9f}').prop_map(String::from),
        1 => prop::sample::select(vec!['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
                                       '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}',
                                       '\u{200f}', '\u{061c}'])
            .prop_map(String::from),
        2 => prop::sample::select(vec!["\u{1b}[", "\u{1b}]0;", "\u{1b}[2J", "\u{1b}P", "\u{9b}",
                                       "\u{1b}\\", "\r\n", "\n", "\t", "冬", "e\u{301}", "\u{7}"])
            .prop_map(String::from),
        2 => "[a-z ]{1,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Datetimes Django can store: years 1 to 9999, microsecond precision.
fn django_datetime() -> impl Strategy<Value = NaiveDateTime> {
    (
        1i32..=9999,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000,
    )
        .prop_filter_map("a real calendar date", |(y, mo, d, h, mi, s, us)| {
            NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_micro_opt(h, mi, s, us)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn id_parsing_never_panics(text in any::<String>()) {
        let _ = IdQuery::parse(&text);
    }

    #[test]
    fn id_parsing_accepts_exactly_hex_ids_and_prefixes(text in "[0-9a-fA-F-]{0,40}") {
        let digits: String = text.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
        match IdQuery::parse(&text) {
            Ok(IdQuery::Full(id)) => {
                prop_assert_eq!(id.len(), 32);
                prop_assert_eq!(id, digits);
            }
            Ok(IdQuery::Prefix(prefix)) => {
                prop_assert!((4..32).contains(&prefix.len()), "{:?}", prefix);
                prop_assert_eq!(prefix, digits);
            }
            Err(_) => prop_assert!(
                digits.len() < 4 || digits.len() > 32 || text.contains('-'),
                "refused {:?}", text
            ),
        }
    }

    #[test]
    fn every_form_of_a_uuid_names_the_same_row(value in any::<u128>(), upper in any::<bool>()) {
        let uuid = uuid::Uuid::from_u128(value);
        let simple = uuid.simple().to_string();
        for form in [simple.clone(), uuid.hyphenated().to_string()] {
            let form = if upper { form.to_ascii_uppercase() } else { form };
            prop_assert_eq!(IdQuery::parse(&form).unwrap(), IdQuery::Full(simple.clone()));
            prop_assert_eq!(
                IdQuery::parse(&form[..8]).unwrap(),
                IdQuery::Prefix(simple[..8].to_string())
            );
        }
    }

    #[test]
    fn datetime_parsing_never_panics(text in any::<String>()) {
        let _ = parse_datetime(&text);
        let _ = canonical_datetime(&text);
    }

    #[test]
    fn near_datetimes_never_panic(text in "[0-9 T:.Zz+-]{15,40}") {
        if let Some(dt) = parse_datetime(&text) {
            // Whatever is accepted is written back in the Django form,
            // which reads as the same moment.
            prop_assert_eq!(parse_datetime(&format_datetime(dt)), Some(dt));
        }
    }

    #[test]
    fn written_datetimes_read_back_as_themselves(dt in django_datetime()) {
        let text = format_datetime(dt);
        prop_assert_eq!(parse_datetime(&text), Some(dt));
        prop_assert_eq!(canonical_datetime(&text), Some(text.clone()));
        // The Django form: a space, and six fraction digits or none.
        prop_assert_eq!(&text[10..11], " ");
        prop_assert!(text.len() == 19 || text.len() == 26, "{}", text);
        // The other forms the web app's data holds mean the same moment.
        let t = text.replacen(' ', "T", 1);
        for form in [t.clone(), format!("{text}Z"), format!("{t}+00:00"), format!(" {text} ")] {
            prop_assert_eq!(parse_datetime(&form), Some(dt), "{}", form);
        }
    }

    #[test]
    fn offsets_are_converted_to_utc(dt in django_datetime(), minutes in -(23 * 60 + 59)..=(23 * 60 + 59i64)) {
        let local = dt + Duration::minutes(minutes);
        let sign = if minutes < 0 { '-' } else { '+' };
        let text = format!(
            "{}{sign}{:02}:{:02}",
            format_datetime(local),
            minutes.abs() / 60,
            minutes.abs() % 60
        );
        prop_assume!(format_datetime(local).len() >= 19 && local.format("%Y").to_string().len() == 4);
        prop_assert_eq!(parse_datetime(&text), Some(dt), "{}", text);
    }

    #[test]
    fn sanitize_line_lets_no_control_through(text in hostile_text()) {
        let out = sanitize_line(&text);
        for c in out.chars() {
            prop_assert!(!c.is_control() && !is_bidi(c), "{:?} in {:?}", c, out);
        }
    }

    #[test]
    fn sanitize_line_on_any_string(text in any::<String>()) {
        let out = sanitize_line(&text);
        prop_assert!(!out.chars().any(|c| c.is_control() || is_bidi(c)), "{:?}", out);
    }

    #[test]
    fn sanitize_text_keeps_only_line_breaks(text in hostile_text()) {
        let out = sanitize_text(&text);
        for c in out.chars() {
            prop_assert!(c == '\n' || (!c.is_control() && !is_bidi(c)), "{:?} in {:?}", c, out);
        }
        // Every line break survives, and no other becomes one.
        prop_assert_eq!(out.matches('\n').count(), text.matches('\n').count());
    }

    #[test]
    fn plain_text_is_left_exactly_as_it_is(text in "[^\\p{Cc}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200e}\u{200f}\u{61c}]*") {
        prop_assert_eq!(sanitize_line(&text), text.clone());
        prop_assert_eq!(sanitize_text(&text), text);
    }
}
