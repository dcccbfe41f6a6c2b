//! `query`: runs one of the saved Logs Insights queries (`crate::queries`) over the invocation
//! log group, with the query text from the config (no stack needs to be applied), shows its
//! progress on stderr and prints the rows. `--list` names them.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::{OutputFormat, QueryArgs};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::queries::{SavedQuery, catalog, find};
use crate::report::Window;
use crate::report::insights::{self, QueryEnd};

#[derive(Debug, Serialize)]
pub struct QueryList {
    pub queries: Vec<QueryEntry>,
}

#[derive(Debug, Serialize)]
pub struct QueryEntry {
    pub name: &'static str,
    pub description: &'static str,
}

impl fmt::Display for QueryList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for q in &self.queries {
            writeln!(f, "{:<28} {}", q.name, q.description)?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize)]
pub struct QueryResult {
    pub query: &'static str,
    pub description: &'static str,
    pub log_group: String,
    pub start: String,
    pub end: String,
    /// The result's columns in the order the query produced them.
    pub columns: Vec<String>,
    /// One object per row, column → value (a column Logs Insights left empty is absent).
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl fmt::Display for QueryResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}) over {} from {} to {}:",
            self.query, self.description, self.log_group, self.start, self.end
        )?;
        if self.rows.is_empty() {
            return writeln!(
                f,
                "no rows: no matching invocation-log records in this window."
            );
        }
        let mut table = comfy_table::Table::new();
        table
            .load_style(crate::ui::TABLE_STYLE)
            .force_no_tty()
            .set_header(self.columns.clone());
        for row in &self.rows {
            table.add_row(
                self.columns
                    .iter()
                    .map(|c| {
                        row.get(c)
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect::<Vec<_>>(),
            );
        }
        writeln!(f, "{table}")?;
        writeln!(f, "{} rows", self.rows.len())
    }
}

impl QueryResult {
    fn to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = crate::ui::csv::Writer::new();
        writer.write_record(&self.columns)?;
        for row in &self.rows {
            writer.write_record(
                self.columns
                    .iter()
                    .map(|c| row.get(c).and_then(|v| v.as_str()).unwrap_or("")),
            )?;
        }
        writer.into_string()
    }
}

fn list(queries: &[SavedQuery]) -> QueryList {
    QueryList {
        queries: queries
            .iter()
            .map(|q| QueryEntry {
                name: q.name,
                description: q.description,
            })
            .collect(),
    }
}

pub async fn run(session: &Session, args: &QueryArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let config = &loaded.config;
    if args.list {
        session.printer.result(&list(&catalog(config)))?;
        return Ok(ExitStatus::Success);
    }
    let name = args.name.as_deref().unwrap_or_default();
    let Some(query) = find(config, name) else {
        let names: Vec<&str> = catalog(config).iter().map(|q| q.name).collect();
        return Err(CommandError::Usage(format!(
            "no saved query named {name:?}; the saved queries are: {} (`bedrock-monitor query --list` describes them)",
            names.join(", ")
        )));
    };
    let window = Window::from_flags(
        args.hours,
        args.start.as_deref(),
        args.end.as_deref(),
        chrono::Utc::now(),
    )
    .map_err(|e| CommandError::Usage(e.to_string()))?;
    if args.timeout == 0 {
        return Err(CommandError::Usage(
            "--timeout 0: give a number of seconds".into(),
        ));
    }
    let clients = session.clients(&loaded).await?;
    let log_group = config.log_group.name.clone();
    let started = Instant::now();
    let mut last_shown = Instant::now();
    let printer = &session.printer;
    printer.note(format!("running {} over {log_group}…", query.name));
    let end = insights::run(
        &clients.logs,
        &log_group,
        &window,
        &query.text,
        Duration::from_secs(args.timeout),
        |status, scanned| {
            // A line every few seconds: enough to see it is alive, also in CI logs.
            if last_shown.elapsed() >= Duration::from_secs(3) {
                last_shown = Instant::now();
                printer.note(format!(
                    "{} {status}: {scanned:.0} records scanned, {} s",
                    query.name,
                    started.elapsed().as_secs()
                ));
            }
        },
    )
    .await?;
    let rows = match end {
        QueryEnd::Rows(rows) => rows,
        QueryEnd::NoLogGroup => {
            printer.error(format!(
                "the log group {log_group} does not exist: invocation logging to CloudWatch Logs is not set up here (`bedrock-monitor apply` creates it; `status` shows it)"
            ));
            return Ok(ExitStatus::Failure);
        }
        QueryEnd::Ended(status) => {
            printer.error(format!(
                "Logs Insights ended the query {} with status {status}: check the window (`--hours`, `--start`/`--end`) and try again",
                query.name
            ));
            return Ok(ExitStatus::Failure);
        }
        QueryEnd::TimedOut(after) => {
            printer.error(format!(
                "the query {} did not finish within {} s and was stopped: use a shorter window or a longer --timeout",
                query.name,
                after.as_secs()
            ));
            return Ok(ExitStatus::Failure);
        }
    };
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (field, _) in row {
            if !columns.contains(field) {
                columns.push(field.clone());
            }
        }
    }
    let result = QueryResult {
        query: query.name,
        description: query.description,
        log_group,
        start: crate::report::window::display_time(window.start),
        end: crate::report::window::display_time(window.end),
        columns,
        rows: rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect()
            })
            .collect(),
    };
    match printer.format {
        OutputFormat::Csv => {
            let csv = result
                .to_csv()
                .map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
            printer.output(&csv)?;
        }
        _ => printer.result(&result)?,
    }
    Ok(ExitStatus::Success)
}
