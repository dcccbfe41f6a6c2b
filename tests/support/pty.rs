//! A pseudo-terminal for the tests that answer the tool's questions as a person would: the
//! child's stdin and stderr are the terminal (made here with libc), stdout a pipe.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::process::{Spawned, drain};

pub const ENTER: &str = "\r";
pub const DOWN: &str = "\x1b[B";
pub const UP: &str = "\x1b[A";

/// A child process whose stdin and stderr are a pseudo-terminal (so the tool thinks a person is
/// there) and whose stdout is a pipe (the summary, kept apart from the prompt).
pub struct PtyChild {
    spawned: Option<Spawned>,
    master: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

fn check(rc: libc::c_int, what: &str) -> libc::c_int {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
    rc
}

impl PtyChild {
    pub fn spawn(mut cmd: Command) -> PtyChild {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;

        // SAFETY: plain libc calls on descriptors this function opens and owns; every result
        // is checked. O_CLOEXEC from the start, so no other test's child inherits them.
        let (master, slave) = unsafe {
            let master = check(
                libc::open(
                    c"/dev/ptmx".as_ptr(),
                    libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
                ),
                "open /dev/ptmx",
            );
            let master = OwnedFd::from_raw_fd(master);
            use std::os::fd::AsRawFd;
            check(libc::grantpt(master.as_raw_fd()), "grantpt");
            check(libc::unlockpt(master.as_raw_fd()), "unlockpt");
            let mut name = [0 as libc::c_char; 128];
            let rc = libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len());
            assert_eq!(rc, 0, "ptsname_r");
            let slave = check(
                libc::open(
                    name.as_ptr(),
                    libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
                ),
                "open the pty slave",
            );
            let slave = OwnedFd::from_raw_fd(slave);
            let size = libc::winsize {
                ws_row: 40,
                ws_col: 140,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            check(
                libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &size),
                "TIOCSWINSZ",
            );
            (master, slave)
        };

        cmd.stdin(Stdio::from(slave.try_clone().expect("dup slave")))
            .stderr(Stdio::from(slave))
            .stdout(Stdio::piped())
            .env_remove("CI")
            .env("TERM", "xterm")
            .env("NO_COLOR", "1");
        // SAFETY: only async-signal-safe calls between fork and exec. A new session whose
        // controlling terminal is the pty (stdin), as a shell would set it up.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn bedrock-monitor on a pty");
        // Our copies of the slave end go with `cmd`.
        drop(cmd);
        let stdout = child.stdout.take().map(drain);
        let spawned = Some(Spawned {
            child,
            stdout,
            stderr: None,
        });

        let master = std::fs::File::from(master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let mut master = master.try_clone().expect("dup master");
            let screen = screen.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                use std::os::fd::AsRawFd;
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let mut poll = libc::pollfd {
                        fd: master.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    let ready = unsafe { libc::poll(&mut poll, 1, 50) };
                    if ready <= 0 {
                        continue;
                    }
                    match master.read(&mut buf) {
                        // EIO once the child and its terminal are gone.
                        Ok(0) | Err(_) => break,
                        Ok(n) => screen
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .extend_from_slice(&buf[..n]),
                    }
                }
            })
        };
        PtyChild {
            spawned,
            master,
            screen,
            stop,
            reader: Some(reader),
        }
    }

    /// Everything the terminal showed so far (escape sequences included).
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Waits until `text` appears on the terminal after byte `from`; returns where it ends.
    pub fn expect_after(&mut self, from: usize, text: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let screen = self.screen.lock().unwrap_or_else(|p| p.into_inner());
                let tail = String::from_utf8_lossy(screen.get(from..).unwrap_or_default());
                if let Some(i) = tail.find(text) {
                    // Byte offsets in the lossy string match the screen's for valid UTF-8.
                    return from + i + text.len();
                }
            }
            let exited = self.spawned.as_mut().is_none_or(|s| s.exited());
            if exited || Instant::now() > deadline {
                // One last look: the text may have come with the exit.
                std::thread::sleep(Duration::from_millis(100));
                let screen = self.screen();
                if let Some(i) = screen.get(from..).and_then(|t| t.find(text)) {
                    return from + i + text.len();
                }
                panic!("{text:?} never appeared on the terminal; it showed:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types keys, one at a time, as a person would.
    pub fn keys(&mut self, keys: &[&str]) {
        use std::io::Write;
        for key in keys {
            std::thread::sleep(Duration::from_millis(150));
            self.master
                .write_all(key.as_bytes())
                .expect("type on the terminal");
            self.master.flush().expect("flush the terminal");
        }
    }

    /// Waits for the exit; returns the status, stdout and the terminal's text.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let spawned = self.spawned.take().expect("not finished yet");
        let (status, stdout, _) = spawned.finish();
        // Let the reader take what the terminal still holds.
        std::thread::sleep(Duration::from_millis(100));
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status, stdout, self.screen())
    }
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(spawned) = self.spawned.as_mut() {
            // A test that failed half-way: end the child it spawned, by its pid.
            let _ = spawned.child.kill();
            let _ = spawned.child.wait();
        }
    }
}
