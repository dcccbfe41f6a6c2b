//! Headless Chromium for the HTML report's tests: a screenshot, and the DOM after a measuring
//! script has run, with every request the page might make sent to a proxy port the test owns
//! (so "no network" is seen, not assumed).
//!
//! Chromium's smallest window is 500 px wide, narrower than a phone: to lay the page out at a
//! phone's width, the measuring copy shows it in an `<iframe srcdoc>` of that width (its media
//! queries see the frame's width) and measures inside the frame.
//!
//! Headless Chromium 156 contacts three of Google's own services on every start, whatever the
//! page and despite `--disable-background-networking` (seen with an empty page: the network
//! time at clients2.google.com, the component updater at update.googleapis.com, the sign-in
//! service at accounts.google.com). The proxy records each request's target and answers 403 at
//! once (a request left unanswered would hold `--dump-dom` up); [`Browser::page_requests`]
//! leaves those three hosts out, so that any other request, such as a CDN or a web font, is the
//! page's.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a connection that sent no request line is recorded as.
const NO_REQUEST_LINE: &str = "(no request line)";

/// The hosts Chromium itself contacts on start (see the module's note).
const CHROMIUM_OWN_HOSTS: [&str; 3] = [
    "clients2.google.com",
    "update.googleapis.com",
    "accounts.google.com",
];

