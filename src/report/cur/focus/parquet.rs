//! The FOCUS rows as one Parquet file (`--out` ending in `.parquet`): the columns and types of
//! [`super::COLUMNS`] (the module above says which Parquet type each FOCUS type becomes, and
//! why), Snappy-compressed as Data Exports compresses its Parquet. Built in memory and handed
//! back whole, so a failure leaves no half-written file behind.

use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::errors::ParquetError;
use ::parquet::file::properties::WriterProperties;
use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::{COLUMNS, Column, FocusRows, Kind, Row, Value};

/// Rows per record batch handed to the writer: what the Arrow builders hold at once (the
/// writer gathers batches into row groups of its default size).
const BATCH_ROWS: usize = 8192;

/// The time zone of every Date/Time column: FOCUS date/times are UTC.
const UTC: &str = "UTC";

impl FocusRows {
    pub fn to_parquet(&self) -> Result<Vec<u8>, ParquetError> {
        let schema = Arc::new(schema());
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(props))?;
        let mut batch = Batch::new();
        for row in self.rows() {
            batch.push(row)?;
            if batch.rows == BATCH_ROWS {
                writer.write(&batch.finish(&schema)?)?;
            }
        }
        if batch.rows > 0 {
            writer.write(&batch.finish(&schema)?)?;
        }
        writer.close()?;
        Ok(out)
    }
}

/// The file's schema: every column nullable (see the module above).
pub fn schema() -> Schema {
    Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(c.name, data_type(c.kind), true))
            .collect::<Vec<_>>(),
    )
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::String | Kind::KeyValue => DataType::Utf8,
        Kind::Decimal => DataType::Float64,
        Kind::DateTime => DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into())),
    }
}

enum Builder {
    Text(StringBuilder),
    Decimal(Float64Builder),
    DateTime(TimestampMillisecondBuilder),
}

/// The rows of one record batch, column by column.
struct Batch {
    columns: Vec<Builder>,
    rows: usize,
}

impl Batch {
    fn new() -> Batch {
        let columns = COLUMNS
            .iter()
            .map(|c| match c.kind {
                Kind::String | Kind::KeyValue => Builder::Text(StringBuilder::new()),
                Kind::Decimal => Builder::Decimal(Float64Builder::new()),
                Kind::DateTime => {
                    Builder::DateTime(TimestampMillisecondBuilder::new().with_timezone(UTC))
                }
            })
            .collect();
        Batch { columns, rows: 0 }
    }

    fn push(&mut self, row: Row) -> Result<(), ParquetError> {
        for ((column, builder), cell) in COLUMNS.iter().zip(&mut self.columns).zip(row) {
            if let Some(value) = &cell
                && value.kind() != column.kind
            {
                return Err(mismatch(column, value));
            }
            match (builder, cell) {
                (Builder::Text(b), None) => b.append_null(),
                (Builder::Decimal(b), None) => b.append_null(),
                (Builder::DateTime(b), None) => b.append_null(),
                (Builder::Text(b), Some(Value::String(s) | Value::KeyValue(s))) => {
                    b.append_value(s)
                }
                (Builder::Decimal(b), Some(Value::Decimal(v))) => b.append_value(v),
                (Builder::DateTime(b), Some(Value::DateTime(t))) => {
                    b.append_value(t.timestamp_millis())
                }
                (_, Some(value)) => return Err(mismatch(column, &value)),
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The batch so far as a record batch; the builders start again empty.
    fn finish(&mut self, schema: &Arc<Schema>) -> Result<RecordBatch, ParquetError> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| match b {
                Builder::Text(b) => Arc::new(b.finish()) as ArrayRef,
                Builder::Decimal(b) => Arc::new(b.finish()),
                Builder::DateTime(b) => Arc::new(b.finish()),
            })
            .collect();
        self.rows = 0;
        Ok(RecordBatch::try_new(schema.clone(), arrays)?)
    }
}

/// A cell whose type is not its column's: a bug in [`super::focus_row`], said rather than
/// written into the wrong column.
fn mismatch(column: &Column, value: &Value) -> ParquetError {
    ParquetError::General(format!(
        "internal error: the FOCUS column {} is {:?} but a row gave it a {:?} value",
        column.name,
        column.kind,
        value.kind()
    ))
}

#[cfg(test)]
mod tests {
    use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use ::parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampMillisecondType};

    use super::super::tests::sample;
    use super::*;

    #[test]
    fn the_file_holds_the_rows_with_focus_types_and_nulls() {
        let rows = sample();
        let bytes = bytes::Bytes::from(rows.to_parquet().expect("parquet"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).expect("a Parquet file");
        // Timestamps are stored adjusted to UTC, in milliseconds.
        let parquet_schema = builder.parquet_schema();
        let period = parquet_schema
            .columns()
            .iter()
            .find(|c| c.name() == "ChargePeriodStart")
            .expect("the column");
        assert_eq!(
            period.logical_type_ref(),
            Some(&LogicalType::timestamp(true, ParquetTimeUnit::MILLIS))
        );
        assert_eq!(builder.schema().as_ref(), &schema());
        let batches: Vec<RecordBatch> = builder
            .build()
            .expect("reader")
            .collect::<Result<_, _>>()
            .expect("batches");
        let written: Vec<Row> = rows.rows().collect();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
        let batch = &batches[0];
        for (i, column) in COLUMNS.iter().enumerate() {
            let array = batch.column(i);
            for (r, row) in written.iter().enumerate() {
                let got = match (column.kind, array.is_null(r)) {
                    (_, true) => None,
                    (Kind::String, false) => {
                        Some(Value::String(array.as_string::<i32>().value(r).into()))
                    }
                    (Kind::KeyValue, false) => {
                        Some(Value::KeyValue(array.as_string::<i32>().value(r).into()))
                    }
                    (Kind::Decimal, false) => {
                        Some(Value::Decimal(array.as_primitive::<Float64Type>().value(r)))
                    }
                    (Kind::DateTime, false) => array
                        .as_primitive::<TimestampMillisecondType>()
                        .value_as_datetime(r)
                        .map(|t| Value::DateTime(t.and_utc())),
                };
                assert_eq!(got, row[i], "{} in row {r}", column.name);
            }
        }
    }
}
