//! The web app's flag queue: users flag posts and threads
//! (`forum_flaggedcontent`), moderators review them. Listing is open to
//! all. A review does what the web app's review endpoint does — the flag's
//! status and reviewer, one `forum_moderationaction` row — except that a
//! removal is the console's own delete, cascade included, and the whole
//! review is one transaction with its audit entry.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Map, Value};

use super::Ctx;
use super::audit::{self, Action, ColumnChange, LogEntry};
use super::db::Db;
use super::model::Tally;
use super::model::{IdQuery, Kind};
use super::rules::{self, LeftAlone, Outcome, Target};
use super::schema::{self, Schema};
use super::sql::{self, Conn, params};

const FLAGS: &str = "forum_flaggedcontent";
const ACTIONS: &str = "forum_moderationaction";

/// The auth group whose members may review, besides staff and superusers.
pub const MODERATORS_GROUP: &str = "Moderators";

/// What a moderator decides about a flag, as the web app names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Approve,
    Reject,
    RemovePost,
    RemoveThread,
    LockThread,
    Warning,
}

impl ReviewAction {
    pub const ALL: [ReviewAction; 6] = [
        ReviewAction::Approve,
        ReviewAction::Reject,
        ReviewAction::RemovePost,
        ReviewAction::RemoveThread,
        ReviewAction::LockThread,
        ReviewAction::Warning,
    ];

    /// As `forum_moderationaction.action_type` stores it.
    pub fn name(self) -> &'static str {
        match self {
            ReviewAction::Approve => "approve",
            ReviewAction::Reject => "reject",
            ReviewAction::RemovePost => "remove_post",
            ReviewAction::RemoveThread => "remove_thread",
            ReviewAction::LockThread => "lock_thread",
            ReviewAction::Warning => "warning",
        }
    }

    pub fn parse(text: &str) -> Result<ReviewAction> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        match ReviewAction::ALL.into_iter().find(|a| a.name() == wanted) {
            Some(a) => Ok(a),
            None => bail!(
                "unknown review action {:?}: expected approve, reject, remove_post, remove_thread, lock_thread or warning",
                text
            ),
        }
    }

    /// The flag's status after the review: the content stays (approve, and
    /// a lock or a warning, which act on the author or the thread), the
    /// flag was wrong (reject), or the content went (remove_*).
    pub fn status(self) -> &'static str {
        match self {
            ReviewAction::Approve | ReviewAction::LockThread | ReviewAction::Warning => {
                status::APPROVED
            }
            ReviewAction::Reject => status::REJECTED,
            ReviewAction::RemovePost | ReviewAction::RemoveThread => status::REMOVED,
        }
    }

    /// The content kind a removal needs its flag to be on.
    pub fn needs(self) -> Option<Kind> {
        match self {
            ReviewAction::RemovePost => Some(Kind::Post),
            ReviewAction::RemoveThread => Some(Kind::Thread),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReviewAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `forum_flaggedcontent.status` values.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const REMOVED: &str = "removed";
    pub const ALL: [&str; 4] = [PENDING, APPROVED, REJECTED, REMOVED];
}

/// One flag, as the queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagRow {
    pub id: String,
    /// `post` or `thread`.
    pub content_type: String,
    pub post_id: Option<String>,
    pub thread_id: Option<String>,
    pub flag_reason: String,
    pub explanation: String,
    pub status: String,
    /// The reporter's username.
    pub reporter: Option<String>,
    pub created_at: String,
    /// The reviewer's username.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub moderator_notes: String,
    /// The flagged thread's title or the start of the post's text.
    pub target_label: Option<String>,
    /// Whether the flagged content is still active (`None`: it no longer
    /// exists).
    pub target_is_active: Option<bool>,
    /// The flagged content's author.
    pub target_author: Option<String>,
    /// Other pending flags on the same post or thread.
    pub other_pending: i64,
}

impl FlagRow {
    /// The flagged row, when the flag names one of the kinds it may.
    pub fn target(&self) -> Option<Target> {
        match (self.content_type.as_str(), &self.post_id, &self.thread_id) {
            ("post", Some(id), _) => Some(Target::new(Kind::Post, id.clone())),
            ("thread", _, Some(id)) => Some(Target::new(Kind::Thread, id.clone())),
            _ => None,
        }
    }
}

