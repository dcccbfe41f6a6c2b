//! Everything the user sees: results on stdout (text or one JSON document), notes, progress
//! and prompts on stderr.

pub mod activity;
pub mod csv;
pub mod files;
pub mod interrupt;
pub mod plan;
pub mod progress;
pub mod prompt;

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::{ColorChoice, OutputFormat};

/// Tables (status, report): rules above, under the header and below; no columns lines.
pub const TABLE_STYLE: comfy_table::TableStyle = comfy_table::TableStyle::new()
    .top_border(comfy_table::LineStyle::none().fill('─').junction('─'))
    .header_separator(comfy_table::LineStyle::none().fill('─').junction('─'))
    .bottom_border(comfy_table::LineStyle::none().fill('─').junction('─'));

/// Owns stdout and the user-facing part of stderr.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: OutputFormat,
    pub quiet: bool,
    pub verbose: u8,
}

impl Printer {
    pub fn new(format: OutputFormat, quiet: bool, verbose: u8, color: ColorChoice) -> Printer {
        let colors = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        if !colors || color == ColorChoice::Always {
            console::set_colors_enabled(colors);
            console::set_colors_enabled_stderr(colors);
        }
        Printer {
            format,
            quiet,
            verbose,
        }
    }

    /// The command's result: its Display on stdout, or one JSON document.
    pub fn result<T: Serialize + Display>(&self, value: &T) -> std::io::Result<()> {
        self.output(&self.render(value)?)
    }

    /// A result the command rendered itself (CSV, HTML, a policy document, a completion
    /// script): on stdout as it is.
    pub fn output(&self, text: impl AsRef<[u8]>) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_ref())?;
        out.flush()
    }

    /// A block for the user to read before a question (a plan, what cleanup deletes): on
    /// stderr as it is, so stdout keeps the one result; hidden by -q.
    pub fn show(&self, block: impl Display) {
        if !self.quiet {
            eprint!("{block}");
        }
    }

    /// What [`Printer::result`] prints, for a command that may write it to a file instead.
    /// CSV and HTML are the command's own renderings (only `report` and `query` offer them);
    /// here they fall back to the text.
    pub fn render<T: Serialize + Display>(&self, value: &T) -> std::io::Result<String> {
        match self.format {
            OutputFormat::Json => {
                let mut text =
                    serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
                text.push('\n');
                Ok(text)
            }
            OutputFormat::Text | OutputFormat::Csv | OutputFormat::Html | OutputFormat::Focus => {
                Ok(value.to_string())
            }
        }
    }

    /// Progress of one long piece of work, counted in `unit`; nothing with -q.
    pub fn activity(&self, label: &str, unit: &str) -> activity::Activity {
        if self.quiet {
            activity::Activity::hidden()
        } else {
            activity::Activity::start(label, unit)
        }
    }

    /// Progress-level information (stderr, hidden by -q).
    pub fn note(&self, message: impl Display) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    pub fn warn(&self, message: impl Display) {
        if !self.quiet {
            eprintln!(
                "{} {message}",
                console::style("warning:").yellow().bold().for_stderr()
            );
        }
    }

    /// Errors are shown even with -q.
    pub fn error(&self, message: impl Display) {
        eprintln!(
            "{} {message}",
            console::style("error:").red().bold().for_stderr()
        );
    }
}

/// Whether the tool may ask questions: only with a terminal on stdin, no `--non-interactive`,
/// and `CI` unset (or set to false).
pub fn is_interactive(non_interactive: bool) -> bool {
    let ci = std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false);
    !non_interactive && !ci && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}
