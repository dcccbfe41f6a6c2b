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
}