/// Flags of one status, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    Pending,
    Approved,
    Rejected,
    Removed,
    All,
}

impl StatusFilter {
    pub fn status(self) -> Option<&'static str> {
        match self {
            StatusFilter::Pending => Some(status::PENDING),
            StatusFilter::Approved => Some(status::APPROVED),
            StatusFilter::Rejected => Some(status::REJECTED),
            StatusFilter::Removed => Some(status::REMOVED),
            StatusFilter::All => None,
        }
    }
}

/// Flags per status, for `stats` and the status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlagCounts {
    pub total: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    pub removed: i64,
}

/// The columns of the flag table the queue reads and a review writes.
const FLAG_COLUMNS: [&str; 13] = [
    "id",
    "content_type",
    "post_id",
    "thread_id",
    "reporter_id",
    "flag_reason",
    "explanation",
    "status",
    "reviewed_by_id",
    "reviewed_at",
    "moderator_notes",
    "created_at",
    "updated_at",
];
const ACTION_COLUMNS: [&str; 7] = [
    "id",
    "flag_id",
    "moderator_id",
    "action_type",
    "reason",
    "affected_user_id",
    "created_at",
];

/// Whether the database has a flag queue at all.
pub fn has_queue(conn: Conn) -> Result<bool> {
    schema::table_exists(conn, FLAGS)
}

/// Fails, naming the table or column, when the flag queue's tables lack
/// what the console reads or writes.
fn require_tables(conn: Conn, with_actions: bool) -> Result<()> {
    let mut tables = vec![(FLAGS, &FLAG_COLUMNS[..])];
    if with_actions {
        tables.push((ACTIONS, &ACTION_COLUMNS[..]));
    }
    for (table, columns) in tables {
        if !schema::table_exists(conn, table)? {
            bail!("this database has no flag queue: table {table} is missing");
        }
        for column in columns {
            if !schema::column_exists(conn, table, column)? {
                bail!("table {table} has no column {column}, which the flag queue needs");
            }
        }
    }
    Ok(())
}

/// The SQL of one flag row: the flag, its content and the users' names.
fn row_sql(users: bool) -> String {
    let name = |alias: &str, column: &str| {
        if users {
            format!("(SELECT username FROM users_user {alias} WHERE {alias}.id = {column})")
        } else {
            "NULL".to_string()
        }
    };
    format!(
        "SELECT f.id, f.content_type, f.post_id, f.thread_id, f.flag_reason, f.explanation, f.status, \
                {reporter}, f.created_at, {reviewer}, f.reviewed_at, f.moderator_notes, \
                CASE WHEN f.post_id IS NOT NULL THEN substr(p.content_raw, 1, 300) ELSE t.title END, \
                CASE WHEN f.post_id IS NOT NULL THEN p.is_active ELSE t.is_active END, \
                CASE WHEN f.post_id IS NOT NULL THEN {post_author} ELSE {thread_author} END, \
                CASE WHEN f.post_id IS NOT NULL \
                     THEN (SELECT count(*) FROM forum_flaggedcontent o \
                           WHERE o.post_id = f.post_id AND o.status = 'pending' AND o.id <> f.id) \
                     ELSE (SELECT count(*) FROM forum_flaggedcontent o \
                           WHERE o.thread_id = f.thread_id AND o.status = 'pending' AND o.id <> f.id) END \
         FROM forum_flaggedcontent f \
         LEFT JOIN forum_post p ON p.id = f.post_id \
         LEFT JOIN forum_thread t ON t.id = f.thread_id",
        reporter = name("ru", "f.reporter_id"),
        reviewer = name("vu", "f.reviewed_by_id"),
        post_author = name("pa", "p.author_id"),
        thread_author = name("ta", "t.author_id"),
    )
}

