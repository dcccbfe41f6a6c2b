//! The embedded engine: the export's Parquet (or gzip CSV) objects read straight from S3.
//!
//! Per billing period the manifest (`dataFiles`) names the objects; each object is read through
//! ranged `GetObject`s ([`S3Object`], an `AsyncFileReader` on the SDK's S3 client): the footer
//! first, then only the column chunks of the columns the report needs (projection) in the row
//! groups whose `line_item_usage_start_date` statistics meet the report's days (pruning), one
//! row group at a time (memory bounded by a row group, whatever the month's size). Several
//! objects are read at once, each on its own task, and their sums merged.
//!
//! Every call names the export's account as `ExpectedBucketOwner`, and only the export's own
//! bucket and prefix are read: a manifest that lists an object elsewhere is refused, since
//! whoever could write the manifest would otherwise choose what the report reads.
//!
//! What can go wrong says which and when to try again: the export's bucket or files missing,
//! a first delivery still pending (Data Exports delivers within 24 hours of creating an
//! export), a billing period the export has no files for, an object that is not Parquet.
//!
//! An existing export ([`super::deliveries`] picks the current refresh's files) may be gzip
//! CSV instead: such an object is fetched whole and decoded by [`super::csv_object`] into the
//! same record batches, so one fold reads both.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::errors::ParquetError;
use parquet::file::statistics::Statistics;
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::cost::line_item;

use super::aggregate::{Aggregator, Line};
use super::columns::{Days, FOCUS_COLUMNS, FocusColumns, Maps, Numbers, Strings};
use super::deliveries::{Format, Object, list, period_objects};
use super::layout::{ExportLocation, periods};
use super::s3_object::S3Object;
use super::schema::{
    ACCOUNT, COST, LINE_ITEM_TYPE, PRINCIPAL, PRINCIPAL_OPTION, PRODUCT, PRODUCT_CODE, REGION,
    REQUIRED, RESOURCE_ID, RESOURCE_TAGS, TAGS, USAGE_AMOUNT, USAGE_START, USAGE_TYPE,
    principals_missing,
};
use super::tags::{Column, LineTags, Overlap, Rank};
use super::{Dimension, Request};

/// Objects read at once: enough to overlap S3 round trips with decoding on two cores, few
/// enough that memory stays a handful of row groups.
const CONCURRENT_OBJECTS: usize = 4;
/// Rows decoded per batch.
const BATCH_ROWS: usize = 8192;
/// The `product` map's key for the product's name ("Amazon Bedrock", "Claude 3 Haiku (Amazon
/// Bedrock Edition)"), and the older `servicename` as a fallback.
pub const PRODUCT_NAME_KEYS: [&str; 2] = ["product_name", "servicename"];

/// What the embedded engine read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanStats {
    pub objects: u64,
    /// The objects' total size.
    pub object_bytes: u64,
    /// What was fetched from S3 (footers and the projected column chunks).
    pub bytes_read: u64,
    /// `bytes_read` / `object_bytes`, in percent.
    pub percent_read: f64,
    pub row_groups: u64,
    /// Row groups left out by their usage-date statistics.
    pub row_groups_skipped: u64,
    pub rows_read: u64,
    pub seconds: f64,
}

