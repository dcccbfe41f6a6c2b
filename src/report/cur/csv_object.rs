//! A gzip CSV object of a CUR 2.0 export (`<export-name>-<chunk-number>.csv.gz`, Data Exports
//! user guide, "Export data file names and chunks") as record batches of the same arrow types
//! the Parquet reader gives, so the one per-row fold reads both formats.
//!
//! The first line names the columns, by the same CUR 2.0 names as the Parquet files' (data
//! dictionary). Only the columns asked for are decoded. Where the guide is silent on how the
//! CSV writes a value, this is what is read (and anything else is refused with the object,
//! line and column, not guessed at):
//! - an empty cell is null;
//! - timestamps are ISO 8601 (`2026-11-01T00:00:00Z`, with or without fractions or the `Z`,
//!   `T` or a space between date and time), taken as UTC, or a bare date;
//! - `map<string, string>` columns (`product`, `tags`, `resource_tags`) are a JSON object;
//! - numbers are decimal text (`0.0123`, `1E-7`).

use std::io::Read;
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, MapBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// The CUR 2.0 columns the report reads that are not strings (data dictionary types).
const TIMESTAMPS: [&str; 1] = ["line_item_usage_start_date"];
const NUMBERS: [&str; 3] = [
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
];
const MAPS: [&str; 3] = ["product", "tags", "resource_tags"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Timestamp,
    Number,
    Map,
}

impl Kind {
    fn of(name: &str) -> Kind {
        if TIMESTAMPS.contains(&name) {
            Kind::Timestamp
        } else if NUMBERS.contains(&name) {
            Kind::Number
        } else if MAPS.contains(&name) {
            Kind::Map
        } else {
            Kind::Text
        }
    }
}

/// A CSV object's rows, a batch at a time.
pub struct CsvBatches<R: Read> {
    reader: csv::Reader<R>,
    header: Vec<String>,
    /// The selected columns: position in a record, name, kind.
    picks: Vec<(usize, String, Kind)>,
    record: csv::StringRecord,
    done: bool,
}

/// The rows of a gzip CSV object's bytes (several gzip members read as one stream).
pub fn gzip(bytes: bytes::Bytes) -> Result<CsvBatches<impl Read>, String> {
    let decoder = flate2::read::MultiGzDecoder::new(std::io::Cursor::new(bytes));
    CsvBatches::new(decoder)
}

impl<R: Read> CsvBatches<R> {
    pub fn new(input: R) -> Result<CsvBatches<R>, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => return Err(format!("its header line cannot be read ({e})")),
        };
        Ok(CsvBatches {
            reader,
            header,
            picks: Vec::new(),
            record: csv::StringRecord::new(),
            done: false,
        })
    }

    /// The column names of the header line (none for an empty object).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Decode only these columns (those the header has).
    pub fn select(&mut self, wanted: &[&str]) {
        self.picks = self
            .header
            .iter()
            .enumerate()
            .filter(|(_, name)| wanted.contains(&name.as_str()))
            .map(|(i, name)| (i, name.clone(), Kind::of(name)))
            .collect();
    }

    /// The next batch of at most `rows` rows; `None` at the end.
    pub fn next_batch(&mut self, rows: usize) -> Option<Result<RecordBatch, String>> {
        if self.done || self.header.is_empty() {
            return None;
        }
        let mut columns: Vec<Column> = self.picks.iter().map(|(_, _, k)| Column::new(*k)).collect();
        let mut n = 0;
        while n < rows {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => return Some(Err(format!("a line cannot be read as CSV ({e})"))),
            }
            let line = self.record.position().map_or(0, |p| p.line());
            for ((i, name, _), column) in self.picks.iter().zip(columns.iter_mut()) {
                let cell = self.record.get(*i).unwrap_or("");
                if let Err(problem) = column.push(cell) {
                    return Some(Err(format!("line {line}, column {name}: {problem}")));
                }
            }
            n += 1;
        }
        if n == 0 {
            return None;
        }
        let arrays: Vec<ArrayRef> = columns.into_iter().map(Column::finish).collect();
        let fields: Vec<Field> = self
            .picks
            .iter()
            .zip(arrays.iter())
            .map(|((_, name, _), a)| Field::new(name, a.data_type().clone(), true))
            .collect();
        Some(
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
                .map_err(|e| format!("its columns do not make a table ({e})")),
        )
    }
}

