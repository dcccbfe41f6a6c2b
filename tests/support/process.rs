//! A spawned `bedrock-monitor` for the tests that signal it mid-run (SIGKILL, SIGINT): its
//! output drained on threads, waits bounded by [`RUN_LIMIT`].

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::env::TestEnv;

/// The longest a run may take before the test gives up on it.
pub const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A spawned binary whose stdout and stderr are drained on threads (no pipe can fill up).
pub struct Spawned {
    pub child: Child,
    pub stdout: Option<JoinHandle<String>>,
    pub stderr: Option<JoinHandle<String>>,
}

pub fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

impl Spawned {
    pub fn start(mut cmd: Command) -> Spawned {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn bedrock-monitor");
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Spawned {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits (at most [`RUN_LIMIT`]) and returns the status, stdout and stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for bedrock-monitor") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("bedrock-monitor did not exit within {RUN_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let out = self.stdout.take().map(|h| h.join().unwrap_or_default());
        let err = self.stderr.take().map(|h| h.join().unwrap_or_default());
        (status, out.unwrap_or_default(), err.unwrap_or_default())
    }
}

/// Waits until the proxy has forwarded at least `count` writes, or the child has exited.
/// True when the count was reached.
pub fn wait_for_writes(env: &TestEnv, child: &mut Spawned, count: usize) -> bool {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if env.proxy.writes().len() >= count {
            return true;
        }
        if child.exited() || Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Ctrl-C, as a terminal would send it.
pub fn sigint(child: &Spawned) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    let sent = unsafe { libc::kill(child.pid(), libc::SIGINT) };
    assert_eq!(sent, 0, "kill -INT {}", child.pid());
}
