//! Entry point: parse arguments, set up logging and output, run one command, exit with its code.

use clap::Parser;

use bedrock_monitor::cli::Cli;
use bedrock_monitor::commands;

fn main() {
    // Lambda starts the runner's `bootstrap` with no arguments and the runtime API's address.
    if let Some(status) = commands::lambda::serve_if_lambda() {
        std::process::exit(status.code());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors exit 64, leaving 2 to mean
            // "changes pending" as in Terraform's -detailed-exitcode.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 64 } else { 0 });
        }
    };
    let status = commands::run(cli);
    std::process::exit(status.code());
}
