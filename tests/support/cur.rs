//! A CUR 2.0 generator: line items written as Parquet with the data dictionary's column names
//! and types (strings, `double` costs and amounts, UTC timestamps, `map<string,string>` for
//! `product`, `tags` and `resource_tags`), and the export's layout in S3
//! (`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/…` plus the period's manifest listing them
//! in `dataFiles`, as the Data Exports user guide describes). Also used by `benches/cur.rs`.
#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// One line item.
#[derive(Debug, Clone)]
pub struct CurLine {
    pub day: NaiveDate,
    pub account: String,
    pub product_code: String,
    /// `product['product_name']`.
    pub product_name: String,
    pub usage_type: String,
    pub line_item_type: String,
    pub principal: Option<String>,
    pub tags: Vec<(String, String)>,
    pub resource_tags: Vec<(String, String)>,
    pub resource_id: Option<String>,
    pub cost: f64,
    pub usage: f64,
    /// Whether the generator meant it as Bedrock spend (the test's own truth).
    pub bedrock: bool,
}

impl CurLine {
    pub fn bedrock(day: NaiveDate, usage_type: &str, cost: f64) -> CurLine {
        CurLine {
            day,
            account: "123456789012".into(),
            product_code: "AmazonBedrock".into(),
            product_name: "Amazon Bedrock".into(),
            usage_type: usage_type.into(),
            line_item_type: "Usage".into(),
            principal: None,
            tags: Vec::new(),
            resource_tags: Vec::new(),
            resource_id: None,
            cost,
            usage: cost * 1000.0,
            bedrock: true,
        }
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn map_type() -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "key_value",
            DataType::Struct(
                vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, true),
                ]
                .into(),
            ),
            false,
        )),
        false,
    )
}

/// The CUR 2.0 columns the export selects (plus the identity columns a real file has).
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("identity_line_item_id", DataType::Utf8, true),
        Field::new("bill_billing_period_start_date", timestamp_type(), true),
        Field::new("line_item_usage_account_id", DataType::Utf8, true),
        Field::new("line_item_usage_start_date", timestamp_type(), true),
        Field::new("line_item_usage_end_date", timestamp_type(), true),
        Field::new("line_item_product_code", DataType::Utf8, true),
        Field::new("product_servicecode", DataType::Utf8, true),
        Field::new("product", map_type(), true),
        Field::new("line_item_usage_type", DataType::Utf8, true),
        Field::new("line_item_operation", DataType::Utf8, true),
        Field::new("line_item_line_item_type", DataType::Utf8, true),
        Field::new("line_item_line_item_description", DataType::Utf8, true),
        Field::new("line_item_resource_id", DataType::Utf8, true),
        Field::new("line_item_usage_amount", DataType::Float64, true),
        Field::new("line_item_unblended_cost", DataType::Float64, true),
        Field::new("product_region_code", DataType::Utf8, true),
        Field::new("resource_tags", map_type(), true),
        Field::new("cost_category", map_type(), true),
        Field::new("tags", map_type(), true),
        Field::new("line_item_iam_principal", DataType::Utf8, true),
        Field::new("product_sku", DataType::Utf8, true),
        Field::new("pricing_rate_id", DataType::Utf8, true),
    ]))
}

fn midnight_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis()
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("first of month")
}

fn map_column(rows: &[&[(String, String)]]) -> ArrayRef {
    let names = MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    };
    let mut b = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
    for entries in rows {
        for (k, v) in entries.iter() {
            b.keys().append_value(k);
            b.values().append_value(v);
        }
        b.append(true).expect("map row");
    }
    Arc::new(b.finish())
}