/// Reads every billing period the request's days touch into `aggregator`.
pub async fn read(
    clients: &Clients,
    location: &ExportLocation,
    request: &Request,
    aggregator: &mut Aggregator,
) -> Result<ScanStats, AwsError> {
    let started = Instant::now();
    let (start, end) = aggregator.days();
    let wanted = periods(start, end);
    let mut objects = Vec::new();
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for period in &wanted {
        match period_objects(&clients.s3, location, period).await? {
            Some(list) if !list.is_empty() => {
                found.push(period.clone());
                objects.extend(list);
            }
            _ => missing.push(period.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(explain_missing(clients, location, &missing, &found).await);
    }
    let read = Arc::new(AtomicU64::new(0));
    let mut stats = ScanStats {
        objects: objects.len() as u64,
        object_bytes: objects.iter().map(|o| o.size).sum(),
        ..ScanStats::default()
    };
    let columns = Columns::for_request(request);
    request.progress.set_total(stats.objects);
    let mut tasks = futures::stream::iter(objects.into_iter().map(|object| {
        let client = clients.s3.clone();
        let owner = location.owner.clone();
        let read = read.clone();
        let columns = columns.clone();
        let mut part = Aggregator::new(request);
        tokio::spawn(async move {
            let result = read_object(client, &owner, &object, &columns, &mut part, read).await;
            result.map(|counts| (part, counts))
        })
    }))
    .buffer_unordered(CONCURRENT_OBJECTS);
    let mut notes = Vec::new();
    while let Some(joined) = tasks.next().await {
        let (part, counts) = joined.map_err(|e| {
            AwsError::setup(
                format!("reading the export failed: {e}"),
                "run again with -v",
            )
        })??;
        aggregator.merge(part);
        request.progress.advance(1);
        stats.row_groups += counts.row_groups;
        stats.row_groups_skipped += counts.skipped;
        stats.rows_read += counts.rows;
        for note in counts.notes {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    request.progress.finish();
    aggregator.notes.extend(notes);
    stats.bytes_read = read.load(Ordering::Relaxed);
    stats.percent_read = if stats.object_bytes == 0 {
        0.0
    } else {
        (stats.bytes_read as f64 / stats.object_bytes as f64 * 1000.0).round() / 10.0
    };
    stats.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Ok(stats)
}

/// Why periods have no files: no export at all, a first delivery still pending, or periods
/// before the export began. Asks Data Exports about the export when it can.
async fn explain_missing(
    clients: &Clients,
    location: &ExportLocation,
    missing: &[String],
    found: &[String],
) -> AwsError {
    let which = missing
        .iter()
        .map(|p| format!("BILLING_PERIOD={p}"))
        .collect::<Vec<_>>()
        .join(", ");
    let anything = list(&clients.s3, location, &location.export_prefix())
        .await
        .map(|l| !l.is_empty());
    let anything = match anything {
        Ok(anything) => anything,
        Err(e) => return e,
    };
    if !found.is_empty() || anything {
        let had = if found.is_empty() {
            String::new()
        } else {
            format!(" (it has {})", found.join(", "))
        };
        return AwsError::setup(
            format!(
                "the CUR export {} has no files for {which} under {}{had}",
                location.export,
                location.data_uri()
            ),
            "an export covers the months from its creation on, and a month's first files \
             arrive within 24 hours of its start: choose --start/--end within the periods \
             it has, or try again tomorrow",
        );
    }
    if location.existing {
        // Another account's or team's export: Data Exports may not know it here, and `apply`
        // does not make it.
        return AwsError::setup(
            format!(
                "there is nothing under {} (the export [cur_export] read or --cur names)",
                location.data_uri()
            ),
            "check the URI against the export's destination (bucket, prefix and name: \
             s3://bucket/prefix/export-name) in the Data Exports console",
        );
    }
    let status = export_status(clients, &location.export).await;
    let (message, hint) = match status {
        Ok(None) => (
            format!(
                "there is no CUR 2.0 export named {} and nothing under {}",
                location.export,
                location.data_uri()
            ),
            "run `bedrock-monitor apply` with [cur_export] to create it; Data Exports delivers \
             the first files within 24 hours"
                .to_string(),
        ),
        Ok(Some((created, None))) => (
            format!(
                "the CUR export {} is still processing its first delivery (created {}): nothing \
                 under {} yet",
                location.export,
                created.map_or("recently".to_string(), |c| c.to_rfc3339()),
                location.data_uri()
            ),
            match created {
                Some(c) => format!(
                    "Data Exports delivers the first files within 24 hours of creating an \
                     export: try again after {}",
                    (c + chrono::Duration::hours(24)).format("%Y-%m-%d %H:%M UTC")
                ),
                None => "Data Exports delivers the first files within 24 hours of creating an \
                         export: try again tomorrow"
                    .to_string(),
            },
        ),
        Ok(Some((_, Some(refreshed)))) => (
            format!(
                "the CUR export {} has no files for {which} under {} (last refreshed {})",
                location.export,
                location.data_uri(),
                refreshed.to_rfc3339()
            ),
            "check the export's destination (bucket and prefix) against [cur_export]; the \
             files may have been moved or deleted"
                .to_string(),
        ),
        Err(e) => (
            format!(
                "the CUR export {} has no files for {which} under {}",
                location.export,
                location.data_uri()
            ),
            format!(
                "if the export was created in the last 24 hours its first delivery is still \
                 processing: try again tomorrow ({} failed, so its status is unknown)",
                e.operation
            ),
        ),
    };
    AwsError::setup(message, hint)
}

type ExportTimes = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The export's creation and last refresh times; `None` when there is no such export.
async fn export_status(clients: &Clients, name: &str) -> Result<Option<ExportTimes>, AwsError> {
    let exports = &clients.dataexports;
    let arn = crate::aws::find_data_export_arn(exports, name).await?;
    let Some(arn) = arn else {
        return Ok(None);
    };
    let got = exports
        .get_export()
        .export_arn(&arn)
        .send()
        .await
        .aws("bcm-data-exports:GetExport")?;
    let time = |t: Option<&aws_smithy_types::DateTime>| {
        t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
    };
    let status = got.export_status();
    Ok(Some((
        time(status.and_then(|s| s.created_at())),
        time(status.and_then(|s| s.last_refreshed_at())),
    )))
}

/// What one object contributed besides sums.
#[derive(Debug, Default)]
struct ObjectCounts {
    row_groups: u64,
    skipped: u64,
    rows: u64,
    notes: Vec<String>,
}

/// Which columns the request needs.
#[derive(Debug, Clone)]
struct Columns {
    principal: bool,
    tags: Vec<String>,
    resource: bool,
    account: bool,
    /// `--allocate`: the buckets' principal, account and region.
    region: bool,
    /// `--output focus`: every column a FOCUS row shows.
    focus: bool,
    /// An existing export (`[cur_export] read`, `--cur`): its notes and hints name that.
    existing: bool,
}

impl Columns {
    fn for_request(request: &Request) -> Columns {
        let allocate = request.allocate.is_some() || request.focus;
        Columns {
            principal: allocate || request.by.contains(&Dimension::Principal),
            tags: request
                .by
                .iter()
                .filter_map(|d| match d {
                    Dimension::Tag(k) => Some(k.clone()),
                    _ => None,
                })
                .collect(),
            resource: request.by.contains(&Dimension::Profile),
            account: allocate || request.by.contains(&Dimension::Account),
            region: allocate,
            focus: request.focus,
            existing: request.read.is_some(),
        }
    }

    /// Column names to project, required ones first.
    fn names(&self) -> Vec<&'static str> {
        let mut names = vec![
            USAGE_START,
            PRODUCT_CODE,
            USAGE_TYPE,
            COST,
            USAGE_AMOUNT,
            LINE_ITEM_TYPE,
            PRODUCT,
        ];
        if self.principal {
            names.push(PRINCIPAL);
        }
        if !self.tags.is_empty() {
            names.extend([TAGS, RESOURCE_TAGS]);
        }
        if self.resource {
            names.push(RESOURCE_ID);
        }
        if self.account {
            names.push(ACCOUNT);
        }
        if self.region {
            names.push(REGION);
        }
        if self.focus {
            names.push(RESOURCE_ID);
            names.extend(FOCUS_COLUMNS);
        }
        names
    }
}

/// A corrupt or foreign object: which, and what to do.
fn unreadable(object: &Object, e: ParquetError) -> AwsError {
    if let ParquetError::External(inner) = e {
        return match inner.downcast::<AwsError>() {
            Ok(aws) => *aws,
            Err(other) => AwsError::setup(
                format!(
                    "reading s3://{}/{} failed: {other}",
                    object.bucket, object.key
                ),
                "try again",
            ),
        };
    }
    AwsError::setup(
        format!(
            "s3://{}/{} is not a readable Parquet file ({e})",
            object.bucket, object.key
        ),
        "Data Exports rewrites a period's files at each refresh: try again after the next one \
         (within 24 hours); if it stays, delete the object so the export writes it again",
    )
}

async fn read_object(
    client: aws_sdk_s3::Client,
    owner: &str,
    object: &Object,
    columns: &Columns,
    aggregator: &mut Aggregator,
    total_read: Arc<AtomicU64>,
) -> Result<ObjectCounts, AwsError> {
    if object.format == Format::CsvGz {
        return read_csv_object(client, owner, object, columns, aggregator, total_read).await;
    }
    let reader = S3Object::new(client, &object.bucket, &object.key, object.size, owner);
    let read = reader.read.clone();
    let result = read_object_with(reader, object, columns, aggregator).await;
    total_read.fetch_add(read.load(Ordering::Relaxed), Ordering::Relaxed);
    result
}

/// Whether an object's columns make a CUR 2.0 export, and the notes its missing optional
/// columns call for.
fn check_columns(
    names: &[String],
    object: &Object,
    columns: &Columns,
    counts: &mut ObjectCounts,
) -> Result<(), AwsError> {
    let has = |wanted: &str| names.iter().any(|n| n == wanted);
    for required in REQUIRED {
        if !has(required) {
            return Err(AwsError::setup(
                format!(
                    "s3://{}/{} has no {required} column: it is not a CUR 2.0 export",
                    object.bucket, object.key
                ),
                if columns.existing {
                    "point [cur_export] read (or --cur) at a CUR 2.0 export's folder \
                     (s3://bucket/prefix/export-name, above data/ and metadata/)"
                } else {
                    "point [cur_export] at the export `apply` made (CUR 2.0, Parquet)"
                },
            ));
        }
    }
    if columns.principal && !has(PRINCIPAL) {
        counts.notes.push(if columns.existing {
            principals_missing(
                "the export",
                &format!("so it was made without {PRINCIPAL_OPTION}"),
                "turn the option on for the export (new data only) or read the tool's own export",
            )
        } else {
            "the export has no line_item_iam_principal column (IAM principal data is off): \
             every row is unattributed; set [cur_export] include_iam_principal = true and \
             apply (new data only)"
                .into()
        });
    }
    if !has(PRODUCT) {
        counts.notes.push(
            "the export has no product column: Marketplace-billed models (\"… (Amazon Bedrock \
             Edition)\") cannot be recognised and models cannot be named; run apply to update \
             the export"
                .into(),
        );
    }
    Ok(())
}

/// A gzip CSV object: fetched whole (CSV has no footer to seek by), decompressed as a stream
/// and folded a batch at a time, only the columns the request needs decoded.
async fn read_csv_object(
    client: aws_sdk_s3::Client,
    owner: &str,
    object: &Object,
    columns: &Columns,
    aggregator: &mut Aggregator,
    total_read: Arc<AtomicU64>,
) -> Result<ObjectCounts, AwsError> {
    let mut counts = ObjectCounts::default();
    let out = client
        .get_object()
        .bucket(&object.bucket)
        .expected_bucket_owner(owner)
        .key(&object.key)
        .send()
        .await
        .aws("s3:GetObject")?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| {
            AwsError::setup(
                format!(
                    "reading s3://{}/{} was cut short: {e}",
                    object.bucket, object.key
                ),
                "try again",
            )
        })?
        .into_bytes();
    total_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let bad = |message: String| {
        AwsError::setup(
            format!(
                "s3://{}/{} is not a readable CUR 2.0 gzip CSV file: {message}",
                object.bucket, object.key
            ),
            "Data Exports rewrites a period's files at each refresh: try again after the next \
             one (within 24 hours); if it stays, report it with the file's first lines",
        )
    };
    let mut batches = super::csv_object::gzip(bytes).map_err(bad)?;
    if batches.header().is_empty() {
        // An emptied chunk ("overwritten with empty data").
        return Ok(counts);
    }
    check_columns(batches.header(), object, columns, &mut counts)?;
    batches.select(&columns.names());
    while let Some(batch) = batches.next_batch(BATCH_ROWS) {
        let batch = batch.map_err(bad)?;
        fold_object_batch(&batch, object, columns, aggregator, &mut counts)?;
    }
    Ok(counts)
}

async fn read_object_with(
    reader: S3Object,
    object: &Object,
    columns: &Columns,
    aggregator: &mut Aggregator,
) -> Result<ObjectCounts, AwsError> {
    let mut counts = ObjectCounts::default();
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| unreadable(object, e))?;
    let arrow_schema = builder.schema().clone();
    let parquet_schema = builder.parquet_schema();
    let roots: Vec<String> = parquet_schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let wanted = columns.names();
    check_columns(&roots, object, columns, &mut counts)?;
    let indices: Vec<usize> = roots
        .iter()
        .enumerate()
        .filter(|(_, name)| wanted.contains(&name.as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(parquet_schema, indices);

    // Row groups whose usage dates miss the report's days are not fetched at all.
    let (start, end) = aggregator.days();
    let unit = arrow_schema
        .field_with_name(USAGE_START)
        .ok()
        .map(|f| f.data_type().clone());
    let leaf = parquet_schema
        .columns()
        .iter()
        .position(|c| c.path().string() == USAGE_START);
    let metadata = builder.metadata().clone();
    let mut keep = Vec::new();
    for (i, rg) in metadata.row_groups().iter().enumerate() {
        counts.row_groups += 1;
        let range = leaf
            .and_then(|l| rg.column(l).statistics())
            .zip(unit.as_ref())
            .and_then(|(s, t)| day_range(s, t));
        match range {
            Some((min, max)) if max < start || min >= end => counts.skipped += 1,
            _ => keep.push(i),
        }
    }
    if keep.is_empty() {
        return Ok(counts);
    }
    let mut stream = builder
        .with_projection(mask)
        .with_row_groups(keep)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(object, e))?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| unreadable(object, e))?;
        fold_object_batch(&batch, object, columns, aggregator, &mut counts)?;
    }
    Ok(counts)
}

