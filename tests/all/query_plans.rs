//! The hot queries use an index, on a database with the web app's indexes
//! and no statistics (as real ones are): EXPLAIN QUERY PLAN asserted.

use crate::support;

use modcon_core::conditions as cond;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::model::Kind;
use modcon_core::purge;
use modcon_core::query::{self, Cursor, ListQuery};

fn plan(db: &Db, sql: &str) -> String {
    // Parameters stay unbound (NULL): EXPLAIN needs no values.
    let mut stmt = db
        .sqlite("test")
        .unwrap()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let mut rows = stmt.raw_query();
    let mut lines = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        lines.push(row.get::<_, String>(3).unwrap());
    }
    lines.join("\n")
}

fn open_demo() -> (support::Demo, Db) {
    let demo = support::demo(10, 2);
    let db = Db::open(&demo.db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    (demo, db)
}

#[test]
fn invariant_and_descendant_checks_look_up_by_parent() {
    let (_demo, db) = open_demo();
    for kind in [Kind::Post, Kind::Attachment] {
        let p = plan(
            &db,
            &cond::violating_rows(modcon_core::sql::Dialect::Sqlite, kind),
        );
        assert!(
            !p.contains("is_active_4bfc911a"),
            "{kind}: walks every active row:\n{p}"
        );
        assert!(
            p.contains("USING INDEX") || p.contains("USING COVERING INDEX"),
            "{kind}:\n{p}"
        );
    }
    let p = plan(
        &db,
        &format!(
            "SELECT t.id FROM forum_thread t WHERE t.id = :id AND {}",
            cond::purgeable(modcon_core::sql::Dialect::Sqlite, Kind::Thread, "t")
        ),
    );
    assert!(!p.contains("SCAN"), "a thread's purge check scans:\n{p}");
    assert!(!p.contains("is_active_4bfc911a"), "{p}");
    let p = plan(
        &db,
        &format!(
            "SELECT p.id FROM forum_post p WHERE p.id = :id AND {}",
            cond::purgeable(modcon_core::sql::Dialect::Sqlite, Kind::Post, "p")
        ),
    );
    assert!(!p.contains("SCAN"), "a post's purge check scans:\n{p}");
}

#[test]
fn pages_are_keyset_searches() {
    let (_demo, db) = open_demo();
    let schema = db.schema().clone();
    let after = Some(Cursor {
        created_at: "2026-01-01 00:00:00".into(),
        id: "0".repeat(32),
    });
    let threads = ListQuery {
        kind: Some(Kind::Thread),
        limit: 200,
        after,
        ..ListQuery::default()
    };
    let p = plan(
        &db,
        &query::list_sql(modcon_core::sql::Dialect::Sqlite, &schema, &threads).unwrap(),
    );
    assert!(
        p.contains("SEARCH t USING INDEX forum_thread_created_idx"),
        "{p}"
    );
    let posts = ListQuery {
        kind: Some(Kind::Post),
        thread: Some("x".into()),
        limit: 200,
        ..ListQuery::default()
    };
    let p = plan(
        &db,
        &query::list_sql(modcon_core::sql::Dialect::Sqlite, &schema, &posts).unwrap(),
    );
    assert!(p.contains("SEARCH p USING INDEX"), "{p}");
    let atts = ListQuery {
        kind: Some(Kind::Attachment),
        post: Some("x".into()),
        limit: 200,
        ..ListQuery::default()
    };
    let p = plan(
        &db,
        &query::list_sql(modcon_core::sql::Dialect::Sqlite, &schema, &atts).unwrap(),
    );
    assert!(p.contains("SEARCH a USING INDEX"), "{p}");
}

#[test]
fn counts_read_deleted_rows_by_index_and_work_out_each_deletion_time_once() {
    let (_demo, db) = open_demo();
    for kind in Kind::ALL {
        let [total, deleted, states, _violating] =
            query::count_sql(modcon_core::sql::Dialect::Sqlite, kind);
        // Counting rows and deleted rows reads index entries, never a row.
        for sql in [&total, &deleted] {
            let p = plan(&db, sql);
            assert!(p.contains("USING COVERING INDEX"), "{kind}: {sql}\n{p}");
        }
        // The states of deleted rows: the deleted rows found by an index,
        // in a subquery of its own (a co-routine), so each row's deletion
        // time is worked out once, not once per condition that uses it.
        let p = plan(&db, &states);
        let lines: Vec<&str> = p.lines().collect();
        let inner = lines
            .iter()
            .position(|l| *l == "CO-ROUTINE r")
            .unwrap_or_else(|| panic!("{kind}: merged into the sums:\n{p}"));
        assert!(
            lines[inner + 1].starts_with("SCAN r USING INDEX")
                || lines[inner + 1].starts_with("SEARCH r USING INDEX")
                || lines[inner + 1].starts_with("SEARCH r USING COVERING INDEX"),
            "{kind}: deleted rows not found by index:\n{p}"
        );
        // After `modcon migrate`, deleted attachments' and posts' times
        // come from an index alone, not from each row.
        let index = match kind {
            Kind::Attachment => "COVERING INDEX modcon_deleted_attachment_time",
            Kind::Post => "COVERING INDEX modcon_deleted_post_time",
            Kind::Thread => "",
        };
        assert!(lines[inner + 1].contains(index), "{kind}:\n{p}");
    }
}

/// The top-level steps of a plan (not those of its subqueries).
fn top_plan(db: &Db, sql: &str) -> Vec<String> {
    let mut stmt = db
        .sqlite("test")
        .unwrap()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let mut rows = stmt.raw_query();
    let mut top = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        if row.get::<_, i64>(1).unwrap() == 0 {
            top.push(row.get::<_, String>(3).unwrap());
        }
    }
    top
}