enum Column {
    Text(StringBuilder),
    Timestamp(TimestampMillisecondBuilder),
    Number(Float64Builder),
    /// Boxed: the map builder is several times the others' size.
    Map(Box<MapBuilder<StringBuilder, StringBuilder>>),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Text => Column::Text(StringBuilder::new()),
            Kind::Timestamp => {
                Column::Timestamp(TimestampMillisecondBuilder::new().with_timezone("UTC"))
            }
            Kind::Number => Column::Number(Float64Builder::new()),
            Kind::Map => Column::Map(Box::new(MapBuilder::new(
                None,
                StringBuilder::new(),
                StringBuilder::new(),
            ))),
        }
    }

    fn push(&mut self, cell: &str) -> Result<(), String> {
        let empty = cell.trim().is_empty();
        match self {
            Column::Text(b) if empty => b.append_null(),
            Column::Text(b) => b.append_value(cell),
            Column::Timestamp(b) if empty => b.append_null(),
            Column::Timestamp(b) => b.append_value(timestamp_ms(cell.trim())?),
            Column::Number(b) if empty => b.append_null(),
            Column::Number(b) => b.append_value(
                cell.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{cell:?} is not a number"))?,
            ),
            Column::Map(b) => {
                if !empty {
                    let value: serde_json::Value = serde_json::from_str(cell)
                        .map_err(|_| format!("{cell:?} is not a JSON object of key-value pairs"))?;
                    let Some(map) = value.as_object() else {
                        return Err(format!("{cell:?} is not a JSON object of key-value pairs"));
                    };
                    for (k, v) in map {
                        b.keys().append_value(k);
                        match v {
                            serde_json::Value::Null => b.values().append_null(),
                            serde_json::Value::String(s) => b.values().append_value(s),
                            other => b.values().append_value(other.to_string()),
                        }
                    }
                }
                b.append(true).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Column::Text(mut b) => Arc::new(b.finish()),
            Column::Timestamp(mut b) => Arc::new(b.finish()),
            Column::Number(mut b) => Arc::new(b.finish()),
            Column::Map(mut b) => Arc::new(b.finish()),
        }
    }
}

/// Milliseconds since the epoch of an ISO 8601 time (UTC when it names no offset) or a date.
fn timestamp_ms(text: &str) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let bare = text.strip_suffix('Z').unwrap_or(text);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(bare, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis());
    }
    Err(format!("{text:?} is not an ISO 8601 time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;

    fn rows(text: &str, wanted: &[&str]) -> Result<Vec<RecordBatch>, String> {
        let mut b = CsvBatches::new(text.as_bytes())?;
        b.select(wanted);
        let mut out = Vec::new();
        while let Some(batch) = b.next_batch(2) {
            out.push(batch?);
        }
        Ok(out)
    }

    #[test]
    fn columns_come_out_as_the_parquet_reader_types_them() {
        let text = "line_item_usage_start_date,line_item_unblended_cost,product,line_item_iam_principal,other\n\
                    2026-11-01T00:00:00Z,0.5,\"{\"\"product_name\"\":\"\"Amazon Bedrock\"\"}\",arn:aws:iam::1:user/a,x\n\
                    2026-11-02 00:00:00.000,,,,y\n\
                    2026-11-03,1E-3,{},arn:aws:iam::1:user/b,z\n";
        let batches = rows(
            text,
            &[
                "line_item_usage_start_date",
                "line_item_unblended_cost",
                "product",
                "line_item_iam_principal",
            ],
        )
        .expect("rows");
        assert_eq!(batches.len(), 2);
        let first = &batches[0];
        assert_eq!(first.num_columns(), 4);
        let costs = first
            .column_by_name("line_item_unblended_cost")
            .expect("cost")
            .as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(costs.value(0), 0.5);
        assert!(costs.is_null(1));
        let ts = first
            .column_by_name("line_item_usage_start_date")
            .expect("ts")
            .as_primitive::<arrow_array::types::TimestampMillisecondType>();
        assert_eq!(ts.value(1) - ts.value(0), 86_400_000);
        let product = first.column_by_name("product").expect("product").as_map();
        assert_eq!(product.value(0).len(), 1);
        assert_eq!(product.value(1).len(), 0);
        let principal = first
            .column_by_name("line_item_iam_principal")
            .expect("principal")
            .as_string::<i32>();
        assert!(principal.is_null(1));
        assert_eq!(batches[1].num_rows(), 1);
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let e = rows(
            "line_item_unblended_cost\n1\nlots\n",
            &["line_item_unblended_cost"],
        )
        .expect_err("refused");
        assert!(
            e.contains("line 3") && e.contains("line_item_unblended_cost"),
            "{e}"
        );
        let e = rows("tags\nuser_team=x\n", &["tags"]).expect_err("refused");
        assert!(e.contains("JSON object"), "{e}");
    }

    #[test]
    fn an_empty_object_has_no_rows() {
        assert!(rows("", &["tags"]).expect("empty").is_empty());
    }
}