/// One batch of an object into `aggregator`, counted.
fn fold_object_batch(
    batch: &RecordBatch,
    object: &Object,
    columns: &Columns,
    aggregator: &mut Aggregator,
    counts: &mut ObjectCounts,
) -> Result<(), AwsError> {
    counts.rows += batch.num_rows() as u64;
    fold_batch(batch, columns, aggregator).map_err(|message| {
        AwsError::setup(
            format!("s3://{}/{}: {message}", object.bucket, object.key),
            "the file does not follow the CUR 2.0 data dictionary; report it",
        )
    })
}

/// A row group's usage days from its statistics (`None` when they cannot be read).
fn day_range(stats: &Statistics, data_type: &DataType) -> Option<(NaiveDate, NaiveDate)> {
    let Statistics::Int64(s) = stats else {
        return None;
    };
    let (min, max) = (*s.min_opt()?, *s.max_opt()?);
    let to_day = |v: i64| -> Option<NaiveDate> {
        let t = match data_type {
            DataType::Timestamp(TimeUnit::Second, _) => DateTime::from_timestamp(v, 0),
            DataType::Timestamp(TimeUnit::Millisecond, _) => DateTime::from_timestamp_millis(v),
            DataType::Timestamp(TimeUnit::Microsecond, _) => DateTime::from_timestamp_micros(v),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(DateTime::from_timestamp_nanos(v)),
            _ => None,
        }?;
        Some(t.date_naive())
    };
    Some((to_day(min)?, to_day(max)?))
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    batch.column_by_name(name)
}

