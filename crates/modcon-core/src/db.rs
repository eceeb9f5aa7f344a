//! Opening a forum database: a SQLite file (checks before SQLite touches
//! the file, flags and pragmas) or a PostgreSQL server (a `postgres://`
//! URL), schema detection, and errors that name what is wrong.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use super::sql::postgres::TextRows;
use super::sql::{self, Conn, PgConn, Tx, TxKind};

use super::conditions;
use super::migrate;
use super::model;
use super::purge;
use super::schema::{self, PgCatalog, Schema};

/// The one refusal of the write path: the database was opened read-only
/// (`--read-only`), so `what` cannot change it. Every front end and every
/// core write says it the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnly {
    pub what: String,
}

impl ReadOnly {
    pub fn new(what: impl Into<String>) -> ReadOnly {
        ReadOnly { what: what.into() }
    }
}

impl std::fmt::Display for ReadOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--read-only: {} would change the database, so it is refused",
            self.what
        )
    }
}

impl std::error::Error for ReadOnly {}

/// How long a statement waits for another writer before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `SQLITE_OPEN_READ_ONLY`: the file is never written.
    ReadOnly,
    /// Read-write; applies the console's own-table migration on open.
    ReadWrite,
}

#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub access: Access,
    pub busy_timeout: Duration,
    /// `migrate` opens databases from before the attachment soft-delete
    /// migration; every other command refuses them.
    pub allow_outdated: bool,
    /// A read-only open that finds the hot journal of an interrupted write
    /// (a crash) rolls it back first, as any SQLite client that can write
    /// does. Off for `--read-only`, which then fails with an error saying so.
    pub recover_interrupted: bool,
    /// A read-write open adds the console's own tables at once, in a
    /// transaction of its own. `migrate` turns this off and adds them in
    /// its one transaction with everything else, so a migration that fails
    /// leaves nothing changed.
    pub own_tables_on_open: bool,
}

impl OpenOptions {
    pub fn new(access: Access) -> Self {
        OpenOptions {
            access,
            busy_timeout: busy_timeout_from_env(),
            allow_outdated: false,
            recover_interrupted: false,
            own_tables_on_open: true,
        }
    }
}

/// `MODCON_BUSY_TIMEOUT_MS` shortens or lengthens the wait for a locked
/// database (tests use it; a busy server may want longer).
fn busy_timeout_from_env() -> Duration {
    std::env::var("MODCON_BUSY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_BUSY_TIMEOUT)
}

/// The connection behind a [`Db`].
enum Backend {
    Sqlite(Connection),
    Postgres(Box<PgConn>),
}

pub struct Db {
    backend: Backend,
    path: PathBuf,
    access: Access,
    schema: Schema,
    busy_timeout: Duration,
    /// For a SQLite connection: the files it works on as they were when
    /// it was opened, to notice when they are no longer the ones at its
    /// path (see [`Db::reopen_if_files_changed`], [`Db::refuse_if_replaced`]).
    watched: Option<Watched>,
    options: OpenOptions,
    /// The purge's temporary work tables are made on this read-only
    /// PostgreSQL session (see [`Db::prepare_purge_plan`]).
    purge_tables_made: bool,
}

/// How a connection is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// `immutable`: read the file as it is, no lock, no file made.
    Immutable,
    /// Read-write at the SQLite level, for a command that only reads a WAL
    /// database whose -wal and -shm it must make: closing the last
    /// connection removes them again (a read-only one cannot). modcon
    /// itself still refuses every write (`Db::write_tx`).
    WritableToRead,
}

/// What a SQLite connection reads (and writes) through, as it was when
/// opened: to notice when the path names other files now.
#[derive(Debug, Clone)]
struct Watched {
    /// The database file, its -wal and -shm, looked at before the open.
    files: FileStamp,
    /// The -wal and -shm once the connection was open (a read-write open
    /// of a WAL database makes them): the replaced file's, should the
    /// path get a new database file beside them.
    side: FileStamp,
    how: Watch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Read-only, as the file was (SQLite's `immutable`): a WAL database
    /// with no -wal beside it, read without making one.
    Snapshot,
    /// Read-only, live.
    Live,
    /// Read-write: it must never write to a file no longer at its path.
    ReadWrite,
}

/// How the files at a connection's path differ from the ones it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// No file at the path any more.
    Missing,
    /// Another file at the path (a backup moved over it, say).
    Replaced,
    /// The same database file, with its -wal or -shm removed or replaced.
    SideFiles,
    /// Written to (a snapshot no longer shows what is committed).
    Written,
}

impl Watched {
    /// The one place that decides whether a connection still works on the
    /// file at its path: the database file's identity (device and inode)
    /// first, for every connection; then what a read-only one reads
    /// through.
    fn change(&self, now: &FileStamp) -> Option<Change> {
        if let Some(moved) = moved(&self.files, now.main) {
            return Some(moved);
        }
        match self.how {
            Watch::ReadWrite => None,
            Watch::Live => (!self.files.same_files(now)).then_some(Change::SideFiles),
            Watch::Snapshot => (self.files != *now).then_some(Change::Written),
        }
    }

    /// A new database file at the path with the replaced file's -wal or
    /// -shm still beside it: SQLite would read the new file through the
    /// old file's pages.
    fn old_side_files_remain(&self, now: &FileStamp) -> bool {
        let kept = |then: &Option<FileState>, now: &Option<FileState>| {
            then.is_some() && FileState::identity(then) == FileState::identity(now)
        };
        kept(&self.side.wal, &now.wal) || kept(&self.side.shm, &now.shm)
    }
}

/// Whether the database file at the path (`now`) is no longer the one
/// stamped in `then`: gone, or another file.
fn moved(then: &FileStamp, now: Option<FileState>) -> Option<Change> {
    match now {
        None => Some(Change::Missing),
        Some(_) if FileState::identity(&then.main) != FileState::identity(&now) => {
            Some(Change::Replaced)
        }
        Some(_) => None,
    }
}