fn read_row(r: &sql::Row<'_>) -> Result<FlagRow> {
    Ok(FlagRow {
        id: r.text(0)?,
        content_type: r.text(1)?,
        post_id: r.opt_text(2)?,
        thread_id: r.opt_text(3)?,
        flag_reason: r.text(4)?,
        explanation: r.text(5)?,
        status: r.text(6)?,
        reporter: r.opt_text(7)?,
        created_at: r.text(8)?,
        reviewed_by: r.opt_text(9)?,
        reviewed_at: r.opt_text(10)?,
        moderator_notes: r.text(11)?,
        target_label: r.opt_text(12)?,
        target_is_active: opt_flag(r, 13)?,
        target_author: r.opt_text(14)?,
        other_pending: r.int(15)?,
    })
}

/// A boolean column read leniently, NULL as `None`.
fn opt_flag(r: &sql::Row<'_>, i: usize) -> Result<Option<bool>> {
    Ok(match r.value(i)? {
        sql::Value::Null => None,
        _ => Some(r.flag(i)?),
    })
}

/// Flags of a status (pending by default), newest first.
pub fn list(conn: Conn, filter: StatusFilter, limit: usize) -> Result<Vec<FlagRow>> {
    require_tables(conn, false)?;
    let users = schema::table_exists(conn, "users_user")?;
    let rows = match filter.status() {
        Some(status) => conn.query_map(
            &format!(
                "{} WHERE f.status = ?1 ORDER BY f.created_at DESC, f.id DESC LIMIT ?2",
                row_sql(users)
            ),
            params![status, limit as i64],
            read_row,
        ),
        None => conn.query_map(
            &format!(
                "{} ORDER BY f.created_at DESC, f.id DESC LIMIT ?1",
                row_sql(users)
            ),
            params![limit as i64],
            read_row,
        ),
    };
    rows.with_context(|| format!("cannot read table {FLAGS}"))
}

/// One flag by its full id.
pub fn get(conn: Conn, flag_id: &str) -> Result<Option<FlagRow>> {
    require_tables(conn, false)?;
    let users = schema::table_exists(conn, "users_user")?;
    conn.query_opt(
        &format!("{} WHERE f.id = ?1", row_sql(users)),
        params![flag_id],
        read_row,
    )
}

/// Flags per status; `None` when the database has no flag queue.
pub fn counts(conn: Conn, schema: &Schema) -> Result<Option<FlagCounts>> {
    // What the open read of the catalog, not asked again.
    if !schema.flag_status {
        return Ok(None);
    }
    let mut counts = FlagCounts::default();
    for (status, n) in conn.query_map(
        "SELECT status, count(*) FROM forum_flaggedcontent GROUP BY status",
        params![],
        |r| Ok((r.text(0)?, r.get::<i64>(1)?)),
    )? {
        counts.total += n;
        match status.as_str() {
            status::PENDING => counts.pending += n,
            status::APPROVED => counts.approved += n,
            status::REJECTED => counts.rejected += n,
            status::REMOVED => counts.removed += n,
            _ => {}
        }
    }
    Ok(Some(counts))
}

/// Resolves what the user typed (32 hex digits, a dashed UUID, a unique
/// prefix of 4 or more) to one flag's full id.
pub fn resolve(conn: Conn, typed: &str) -> Result<String> {
    require_tables(conn, false)?;
    super::query::resolve_in(conn, FLAGS, "flag", "flags", &IdQuery::parse(typed)?)
}

// ---------------------------------------------------------------- who

/// A user of the forum who may review flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moderator {
    pub id: i64,
    pub username: String,
}

/// The forum user the actor's name belongs to, if they may review: an
/// active user that is staff, a superuser, or in the `Moderators` group.
/// Anyone else is refused with an error naming the actor.
pub fn moderator(conn: Conn, actor: &str) -> Result<Moderator> {
    if !schema::table_exists(conn, "users_user")? {
        bail!(
            "cannot tell whether {actor} may review flags: this database has no users_user table"
        );
    }
    let groups = schema::table_exists(conn, "auth_group")?
        && schema::table_exists(conn, "users_user_groups")?;
    let in_group = if groups {
        format!(
            "EXISTS (SELECT 1 FROM users_user_groups ug JOIN auth_group g ON g.id = ug.group_id \
                     WHERE ug.user_id = u.id AND g.name = '{MODERATORS_GROUP}')"
        )
    } else {
        conn.dialect().bool(false).to_string()
    };
    let found = conn
        .query_opt(
            &format!(
                "SELECT u.id, u.is_active, u.is_staff, u.is_superuser, {in_group} \
                 FROM users_user u WHERE u.username = ?1"
            ),
            params![actor],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.flag(1)?,
                    r.flag(2)?,
                    r.flag(3)?,
                    r.flag(4)?,
                ))
            },
        )
        .context("cannot read table users_user")?;
    match found {
        None => bail!(
            "{actor} may not review flags: no user of the forum is named {actor} (act as a moderator with --actor NAME)"
        ),
        Some((_, false, ..)) => {
            bail!("{actor} may not review flags: the forum user {actor} is not active")
        }
        Some((id, true, staff, superuser, member)) if staff || superuser || member => {
            Ok(Moderator {
                id,
                username: actor.to_string(),
            })
        }
        Some(_) => bail!(
            "{actor} may not review flags: only staff, superusers and members of the {MODERATORS_GROUP} group may"
        ),
    }
}

