//! The FOCUS rows as CSV (RFC 4180, through the tool's one CSV writer): a header of the column
//! names, then one row per group. A decimal is written in FOCUS's Numeric Format (plain digits,
//! at most ten places), a date/time in its Date/Time Format (`YYYY-MM-DDTHH:mm:ssZ`), a
//! key-value cell as its JSON text, a null as an empty cell.

use super::{COLUMNS, FocusRows, Value, decimal};

impl FocusRows {
    pub fn to_csv(&self) -> Result<String, ::csv::Error> {
        let mut w = crate::ui::csv::Writer::new();
        w.write_record(COLUMNS.iter().map(|c| c.name))?;
        for row in self.rows() {
            w.write_record(
                row.iter()
                    .map(|cell| cell.as_ref().map(text).unwrap_or_default()),
            )?;
        }
        w.into_string()
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) | Value::KeyValue(s) => s.clone(),
        Value::Decimal(v) => decimal(*v),
        Value::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}