/// The refusal of a write on a connection whose database file is no
/// longer the one at its path: replaced by another file (a backup
/// restored over it) or removed. Nothing was written to either file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReplaced {
    pub location: String,
    /// The path names no file at all.
    pub missing: bool,
    /// For a purge: the batches done before it stopped.
    pub purge_batches_done: Option<u64>,
}

impl FileReplaced {
    /// The refusal for the database at `path`, which names no file any
    /// more when `missing`, else another file.
    fn at(path: &Path, missing: bool) -> FileReplaced {
        FileReplaced {
            location: path.display().to_string(),
            missing,
            purge_batches_done: None,
        }
    }

    /// The same refusal, said of a purge that stopped after `done` batches.
    pub fn stopping_purge(&self, done: u64) -> FileReplaced {
        FileReplaced {
            purge_batches_done: Some(done),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for FileReplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.missing {
            format!("{} was removed while modcon had it open", self.location)
        } else {
            format!(
                "{} was replaced by another file while modcon had it open (a backup restored?)",
                self.location
            )
        };
        match self.purge_batches_done {
            None if self.missing => write!(
                f,
                "{what}: nothing was changed, and nothing is written anywhere until a database \
                 is back at that path"
            ),
            None => write!(
                f,
                "{what}: nothing was changed, in either file; modcon reads the new file now: \
                 look at its rows again before acting"
            ),
            Some(0) => write!(
                f,
                "purge stopped before its first batch: {what}; nothing was changed, in either file"
            ),
            Some(done) => write!(
                f,
                "purge stopped after batch {done}: {what}; the batches done stay done in the file \
                 that was at that path when they ran, and their files not yet removed were kept \
                 (the file there now may still name them; `check` lists the files no row names); \
                 nothing was changed in the file there now"
            ),
        }
    }
}

impl std::error::Error for FileReplaced {}

/// Which file a SQLite connection works on (device and inode), to tell
/// whether another connection opened later works on the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

/// Whether `err` is (or was caused by) a [`FileReplaced`] refusal.
pub fn file_replaced(err: &anyhow::Error) -> Option<&FileReplaced> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<FileReplaced>())
}

/// The database file, its -wal and its -shm: each absent, or which file
/// it is with its size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    main: Option<FileState>,
    wal: Option<FileState>,
    shm: Option<FileState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileState {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileState {
    fn of(path: &Path) -> Option<FileState> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(path).ok()?;
        Some(FileState {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    fn identity(state: &Option<FileState>) -> Option<(u64, u64)> {
        state.map(|s| (s.dev, s.ino))
    }
}

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        FileStamp {
            main: FileState::of(path),
            wal: FileState::of(&side_file(path, "-wal")),
            shm: FileState::of(&side_file(path, "-shm")),
        }
    }

    /// The same three files (none removed, added or put in another's
    /// place), whatever was written into them.
    fn same_files(&self, other: &FileStamp) -> bool {
        let id = FileState::identity;
        id(&self.main) == id(&other.main)
            && id(&self.wal) == id(&other.wal)
            && id(&self.shm) == id(&other.shm)
    }
}

/// What lies beside a WAL database, which decides how a read-only open
/// may read it without leaving a file behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WalFiles {
    /// A -wal and its -shm index: a writer is (or was) at work; SQLite
    /// reads through them, even an index it may not write.
    Live,
    /// No -wal, or an empty one: every change is in the main file.
    NoChanges,
    /// A -wal with changes and no -shm: a writer stopped without folding
    /// them in. Reading them needs an index SQLite would create as a file.
    Unindexed,
}

fn wal_files(path: &Path) -> WalFiles {
    let wal = fs::metadata(side_file(path, "-wal")).map(|m| m.len()).ok();
    let shm = side_file(path, "-shm").exists();
    match (wal, shm) {
        (Some(_), true) => WalFiles::Live,
        (None | Some(0), _) => WalFiles::NoChanges,
        (Some(_), false) => WalFiles::Unindexed,
    }
}