// ---------------------------------------------------------------- review

/// What a review will do, worked out before anything changes: every
/// refusal comes from here, so a refused review changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPlan {
    pub flag: FlagRow,
    pub action: ReviewAction,
    pub moderator: Moderator,
    /// The flagged post or thread.
    pub content: Target,
    /// Its author: the moderation action's `affected_user_id`.
    pub author_id: Option<i64>,
    /// What a removal soft-deletes (the console's cascade); nothing for
    /// the other actions.
    pub removes: Tally,
    /// The thread a `lock_thread` locks, and whether it is locked already.
    pub locks: Option<(String, bool)>,
}

/// Checks who acts, the flag and the action, and works out what the
/// review will change. Refuses (changing nothing) a user who is not a
/// moderator, an unknown flag, a flag already reviewed, a removal that
/// does not fit the flag's content type, and the removal of content
/// already deleted.
pub fn plan(conn: Conn, ctx: &Ctx, flag_id: &str, action: ReviewAction) -> Result<ReviewPlan> {
    require_tables(conn, true)?;
    let moderator = moderator(conn, &ctx.actor)?;
    let Some(flag) = get(conn, flag_id)? else {
        bail!("no flag with id {flag_id}");
    };
    if flag.status != status::PENDING {
        let by = match (&flag.reviewed_by, &flag.reviewed_at) {
            (Some(who), Some(at)) => format!(" by {who} at {at}"),
            (Some(who), None) => format!(" by {who}"),
            _ => String::new(),
        };
        bail!(
            "flag {} was already reviewed: it is {}{by}; only a pending flag can be reviewed",
            flag.id,
            flag.status
        );
    }
    let Some(content) = flag.target() else {
        bail!(
            "flag {} has content type {:?} with no row to act on",
            flag.id,
            flag.content_type
        );
    };
    if let Some(needed) = action.needs()
        && needed != content.kind
    {
        let fitting = match content.kind {
            Kind::Post => "remove_post",
            _ => "remove_thread",
        };
        bail!(
            "{action} needs a {needed} flag; flag {} is on a {}: use {fitting}",
            flag.id,
            content.kind
        );
    }
    let author_id: Option<Option<i64>> = conn.query_opt(
        &format!(
            "SELECT author_id FROM {} WHERE id = ?1",
            content.kind.table()
        ),
        params![content.id],
        |r| r.get::<Option<i64>>(0),
    )?;
    let Some(author_id) = author_id else {
        bail!(
            "flag {} points at {} {}, which does not exist",
            flag.id,
            content.kind,
            content.id
        );
    };
    // A removal's moderation action dates the row's deletion exactly (the
    // web app's queue is read that way): it may only be written when the
    // review really deletes the row, now.
    let removes = if action.needs().is_some() {
        let removes = rules::preview_delete(conn, &content)?;
        if removes.rows() == 0 {
            bail!(
                "{} {} is already deleted, so {action} would date its deletion wrongly: \
                 approve the flag (the report was right) or reject it",
                content.kind,
                content.id
            );
        }
        removes
    } else {
        Tally::default()
    };
    let locks = if action == ReviewAction::LockThread {
        let thread_id = match content.kind {
            Kind::Thread => content.id.clone(),
            _ => conn.query_row(
                "SELECT thread_id FROM forum_post WHERE id = ?1",
                params![content.id],
                |r| r.text(0),
            )?,
        };
        let locked: Option<bool> = conn
            .query_opt(
                "SELECT is_locked FROM forum_thread WHERE id = ?1",
                params![thread_id],
                |r| opt_flag(r, 0),
            )?
            .flatten();
        Some((thread_id, locked.unwrap_or(false)))
    } else {
        None
    };
    Ok(ReviewPlan {
        flag,
        action,
        moderator,
        content,
        author_id,
        removes,
        locks,
    })
}

