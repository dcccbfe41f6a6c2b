//! The benchmark of issue 8: the whole eight-component stack against moto behind a proxy that
//! adds a fixed latency to every AWS call, as real AWS round trips would.
//!
//! For fresh apply, no-op apply, plan and status on a converged stack, and cleanup
//! --purge-data, it reports the median wall time over several runs, the AWS calls by service
//! and kind, the critical path (the longest chain of calls each of which started after the
//! previous one finished, measured from the proxy's timestamps), and wall ÷ (critical path ×
//! latency), and the CPU time the tool, the emulator and the proxy used (over every core, the
//! least wall time this machine needs for the scenario). Also `--help` start-up time and the
//! peak memory of an apply. The fan-out scenario (issue 14) runs 20 accounts × 2 regions
//! through `[targets]` and compares them with one target.
//!
//! `scripts/bench` runs it; settings: BENCH_LATENCY_MS (100), BENCH_RUNS (3),
//! BENCH_MOTO_PROCESSES (one per core), BENCH_FANOUT_CONCURRENCY (the default, 8), BENCH_OUTPUT
//! (target/bench/results.json).

#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "../tests/support/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use moto::Moto;
use proxy::{Call, Proxy, ProxyOptions};

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-monitor");

const CONFIG: &str = "[alerts]\nemails = [\"ops@example.com\"]\n";

/// Accounts of the fan-out scenario (each in two regions).
const FANOUT_ACCOUNTS: u64 = 20;

struct Bench {
    /// One moto process per core, sharing the accounts out (`Proxy::start_sharded`).
    motos: Vec<Moto>,
    proxy: Proxy,
    dir: PathBuf,
    latency: Duration,
}

struct Measured {
    wall: Duration,
    calls: Vec<Call>,
    code: i32,
    /// CPU time of the tool, of the emulator processes and of this process (the proxy).
    cpu: Cpu,
}

#[derive(Clone, Copy, Default)]
struct Cpu {
    tool: Duration,
    emulator: Duration,
    proxy: Duration,
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// CPU time (user + system) of this process so far: the proxy's threads, mostly.
fn own_cpu() -> Duration {
    // SAFETY: rusage is plain old data filled by getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// CPU time (user + system) of a running process, from /proc/PID/stat.
fn process_cpu(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (indexes 11 and 12 counted from state).
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / per_second)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Bench {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.proxy.url())
            .env("AWS_CONFIG_FILE", self.dir.join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CI", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    fn reset(&self) {
        for moto in &self.motos {
            moto.reset();
        }
        self.proxy.clear();
    }

    fn emulator_cpu(&self) -> Duration {
        self.motos.iter().map(|m| process_cpu(m.pid())).sum()
    }

    fn measure(&self, args: &[&str]) -> Measured {
        self.proxy.clear();
        let (emulator, proxy) = (self.emulator_cpu(), own_cpu());
        let started = Instant::now();
        let (code, usage) = run_with_usage(&mut self.command(args)).expect("run bedrock-monitor");
        let wall = started.elapsed();
        Measured {
            wall,
            calls: self.proxy.calls(),
            code,
            cpu: Cpu {
                tool: timeval(usage.ru_utime) + timeval(usage.ru_stime),
                emulator: self.emulator_cpu().saturating_sub(emulator),
                proxy: own_cpu().saturating_sub(proxy),
            },
        }
    }

    fn run_quietly(&self, args: &[&str]) {
        let status = self.command(args).status().expect("run bedrock-monitor");
        assert!(status.success(), "setup step {args:?} failed");
    }
}

/// The longest chain of calls each starting after the previous one finished.
fn critical_path(calls: &[Call]) -> usize {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.started);
    let mut depth = vec![1usize; sorted.len()];
    for i in 0..sorted.len() {
        for j in 0..i {
            if sorted[j].finished <= sorted[i].started {
                depth[i] = depth[i].max(depth[j] + 1);
            }
        }
    }
    depth.into_iter().max().unwrap_or(0)
}