/// `PATH-wal`, `PATH-shm`, `PATH-journal`.
pub fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Db {
    /// Opens and validates an existing forum database. On any error the file
    /// is left exactly as it was.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Db> {
        if let Some(url) = path.to_str().filter(|p| sql::is_postgres_url(p)) {
            return Db::open_postgres(url, options);
        }
        let shown = path.display().to_string();
        let facts = check_file(path, options.access).with_context(|| shown.clone())?;
        let mode = if options.access == Access::ReadOnly && facts.wal {
            read_without_new_files(path, options).with_context(|| shown.clone())?
        } else {
            Mode::Plain
        };
        let stamp = FileStamp::of(path);
        let no_mutex = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match (mode, options.access) {
            (Mode::Immutable, _) => Connection::open_with_flags(
                uri(path, "immutable=1"),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | no_mutex,
            ),
            (Mode::WritableToRead, _) | (Mode::Plain, Access::ReadWrite) => {
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | no_mutex)
            }
            (Mode::Plain, Access::ReadOnly) => {
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | no_mutex)
            }
        }
        .map_err(|e| explain_at(e, path, options.access, options.busy_timeout))
        .with_context(|| shown.clone())?;
        let mut db = Db {
            backend: Backend::Sqlite(conn),
            path: path.to_path_buf(),
            access: options.access,
            schema: Schema::default(),
            busy_timeout: options.busy_timeout,
            watched: Some(Watched {
                how: match (options.access, mode) {
                    (Access::ReadWrite, _) => Watch::ReadWrite,
                    (Access::ReadOnly, Mode::Immutable) => Watch::Snapshot,
                    (Access::ReadOnly, _) => Watch::Live,
                },
                side: stamp.clone(),
                files: stamp,
            }),
            options: options.clone(),
            purge_tables_made: false,
        };
        db.prepare(options).with_context(|| shown)?;
        if let Some(watched) = &mut db.watched {
            watched.side = FileStamp::of(path);
        }
        Ok(db)
    }

    /// A connection that no longer works on the database as it is at its
    /// path is opened again (with every check of an open, the console's
    /// own tables added by a read-write one); true when it was. Long-lived
    /// connections (the console's) ask before each read and on every
    /// live-refresh tick.
    /// - Any connection whose database file was replaced by another file
    ///   (a backup moved over it): it would go on with the old file. A
    ///   path that names no file any more is an error saying so, and the
    ///   connection stays as it was (every write on it is refused).
    /// - A read-only snapshot, when anything changed in the file, its
    ///   -wal or its -shm (the web app wrote, or started and made its
    ///   files): it now reads live through the web app's files when they
    ///   are there.
    /// - A live read-only connection, when the -wal or -shm it reads
    ///   through was removed or replaced: SQLite would go on reading the
    ///   old ones, never seeing a new commit. (The web app's last
    ///   connection removes them when it closes unless a lock of ours says
    ///   we still read; a lock a process loses by closing any descriptor
    ///   of the file would otherwise leave the console on old data.)
    ///
    /// A new database file that still has the replaced file's -wal or
    /// -shm beside it is not opened (SQLite would read it through the old
    /// file's pages): an error says to move them away.
    pub fn reopen_if_files_changed(&mut self) -> Result<bool> {
        let Some(watched) = &self.watched else {
            return Ok(false);
        };
        let now = FileStamp::of(&self.path);
        let Some(change) = watched.change(&now) else {
            return Ok(false);
        };
        if change == Change::Missing {
            return Err(FileReplaced::at(&self.path, true).into());
        }
        if change == Change::Replaced && watched.old_side_files_remain(&now) {
            let name = self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            bail!(
                "{}: the database file was replaced by another, but {name}-wal and {name}-shm \
                 beside it are still the replaced file's, and SQLite would read the new file \
                 through them: stop the web app and move them away (a WAL database is restored \
                 without its old -wal and -shm); until then nothing is written",
                self.path.display()
            );
        }
        *self = Db::open(&self.path, &self.options)?;
        Ok(true)
    }

    /// Refuses to go on when the database file this read-write connection
    /// works on is no longer the one at its path (replaced by another
    /// file, or removed): [`FileReplaced`]. Every write transaction asks
    /// this once it holds the write lock and again before it commits; a
    /// purge asks it before removing each file its batches journalled.
    pub fn refuse_if_replaced(&self) -> Result<()> {
        match self.replaced_guard() {
            Some(guard) => guard(),
            None => Ok(()),
        }
    }

    /// The database file this SQLite connection works on; `None` on
    /// PostgreSQL.
    pub fn file_id(&self) -> Option<FileId> {
        let (dev, ino) = FileState::identity(&self.watched.as_ref()?.files.main)?;
        Some(FileId { dev, ino })
    }

    /// Refuses ([`FileReplaced`]) to go on with this connection when it
    /// does not work on the file `expected` names: an action confirmed on
    /// what one connection showed, run on a connection opened later, after
    /// the file at the path was replaced.
    pub fn refuse_unless_file(&self, expected: Option<FileId>) -> Result<()> {
        match expected {
            Some(expected) if self.file_id() != Some(expected) => {
                Err(FileReplaced::at(&self.path, false).into())
            }
            _ => Ok(()),
        }
    }

    /// The check of [`Db::refuse_if_replaced`], owning what it needs, for
    /// a transaction to run before it commits. `None` when there is
    /// nothing to check (read-only, or PostgreSQL).
    fn replaced_guard(&self) -> Option<Box<dyn Fn() -> Result<()>>> {
        let watched = self
            .watched
            .as_ref()
            .filter(|w| w.how == Watch::ReadWrite)?;
        let then = watched.files.clone();
        let path = self.path.clone();
        Some(Box::new(move || {
            let Some(change) = moved(&then, FileState::of(&path)) else {
                return Ok(());
            };
            Err(FileReplaced::at(&path, change == Change::Missing).into())
        }))
    }

    /// Creates a new forum database at `path` (which must not exist) with
    /// every migration applied. Only the demo generator makes databases.
    pub fn create(path: &Path, now: &str) -> Result<Db> {
        if path.exists() {
            bail!("{} already exists", path.display());
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot create database {}", path.display()))?;
        configure(&conn, DEFAULT_BUSY_TIMEOUT)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        migrate::apply_fresh(Conn::from(&conn), now)?;
        conn.execute_batch("COMMIT")?;
        let schema = schema::inspect(Conn::from(&conn), false)?;
        conditions::install(Conn::from(&conn), &schema)?;
        Ok(Db {
            backend: Backend::Sqlite(conn),
            path: path.to_path_buf(),
            access: Access::ReadWrite,
            schema,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            watched: None,
            options: OpenOptions::new(Access::ReadWrite),
            purge_tables_made: false,
        })
    }

    /// A connection that reads the file as it is on disk, taking no locks
    /// and reading no journal or WAL (SQLite's `immutable=1`): for looking
    /// at a file that may not be a forum database at all.
    pub fn open_immutable(path: &Path) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            uri(path, "immutable=1"),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(conn)
    }

    /// Opens a forum database on a PostgreSQL server. Read-write: the
    /// console's own tables are added on the first open, as on SQLite.
    /// Read-only: the session is read-only at the server
    /// (`default_transaction_read_only`).
    ///
    /// Each round trip counts for a command that runs for a fraction of a
    /// second, so the first one, with the connection, sets the session up
    /// and reads the whole catalog; a read-write open then reads the
    /// console's record of migrations. Nothing else unless something is
    /// missing: the console's tables (added, or shadowed by temporary ones
    /// on a read-only session). The purge's temporary work tables are
    /// made by the first plan (see [`Db::prepare_purge_plan`]), the
    /// deletion-time views written into the statements that read them (see
    /// [`conditions::install`]): neither is made in the catalog by an open.
    fn open_postgres(url: &str, options: &OpenOptions) -> Result<Db> {
        let read_only = options.access == Access::ReadOnly;
        let first = format!(
            "{}{}",
            if read_only {
                "SET default_transaction_read_only = on; "
            } else {
                ""
            },
            schema::pg_catalog_sql()
        );
        let (pg, catalog) = PgConn::connect_and_ask(url, &first)?;
        let shown = pg.location().to_string();
        let mut db = Db {
            backend: Backend::Postgres(Box::new(pg)),
            path: PathBuf::from(url),
            access: options.access,
            schema: Schema::default(),
            busy_timeout: options.busy_timeout,
            watched: None,
            options: options.clone(),
            purge_tables_made: false,
        };
        db.prepare_postgres(catalog, options)
            .with_context(|| shown)?;
        Ok(db)
    }

    fn prepare_postgres(&mut self, catalog: Result<TextRows>, options: &OpenOptions) -> Result<()> {
        let catalog = PgCatalog::from_rows(catalog?)?;
        let own_tables = catalog.own_tables.clone();
        self.schema = schema::inspect_postgres(catalog, options.allow_outdated)?;
        let recorded = own_tables.contains("modcon_migrations");
        let mut shadows = Vec::new();
        match options.access {
            Access::ReadWrite if migrate::needs_own_tables_given(self.conn(), recorded)? => {
                if options.own_tables_on_open {
                    let now = model::format_datetime(model::utc_now());
                    let tx = self.write_tx()?;
                    migrate::apply_on_open(tx.conn(), &now).map_err(may_only_read)?;
                    tx.commit()?;
                }
            }
            Access::ReadWrite => {}
            Access::ReadOnly => shadows = migrate::shadow_statements(self.conn(), own_tables)?,
        }
        conditions::install(self.conn(), &self.schema)?;
        if !shadows.is_empty() {
            self.make_temporary_tables(|conn| conn.execute_batch(&shadows.join("\n")))?;
        }
        Ok(())
    }

    /// Makes the session's own temporary tables (`make`) on a read-only
    /// PostgreSQL session. The session is read-only by default, and a
    /// read-only transaction may not create a table, so they are made in a
    /// transaction of their own, explicitly read-write, that changes
    /// nothing but the session's temporary objects. Its commit does not
    /// wait for the disk: they go with the session anyway.
    fn make_temporary_tables(&self, make: impl FnOnce(Conn) -> Result<()>) -> Result<()> {
        let conn = self.conn();
        conn.execute_batch("BEGIN READ WRITE; SET LOCAL synchronous_commit = off")?;
        let made = make(conn).and_then(|()| conn.execute_batch("COMMIT"));
        if made.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        made
    }

    /// Readies the session for a purge's plan (a dry run too), outside any
    /// transaction: on a read-only PostgreSQL session the purge's temporary
    /// work tables are made now, once (a read-only transaction may fill
    /// them but not create them). Elsewhere the plan makes them itself, so
    /// no other command pays for them.
    pub fn prepare_purge_plan(&mut self) -> Result<()> {
        if !self.is_postgres() || !self.is_read_only() || self.purge_tables_made {
            return Ok(());
        }
        self.make_temporary_tables(purge::install)?;
        self.purge_tables_made = true;
        Ok(())
    }

    fn prepare(&mut self, options: &OpenOptions) -> Result<()> {
        let conn = self.sqlite("opening a file")?;
        conn.busy_timeout(options.busy_timeout)?;
        // The first read of the schema: a locked, corrupt or foreign file
        // fails here, before anything is written (pragmas included: they
        // too meet the hot journal of an interrupted write).
        let first_read = |conn: &Connection| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        };
        let mut read = first_read(conn);
        if options.access == Access::ReadOnly
            && options.recover_interrupted
            && read.as_ref().is_err_and(is_hot_journal)
            && check_file(&self.path, Access::ReadWrite).is_ok()
        {
            roll_back_interrupted_write(&self.path, options.busy_timeout)?;
            read = first_read(conn);
        }
        read.map_err(|e| explain_at(e, &self.path, options.access, options.busy_timeout))?;
        configure(conn, options.busy_timeout)?;
        if options.access == Access::ReadWrite && conn.is_readonly("main")? {
            bail!("the database file is read-only; pass --read-only to open it for viewing");
        }
        let schema = schema::inspect(self.conn(), options.allow_outdated)?;
        self.schema = schema;
        match options.access {
            Access::ReadWrite if migrate::needs_own_tables(self.conn())? => {
                // The console's first write into this database: a corrupt
                // file is refused before it is changed.
                verify_sound(self.sqlite("checking the file")?, options.busy_timeout)?;
                if options.own_tables_on_open {
                    let now = model::format_datetime(model::utc_now());
                    let tx = self.write_tx()?;
                    migrate::apply_on_open(tx.conn(), &now)?;
                    tx.commit()
                        .map_err(|e| explain_any(e, options.busy_timeout))?;
                }
            }
            Access::ReadWrite => {}
            Access::ReadOnly => migrate::shadow_own_tables(self.conn())?,
        }
        conditions::install(self.conn(), &self.schema)?;
        Ok(())
    }

    /// The connection, for every read and write of the core.
    pub fn conn(&self) -> Conn<'_> {
        match &self.backend {
            Backend::Sqlite(c) => Conn::Sqlite(c),
            Backend::Postgres(c) => Conn::Postgres(c),
        }
    }

    /// The SQLite connection, for code not yet written for both backends:
    /// on PostgreSQL an error saying what is not supported there yet.
    pub fn sqlite(&self, what: &str) -> Result<&Connection> {
        self.conn().sqlite(what)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// How the database is named to the user: the file's path, or the
    /// server's URL without its password.
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite(_) => self.path.display().to_string(),
            Backend::Postgres(c) => c.location().to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn is_read_only(&self) -> bool {
        self.access == Access::ReadOnly
    }

    /// An error met on this database, with SQLite's part explained and
    /// the file named (see [`explain_for_file`]).
    pub fn explain(&self, err: anyhow::Error) -> anyhow::Error {
        if let Backend::Postgres(c) = &self.backend {
            return explain_for_server(err, c.location());
        }
        explain_for_file(err, &self.path, self.access, self.busy_timeout)
    }

    /// Read as the file was when opened: changes committed later are not
    /// seen (a WAL database with no -wal, opened read-only; see `open`).
    pub fn is_snapshot(&self) -> bool {
        self.watched
            .as_ref()
            .is_some_and(|w| w.how == Watch::Snapshot)
    }

    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// Refuses `what` (a command or an action, e.g. "`purge`") with
    /// [`ReadOnly`] when the database was opened read-only.
    pub fn refuse_read_only(&self, what: &str) -> Result<()> {
        if self.is_read_only() {
            return Err(ReadOnly::new(what).into());
        }
        Ok(())
    }

    /// A short write transaction: on SQLite begun IMMEDIATE so the busy
    /// timeout applies to taking the write lock rather than failing
    /// mid-way; on PostgreSQL with a `lock_timeout` of the busy timeout.
    ///
    /// On SQLite no write goes to a database file that is no longer the
    /// one at the path (see [`Db::refuse_if_replaced`]): asked once the
    /// write lock is held (a file moved over the path before then is
    /// seen) and again before the commit, which then rolls back.
    pub fn write_tx(&mut self) -> Result<Tx<'_>> {
        self.write_tx_then(None)
    }

    /// [`Db::write_tx`], with `first` (statements without parameters) run
    /// in it as it begins: one round trip on PostgreSQL.
    pub fn write_tx_then(&mut self, first: Option<&str>) -> Result<Tx<'_>> {
        if self.access == Access::ReadOnly {
            return Err(ReadOnly::new("a write").into());
        }
        let guard = self.replaced_guard();
        let tx = self
            .conn()
            .begin_then(TxKind::Write, self.busy_timeout, first)
            .map_err(|e| self.explain_open_error(e, Access::ReadWrite))?;
        match guard {
            Some(guard) => {
                guard()?;
                Ok(tx.checked_before_commit(guard))
            }
            None => Ok(tx),
        }
    }

    /// A consistent snapshot for several reads.
    pub fn read_tx(&mut self) -> Result<Tx<'_>> {
        self.conn()
            .begin(TxKind::Read, self.busy_timeout)
            .map_err(|e| self.explain_open_error(e, self.access))
    }

    fn explain_open_error(&self, err: anyhow::Error, access: Access) -> anyhow::Error {
        match err.downcast::<rusqlite::Error>() {
            Ok(e) => explain_at(e, &self.path, access, self.busy_timeout),
            Err(other) => other,
        }
    }

    /// A write transaction of rusqlite's own, for code not yet written for
    /// both backends (on PostgreSQL an error naming `what`).
    pub fn sqlite_write_tx(&mut self, what: &str) -> Result<Transaction<'_>> {
        if self.access == Access::ReadOnly {
            bail!("the database is open read-only (--read-only): nothing can be changed");
        }
        let conn = self.sqlite(what)?;
        Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(|e| explain_at(e, &self.path, Access::ReadWrite, self.busy_timeout))
    }

    /// A read transaction of rusqlite's own, for code not yet written for
    /// both backends (on PostgreSQL an error naming `what`).
    pub fn sqlite_read_tx(&mut self, what: &str) -> Result<Transaction<'_>> {
        let conn = self.sqlite(what)?;
        Transaction::new_unchecked(conn, TransactionBehavior::Deferred)
            .map_err(|e| explain_at(e, &self.path, self.access, self.busy_timeout))
    }

    /// Changes whenever another connection commits (see
    /// [`Conn::change_marker`]).
    pub fn change_marker(&self) -> Result<String> {
        self.conn().change_marker()
    }
}