#[test]
fn the_last_page_and_the_page_above_are_read_backwards_by_index() {
    let (_demo, db) = open_demo();
    let schema = db.schema().clone();
    let cursor = Some(Cursor {
        created_at: "2026-01-01 00:00:00".into(),
        id: "0".repeat(32),
    });
    for q in [
        // `G`: the list's last page.
        ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            from_end: true,
            ..ListQuery::default()
        },
        // The page above a window.
        ListQuery {
            kind: Some(Kind::Thread),
            limit: 200,
            before: cursor,
            ..ListQuery::default()
        },
    ] {
        let top = top_plan(
            &db,
            &query::list_sql(modcon_core::sql::Dialect::Sqlite, &schema, &q).unwrap(),
        );
        // The index gives the order; only rows of equal time are sorted
        // among themselves, so the read stops after the page.
        assert!(
            top.iter().any(
                |l| l.starts_with("SCAN t USING INDEX forum_thread_created_idx")
                    || l.starts_with("SEARCH t USING INDEX forum_thread_created_idx")
            ),
            "{top:?}"
        );
        assert!(
            !top.iter().any(|l| l == "USE TEMP B-TREE FOR ORDER BY"),
            "the whole list is sorted: {top:?}"
        );
    }
}

#[test]
fn purge_finds_shared_file_names_by_index_after_migrate() {
    let (_demo, db) = open_demo();
    let p = plan(
        &db,
        "SELECT DISTINCT image FROM forum_attachment WHERE image IN ('a', 'b')",
    );
    assert!(p.contains("modcon_purge_attachment_image"), "{p}");
}

#[test]
fn deletion_times_look_up_the_moderation_queue_and_the_records_by_row() {
    let (_demo, db) = open_demo();
    for kind in [Kind::Thread, Kind::Post] {
        let p = plan(
            &db,
            &format!(
                "SELECT r.id FROM {} r WHERE r.id = :id AND {} AND {}",
                kind.table(),
                cond::purgeable(modcon_core::sql::Dialect::Sqlite, kind, "r"),
                cond::deletion_source(modcon_core::sql::Dialect::Sqlite, kind, "r")
            ),
        );
        assert!(!p.contains("SCAN"), "{kind}:\n{p}");
        // Never every removal in the forum for each row.
        assert!(!p.contains("forum_modaction_type_idx"), "{kind}:\n{p}");
        assert!(
            p.contains("SEARCH ma USING INDEX forum_modaction_flag_idx"),
            "{kind}:\n{p}"
        );
        assert!(
            p.contains(&format!("forum_flaggedcontent_{kind}_id")),
            "{kind}:\n{p}"
        );
    }
}

/// A copy of the Django-made fixture, opened as a purge opens it
/// (read-write, so with the console's own tables and their indexes): the
/// web app's own indexes, none of the purge indexes of `modcon migrate`.
fn open_fixture() -> (support::Fixture, Db) {
    let fx = support::fixture();
    let db = Db::open(&fx.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    (fx, db)
}

/// Plan lines that scan a table rather than look rows up: only the
/// purge's own work table (aliased d) and the batch's ids (a parameter,
/// aliased b) may be scanned.
fn forum_scans(plan: &str) -> Vec<String> {
    plan.lines()
        .filter(|l| {
            l.contains("SCAN")
                && ![
                    "SCAN b",
                    "SCAN d",
                    "SCAN json_each VIRTUAL TABLE",
                    "SCAN temp.modcon_doomed",
                ]
                .iter()
                .any(|ok| l.contains(ok))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_purge_batch_statement_looks_rows_up_by_index_without_modcons_indexes() {
    let (_fx, db) = open_fixture();
    let (_demo, migrated) = open_demo();
    for db in [&db, &migrated] {
        let statements = purge::batch_statements(db.sqlite("test").unwrap(), db.schema()).unwrap();
        assert!(statements.len() >= 15, "{statements:#?}");
        for sql in statements {
            let p = plan(db, &sql);
            assert!(forum_scans(&p).is_empty(), "{sql}\n{p}");
        }
    }
}

#[test]
fn a_purge_plan_finds_deleted_attachments_by_index_and_the_rest_by_the_purge_indexes() {
    let (_fx, db) = open_fixture();
    for (kind, sql) in purge::plan_statements(db.sqlite("test").unwrap()).unwrap() {
        let p = plan(&db, &sql);
        // The web app's own is_active index finds the deleted attachments;
        // threads and posts (far fewer rows) are read whole without it.
        if kind == Kind::Attachment {
            assert!(
                p.contains("SEARCH r USING INDEX forum_attachment_is_active_4bfc911a"),
                "{kind}:\n{p}"
            );
        }
    }
    let (_demo, migrated) = open_demo();
    for (kind, sql) in purge::plan_statements(migrated.sqlite("test").unwrap()).unwrap() {
        let p = plan(&migrated, &sql);
        // One of migrate's partial indexes of deleted rows (or, for
        // attachments, the web app's own is_active index).
        let by_index = p.contains(&format!("INDEX modcon_purge_{kind}"))
            || p.contains(&format!("INDEX modcon_deleted_{kind}_time"))
            || (kind == Kind::Attachment && p.contains("forum_attachment_is_active_4bfc911a"));
        assert!(
            by_index && !p.lines().any(|l| l.trim() == "SCAN r"),
            "{kind}: after migrate an index finds the deleted rows:\n{p}"
        );
    }
}
