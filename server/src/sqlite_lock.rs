//! One server process per SQLite file. The store's leases let replicas share PostgreSQL, but a
//! server on SQLite takes over every journaled token at start (the file is its own, so whatever
//! is in it was left by a previous run): a second process on the same file would take the live
//! tokens of the first, and both would follow the same Linode and revoke its token. So a server on
//! a SQLite file holds an exclusive lock on `<file>.lock` for as long as it runs, and a second one
//! refuses to start, saying which file and what to do instead.
//!
//! The lock is the operating system's advisory lock (`flock` on Linux, through
//! [`File::try_lock`]): it goes with the process however it ends, `kill -9` and out-of-memory
//! kills included, so a restart after a crash is never locked out. The lock file itself stays.

use std::{
    ffi::OsString,
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
};

use percent_encoding::percent_decode_str;

#[derive(Debug, thiserror::Error)]
pub enum SqliteLockError {
    #[error(
        "another server process is using the SQLite store {database} (it holds {lock}): SQLite is for one \
         process. Stop the other process, give this one a DATA_DIR of its own, or use PostgreSQL \
         (DATABASE_URL=postgres://…) to run several replicas"
    )]
    Held { database: PathBuf, lock: PathBuf },
    #[error("could not lock the SQLite store {database} through {lock}: {source}")]
    Io { database: PathBuf, lock: PathBuf, source: std::io::Error },
}

/// Held for the server's lifetime; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct SqliteLock {
    _file: File,
}

/// Takes the lock for the SQLite database at `database`, or says who holds it.
pub fn lock(database: &Path) -> Result<SqliteLock, SqliteLockError> {
    let mut name = OsString::from(database.as_os_str());
    name.push(".lock");
    let lock = PathBuf::from(name);
    let io = |source| SqliteLockError::Io { database: database.to_owned(), lock: lock.clone(), source };
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&lock).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(SqliteLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(SqliteLockError::Held { database: database.to_owned(), lock }),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

/// The file a `sqlite:` URL names, read as sqlx reads it (`sqlite://path?params` or
/// `sqlite:path`, percent-decoded); `None` for an in-memory database (`:memory:`,
/// `mode=memory`), which no other process can open, and for any other URL.
pub fn database_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory =
        url::form_urlencoded::parse(params.as_bytes()).any(|(key, value)| key == "mode" && value == "memory");
    if database.is_empty() || database == ":memory:" || in_memory {
        return None;
    }
    let database = percent_decode_str(database).decode_utf8().ok()?;
    Some(PathBuf::from(database.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_a_sqlite_url_is_read_as_sqlx_reads_it() {
        let file = |url| database_file(url).map(|path| path.display().to_string());
        assert_eq!(file("sqlite:///var/lib/iol/store.sqlite3?mode=rwc").as_deref(), Some("/var/lib/iol/store.sqlite3"));
        assert_eq!(file("sqlite://data/store.db").as_deref(), Some("data/store.db"));
        assert_eq!(file("sqlite:store.db").as_deref(), Some("store.db"));
        assert_eq!(file("sqlite:///tmp/a%20b.db").as_deref(), Some("/tmp/a b.db"));
        for in_memory in ["sqlite::memory:", "sqlite://:memory:", "sqlite://?mode=memory", "sqlite://x.db?mode=memory"]
        {
            assert_eq!(file(in_memory), None, "{in_memory}");
        }
        assert_eq!(file("postgres://u:p@host/db"), None);
    }

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("store.sqlite3");
        let first = lock(&database).unwrap();
        let error = lock(&database).unwrap_err().to_string();
        assert!(error.contains(&database.display().to_string()) && error.contains("another server process"), "{error}");
        assert!(error.contains("DATA_DIR") && error.contains("DATABASE_URL"), "says what to do: {error}");
        drop(first);
        lock(&database).expect("free again once the holder is gone");
    }
}