/// Back-to-back write transactions (a purge's batches) taking turns with
/// the web app. SQLite's write lock has no queue: a writer that finds it
/// taken sleeps and tries again, and SQLite's default busy handler (the
/// one Django's connections use, with their 5 s timeout) sleeps up to
/// 100 ms between tries. Transactions that follow one another within
/// microseconds leave it almost no chance to find the lock free, however
/// short each one is: under load a purge kept the web app out until its
/// timeout ran out ("database is locked"). So after every
/// [`TakingTurns::HOLD`] of holding the lock, the lock is left free for
/// [`TakingTurns::GAP`], longer than any of those sleeps: a waiting writer
/// then always gets its turn, within about a second and a batch. On
/// PostgreSQL waiting writers queue for row locks, and nothing pauses.
#[derive(Debug)]
pub struct TakingTurns {
    sqlite: bool,
    held: Duration,
}

impl TakingTurns {
    /// How long back-to-back transactions hold the write lock before a gap.
    pub const HOLD: Duration = Duration::from_secs(1);
    /// How long the lock is then left free: more than the 100 ms SQLite's
    /// busy handler sleeps at most between tries, with room for a waiting
    /// process to be scheduled.
    pub const GAP: Duration = Duration::from_millis(150);

    pub fn new(db: &Db) -> TakingTurns {
        TakingTurns {
            sqlite: !db.is_postgres(),
            held: Duration::ZERO,
        }
    }

