//! The configuration store: one SQLite file through an r2d2 pool. All SQL lives under this
//! module, in methods named for the domain.
//!
//! Tenant scoping is structural: every method that reads or writes a tenant's rows takes a
//! [`TenantId`], and the SQL it runs always carries `tenant_id = ?`. The API resolves which
//! tenant a request may touch before it calls in here, so forgetting a WHERE clause in a handler
//! is not possible: handlers never write SQL.

pub mod accounts;
pub mod activity;
pub mod alerts;
pub mod billing;
pub mod branding;
pub mod cdr;
pub mod fax;
pub mod fax_campaigns;
pub mod fax_contacts;
pub mod fax_dnc;
pub mod fax_documents;
pub mod freeswitch;
pub mod ledger;
pub mod limits;
pub mod moh;
pub mod provision;
pub mod queues;
pub mod resource;
pub mod resources;
pub mod routing;
pub mod seed;
pub mod sounds;
pub mod usage;
pub mod validate;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite_migration::{Migrations, M};

pub use resource::{Field, Kind, ListQuery, Page, Resource, Scope};

/// A tenant's primary key. Only the API's access check makes one from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub i64);

/// Ordered schema migrations: `sql/NNNN_name.sql`, recorded in the database's `user_version`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../sql/0001_accounts.sql"),
    include_str!("../../sql/0002_pbx.sql"),
    include_str!("../../sql/0003_calls.sql"),
    include_str!("../../sql/0004_cdr_parties.sql"),
    include_str!("../../sql/0005_billing.sql"),
    include_str!("../../sql/0006_limits_alerts.sql"),
    include_str!("../../sql/0007_provisioning.sql"),
    include_str!("../../sql/0008_cdr_list.sql"),
    include_str!("../../sql/0009_reservation_settlement.sql"),
    include_str!("../../sql/0010_sign_in.sql"),
    include_str!("../../sql/0011_call_queues.sql"),
    include_str!("../../sql/0012_queue_calls.sql"),
    include_str!("../../sql/0013_fax.sql"),
    include_str!("../../sql/0014_fax_documents.sql"),
    include_str!("../../sql/0015_fax_dnc.sql"),
    include_str!("../../sql/0016_fax_contacts.sql"),
    include_str!("../../sql/0017_fax_campaigns.sql"),
    include_str!("../../sql/0018_cdr_detail.sql"),
    include_str!("../../sql/0019_sounds.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A field's value is refused; `field` names it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields refused at once (all are reported, not just the first).
    #[error("{} invalid fields", .0.len())]
    Fields(Vec<(String, String)>),
    /// The row would clash with another (duplicate number, object still in use).
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// A package or allocation limit would be exceeded.
    #[error("{message}")]
    Limit { limit: String, message: String },
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migrations: {0}")]
    Migration(#[from] rusqlite_migration::Error),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> StoreError {
        StoreError::Invalid { field: field.to_string(), message: message.into() }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub type Conn = PooledConnection<SqliteConnectionManager>;

/// How long a connection waits for a lock another holds before the statement fails.
const BUSY: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// Read-only connections for [`Store::reading`]: more than the async runtime has threads
/// (one a core by default), so a read on a task never waits for a connection.
/// The read-write connections: SQLite takes one writer at a time, and a few more let reads
/// on the blocking pool go on beside it.
pub const WRITERS: u32 = 8;

fn readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(8, |n| n.get() as u32);
    (2 * cores).max(16)
}

/// The pools' failures to open a connection: counted, and logged with what was being done
/// (r2d2's default handler logs the bare SQLite message under its own name).
#[derive(Debug)]
struct ConnectionErrors(Arc<AtomicU64>);

impl r2d2::HandleError<rusqlite::Error> for ConnectionErrors {
    fn handle_error(&self, error: rusqlite::Error) {
        self.0.fetch_add(1, Ordering::Relaxed);
        tracing::error!(%error, "opening a database connection (the pool retries)");
    }
}

#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// Read-only connections for reads made on an async task itself (see [`Store::reading`]).
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Connections either pool failed to open (each is retried).
    connection_errors: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let store = Store::open_unmigrated(path)?;
        store.migrate()?;
        Ok(store)
    }

    fn open_unmigrated(path: &Path) -> Result<Store> {
        // WAL lets readers go on while one writer commits; the busy timeout makes a second
        // writer wait instead of failing (set first, before any statement); foreign keys are
        // off by default in SQLite. The statement cache holds what every call runs (routing
        // reads, the ledger, its record) with room for the API's: rusqlite's default of 16
        // is fewer than that, and preparing a statement again costs more than running most
        // of them (the reservations DELETE's prepare alone was 2% of a routed call's CPU in
        // the server, perf over `BENCH_PROFILE=5000 cargo bench --bench routing`).
        //
        // WAL is a property of the file: a new database switches once, here, on one
        // connection. The pool opens its connections on several threads at once, and SQLite
        // refuses a switch to WAL while another connection holds the file, without calling
        // the busy handler ("database is locked"; 3 of 400 connections on fresh files, 8 at a
        // time): done in every connection's set-up, a first start logged the pool's retries
        // as errors.
        {
            let c = rusqlite::Connection::open(path)?;
            c.busy_timeout(BUSY)?;
            let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(path = %path.display(), mode, "the database stays out of WAL mode: readers will wait for writers");
            }
        }
        let connection_errors = Arc::new(AtomicU64::new(0));
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            c.busy_timeout(BUSY)?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        });
        let pool = r2d2::Pool::builder()
            .max_size(WRITERS)
            .connection_timeout(Duration::from_secs(10))
            .error_handler(Box::new(ConnectionErrors(connection_errors.clone())))
            .build(manager)?;
        // `query_only`: a write through a reader fails instead of taking the write lock (and
        // waiting up to the busy timeout on a thread that must not wait). Opened when first
        // asked for: most stores (the CLI's, tests') never read on a task.
        let readers = r2d2::Pool::builder()
            .max_size(readers())
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .error_handler(Box::new(ConnectionErrors(connection_errors.clone())))
            .build(SqliteConnectionManager::file(path).with_init(|c| {
                c.busy_timeout(BUSY)?;
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                c.execute_batch("PRAGMA query_only = 1;")
            }))?;
        Ok(Store { pool, readers, connection_errors })
    }

    /// The same database through read-only connections of their own, for the few reads a
    /// call makes on its async task instead of handing them to the blocking pool (the
    /// hand-off and the wake back cost more than the reads: ~20 µs for a call's whole first
    /// trip against the routing tables, which stay in the page cache). In WAL mode a read
    /// never waits for a writer, and a connection is held only while one synchronous read
    /// runs on the thread that asked, so as long as fewer threads read this way than there
    /// are read-only connections (twice the cores, at least 16), none waits for one either.
    /// Writes through it fail.
    pub fn reading(&self) -> Store {
        Store { pool: self.readers.clone(), readers: self.readers.clone(), connection_errors: self.connection_errors.clone() }
    }

    /// How many connections the pools failed to open since the store was opened.
    pub fn connection_errors(&self) -> u64 {
        self.connection_errors.load(Ordering::Relaxed)
    }

    /// Applies every pending migration; returns (version before, version after).
    pub fn migrate(&self) -> Result<(usize, usize)> {
        let mut c = self.conn()?;
        let m = migrations();
        let before: usize = m.current_version(&c)?.into();
        m.to_latest(&mut c)?;
        let after: usize = m.current_version(&c)?.into();
        Ok((before, after))
    }

    /// Opens `path` and migrates it without doing anything else (`switchboard migrate`).
    pub fn migrate_file(path: &Path) -> Result<(usize, usize)> {
        Store::open_unmigrated(path)?.migrate()
    }

    pub fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one IMMEDIATE transaction: the write lock is taken at BEGIN, so checks
    /// made inside (slot counts, uniqueness) cannot race another writer.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut c = self.conn()?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let v = f(&tx)?;
        tx.commit()?;
        Ok(v)
    }
}