/// A stable hash of a usage type, for the fixtures' SKU and rate IDs (FNV-1a, 32 bits).
fn fnv(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A record batch of `lines`.
pub fn batch(lines: &[CurLine]) -> RecordBatch {
    let s = |f: &dyn Fn(&CurLine) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(lines.iter().map(f).collect::<Vec<_>>()))
    };
    let ts = |f: &dyn Fn(&CurLine) -> i64| -> ArrayRef {
        Arc::new(
            TimestampMillisecondArray::from(lines.iter().map(f).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    let products: Vec<Vec<(String, String)>> = lines
        .iter()
        .map(|l| {
            vec![
                ("product_name".to_string(), l.product_name.clone()),
                ("region".to_string(), "us-east-1".to_string()),
            ]
        })
        .collect();
    let none: Vec<(String, String)> = Vec::new();
    let columns: Vec<ArrayRef> = vec![
        s(&|l| Some(format!("{}-{}", l.day, l.usage_type))),
        ts(&|l| midnight_ms(first_of_month(l.day))),
        s(&|l| Some(l.account.clone())),
        ts(&|l| midnight_ms(l.day)),
        ts(&|l| midnight_ms(l.day) + 86_400_000),
        s(&|l| Some(l.product_code.clone())),
        s(&|l| Some(l.product_code.clone())),
        map_column(&products.iter().map(|p| p.as_slice()).collect::<Vec<_>>()),
        s(&|l| Some(l.usage_type.clone())),
        s(&|_| Some("InvokeModelInference".into())),
        s(&|l| Some(l.line_item_type.clone())),
        s(&|l| Some(format!("{} usage", l.usage_type))),
        s(&|l| l.resource_id.clone()),
        Arc::new(Float64Array::from(
            lines.iter().map(|l| Some(l.usage)).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            lines.iter().map(|l| Some(l.cost)).collect::<Vec<_>>(),
        )),
        s(&|_| Some("us-east-1".into())),
        map_column(
            &lines
                .iter()
                .map(|l| l.resource_tags.as_slice())
                .collect::<Vec<_>>(),
        ),
        map_column(&lines.iter().map(|_| none.as_slice()).collect::<Vec<_>>()),
        map_column(&lines.iter().map(|l| l.tags.as_slice()).collect::<Vec<_>>()),
        s(&|l| l.principal.clone()),
        s(&|l| Some(format!("SKU{:08X}", fnv(&l.usage_type)))),
        s(&|l| Some(format!("{}", fnv(&l.usage_type) % 1_000_000_000))),
    ];
    RecordBatch::try_new(schema(), columns).expect("record batch")
}

/// `lines` as one Parquet file (Snappy, as Data Exports writes), `rows_per_group` rows per
/// row group.
pub fn parquet(lines: &[CurLine], rows_per_group: usize) -> Vec<u8> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(rows_per_group.max(1)))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema(), Some(props)).expect("writer");
    for chunk in lines.chunks(rows_per_group.max(1)) {
        writer.write(&batch(chunk)).expect("write batch");
    }
    writer.close().expect("close parquet");
    out
}

/// The billing period (`YYYY-MM`) of a day.
pub fn period(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// Where the export writes: bucket, prefix and export name.
#[derive(Debug, Clone)]
pub struct Export {
    pub bucket: String,
    pub prefix: String,
    pub name: String,
}

impl Export {
    /// What `[cur_export]` with its defaults names in the test account.
    pub fn default_for_tests() -> Export {
        Export {
            bucket: "bedrock-cur-123456789012".into(),
            prefix: "cur".into(),
            name: "bedrock-monitor-bedrock-cur".into(),
        }
    }

    pub fn data_key(&self, period: &str, file: &str) -> String {
        format!(
            "{}/{}/data/BILLING_PERIOD={period}/{file}",
            self.prefix, self.name
        )
    }

    pub fn manifest_key(&self, period: &str) -> String {
        format!(
            "{}/{}/metadata/BILLING_PERIOD={period}/{}-Manifest.json",
            self.prefix, self.name, self.name
        )
    }

    /// Creates the bucket (if needed) in moto.
    pub async fn create_bucket(&self, s3: &aws_sdk_s3::Client) {
        let _ = s3.create_bucket().bucket(&self.bucket).send().await;
    }

    /// Writes one billing period: each file's bytes as `<export>-0000N.snappy.parquet`, and a
    /// manifest listing them (unless `manifest` is false).
    pub async fn put_period(
        &self,
        s3: &aws_sdk_s3::Client,
        period: &str,
        files: &[Vec<u8>],
        manifest: bool,
    ) {
        self.put_refresh(s3, period, None, "snappy.parquet", files, manifest)
            .await;
    }
}

/// `now` as the test's clock: the generator places its data in whole past months.
pub fn today() -> NaiveDate {
    let now: DateTime<Utc> = Utc::now();
    now.date_naive()
}

/// `batch` without the columns named in `drop` (an export whose query left them out).
pub fn batch_without(lines: &[CurLine], drop: &[&str]) -> RecordBatch {
    let full = batch(lines);
    let keep: Vec<usize> = full
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !drop.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    full.project(&keep).expect("projection")
}

/// `lines` as Parquet without the columns in `drop`.
pub fn parquet_without(lines: &[CurLine], rows_per_group: usize, drop: &[&str]) -> Vec<u8> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(rows_per_group.max(1)))
        .build();
    let schema = batch_without(&lines[..1.min(lines.len())], drop).schema();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).expect("writer");
    for chunk in lines.chunks(rows_per_group.max(1)) {
        writer
            .write(&batch_without(chunk, drop))
            .expect("write batch");
    }
    writer.close().expect("close parquet");
    out
}