    /// After a write transaction that took `held` (waiting for the lock
    /// included): leaves the lock free for a gap once enough was held.
    pub fn after_transaction(&mut self, held: Duration) {
        if !self.sqlite {
            return;
        }
        self.held += held;
        if self.held >= Self::HOLD {
            std::thread::sleep(Self::GAP);
            self.held = Duration::ZERO;
        }
    }
}

/// A role refused the console's own tables (it may only read, say) is
/// told what to do instead of only what the server said.
fn may_only_read(err: anyhow::Error) -> anyhow::Error {
    let refused = err
        .chain()
        .filter_map(|e| e.downcast_ref::<postgres::Error>())
        .any(|e| e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE));
    if !refused {
        return err;
    }
    err.context(
        "this role may not create the console's own tables (the audit log) here: \
         pass --read-only to read, or grant the role CREATE on the schema \
         (see the README's PostgreSQL roles)",
    )
}

/// A privilege the role lacks, in words: the server named, its message
/// and what to do, not the statement it refused. Any other error back
/// as it was.
fn denied_privilege(err: anyhow::Error, location: &str) -> Result<anyhow::Error, anyhow::Error> {
    let denied = err
        .chain()
        .filter_map(|e| e.downcast_ref::<postgres::Error>())
        .find(|e| e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE))
        .and_then(|e| e.as_db_error().map(|d| d.message().to_string()));
    match denied {
        Some(message) if !format!("{err:#}").contains("--read-only") => Ok(anyhow!(
            "{location}: {message}: this role may not change this here; a role that may \
             only read passes --read-only (the README's PostgreSQL section gives the grants \
             a moderator needs)"
        )),
        _ => Err(err),
    }
}