/// A WHERE clause assembled from static column text and bound values, and the paged query
/// over it (COUNT, then one page newest-first or in the order given).
pub(crate) struct Where {
    sql: String,
    args: Vec<rusqlite::types::Value>,
}

impl Where {
    pub(crate) fn new() -> Where {
        Where { sql: "1=1".into(), args: Vec::new() }
    }

    /// `AND <col_op> ?n` — `col_op` is static text such as `"tenant_id ="`.
    pub(crate) fn and(&mut self, col_op: &str, v: rusqlite::types::Value) {
        self.args.push(v);
        self.sql.push_str(&format!(" AND {col_op} ?{}", self.args.len()));
    }

    /// A raw condition whose `?N` placeholders refer to `values`, appended after the current
    /// arguments (`{n}` in `sql` is replaced by the first new index, `{n+1}`… by the next).
    pub(crate) fn and_raw(&mut self, sql: impl Fn(usize) -> String, values: Vec<rusqlite::types::Value>) {
        let first = self.args.len() + 1;
        self.args.extend(values);
        self.sql.push_str(&format!(" AND ({})", sql(first)));
    }

    /// A time bound (`from`/`to` filters): a date or an RFC 3339 time, refused otherwise.
    pub(crate) fn time_bound(&mut self, field: &str, col_op: &str, v: Option<&String>) -> Result<()> {
        if let Some(v) = v {
            if v.parse::<jiff::Timestamp>().is_err() && v.parse::<jiff::civil::Date>().is_err() {
                return Err(StoreError::invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"));
            }
            self.and(col_op, rusqlite::types::Value::Text(v.clone()));
        }
        Ok(())
    }

    /// The total and one page of `cols` from `table`.
    pub(crate) fn page(
        self,
        c: &rusqlite::Connection,
        table: &str,
        cols: &str,
        order: &str,
        page: u32,
        per_page: u32,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value>,
    ) -> Result<Page> {
        self.page_of(c, table, order, page, per_page, row, |ordered| format!("SELECT {cols} FROM {ordered}"))
    }

    /// As [`Where::page`], for tables of millions of rows: the page's keys are chosen first
    /// by `SELECT {keys} FROM {table} WHERE … ORDER BY {order} LIMIT … OFFSET …`, which an
    /// index can answer alone, so rows skipped by the offset are never read; `rows` gets
    /// that subquery, parenthesised, and reads the page's own rows with it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn page_keyed(
        self,
        c: &rusqlite::Connection,
        table: &str,
        keys: &str,
        order: &str,
        page: u32,
        per_page: u32,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value>,
        rows: impl FnOnce(&str) -> String,
    ) -> Result<Page> {
        self.page_of(c, table, order, page, per_page, row, |ordered| rows(&format!("(SELECT {keys} FROM {ordered})")))
    }