/// What a review did: the outcome every action has, and the review's own
/// facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reviewed {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub flag_id: String,
    pub action_type: ReviewAction,
    /// The flag's new status.
    pub status: &'static str,
    /// The `forum_moderationaction` row written.
    pub moderation_action_id: String,
    pub moderator: String,
    pub moderator_id: i64,
    pub affected_user_id: Option<i64>,
    pub reviewed_at: String,
    /// The thread a `lock_thread` locked (null when it was locked already).
    pub locked_thread: Option<String>,
}

/// The values of `columns` of one row, as JSON (`None`: no such row).
fn read_columns(
    conn: Conn,
    table: &str,
    id: &str,
    columns: &[&str],
) -> Result<Option<Map<String, Value>>> {
    let sql = format!(
        "SELECT {} FROM {table} WHERE id = ?1",
        columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    conn.query_opt(&sql, params![id], |r| {
        let mut map = Map::new();
        for (i, c) in columns.iter().enumerate() {
            map.insert(c.to_string(), json_of(r.value(i)?));
        }
        Ok(map)
    })
}

/// A column's value as JSON: on PostgreSQL too a uuid is its 32 hex
/// digits, a time Django's UTC text and a boolean 0/1, so a recorded row
/// reads the same from either backend.
fn json_of(v: sql::Value<'_>) -> Value {
    match v {
        sql::Value::Null => Value::Null,
        sql::Value::Int(i) => Value::from(i),
        sql::Value::Real(f) => Value::from(f),
        sql::Value::Text(t) => Value::from(t.into_owned()),
    }
}

fn sql_of(v: &Value) -> sql::Value<'_> {
    match v {
        Value::Null => sql::Value::Null,
        Value::Bool(b) => sql::Value::Int(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => sql::Value::Int(i),
            None => sql::Value::Real(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => sql::Value::Text(s.as_str().into()),
        other => sql::Value::Text(other.to_string().into()),
    }
}

/// Writes `values` into one row (an UPDATE of those columns).
fn write_columns(conn: Conn, table: &str, id: &str, values: &Map<String, Value>) -> Result<()> {
    let sets: Vec<String> = values
        .keys()
        .enumerate()
        .map(|(i, c)| format!("\"{c}\" = ?{}", i + 2))
        .collect();
    let mut params: Vec<sql::Value<'_>> = vec![sql::Value::Text(id.into())];
    params.extend(values.values().map(sql_of));
    conn.execute(
        &format!("UPDATE {table} SET {} WHERE id = ?1", sets.join(", ")),
        &params,
    )
    .with_context(|| format!("cannot update {table} row {id}"))?;
    Ok(())
}

fn object(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Reviews a pending flag inside the caller's transaction: the content
/// change (a removal is the console's delete, cascade included; a lock sets
/// the thread's `is_locked`), the flag's status, reviewer, review time,
/// notes and `updated_at`, one new moderation action, and the audit entry
/// with every row before and after. The reason (`ctx.reason`) is required.
pub fn review_in(
    conn: Conn,
    ctx: &Ctx,
    flag_id: &str,
    action: ReviewAction,
    notes: Option<&str>,
) -> Result<Reviewed> {
    let Some(reason) = ctx.reason.clone().filter(|r| !r.trim().is_empty()) else {
        bail!("a review needs a reason: say why (--reason TEXT)");
    };
    let plan = plan(conn, ctx, flag_id, action)?;
    let now = ctx.now_text();
    let moderation_action_id = uuid::Uuid::new_v4().simple().to_string();
    let notes = notes.map(str::trim).unwrap_or_default().to_string();
    let detail = serde_json::json!({
        "flag": plan.flag.id,
        "action_type": action.name(),
        "moderation_action": moderation_action_id,
        "notes": notes,
    });
    let action_id = audit::begin(
        conn,
        ctx,
        Action::Review,
        Some((plan.content.kind, &plan.content.id)),
        Some(&detail),
    )?;

    // The content.
    let mut tally = Tally::default();
    if action.needs().is_some() {
        tally = rules::delete_under(conn, ctx, action_id, &plan.content)?;
    }
    let mut locked_thread = None;
    if let Some((thread, false)) = &plan.locks {
        // As the web app saves it (update_fields=['is_locked']): the
        // thread's updated_at stays, so no record of the console's is
        // made stale by a lock.
        conn.execute(
            "UPDATE forum_thread SET is_locked = ?2 WHERE id = ?1",
            params![thread, true],
        )?;
        audit::record_column_change(
            conn,
            action_id,
            &ColumnChange {
                table: "forum_thread".into(),
                row_id: thread.clone(),
                before: Some(object(vec![("is_locked", Value::from(0))])),
                after: Some(object(vec![("is_locked", Value::from(1))])),
            },
        )?;
        locked_thread = Some(thread.clone());
    }

    // The flag.
    let reviewed = [
        "status",
        "reviewed_by_id",
        "reviewed_at",
        "moderator_notes",
        "updated_at",
    ];
    let before = read_columns(conn, FLAGS, &plan.flag.id, &reviewed)?
        .with_context(|| format!("flag {} vanished during its review", plan.flag.id))?;
    let after = object(vec![
        ("status", Value::from(action.status())),
        ("reviewed_by_id", Value::from(plan.moderator.id)),
        ("reviewed_at", Value::from(now.clone())),
        ("moderator_notes", Value::from(notes.clone())),
        ("updated_at", Value::from(now.clone())),
    ]);
    write_columns(conn, FLAGS, &plan.flag.id, &after)?;
    audit::record_column_change(
        conn,
        action_id,
        &ColumnChange {
            table: FLAGS.into(),
            row_id: plan.flag.id.clone(),
            before: Some(before),
            after: Some(after),
        },
    )?;

    // The moderation action, as the web app writes it.
    conn.execute(
        "INSERT INTO forum_moderationaction (id, flag_id, moderator_id, action_type, reason, \
                                             affected_user_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            moderation_action_id,
            plan.flag.id,
            plan.moderator.id,
            action.name(),
            reason,
            plan.author_id,
            now,
        ],
    )
    .with_context(|| format!("cannot write to {ACTIONS}"))?;
    let written = read_columns(conn, ACTIONS, &moderation_action_id, &ACTION_COLUMNS)?;
    audit::record_column_change(
        conn,
        action_id,
        &ColumnChange {
            table: ACTIONS.into(),
            row_id: moderation_action_id.clone(),
            before: None,
            after: written,
        },
    )?;
    audit::finish(conn, action_id, &tally)?;

    let mut message = format!(
        "reviewed flag {} on {} {}: {action}, flag {}",
        plan.flag.id,
        plan.content.kind,
        plan.content.id,
        action.status()
    );
    if tally.rows() > 0 {
        message.push_str(&format!("; deleted {}", tally.describe()));
    }
    match (&plan.locks, &locked_thread) {
        (_, Some(thread)) => message.push_str(&format!("; locked thread {thread}")),
        (Some((thread, true)), None) => {
            message.push_str(&format!("; thread {thread} was already locked"))
        }
        _ => {}
    }
    Ok(Reviewed {
        outcome: Outcome {
            action: Action::Review,
            kind: Some(plan.content.kind),
            id: Some(plan.content.id.clone()),
            changed: true,
            tally,
            action_id: Some(action_id),
            message,
            stay_deleted: Tally::default(),
            left_alone: Vec::new(),
            undid: None,
        },
        flag_id: plan.flag.id.clone(),
        action_type: action,
        status: action.status(),
        moderation_action_id,
        moderator: plan.moderator.username.clone(),
        moderator_id: plan.moderator.id,
        affected_user_id: plan.author_id,
        reviewed_at: now,
        locked_thread,
    })
}

/// [`review_in`] in one short write transaction of its own.
pub fn review(
    db: &mut Db,
    ctx: &Ctx,
    flag_id: &str,
    action: ReviewAction,
    notes: Option<&str>,
) -> Result<Reviewed> {
    let tx = db.write_tx()?;
    let reviewed = review_in(tx.conn(), ctx, flag_id, action, notes)?;
    super::failpoint::hit("before-commit");
    tx.commit()?;
    Ok(reviewed)
}

// ---------------------------------------------------------------- undo

/// What the undo of a review put back besides threads, posts and
/// attachments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnsUndone {
    /// Rows put back (a flag, a lock) or removed (the moderation action).
    pub rows: usize,
    /// What that was, for the message: "flag … back to pending".
    pub said: Vec<String>,
    pub left_alone: Vec<LeftAlone>,
}

/// Tables whose rows a review changes, and what to call them.
fn noun_of(table: &str) -> Option<&'static str> {
    match table {
        FLAGS => Some("flag"),
        ACTIONS => Some("moderation action"),
        "forum_thread" => Some("thread"),
        _ => None,
    }
}