/// An error met on a PostgreSQL server, with the server named (never its
/// password) in front, once.
pub fn explain_for_server(err: anyhow::Error, location: &str) -> anyhow::Error {
    let err = match denied_privilege(err, location) {
        Ok(worded) => return worded,
        Err(err) => err,
    };
    let text = format!("{err:#}");
    if text.starts_with(location) {
        return err;
    }
    err.context(location.to_string())
}

/// A `file:` URI for `path` with query parameters `query`: every byte but
/// the unreserved ones and `/` percent-encoded, so no name is misread.
pub fn uri(path: &Path, query: &str) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    if !query.is_empty() {
        text.push('?');
        text.push_str(query);
    }
    text
}

fn configure(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    conn.busy_timeout(busy_timeout)?;
    // The rules and lists use a few dozen distinct statements.
    conn.set_prepared_statement_cache_capacity(128);
    // One plan per statement whatever its parameters: SQLite otherwise
    // plans again whenever a new value is bound to a parameter it looked at
    // (a `LIMIT :limit`), so every page of a list paid for parsing and
    // planning its statement anew. The plans are then the ones the
    // query-plan tests see, which bind nothing.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // 64 MB of page cache (SQLite's default is 2 MB): a purge touches
    // index pages all over a large database, batch after batch.
    conn.pragma_update(None, "cache_size", -65536)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    register_functions(conn)?;
    Ok(())
}

/// `modcon_ts(text)`: any datetime form the console reads, as Django's
/// text form (which sorts correctly), or NULL when unreadable. The one
/// place SQL compares deletion times; never used in an index, so other
/// clients of the database never need it.
fn register_functions(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "modcon_ts",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text = ctx.get_raw(0).as_str().ok();
            Ok(text.and_then(model::canonical_datetime))
        },
    )?;
    Ok(())
}

/// What the checks before opening learnt about the file.
struct FileFacts {
    /// In WAL mode (the header's read and write versions are 2).
    wal: bool,
}

/// The folder a database lives in.
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Whether this user may write `path`, as the kernel decides (`access(2)`:
/// ownership, groups, a read-only mount).
fn may_write(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::W_OK).is_ok()
}

/// Checks made on the file itself before SQLite opens it, so that a
/// directory, an empty or foreign file is never turned into a database.
fn check_file(path: &Path, access: Access) -> Result<FileFacts> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("database not found")
        }
        Err(e) => return Err(anyhow!(e).context("cannot read the database file")),
    };
    if meta.is_dir() {
        bail!("is a directory, not a database file");
    }
    if meta.len() == 0 {
        bail!("empty file (0 bytes), not a SQLite database");
    }
    let header = read_header(path, meta.len())
        .context("cannot read the database file (this user may not read it)")?;
    if header.len() < 20 || &header[..16] != b"SQLite format 3\0" {
        bail!("not a SQLite database (no SQLite header)");
    }
    if meta.len() < 512 {
        bail!("truncated SQLite database ({} bytes)", meta.len());
    }
    if access == Access::ReadWrite {
        // Permission bits are checked as well as the kernel's view, so a
        // file marked read-only stays untouched even for a superuser.
        if meta.permissions().readonly() || !may_write(path) {
            bail!("the database file is read-only; pass --read-only to open it for viewing");
        }
        let dir = folder_of(path);
        let dir_read_only = fs::metadata(dir).is_ok_and(|m| m.permissions().readonly());
        if dir_read_only || !may_write(dir) {
            bail!(
                "the database's directory is read-only for this user, so SQLite cannot write its \
                 journal there; make the directory writable, or pass --read-only to open it for viewing"
            );
        }
    }
    Ok(FileFacts {
        wal: header[18] == 2 && header[19] == 2,
    })
}