    /// The count, then the page: `query` gets `{table} WHERE … ORDER BY {order} LIMIT …
    /// OFFSET …` and returns the SELECT around it.
    #[allow(clippy::too_many_arguments)]
    fn page_of(
        mut self,
        c: &rusqlite::Connection,
        table: &str,
        order: &str,
        page: u32,
        per_page: u32,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value>,
        query: impl FnOnce(&str) -> String,
    ) -> Result<Page> {
        let total: i64 =
            c.query_row(&format!("SELECT COUNT(*) FROM {table} WHERE {}", self.sql), rusqlite::params_from_iter(self.args.iter()), |r| r.get(0))?;
        let page = page.max(1);
        self.args.push(rusqlite::types::Value::Integer(per_page as i64));
        self.args.push(rusqlite::types::Value::Integer((page as i64 - 1) * per_page as i64));
        let ordered = format!("{table} WHERE {} ORDER BY {order} LIMIT ?{} OFFSET ?{}", self.sql, self.args.len() - 1, self.args.len());
        let items = c.prepare(&query(&ordered))?.query_map(rusqlite::params_from_iter(self.args.iter()), row)?.collect::<rusqlite::Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }
}

/// A substring search as a LIKE pattern: the text's own `%`, `_` and `\` match themselves
/// (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// Now, UTC, as stored (RFC 3339 with seconds, `Z`).
pub fn now() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string()
}

#[cfg(test)]
pub(crate) fn temp_store() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sb-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    (Store::open(&dir.join("t.db")).unwrap(), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let (s, dir) = temp_store();
        let (before, after) = s.migrate().unwrap();
        assert_eq!(before, after, "a second run applies nothing");
        assert_eq!(after, MIGRATIONS.len());
        let fk: i64 = s.conn().unwrap().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let mode: String = s.conn().unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        migrations().validate().unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_new_database_opens_every_pooled_connection_at_the_first_try() {
        // The pool opens its 8 connections on several threads at once; when each switched a
        // new file to WAL, about 1 in 130 failed with "database is locked".
        let dir = std::env::temp_dir().join(format!("sb-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for round in 0..60 {
            let s = Store::open_unmigrated(&dir.join(format!("{round}.db"))).unwrap();
            let mode: String = s.conn().unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
            // The pool is returned with its connections still being opened in the background.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while s.pool.state().idle_connections < 8 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(s.connection_errors(), 0, "round {round}: connections the pool had to open again");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn readers_see_only_commits_read_through_an_open_write_and_cannot_write() {
        let (s, dir) = temp_store();
        let r = s.reading();
        let mut w = s.conn().unwrap();
        w.execute_batch("CREATE TABLE probe (v INTEGER); INSERT INTO probe VALUES (1);").unwrap();
        let count = |r: &Store| -> i64 { r.conn().unwrap().query_row("SELECT count(*) FROM probe", [], |x| x.get(0)).unwrap() };
        let tx = w.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        tx.execute("INSERT INTO probe VALUES (2)", []).unwrap();
        assert_eq!(count(&r), 1, "a reader reads while the write lock is held, and not what is uncommitted");
        tx.commit().unwrap();
        assert_eq!(count(&r), 2, "and sees it once committed");
        let write = r.conn().unwrap().execute("INSERT INTO probe VALUES (3)", []);
        assert!(write.is_err(), "a write through the readers fails: {write:?}");
        assert_eq!(count(&s), 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
