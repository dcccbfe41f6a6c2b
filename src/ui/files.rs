//! Files the tool writes for its user (a report with `--out`, the saved price file): readable by
//! their owner only. A report names principals, teams, models and spend; on a shared machine
//! the default umask (022) would let every local account read it.

use std::io::Write;
use std::path::Path;

/// Owner read and write, nothing for group or others.
#[cfg(unix)]
const PRIVATE_MODE: u32 = 0o600;

/// Writes `contents` to `path` with mode 0600. A file that already exists is narrowed to 0600
/// before it is truncated and written (the mode given at creation applies only to new files),
/// so its new contents are never readable by others, even for a moment.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_MODE);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    file.set_len(0)?;
    file.write_all(contents)?;
    file.flush()
}

/// Writes `contents` to `path` whole or not at all: into `<path>.partial` beside it (mode 0600,
/// as [`write_private`]), then renamed over `path`. A reader, or a failure half-way (a full
/// disk), sees the old file or the new one, never a part; the partial file is removed when the
/// write fails.
pub fn replace_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let written = write_private(&partial, contents).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_and_existing_files_end_up_owner_only() {
        let dir = tempfile::tempdir().expect("dir");
        let fresh = dir.path().join("fresh.csv");
        write_private(&fresh, b"a,b\n").expect("write");
        let mode = std::fs::metadata(&fresh)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let old = dir.path().join("old.csv");
        std::fs::write(&old, "a much longer old content\n").expect("old");
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&old, b"new\n").expect("write");
        let meta = std::fs::metadata(&old).expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&old).expect("read"), "new\n");
    }

    #[test]
    fn a_replaced_file_is_whole_and_private_and_leaves_no_partial() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("report.parquet");
        std::fs::write(&path, "old").expect("old");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        replace_private(&path, b"new").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!dir.path().join("report.parquet.partial").exists());

        // A target that cannot be replaced (a directory) keeps what it was, and no partial.
        let taken = dir.path().join("taken");
        std::fs::create_dir(&taken).expect("dir");
        std::fs::write(taken.join("inside"), "x").expect("inside");
        assert!(replace_private(&taken, b"new").is_err());
        assert!(taken.join("inside").exists());
        assert!(!dir.path().join("taken.partial").exists());
    }
}
