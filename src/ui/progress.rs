//! Progress on stderr: a spinner per running step on a terminal, plain timestamped lines
//! otherwise (CI logs), nothing with `-q`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{ComponentId, Progress};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Hidden,
    Spinners,
    Lines,
}

impl Mode {
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Hidden
        } else if std::io::stderr().is_terminal() {
            Mode::Spinners
        } else {
            Mode::Lines
        }
    }
}

pub struct UiProgress {
    mode: Mode,
    multi: MultiProgress,
    bars: Mutex<HashMap<ComponentId, ProgressBar>>,
}

impl UiProgress {
    pub fn new(mode: Mode) -> UiProgress {
        let multi = MultiProgress::with_draw_target(match mode {
            Mode::Spinners => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        });
        UiProgress {
            mode,
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, id: ComponentId, message: &str) {
        if self.mode == Mode::Lines {
            let now = chrono::Utc::now().format("%H:%M:%S");
            eprintln!("{now} {:<9} {message}", id.as_str());
        }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<ComponentId, ProgressBar>> {
        self.bars.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Print a line above the spinners (or plainly).
    pub fn println(&self, message: &str) {
        match self.mode {
            Mode::Spinners => {
                let _ = self.multi.println(message);
            }
            Mode::Lines => eprintln!("{message}"),
            Mode::Hidden => {}
        }
    }
}

impl Progress for UiProgress {
    fn step_started(&self, id: ComponentId, message: &str) {
        self.line(id, message);
        if self.mode == Mode::Spinners {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:<9.bold} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(id.as_str());
            bar.set_message(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            self.bars().insert(id, bar);
        }
    }

    fn step_note(&self, id: ComponentId, message: &str) {
        self.line(id, message);
        if let Some(bar) = self.bars().get(&id) {
            bar.set_message(message.to_string());
        }
    }

    fn step_finished(&self, id: ComponentId, message: &str, ok: bool) {
        self.line(id, message);
        if self.mode == Mode::Spinners {
            let mark = if ok {
                console::style("✓").green().for_stderr()
            } else {
                console::style("✗").red().for_stderr()
            };
            let bar = self.bars().remove(&id);
            match bar {
                Some(bar) => {
                    bar.set_style(
                        ProgressStyle::with_template("{prefix} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(format!("{mark} {:<9}", id.as_str()));
                    bar.finish_with_message(message.to_string());
                }
                None => {
                    let _ = self
                        .multi
                        .println(format!("{mark} {:<9} {message}", id.as_str()));
                }
            }
        }
    }

    fn suspend(&self, f: &mut dyn FnMut()) {
        if self.mode == Mode::Spinners {
            // Hide rather than `MultiProgress::suspend`: suspend holds a lock that would stall
            // steps still running (and updating their spinners) while a prompt waits.
            self.multi.set_draw_target(ProgressDrawTarget::hidden());
            f();
            self.multi.set_draw_target(ProgressDrawTarget::stderr());
        } else {
            f();
        }
    }
}