/// Identical reads (same credentials, region, operation, path and body) beyond the first.
fn repeated_reads(calls: &[Call]) -> usize {
    let mut seen = BTreeMap::new();
    // Retries of an attempt the endpoint failed (moto's 500s) are not the tool's repeats.
    for c in calls
        .iter()
        .filter(|c| !c.write && c.status.is_some_and(|s| s < 500))
    {
        *seen
            .entry((
                c.signer.clone(),
                c.operation.clone(),
                c.path.clone(),
                c.body_digest,
            ))
            .or_insert(0usize) += 1;
    }
    seen.values().filter(|n| **n > 1).map(|n| n - 1).sum()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn scenario(
    bench: &Bench,
    name: &str,
    runs: u64,
    prepare: &dyn Fn(&Bench),
    args: &[&str],
) -> Value {
    let mut measured = Vec::new();
    for _ in 0..runs {
        prepare(bench);
        let m = bench.measure(args);
        assert!(
            m.code == 0,
            "{name}: bedrock-monitor {args:?} exited {}",
            m.code
        );
        measured.push(m);
    }
    let wall = median(measured.iter().map(|m| m.wall).collect());
    // Calls of the median run (they do not vary between runs of one scenario).
    let sample = &measured[measured.len() / 2];
    let mut by_service: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    for c in &sample.calls {
        *by_service
            .entry(c.service.clone())
            .or_default()
            .entry(if c.write { "write" } else { "read" })
            .or_default() += 1;
    }
    let reads = sample.calls.iter().filter(|c| !c.write).count();
    let writes = sample.calls.len() - reads;
    let path = critical_path(&sample.calls);
    let origin = sample.calls.iter().map(|c| c.started).min();
    let timeline: Vec<Value> = sample
        .calls
        .iter()
        .map(|c| {
            let at = |t: Instant| {
                origin
                    .map(|o| t.duration_since(o).as_millis() as u64)
                    .unwrap_or(0)
            };
            json!([
                at(c.started),
                at(c.finished),
                format!("{}:{}", c.service, c.operation),
                c.signer
            ])
        })
        .collect();
    let ideal = bench.latency * path as u32;
    let ratio = if ideal.is_zero() {
        0.0
    } else {
        wall.as_secs_f64() / ideal.as_secs_f64()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let cpu = sample.cpu;
    let cpu_total = cpu.tool + cpu.emulator + cpu.proxy;
    json!({
        "scenario": name,
        "runs": runs,
        // CPU of the median run; spread over every core, the total is the least wall time
        // this machine needs for the scenario whatever the latency.
        "cpu_ms": {
            "tool": cpu.tool.as_millis() as u64,
            "emulator": cpu.emulator.as_millis() as u64,
            "proxy": cpu.proxy.as_millis() as u64,
        },
        "cpu_floor_ms": (cpu_total / cores).as_millis() as u64,
        "wall_ms_median": wall.as_millis() as u64,
        "wall_ms_all": measured.iter().map(|m| m.wall.as_millis() as u64).collect::<Vec<_>>(),
        "calls": sample.calls.len(),
        "reads": reads,
        "writes": writes,
        "repeated_reads": repeated_reads(&sample.calls),
        "calls_by_service": by_service,
        "critical_path_calls": path,
        "wall_over_critical_path": (ratio * 100.0).round() / 100.0,
        "timeline_ms": timeline,
    })
}

/// Runs `cmd` to its end: its exit code (-1 when it did not exit) and the kernel's accounting
/// of it (CPU time, peak memory).
fn run_with_usage(cmd: &mut Command) -> Option<(i32, libc::rusage)> {
    // Reaped by wait4 below, which also gives the child's resource usage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Some((code, usage))
}

/// Peak resident memory of one run.
fn peak_memory_kib(cmd: &mut Command) -> Option<u64> {
    run_with_usage(cmd).map(|(_, usage)| usage.ru_maxrss as u64)
}

fn startup(bench: &Bench) -> Duration {
    let mut times = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let status = bench.command(&["--help"]).status().expect("--help");
        assert!(status.success());
        times.push(started.elapsed());
    }
    median(times)
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb / 1024 / 1024)
        .unwrap_or(0);
    json!({"cpu": cpu, "cores": cores, "memory_gib": memory, "os": std::env::consts::OS})
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let latency = Duration::from_millis(env_number("BENCH_LATENCY_MS", 100));
    let runs = env_number("BENCH_RUNS", 3).max(1);
    let output = std::env::var("BENCH_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/results.json")
        });

    // One moto process serves a few hundred calls a second (one Python interpreter), well
    // below what 40 targets ask of AWS, which serves each account on its own: one process per
    // core, each serving some of the accounts, keeps the emulator from being what is measured.
    let shards = env_number(
        "BENCH_MOTO_PROCESSES",
        std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
    )
    .max(1);
    let motos: Vec<Moto> = (0..shards).map(|_| Moto::start()).collect();
    let proxy = Proxy::start_sharded(
        &motos.iter().map(Moto::url).collect::<Vec<_>>(),
        ProxyOptions {
            latency,
            ..ProxyOptions::default()
        },
    );
    let dir = tempfile::tempdir().expect("scratch dir");
    std::fs::write(dir.path().join("bedrock-monitor.toml"), CONFIG).expect("config");
    std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
    std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
    let bench = Bench {
        motos,
        proxy,
        dir: dir.path().to_path_buf(),
        latency,
    };
    eprintln!(
        "benchmark: {} ms per AWS call, {runs} runs per scenario, {shards} moto process(es), binary {BIN}",
        latency.as_millis()
    );

    // moto imports each service's code on first use (hundreds of ms); one unmeasured cycle
    // keeps that out of the numbers, which should show the tool and the modelled latency.
    bench.reset();
    bench.run_quietly(&["apply", "--yes"]);
    bench.run_quietly(&["cleanup", "--yes", "--purge-data"]);

    let fresh = |b: &Bench| b.reset();
    // One apply converges the stack (alarms' OK actions depend on the config only).
    let converged = |b: &Bench| {
        b.reset();
        b.run_quietly(&["apply", "--yes"]);
    };
    let nothing = |_: &Bench| {};
    let mut results = Vec::new();
    results.push(scenario(
        &bench,
        "apply (fresh)",
        runs,
        &fresh,
        &["apply", "--yes"],
    ));
    converged(&bench);
    results.push(scenario(
        &bench,
        "apply (no-op)",
        runs,
        &nothing,
        &["apply", "--yes"],
    ));
    results.push(scenario(
        &bench,
        "plan (converged)",
        runs,
        &nothing,
        &["plan"],
    ));
    results.push(scenario(&bench, "status", runs, &nothing, &["status"]));
    results.push(scenario(
        &bench,
        "cleanup --purge-data",
        runs,
        &converged,
        &["cleanup", "--yes", "--purge-data"],
    ));

    let help = startup(&bench);
    bench.reset();
    let peak = peak_memory_kib(&mut bench.command(&["apply", "--yes"]));

    // Fan-out (issue 14): 20 accounts × 2 regions through [targets], against the one-target
    // figures above. moto keeps each assumed account's state apart.
    let accounts: Vec<String> = (1..=FANOUT_ACCOUNTS)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    // BENCH_FANOUT_CONCURRENCY: `[targets] concurrency` (unset: the default, 8 accounts).
    let concurrency = std::env::var("BENCH_FANOUT_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map(|n| format!("concurrency = {n}\n"))
        .unwrap_or_default();
    let fanout_config = format!(
        "{CONFIG}\n[bucket]\nname = \"bedrock-logs-{{account_id}}-{{region}}\"\n\n[targets]\naccounts = [{}]\nregions = [\"us-east-1\", \"us-west-2\"]\n{concurrency}",
        accounts
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let single_config = bench.dir.join("bedrock-monitor.toml");
    std::fs::write(&single_config, &fanout_config).expect("fan-out config");
    // Warm-up in the fan-out layout (moto's first use of each account).
    bench.reset();
    bench.run_quietly(&["apply", "--yes"]);
    let mut fanout = vec![scenario(
        &bench,
        "fan-out apply (fresh)",
        runs,
        &fresh,
        &["apply", "--yes"],
    )];
    bench.run_quietly(&["apply", "--yes"]);
    fanout.push(scenario(
        &bench,
        "fan-out apply (no-op)",
        runs,
        &nothing,
        &["apply", "--yes"],
    ));
    fanout.push(scenario(
        &bench,
        "fan-out status",
        runs,
        &nothing,
        &["status"],
    ));
    bench.reset();
    let fanout_peak = peak_memory_kib(&mut bench.command(&["apply", "--yes"]));
    std::fs::write(&single_config, CONFIG).expect("config");
    let single = |name: &str| {
        results
            .iter()
            .find(|r| r["scenario"] == name)
            .and_then(|r| r["wall_ms_median"].as_u64())
            .unwrap_or(0) as f64
    };
    for (r, base) in fanout
        .iter_mut()
        .zip(["apply (fresh)", "apply (no-op)", "status"])
    {
        let wall = r["wall_ms_median"].as_u64().unwrap_or(0) as f64;
        let one = single(base);
        r["targets"] = json!(FANOUT_ACCOUNTS * 2);
        r["times_one_target"] = json!(if one > 0.0 {
            (wall / one * 100.0).round() / 100.0
        } else {
            0.0
        });
    }
    results.extend(fanout);

    let report = json!({
        "latency_ms": latency.as_millis() as u64,
        "moto_processes": shards,
        "machine": machine(),
        "binary": BIN,
        "scenarios": results,
        "help_startup_ms": (help.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        "apply_peak_memory_mib": peak.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0),
        "fanout_apply_peak_memory_mib": fanout_peak.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0),
    });
    if let Some(parent) = output.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(
        &output,
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    )
    .expect("write results");

    println!(
        "{:<22} {:>9} {:>6} {:>6} {:>7} {:>9} {:>6} {:>18} {:>8}",
        "scenario",
        "wall ms",
        "reads",
        "writes",
        "repeats",
        "crit path",
        "ratio",
        "cpu tool/emu/proxy",
        "cpu floor"
    );
    for r in report["scenarios"].as_array().into_iter().flatten() {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let cpu = |k: &str| r["cpu_ms"][k].as_u64().unwrap_or(0);
        println!(
            "{:<22} {:>9} {:>6} {:>6} {:>7} {:>9} {:>6.2} {:>18} {:>8}",
            r["scenario"].as_str().unwrap_or(""),
            n("wall_ms_median"),
            n("reads"),
            n("writes"),
            n("repeated_reads"),
            n("critical_path_calls"),
            r["wall_over_critical_path"].as_f64().unwrap_or(0.0),
            format!("{}/{}/{}", cpu("tool"), cpu("emulator"), cpu("proxy")),
            n("cpu_floor_ms")
        );
    }
    println!(
        "--help start-up: {:.1} ms (median of 21)",
        help.as_secs_f64() * 1000.0
    );
    match peak {
        Some(k) => println!("peak memory of a fresh apply: {:.1} MiB", k as f64 / 1024.0),
        None => println!("peak memory of a fresh apply: not measured"),
    }
    for r in report["scenarios"].as_array().into_iter().flatten() {
        if let Some(times) = r["times_one_target"].as_f64() {
            println!(
                "{}: {} targets in {:.2} × one target's time",
                r["scenario"].as_str().unwrap_or(""),
                r["targets"],
                times
            );
        }
    }
    match fanout_peak {
        Some(k) => println!(
            "peak memory of a fresh fan-out apply ({} targets): {:.1} MiB",
            FANOUT_ACCOUNTS * 2,
            k as f64 / 1024.0
        ),
        None => println!("peak memory of a fan-out apply: not measured"),
    }
    println!("results: {}", output.display());
}