/// The first 20 bytes of the database file (fewer when it is shorter),
/// read through SQLite's own file layer rather than a descriptor of our
/// own: the kernel ties a process's POSIX locks to the process and the
/// file, so closing any descriptor of the database drops every lock the
/// process's SQLite connections hold on it, without SQLite knowing. A
/// connection that lost its shared lock no longer keeps the web app's
/// last connection from removing the -wal and -shm it reads through (an
/// older SQLite, 3.40 say, then does), and reads stale data ever after.
/// SQLite's layer keeps such a descriptor open until the process's locks
/// on the file are released.
fn read_header(path: &Path, len: u64) -> std::io::Result<Vec<u8>> {
    use rusqlite::ffi;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let failed = |what: &str, rc: i32| std::io::Error::other(format!("{what} (SQLite error {rc})"));
    // rusqlite sets SQLite up on its first connection; this one does it
    // before SQLite's file layer is used directly.
    static READY: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    READY.get_or_init(|| drop(Connection::open_in_memory()));
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("a NUL byte in the file name"))?;
    let mut header = vec![0u8; len.min(20) as usize];
    // SAFETY: the default VFS lives as long as the process; every buffer
    // handed to it is as large as it says and outlives the call; the
    // file object is closed exactly once, after a successful open or
    // whenever the open left methods to close it with.
    unsafe {
        let vfs = ffi::sqlite3_vfs_find(std::ptr::null());
        let Some(vfs_ref) = vfs.as_ref() else {
            return Err(std::io::Error::other("SQLite has no file layer"));
        };
        let (Some(full_pathname), Some(open)) = (vfs_ref.xFullPathname, vfs_ref.xOpen) else {
            return Err(std::io::Error::other(
                "SQLite's file layer cannot open files",
            ));
        };
        // SQLite's file names end in more than one NUL (URI parameters
        // would follow the first).
        let size = vfs_ref.mxPathname.max(0) as usize + 1;
        let mut full = vec![0 as std::ffi::c_char; size + 4];
        let rc = full_pathname(vfs, name.as_ptr(), size as i32, full.as_mut_ptr());
        if rc != ffi::SQLITE_OK {
            return Err(failed("cannot resolve the file name", rc));
        }
        // The file object SQLite fills in: szOsFile bytes, 8-byte aligned.
        let words = (vfs_ref.szOsFile.max(0) as usize).div_ceil(8);
        let mut object = vec![0u64; words.max(1)];
        let file = object.as_mut_ptr() as *mut ffi::sqlite3_file;
        let mut out_flags = 0;
        let flags = ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_READONLY;
        let rc = open(vfs, full.as_ptr(), file, flags, &mut out_flags);
        let methods = (*file).pMethods.as_ref();
        let close = |m: Option<&ffi::sqlite3_io_methods>| {
            if let Some(close) = m.and_then(|m| m.xClose) {
                close(file);
            }
        };
        if rc != ffi::SQLITE_OK {
            close(methods);
            return Err(failed("cannot open the file", rc));
        }
        let rc = match methods.and_then(|m| m.xRead) {
            Some(read) if !header.is_empty() => read(
                file,
                header.as_mut_ptr() as *mut std::ffi::c_void,
                header.len() as i32,
                0,
            ),
            _ => ffi::SQLITE_OK,
        };
        close(methods);
        if rc != ffi::SQLITE_OK {
            return Err(failed("cannot read the file", rc));
        }
    }
    Ok(header)
}

/// How a read-only open reads a WAL database without leaving a file beside
/// it: SQLite gives every connection that finds no -shm to share a new -wal
/// and -shm, and a read-only connection cannot remove them again.
///
/// - A -wal with its -shm (a writer at work, or one that stopped with
///   both): SQLite reads through them, even an -shm this user may not
///   write, and makes nothing. `Plain`.
/// - Otherwise, for a command that may write (not `--read-only`, and this
///   user may write the file and its directory): read-write at the SQLite
///   level (modcon still writes nothing: the access stays read-only).
///   SQLite makes the -wal and -shm it needs, reads live with its locks,
///   folds in what a stopped writer left, and removes them when the last
///   connection closes. `WritableToRead`.
/// - No -wal (or an empty one), for `--read-only` or a user who may not
///   write: every committed change is in the main file, so SQLite's
///   `immutable` reads it as it is, without a lock or a file. A snapshot
///   as of the open. `Immutable`.
/// - A -wal with changes and no -shm, for `--read-only` or a user who may
///   not write: reading it needs an index SQLite would make as a file.
///   Refused, with what to do.
fn read_without_new_files(path: &Path, options: &OpenOptions) -> Result<Mode> {
    let files = wal_files(path);
    if files == WalFiles::Live {
        return Ok(Mode::Plain);
    }
    let may_write = options.recover_interrupted && check_file(path, Access::ReadWrite).is_ok();
    if may_write {
        return Ok(Mode::WritableToRead);
    }
    if files == WalFiles::NoChanges {
        return Ok(Mode::Immutable);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !options.recover_interrupted {
        bail!(
            "{name}-wal holds changes a writer left without its {name}-shm index, and a read-only \
             open never creates a file beside the database; open it once without --read-only \
             (modcon folds the changes into the database, as the web app would), or start the web app"
        );
    }
    bail!(
        "{name}-wal holds changes a writer left without its {name}-shm index; reading them \
         needs that index made beside the database, and this user may not write its \
         directory: open it once as a user who may (the web app's), which folds the changes \
         into the database"
    )
}

/// `PRAGMA quick_check`: the b-trees are sound (a corrupt page fails here
/// rather than half-way through a change).
fn verify_sound(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    let first: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| explain(e, busy_timeout))?;
    if first != "ok" {
        bail!("database disk image is malformed (corrupt): {first}");
    }
    Ok(())
}

/// A read-only connection met the hot journal of an interrupted write.
fn is_hot_journal(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _)
        if e.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK)
}

/// Rolls back what a crashed writer left half done: opening read-write and
/// reading is enough, SQLite restores the last committed state.
fn roll_back_interrupted_write(path: &Path, busy_timeout: Duration) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| explain(e, busy_timeout))?;
    conn.busy_timeout(busy_timeout)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| explain(e, busy_timeout))?;
    Ok(())
}

/// An SQLite error put in words (see [`explain`]); [`explain_for_file`]
/// names the database in front of it.
#[derive(Debug)]
pub struct Explained(pub String);

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Explained {}

macro_rules! explained {
    ($($arg:tt)*) => {
        anyhow::Error::new(Explained(format!($($arg)*)))
    };
}

/// Turns SQLite's error codes into sentences a moderator can act on, for
/// a database opened read-write (so advice may suggest `--read-only`).
pub fn explain(err: rusqlite::Error, busy_timeout: Duration) -> anyhow::Error {
    explain_with(err, None, Access::ReadWrite, busy_timeout)
}

/// [`explain`], knowing the file (to find out who holds a lock) and how it
/// was opened (advice never suggests `--read-only` to a read-only open).
pub fn explain_at(
    err: rusqlite::Error,
    path: &Path,
    access: Access,
    busy_timeout: Duration,
) -> anyhow::Error {
    explain_with(err, Some(path), access, busy_timeout)
}