fn is_column_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// Puts back the other-table rows `entry` changed (recorded under it), for
/// its undo `undo_id`: each row still as the entry left it goes back as it
/// was — the flag to its old status, a lock undone — and a row the entry
/// inserted (its moderation action) is removed. A row changed since, or
/// gone, is left alone and listed.
pub fn undo_columns(conn: Conn, entry: &LogEntry, undo_id: i64) -> Result<ColumnsUndone> {
    let mut done = ColumnsUndone::default();
    for change in audit::column_changes(conn, entry.id)? {
        let Some(noun) = noun_of(&change.table) else {
            bail!(
                "the audit log names table {:?} for entry #{}, which the console never changes",
                change.table,
                entry.id
            );
        };
        let Some(after) = &change.after else {
            continue;
        };
        let columns: Vec<&str> = after.keys().map(String::as_str).collect();
        if !columns.iter().all(|c| is_column_name(c)) {
            bail!(
                "entry #{} records a column name the console never writes",
                entry.id
            );
        }
        let left = |reason: &str| LeftAlone {
            kind: noun.to_string(),
            id: change.row_id.clone(),
            reason: reason.to_string(),
        };
        match read_columns(conn, &change.table, &change.row_id, &columns)? {
            None => done.left_alone.push(left("no longer exists")),
            Some(now) if &now != after => done.left_alone.push(left("changed since")),
            Some(_) => {
                match &change.before {
                    None => {
                        conn.execute(
                            &format!("DELETE FROM {} WHERE id = ?1", change.table),
                            params![change.row_id],
                        )?;
                        done.said.push(format!("{noun} {} removed", change.row_id));
                    }
                    Some(before) => {
                        write_columns(conn, &change.table, &change.row_id, before)?;
                        done.said
                            .push(match (change.table.as_str(), before.get("status")) {
                                (FLAGS, Some(Value::String(s))) => {
                                    format!("flag {} back to {s}", change.row_id)
                                }
                                ("forum_thread", _) => format!("thread {} unlocked", change.row_id),
                                _ => format!("{noun} {} back as before", change.row_id),
                            });
                    }
                }
                audit::record_column_change(
                    conn,
                    undo_id,
                    &ColumnChange {
                        table: change.table.clone(),
                        row_id: change.row_id.clone(),
                        before: change.after.clone(),
                        after: change.before.clone(),
                    },
                )?;
                done.rows += 1;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_gives_the_status_the_web_app_gives() {
        let statuses: Vec<(&str, &str)> = ReviewAction::ALL
            .iter()
            .map(|a| (a.name(), a.status()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("approve", "approved"),
                ("reject", "rejected"),
                ("remove_post", "removed"),
                ("remove_thread", "removed"),
                ("lock_thread", "approved"),
                ("warning", "approved"),
            ]
        );
        for a in ReviewAction::ALL {
            assert_eq!(ReviewAction::parse(a.name()).unwrap(), a);
        }
        assert_eq!(
            ReviewAction::parse("Remove-Post").unwrap(),
            ReviewAction::RemovePost
        );
        assert!(ReviewAction::parse("delete").is_err());
    }
}