fn fold_batch(
    batch: &RecordBatch,
    columns: &Columns,
    aggregator: &mut Aggregator,
) -> Result<(), String> {
    let need = |name: &str| column(batch, name).ok_or_else(|| format!("no {name} column"));
    let days = Days::of(USAGE_START, need(USAGE_START)?)?;
    let codes = Strings::of(PRODUCT_CODE, need(PRODUCT_CODE)?)?;
    let usage_types = Strings::of(USAGE_TYPE, need(USAGE_TYPE)?)?;
    let costs = Numbers::of(COST, need(COST)?)?;
    let amounts = column(batch, USAGE_AMOUNT)
        .map(|a| Numbers::of(USAGE_AMOUNT, a))
        .transpose()?;
    let types = column(batch, LINE_ITEM_TYPE)
        .map(|a| Strings::of(LINE_ITEM_TYPE, a))
        .transpose()?;
    let product = column(batch, PRODUCT)
        .map(|a| Maps::of(PRODUCT, a))
        .transpose()?;
    let principals = column(batch, PRINCIPAL)
        .map(|a| Strings::of(PRINCIPAL, a))
        .transpose()?;
    let tags = column(batch, TAGS).map(|a| Maps::of(TAGS, a)).transpose()?;
    let resource_tags = column(batch, RESOURCE_TAGS)
        .map(|a| Maps::of(RESOURCE_TAGS, a))
        .transpose()?;
    let resources = column(batch, RESOURCE_ID)
        .map(|a| Strings::of(RESOURCE_ID, a))
        .transpose()?;
    let accounts = column(batch, ACCOUNT)
        .map(|a| Strings::of(ACCOUNT, a))
        .transpose()?;
    let regions = column(batch, REGION)
        .map(|a| Strings::of(REGION, a))
        .transpose()?;
    let focus = columns.focus.then(|| FocusColumns::of(batch)).transpose()?;
    let mut focus_tags = String::new();
    // How each key of the batch's maps ranks against the request's tag keys, worked out once
    // per key and batch (a key is the same string on every line that has it).
    let mut ranks: HashMap<(Column, &str), Vec<Option<Rank>>> = HashMap::new();
    let mut overlaps: HashSet<Overlap<'_>> = HashSet::new();
    let mut line_tags = LineTags::new(columns.tags.len());
    let mut tag_values: Vec<Option<&str>> = Vec::with_capacity(columns.tags.len());
    let (start, end) = aggregator.days();
    // Whether a (product code, product name) is Bedrock spend, decided once per pair.
    let mut counted: BTreeMap<(&str, &str), bool> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        let Some(day) = days.get(i) else { continue };
        if day < start || day >= end {
            continue;
        }
        let line_item_type = types.as_ref().and_then(|t| t.get(i));
        if line_item::kind(line_item_type) == line_item::Kind::Tax {
            continue;
        }
        let code = codes.get(i).unwrap_or("");
        let name = product
            .as_ref()
            .and_then(|p| p.get(i, &PRODUCT_NAME_KEYS))
            .unwrap_or("");
        let keep = *counted
            .entry((code, name))
            .or_insert_with(|| aggregator.counts(code, name));
        if !keep {
            aggregator.other_lines += 1;
            continue;
        }
        tag_values.clear();
        if !columns.tags.is_empty() {
            line_tags.clear();
            for (column, map) in [
                (Column::Tags, tags.as_ref()),
                (Column::ResourceTags, resource_tags.as_ref()),
            ] {
                let Some(map) = map else { continue };
                for (key, value) in map.entries(i) {
                    let key_ranks = ranks
                        .entry((column, key))
                        .or_insert_with(|| aggregator.tags.observe(column, key));
                    line_tags.offer(key_ranks, column, key, value);
                }
            }
            for overlap in line_tags.overlaps() {
                if overlaps.insert(overlap) {
                    aggregator.tags.overlap(overlap.0, overlap.1, overlap.2);
                }
            }
            tag_values.extend(line_tags.values());
        }
        let focus_line = focus.as_ref().map(|f| f.line(i, &mut focus_tags));
        aggregator.add(&Line {
            day,
            product_code: code,
            service_name: name,
            usage_type: usage_types.get(i).unwrap_or(""),
            principal: principals.as_ref().and_then(|p| p.get(i)),
            tags: &tag_values,
            resource_id: resources.as_ref().and_then(|r| r.get(i)),
            account: accounts.as_ref().and_then(|a| a.get(i)),
            region: regions.as_ref().and_then(|r| r.get(i)),
            focus: focus_line.as_ref(),
            line_item_type,
            cost: costs.get(i),
            usage: amounts.as_ref().map_or(0.0, |a| a.get(i)),
            count: 1,
        });
    }
    Ok(())
}