/// Where Debian's `chromium` package puts the browser (`scripts/test` installs it when it can).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one Chromium run may take before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Browser {
    path: PathBuf,
    /// Every request goes to this port (`--proxy-server`).
    port: u16,
    /// The request line of each request the proxy saw.
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Accepts connections until `stop`, recording each request line and refusing it.
fn serve(listener: TcpListener, requests: Arc<Mutex<Vec<String>>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut conn, _)) => {
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or(NO_REQUEST_LINE)
                    .to_string();
                requests
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(line);
                let _ = conn.write_all(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// What the measuring script found in the page at one width.
#[derive(Debug)]
pub struct Measured {
    /// The frame's layout width (the page's viewport).
    pub viewport: f64,
    /// The page's own scrolling width: more than `viewport` means sideways scrolling.
    pub scroll_width: f64,
    /// Elements outside the viewport or wider than their box, described.
    pub overflowing: Vec<String>,
    /// Per chart (`data-chart`): how many bars (`svg.bar`, or a daily chart's columns) it drew.
    pub bars: Vec<(String, usize)>,
}

impl Browser {
    /// Chromium, or `None` after saying why the calling test is skipped.
    pub fn find(test: &str) -> Option<Browser> {
        let path = std::env::var_os("BEDROCK_MONITOR_CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(CHROMIUM));
        if !path.exists() {
            // Straight to stderr, not through eprintln!, which the test harness captures and
            // shows only for failures: a skip must be seen in the suite's output.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no browser at {} (scripts/test installs Debian's chromium when \
                 it runs as root with apt-get; or set BEDROCK_MONITOR_CHROMIUM)",
                path.display()
            );
            return None;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("proxy address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, requests, stop));
        }
        Some(Browser {
            path,
            port,
            requests,
            stop,
        })
    }

    /// Every request line the proxy saw, Chromium's own included.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The requests that were not Chromium's own: the pages'.
    pub fn page_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|line| {
                // A connection closed before it sent a request line asked for nothing: Chromium
                // opens such speculative connections on its own (seen as a rare flake).
                if line == NO_REQUEST_LINE {
                    return false;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("");
                let host = target
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .split(['/', ':'])
                    .next()
                    .unwrap_or("");
                !CHROMIUM_OWN_HOSTS.contains(&host)
            })
            .collect()
    }

    /// Runs Chromium on `page` with `args` after the common flags; returns stdout.
    fn run(&self, page: &Path, width: u32, height: u32, args: &[String]) -> String {
        let profile = tempfile::tempdir().expect("chromium profile dir");
        let port = self.port;
        let mut cmd = Command::new(&self.path);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=127.0.0.1:{port}"))
        .arg(format!("--window-size={width},{height}"))
        .args(args)
        .arg(format!("file://{}", page.display()));
        // To files, not pipes: a DOM dump larger than a pipe's buffer would block Chromium
        // while this waits for it to exit.
        let out_path = profile.path().join("stdout");
        let err_path = profile.path().join("stderr");
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).expect("stdout file"))
            .stderr(std::fs::File::create(&err_path).expect("stderr file"));
        let mut child = cmd.spawn().expect("start chromium");
        let started = Instant::now();
        let status = loop {
            match child.try_wait().expect("wait for chromium") {
                Some(status) => break status,
                None if started.elapsed() > RUN_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "chromium took more than {RUN_TIMEOUT:?} on {}",
                        page.display()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        assert!(
            status.success(),
            "chromium failed on {}: {}",
            page.display(),
            std::fs::read_to_string(&err_path).unwrap_or_default()
        );
        std::fs::read_to_string(&out_path).expect("chromium's output")
    }

    /// A PNG of the page at `width` × `height` (the top of the page).
    pub fn screenshot(&self, page: &Path, png: &Path, width: u32, height: u32) {
        let _ = std::fs::remove_file(png);
        self.run(
            page,
            width,
            height,
            &[format!("--screenshot={}", png.display())],
        );
        let bytes = std::fs::read(png).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", png.display());
    }

    /// The page laid out `width` px wide, measured: see [`Measured`].
    pub fn measure(&self, html: &str, dir: &Path, width: u32) -> Measured {
        let harness = dir.join(format!("measure-{width}.html"));
        std::fs::write(&harness, measuring_page(html, width)).expect("write measuring page");
        let dom = self.run(&harness, width.max(500) + 40, 900, &["--dump-dom".into()]);
        let result = attribute(&dom, "data-measured").unwrap_or_else(|| {
            panic!("the measuring script left no result in the DOM:\n{dom}");
        });
        let doc: serde_json::Value = serde_json::from_str(&result).expect("measurement JSON");
        Measured {
            viewport: doc["viewport"].as_f64().unwrap_or(0.0),
            scroll_width: doc["scrollWidth"].as_f64().unwrap_or(0.0),
            overflowing: doc["overflowing"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default(),
            bars: doc["bars"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|b| {
                            (
                                b[0].as_str().unwrap_or("").to_string(),
                                b[1].as_u64().unwrap_or(0) as usize,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The value of the first `name="…"` attribute in `dom`, unescaped.
fn attribute(dom: &str, name: &str) -> Option<String> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    let end = dom[start..].find('"')? + start;
    Some(
        dom[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// A page that shows `html` in a frame `width` px wide and, once it has loaded, records in the
/// DOM: the frame's viewport and scrolling widths, every visible element that reaches outside
/// the viewport or whose content is wider than its box (text that does not fit), and how many
/// bars each chart drew.
fn measuring_page(html: &str, width: u32) -> String {
    let escaped = html.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>body {{ margin: 0 }} iframe {{ border: 0; display: block }}</style></head>
<body>
<iframe id="page" width="{width}" height="20000" srcdoc="{escaped}"></iframe>
<script>
window.addEventListener("load", function () {{
  var frame = document.getElementById("page");
  var doc = frame.contentDocument, win = frame.contentWindow;
  var vw = doc.documentElement.clientWidth;
  var out = [];
  function describe(el, why) {{
    var r = el.getBoundingClientRect();
    var text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className : "") +
      " [" + Math.round(r.left) + ".." + Math.round(r.right) + "] " + why + ": " + text;
  }}
  // The part of el that can be seen: its box cut by every ancestor that clips.
  function visible(el) {{
    var r = el.getBoundingClientRect();
    var left = r.left, right = r.right;
    for (var a = el.parentElement; a; a = a.parentElement) {{
      var s = win.getComputedStyle(a);
      if (s.overflowX !== "visible" || s.clipPath !== "none") {{
        var ar = a.getBoundingClientRect();
        left = Math.max(left, ar.left); right = Math.min(right, ar.right);
      }}
    }}
    return {{ left: left, right: right }};
  }}
  var all = doc.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {{
    var el = all[i];
    var tag = el.tagName.toLowerCase();
    // Inside an SVG only the SVG itself is measured (its shapes are percentages of it).
    if (tag !== "svg" && el.closest("svg")) continue;
    var s = win.getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden") continue;
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    var v = visible(el);
    if (v.right - v.left <= 1) continue;
    if (v.left < -0.5 || v.right > vw + 0.5) out.push(describe(el, "outside the viewport"));
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) out.push(describe(el, "content wider than its box"));
  }}
  var bars = [];
  var charts = doc.querySelectorAll("figure[data-chart]");
  for (var j = 0; j < charts.length; j++) {{
    var c = charts[j];
    var n = c.getAttribute("data-chart") === "daily" ? c.querySelectorAll("g.column").length : c.querySelectorAll("svg.bar").length;
    bars.push([c.getAttribute("data-chart"), n]);
  }}
  document.body.setAttribute("data-measured", JSON.stringify({{
    viewport: vw, scrollWidth: doc.documentElement.scrollWidth, overflowing: out, bars: bars
  }}));
}});
</script>
</body></html>"#
    )
}
