//! How a run ends, as the process exit code (docs/exit-codes.md), and how the ends of several
//! targets' runs combine into one.

/// Process exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; nothing to do, or everything done.
    Success,
    /// An AWS call or a step failed (the summary says which).
    Failure,
    /// `--detailed-exitcode`: changes pending or drift found.
    Changes,
    /// The config (or a flag) is invalid; no AWS call was made.
    InvalidInput,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::InvalidInput => 3,
            ExitStatus::Interrupted => 130,
        }
    }

    /// How bad an end is: a run over many targets ends as its worst target did.
    fn severity(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Changes => 1,
            ExitStatus::Failure => 2,
            ExitStatus::InvalidInput => 3,
            ExitStatus::Interrupted => 4,
        }
    }

    /// The worst of `statuses` (interrupted above all, failures above pending changes);
    /// success when there are none.
    pub fn worst(statuses: impl IntoIterator<Item = ExitStatus>) -> ExitStatus {
        statuses
            .into_iter()
            .max_by_key(|s| s.severity())
            .unwrap_or(ExitStatus::Success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_end_wins() {
        use ExitStatus::*;
        assert_eq!(ExitStatus::worst([]), Success);
        assert_eq!(ExitStatus::worst([Success, Changes, Success]), Changes);
        assert_eq!(ExitStatus::worst([Changes, Failure]), Failure);
        assert_eq!(
            ExitStatus::worst([Failure, Interrupted, Changes]),
            Interrupted
        );
    }
}
