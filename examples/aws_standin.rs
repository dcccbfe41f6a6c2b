//! The test harness's stand-in for the AWS operations moto does not serve (application
//! inference profiles, cost-allocation tags, Cost Anomaly Detection, Data Exports, budget
//! actions, Logs Insights query definitions), in front of a running `moto_server`, for
//! `scripts/demo`. Usage: `aws_standin http://127.0.0.1:PORT`;
//! prints its own URL (use it as AWS_ENDPOINT_URL) and serves until it is killed.

#[path = "../tests/support/proxy.rs"]
mod proxy;
#[path = "../tests/support/standin.rs"]
#[allow(unused_imports)]
mod standin;

use std::io::Write;
use std::sync::Arc;

fn main() {
    let Some(upstream) = std::env::args().nth(1).filter(|u| u.starts_with("http://")) else {
        eprintln!(
            "usage: aws_standin http://127.0.0.1:PORT (the moto_server to stand in front of)"
        );
        std::process::exit(2);
    };
    let proxy = proxy::Proxy::start(&upstream);
    proxy.add_rule(Arc::new(standin::StandIn::new()));
    let mut out = std::io::stdout();
    if writeln!(out, "{}", proxy.url())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(1);
    }
    // Serve until killed; the proxy runs on its own thread.
    loop {
        std::thread::park();
    }
}
