//! Ctrl-C during a run that writes: the first stops new work while calls in flight finish (the
//! run then prints its summary), the second exits at once.

use crate::engine::Interrupt;
use crate::exit::ExitStatus;

/// First Ctrl-C: start no new steps, let running calls finish, print the summary. Second:
/// exit at once.
pub fn watch_ctrl_c(interrupt: Interrupt) -> tokio::task::JoinHandle<()> {
    // Subscribe now, not when the task first runs: a Ctrl-C right after this call must be
    // caught, not kill the process.
    let signals = Interrupts::listen();
    second_interrupt_exits();
    tokio::spawn(async move {
        let Some(mut signals) = signals else {
            return;
        };
        if !signals.next().await {
            return;
        }
        interrupt.trigger();
        // On Unix the signal handler has already said so (it runs even when this task is late).
        if cfg!(not(unix)) {
            eprintln!("{}", INTERRUPTED_MESSAGE.trim());
        }
        if signals.next().await {
            eprintln!("stopped at once; run the command again to finish");
            std::process::exit(ExitStatus::Interrupted.code());
        }
    })
}

const INTERRUPTED_MESSAGE: &str =
    "\ninterrupted: finishing the calls in flight, then stopping (Ctrl-C again to quit now)\n";

/// Ctrl-C is acknowledged and a second one exits at once, from the signal handler itself: the
/// async watcher may not have run between two quick Ctrl-Cs, and tokio delivers them as one.
#[cfg(unix)]
fn second_interrupt_exits() {
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static REGISTER: Once = Once::new();
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    REGISTER.call_once(|| {
        let handler = || {
            const STOPPED: &[u8] = b"stopped at once; run the command again to finish\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffers are static.
            unsafe {
                if SEEN.fetch_add(1, Ordering::SeqCst) == 0 {
                    let first = INTERRUPTED_MESSAGE.as_bytes();
                    libc::write(2, first.as_ptr().cast(), first.len());
                } else {
                    libc::write(2, STOPPED.as_ptr().cast(), STOPPED.len());
                    libc::_exit(ExitStatus::Interrupted.code());
                }
            }
        };
        // SAFETY: the handler only touches an atomic and calls async-signal-safe functions.
        // If registering fails, the async watcher still handles Ctrl-C (the second one then
        // only when it is seen separately).
        let _ = unsafe { signal_hook_registry::register(libc::SIGINT, handler) };
    });
}

#[cfg(not(unix))]
fn second_interrupt_exits() {}

/// One subscription to SIGINT for the whole run, so that a second Ctrl-C arriving right after
/// the first is not lost between two listeners.
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> Option<Interrupts> {
        #[cfg(unix)]
        {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .ok()
                .map(|signal| Interrupts { signal })
        }
        #[cfg(not(unix))]
        {
            Some(Interrupts {})
        }
    }

    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.signal.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}
