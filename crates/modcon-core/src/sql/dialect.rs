//! The few expressions SQLite and PostgreSQL write differently, for the SQL
//! builders: everything else is written once, in SQL both understand.

/// Which SQL the database speaks. `conn.dialect()` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A datetime made comparable: on SQLite the `modcon_ts` function
    /// (Django's text, whatever form it was stored in), on PostgreSQL the
    /// timestamptz as it is.
    pub fn ts(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("modcon_ts({expr})"),
            Dialect::Postgres => expr.to_string(),
        }
    }

    /// A boolean literal: `1`/`0` on SQLite (Django stores integers there,
    /// and the partial indexes say `is_active = 0`), `true`/`false` on
    /// PostgreSQL (a boolean never equals an integer there).
    pub fn bool(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (Dialect::Postgres, true) => "true",
            (Dialect::Postgres, false) => "false",
        }
    }

    /// `a` and `b` are equal, NULLs included.
    pub fn same(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{a} IS {b}"),
            Dialect::Postgres => format!("{a} IS NOT DISTINCT FROM {b}"),
        }
    }

    /// A column kept out of index choice (SQLite's unary `+`; PostgreSQL
    /// plans by statistics and needs no hint).
    pub fn no_index(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("+{column}"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// A join whose order is fixed as written (SQLite's CROSS JOIN ... ON;
    /// PostgreSQL takes a plain JOIN, CROSS JOIN has no ON there).
    pub fn fixed_join(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CROSS JOIN",
            Dialect::Postgres => "JOIN",
        }
    }

    /// Ends a subquery that must be worked out on its own, not merged into
    /// the query around it.
    pub fn no_flatten(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIMIT -1",
            Dialect::Postgres => "OFFSET 0",
        }
    }

    /// Ends an `EXISTS` subquery that must run once per outer row, with the
    /// outer row's values bound into its index scans. PostgreSQL otherwise
    /// turns a correlated `EXISTS` into a join, and may test a comparison
    /// with the outer row only after joining every candidate row (SQLite
    /// always runs it per row).
    pub fn per_outer_row(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "OFFSET 0",
        }
    }

    /// The schema of a connection's own temporary tables and views.
    pub fn temp_schema(self) -> &'static str {
        match self {
            Dialect::Sqlite => "temp",
            Dialect::Postgres => "pg_temp",
        }
    }

    /// `haystack` contains `needle`, ignoring case; `needle` is taken
    /// literally (no wildcards).
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr(lower({haystack}), lower({needle})) > 0"),
            Dialect::Postgres => format!("strpos(lower({haystack}), lower({needle})) > 0"),
        }
    }
}

impl Dialect {
    /// A parameter (or expression) with its PostgreSQL type stated, where
    /// the server cannot infer it (a `SELECT` list feeding an `INSERT`);
    /// as it is on SQLite, which needs no type.
    pub fn typed(self, expr: &str, pg_type: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS {pg_type})"),
        }
    }

    /// A subquery of the elements of a JSON array of text bound to
    /// `param` (`serde_json::to_string(&ids)`), one row each, in a column
    /// named `value`, typed `pg_type` on PostgreSQL (`uuid` for ids, `bigint`
    /// for the console's own ids): `x.id IN ({list})`. One parameter
    /// whatever the list's length, on both backends.
    pub fn json_list(self, param: &str, pg_type: &str) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each({param})"),
            Dialect::Postgres => format!(
                "SELECT CAST(j.value AS {pg_type}) AS value \
                 FROM json_array_elements_text(CAST({param} AS text)::json) AS j(value)"
            ),
        }
    }
}

impl Dialect {
    /// The bounds of the ids that start with a hex `prefix`: `id >= lo AND
    /// id <= hi` finds them on both backends and reads an index. On SQLite
    /// the ids are text, and any text that starts with the prefix lies
    /// between it and the prefix followed by the highest character (odd
    /// ids included); on PostgreSQL they are uuids, between the prefix
    /// padded with 0s and with fs.
    pub fn id_prefix_range(self, prefix: &str) -> (String, String) {
        let prefix = prefix.to_ascii_lowercase();
        match self {
            Dialect::Sqlite => (prefix.clone(), format!("{prefix}{}", char::MAX)),
            Dialect::Postgres => {
                let pad = 32usize.saturating_sub(prefix.len());
                (
                    format!("{prefix}{}", "0".repeat(pad)),
                    format!("{prefix}{}", "f".repeat(pad)),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_spans_every_id_that_starts_with_it() {
        let (lo, hi) = Dialect::Postgres.id_prefix_range("ab12");
        assert_eq!(lo, format!("ab12{}", "0".repeat(28)));
        assert_eq!(hi, format!("ab12{}", "f".repeat(28)));
        let (lo, hi) = Dialect::Sqlite.id_prefix_range("ffff");
        for id in ["ffff0000", "ffff\u{1b}[2J", "ffffzz", "ffff"] {
            assert!(lo.as_str() <= id && id <= hi.as_str(), "{id}");
        }
        for id in ["fffe", "fff", "fffg"] {
            assert!(!(lo.as_str() <= id && id <= hi.as_str()), "{id}");
        }
    }
}