/// `lines` as a CUR 2.0 gzip CSV object (`<export>-NNNNN.csv.gz`) without the columns in
/// `drop`: a header line of the data dictionary's column names (the Parquet files' own), UTC
/// timestamps in ISO 8601 with milliseconds, costs as decimal text, `map` columns as JSON
/// objects, an empty cell for null.
pub fn csv_gz(lines: &[CurLine], drop: &[&str]) -> Vec<u8> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use std::io::Write;

    let batch = batch_without(lines, drop);
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(batch.schema().fields().iter().map(|f| f.name().as_str()))
        .expect("header");
    for row in 0..batch.num_rows() {
        let mut cells = Vec::new();
        for column in batch.columns() {
            let cell = if column.is_null(row) {
                String::new()
            } else {
                match column.data_type() {
                    DataType::Utf8 => column.as_string::<i32>().value(row).to_string(),
                    DataType::Float64 => column
                        .as_primitive::<arrow_array::types::Float64Type>()
                        .value(row)
                        .to_string(),
                    DataType::Timestamp(_, _) => {
                        let ms = column
                            .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                            .value(row);
                        DateTime::from_timestamp_millis(ms)
                            .expect("time")
                            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string()
                    }
                    DataType::Map(_, _) => {
                        let entries = column.as_map().value(row);
                        let keys = entries.column(0).as_string::<i32>();
                        let values = entries.column(1).as_string::<i32>();
                        let map: serde_json::Map<String, serde_json::Value> = (0..keys.len())
                            .map(|i| (keys.value(i).to_string(), values.value(i).into()))
                            .collect();
                        serde_json::Value::Object(map).to_string()
                    }
                    other => panic!("no CSV form for {other}"),
                }
            };
            cells.push(cell);
        }
        csv.write_record(&cells).expect("row");
    }
    let text = csv.into_inner().expect("csv");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).expect("gzip");
    gz.finish().expect("gzip")
}

impl Export {
    /// Writes one refresh of a billing period as Data Exports does (user guide, "Understanding
    /// export delivery"): its files `<export>-0000N.<ext>` in the period's data folder, or,
    /// for a "create new" refresh, in its `<timestamp>-<execution-id>` subfolder (`refresh`);
    /// and, with `manifest`, the period's manifest naming them (overwritten by each refresh),
    /// plus, for a "create new" refresh, its own copy in the refresh's metadata folder.
    pub async fn put_refresh(
        &self,
        s3: &aws_sdk_s3::Client,
        period: &str,
        refresh: Option<&str>,
        ext: &str,
        files: &[Vec<u8>],
        manifest: bool,
    ) {
        let mut uris = Vec::new();
        for (i, bytes) in files.iter().enumerate() {
            let file = format!("{}-{:05}.{ext}", self.name, i + 1);
            let file = match refresh {
                Some(folder) => format!("{folder}/{file}"),
                None => file,
            };
            let key = self.data_key(period, &file);
            s3.put_object()
                .bucket(&self.bucket)
                .key(&key)
                .body(bytes.clone().into())
                .send()
                .await
                .expect("put data file");
            uris.push(format!("s3://{}/{key}", self.bucket));
        }
        if !manifest {
            return;
        }
        let doc = serde_json::json!({
            "executionId": refresh.unwrap_or("00000000-0000-0000-0000-000000000000"),
            "exportArn": format!("arn:aws:bcm-data-exports:us-east-1:123456789012:export/{}-1", self.name),
            "billingPeriod": period,
            "columns": [],
            "dataFiles": uris,
        })
        .to_string();
        let mut keys = vec![self.manifest_key(period)];
        if let Some(folder) = refresh {
            keys.push(format!(
                "{}/{}/metadata/BILLING_PERIOD={period}/{folder}/{}-Manifest.json",
                self.prefix, self.name, self.name
            ));
        }
        for key in keys {
            s3.put_object()
                .bucket(&self.bucket)
                .key(key)
                .body(doc.clone().into_bytes().into())
                .send()
                .await
                .expect("put manifest");
        }
    }
}
