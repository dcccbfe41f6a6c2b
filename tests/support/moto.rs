//! A `moto_server` process on a free local port, for the duration of a test.
//!
//! Synchronous (std only) so plain `#[test]` functions can use it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `Moto::start` waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often `Moto::start` polls the server while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A running `moto_server`, killed (by its own pid) when dropped.
pub struct Moto {
    child: Child,
    port: u16,
    log_path: PathBuf,
    /// Holds the log directory; `None` once it has been kept on purpose.
    log_dir: Option<tempfile::TempDir>,
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` on a free port (or
    /// `python3 -m moto.server …` when `moto_server` is not on `PATH`) and
    /// waits until `GET /moto-api/` answers.
    ///
    /// Panics, printing the server's log, if it does not answer within 30 s.
    pub fn start() -> Moto {
        let port = free_port();
        let log_dir = tempfile::Builder::new()
            .prefix("moto-server-")
            .tempdir()
            .expect("create a temporary directory for the moto_server log");
        let log_path = log_dir.path().join("moto_server.log");
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("create moto log {}: {e}", log_path.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("duplicate moto log handle {}: {e}", log_path.display()));

        let port_arg = port.to_string();
        let mut command = if on_path("moto_server") {
            Command::new("moto_server")
        } else {
            let mut c = Command::new("python3");
            c.args(["-m", "moto.server"]);
            c
        };
        command
            .args(["-H", "127.0.0.1", "-p", &port_arg])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));

        let mut moto = Moto {
            child,
            port,
            log_path,
            log_dir: Some(log_dir),
        };
        moto.wait_until_ready();
        moto
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the server's stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_else(|e| format!("(could not read {}: {e})", self.log_path.display()))
    }

    /// Forgets every resource in the emulator (`POST /moto-api/reset`).
    pub fn reset(&self) {
        match http_request(
            self.port,
            "POST",
            "/moto-api/reset",
            Duration::from_secs(10),
        ) {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!(
                "POST {}/moto-api/reset answered {status}: {body}\nlog {}:\n{}",
                self.url(),
                self.log_path.display(),
                self.log()
            ),
            Err(e) => panic!(
                "POST {}/moto-api/reset failed: {e}\nlog {}:\n{}",
                self.url(),
                self.log_path.display(),
                self.log()
            ),
        }
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited before answering ({status}); log {}:\n{}",
                    self.log_path.display(),
                    self.log()
                );
            }
            let last_error =
                match http_request(self.port, "GET", "/moto-api/", Duration::from_secs(2)) {
                    Ok(_) => return,
                    Err(e) => e.to_string(),
                };
            if Instant::now() >= deadline {
                let log = self.log();
                // Keep the log file for inspection; the panic drops `self`.
                if let Some(dir) = self.log_dir.take() {
                    let _ = dir.keep();
                }
                panic!(
                    "moto_server on port {} did not answer GET /moto-api/ within {:?} \
                     (last error: {last_error}); log {}:\n{log}",
                    self.port,
                    START_TIMEOUT,
                    self.log_path.display()
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Kill exactly the process we started, by its pid, never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            // A failing test: keep the log and say where it is.
            if let Some(dir) = self.log_dir.take() {
                let _ = dir.keep();
            }
            eprintln!("moto_server log kept at {}", self.log_path.display());
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1 and that no other `Moto` of this process
/// was given. Without the second rule, two tests starting at once could be handed the same
/// port between the probe's close and the servers' binds: one server fails to bind, and its
/// test, seeing the other's server answer, would share it (and its state).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("bind 127.0.0.1:0 to find a free port");
        let port = listener
            .local_addr()
            .expect("local address of the port probe")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// A minimal HTTP/1.0 exchange with the server: returns the status code and body.
fn http_request(
    port: u16,
    method: &str,
    path: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "not an HTTP response: {:?}",
                    text.chars().take(80).collect::<String>()
                ),
            )
        })?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