fn explain_with(
    err: rusqlite::Error,
    path: Option<&Path>,
    access: Access,
    busy_timeout: Duration,
) -> anyhow::Error {
    let rusqlite::Error::SqliteFailure(e, _) = &err else {
        return anyhow!(err);
    };
    let secs = busy_timeout.as_secs_f64();
    let look = if access == Access::ReadWrite {
        ", or pass --read-only to open it for viewing"
    } else {
        ""
    };
    let folder = path.map(folder_of).unwrap_or(Path::new("."));
    match e.code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => explained!(
            "database is locked by another process (still busy after {secs:.1}s): {}; try again \
             when it is done (MODCON_BUSY_TIMEOUT_MS sets how long to wait)",
            path.map(who_holds_the_lock).unwrap_or(
                "another process is writing to it, or reading it in rollback-journal mode"
            )
        ),
        ErrorCode::NotADatabase => explained!("not a SQLite database, or it is encrypted"),
        ErrorCode::DatabaseCorrupt => explained!(
            "database disk image is malformed (corrupt); nothing was changed: restore it from a \
             backup, or try the sqlite3 shell's .recover"
        ),
        ErrorCode::ReadOnly if e.extended_code == rusqlite::ffi::SQLITE_READONLY_ROLLBACK => {
            explained!(
                "an interrupted write (a crash) left a hot journal that a read-only open cannot roll \
             back; open the database once without --read-only (or with the web app) to roll it back"
            )
        }
        ErrorCode::ReadOnly
            if e.extended_code == rusqlite::ffi::SQLITE_READONLY_DIRECTORY
                || !may_write(folder) =>
        {
            explained!(
                "cannot write: the directory {} is read-only for this user, so SQLite cannot make \
                 its journal beside the database; make it writable for this user{look}",
                folder.display()
            )
        }
        ErrorCode::ReadOnly => explained!(
            "cannot write: the database is read-only for this user; change its permissions{look}"
        ),
        ErrorCode::CannotOpen => explained!(
            "cannot open the database file: check that this user may read it and enter its \
             directory {}",
            folder.display()
        ),
        ErrorCode::DiskFull => {
            explained!("the disk is full; nothing was written: free some space and try again")
        }
        ErrorCode::SystemIoFailure => {
            explained!("{err}; check the disk and the file system, then try again")
        }
        _ => anyhow!(err),
    }
}

/// Who keeps a write waiting, found out by asking for the write lock at
/// once: granted means only readers hold the file (in rollback-journal mode
/// a reading transaction blocks every commit); refused means a writer.
fn who_holds_the_lock(path: &Path) -> &'static str {
    const WRITER: &str = "another process is writing to it";
    const READER: &str = "another process is reading it (in rollback-journal mode a reading \
                          transaction — a long query, an open sqlite3 shell, a backup — blocks \
                          every write until it ends)";
    let probe = || -> rusqlite::Result<bool> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Ask once, without waiting.
        conn.busy_timeout(Duration::ZERO)?;
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            // Readers never block a WAL writer.
            return Ok(false);
        }
        let granted = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
        if granted {
            conn.execute_batch("ROLLBACK")?;
        }
        Ok(granted)
    };
    match probe() {
        Ok(true) => READER,
        _ => WRITER,
    }
}

/// Applies [`explain`] to the rusqlite errors inside an anyhow chain.
pub fn explain_any(err: anyhow::Error, busy_timeout: Duration) -> anyhow::Error {
    match err.downcast::<rusqlite::Error>() {
        Ok(e) => explain(e, busy_timeout),
        Err(other) => other,
    }
}

/// Makes a failed command's error whole: a raw SQLite error anywhere in the
/// chain is explained (what happened, what to do), and the database file
/// is named, once.
pub fn explain_for_file(
    err: anyhow::Error,
    path: &Path,
    access: Access,
    busy_timeout: Duration,
) -> anyhow::Error {
    // A server's URL is no file: named without its password, and no
    // folder or lock file is looked for beside it.
    let location = path.to_string_lossy();
    let on_server = sql::is_postgres_url(&location);
    let err = if on_server {
        match denied_privilege(err, &sql::shown_location(&location)) {
            Ok(worded) => return worded,
            Err(err) => err,
        }
    } else {
        err
    };
    let shown = sql::shown_location(&location);
    let from_sqlite = err
        .chain()
        .any(|cause| cause.downcast_ref::<rusqlite::Error>().is_some() || cause.is::<Explained>());
    if !from_sqlite {
        return err;
    }
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = match cause.downcast_ref::<rusqlite::Error>() {
            Some(sqlite) => {
                let copy = match sqlite {
                    rusqlite::Error::SqliteFailure(e, m) => {
                        rusqlite::Error::SqliteFailure(*e, m.clone())
                    }
                    other => {
                        parts.push(other.to_string());
                        break;
                    }
                };
                if on_server {
                    copy.to_string()
                } else {
                    explain_at(copy, path, access, busy_timeout).to_string()
                }
            }
            None => cause.to_string(),
        };
        parts.push(text);
        if cause.downcast_ref::<rusqlite::Error>().is_some() {
            break;
        }
    }
    if parts.first() != Some(&shown) {
        parts.insert(0, shown);
    }
    anyhow!(parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_on_a_server_never_names_its_password_nor_a_folder_beside_it() {
        let url = Path::new("postgres://mod:s3/cret@db.example/forum");
        for code in [
            rusqlite::ffi::SQLITE_BUSY,
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_CANTOPEN,
        ] {
            let err = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
            let text = format!(
                "{:#}",
                explain_for_file(anyhow!(err), url, Access::ReadWrite, Duration::from_secs(1))
            );
            assert!(!text.contains("cret"), "{text}");
            assert!(
                text.starts_with("postgres://mod@db.example/forum"),
                "{text}"
            );
        }
    }
}
