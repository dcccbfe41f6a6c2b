//! `report --output html`: one self-contained page (inline CSS and SVG, no script, nothing
//! fetched when it is opened) for people who do not read terminal tables.
//!
//! The page is rendered from the JSON value that `--output json` prints (one report, or the
//! summary over `[targets]`), so it shows the same figures and new fields reach it without a
//! change here: the per-model, per-day and per-principal tables take their columns from the
//! rows' own keys, totals and projections list every key, and a top-level field the template
//! does not know is listed under "Other figures". What Rust adds is presentation only: chart
//! geometry ([`super::chart`]), the order of columns, and numbers formatted for people
//! ([`format_field`], the one formatter every number on the page goes through).

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

mod charts;
mod cur;
mod format;
mod headroom;
mod meta_chart;
mod view;

pub use format::{format_field, label, numbers};
pub use view::{DARK, LIGHT, Theme};

use format::when;
use view::view;

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../../templates/report.html.j2");

/// How many bars a group chart draws at most; the rest are in the table under it.
pub const MAX_BARS: usize = 30;
/// How many models get a colour of their own in the daily chart; the others share one.
pub const DAILY_SERIES: usize = 7;

/// What the page says besides the report: the stack (a single report's JSON does not name it)
/// and when it was made.
pub struct Page<'a> {
    pub stack: &'a str,
    pub generated_at: DateTime<Utc>,
}

/// The template failed: a bug in the tool, not in the user's input.
#[derive(Debug, thiserror::Error)]
#[error("internal error rendering the HTML report: {0}")]
pub struct HtmlError(String);

/// The page for `doc`, the value `--output json` prints.
pub fn render(doc: &Value, page: &Page) -> Result<String, HtmlError> {
    let view = view(doc, page);
    let mut env = Environment::new();
    // A misspelt field is an error, not an empty cell; an absent optional field may still be
    // tested with `if`.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("fmt", |value: minijinja::Value, key: String| {
        format_field(&key, &to_json(&value), false)
    });
    env.add_filter("signed", |value: minijinja::Value, key: String| {
        format_field(&key, &to_json(&value), true)
    });
    env.add_filter("label", |key: String| label(&key));
    env.add_filter("when", |value: String| when(&value));
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(|e| HtmlError(e.to_string()))?;
    let template = env
        .get_template(TEMPLATE_NAME)
        .map_err(|e| HtmlError(e.to_string()))?;
    template
        .render(minijinja::value::Serde(&view))
        .map_err(|e| HtmlError(format!("{e:#}")))
}

fn to_json(value: &minijinja::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests;
