//! Progress of one long piece of work that is not a stack step: the CUR objects read,
//! the Price List pages fetched, the targets of a fleet done. A bar on a terminal, a line now
//! and then otherwise (CI logs), nothing with `-q`; always on stderr.

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain line is written while the work goes on.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// A handle to one piece of work's progress; cheap to clone and share between tasks.
#[derive(Clone, Default)]
pub struct Activity {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    label: String,
    unit: String,
    /// Made when the work first reports (a handle made and never used draws nothing).
    bar: std::sync::OnceLock<Option<ProgressBar>>,
    terminal: bool,
    done: AtomicU64,
    total: AtomicU64,
    last_line: Mutex<Instant>,
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Some(inner) => write!(f, "Activity({})", inner.label),
            None => f.write_str("Activity(hidden)"),
        }
    }
}

impl Activity {
    /// Progress nobody sees (tests, `-q`, work too short to show).
    pub fn hidden() -> Activity {
        Activity::default()
    }

    /// Progress of `label`, counted in `unit` ("objects", "pages", "targets"): a bar when
    /// stderr is a terminal, else lines.
    pub fn start(label: &str, unit: &str) -> Activity {
        Activity {
            inner: Some(Arc::new(Inner {
                label: label.to_string(),
                unit: unit.to_string(),
                bar: std::sync::OnceLock::new(),
                terminal: std::io::stderr().is_terminal(),
                done: AtomicU64::new(0),
                total: AtomicU64::new(0),
                last_line: Mutex::new(Instant::now()),
            })),
        }
    }

    /// How much there is to do, once known (0 when it is not).
    pub fn set_total(&self, total: u64) {
        let Some(inner) = &self.inner else { return };
        inner.total.store(total, Ordering::Relaxed);
        match inner.bar() {
            Some(bar) => bar.set_length(total),
            None => inner.line(false),
        }
    }

    /// `n` more done.
    pub fn advance(&self, n: u64) {
        let Some(inner) = &self.inner else { return };
        inner.done.fetch_add(n, Ordering::Relaxed);
        match inner.bar() {
            Some(bar) => bar.inc(n),
            None => {
                let due = {
                    let mut last = inner.last_line.lock().unwrap_or_else(|p| p.into_inner());
                    let due = last.elapsed() >= LINE_EVERY;
                    if due {
                        *last = Instant::now();
                    }
                    due
                };
                if due {
                    inner.line(false);
                }
            }
        }
    }

    /// The work is over: the bar goes, a last line says how far it got.
    pub fn finish(&self) {
        let Some(inner) = &self.inner else { return };
        match inner.bar() {
            Some(bar) => bar.finish_and_clear(),
            None => inner.line(true),
        }
    }
}

impl Inner {
    /// The bar on a terminal, made the first time it is needed.
    fn bar(&self) -> Option<&ProgressBar> {
        self.bar
            .get_or_init(|| {
                self.terminal.then(|| {
                    let bar = ProgressBar::with_draw_target(
                        Some(self.total.load(Ordering::Relaxed)),
                        ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        ProgressStyle::with_template("{spinner:.cyan} {msg} {pos}/{len} {prefix}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message(self.label.clone());
                    bar.set_prefix(self.unit.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                })
            })
            .as_ref()
    }

    fn line(&self, last: bool) {
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let now = chrono::Utc::now().format("%H:%M:%S");
        let of = if total > 0 {
            format!("{done}/{total}")
        } else {
            done.to_string()
        };
        let state = if last { ", done" } else { "" };
        eprintln!("{now} {}: {of} {}{state}", self.label, self.unit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_activity_counts_nothing_and_never_fails() {
        let a = Activity::hidden();
        a.set_total(3);
        a.advance(2);
        a.finish();
        assert!(a.inner.is_none());
    }

    #[test]
    fn clones_share_one_count() {
        let a = Activity::start("reading", "objects");
        let b = a.clone();
        a.set_total(4);
        b.advance(3);
        a.advance(1);
        let inner = a.inner.as_ref().expect("shown");
        assert_eq!(inner.done.load(Ordering::Relaxed), 4);
        assert_eq!(inner.total.load(Ordering::Relaxed), 4);
        a.finish();
    }
}
