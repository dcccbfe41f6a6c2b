//! Which objects hold a billing period's current data, whatever the export's delivery option
//! (Data Exports user guide, "Understanding export delivery", "Export overwriting and create
//! new" and "Export data file names and chunks"):
//! - **overwrite**: the files are `data/BILLING_PERIOD=YYYY-MM/<export>-NNNNN.snappy.parquet`
//!   (or `.csv.gz`), rewritten in place by each refresh; chunks a smaller refresh no longer
//!   needs are "overwritten with empty data".
//! - **create new**: each refresh is a folder of its own,
//!   `data/BILLING_PERIOD=YYYY-MM/<timestamp>-<execution-id>/…`, and every earlier refresh
//!   stays: reading them all would count the period once per refresh.
//!
//! The period's manifest "always represents the most recent refresh" (same page), so when it
//! exists its `dataFiles` are what is read. Without one (an export whose metadata folder was
//! not copied, a hand-made layout), the latest refresh is chosen from a listing: the objects
//! are grouped by their folder under the period (the overwrite files are one group, each
//! create-new refresh another) and the group whose newest object S3 last modified latest is
//! read. The guide does not say how `<timestamp>` is written, so the folder's name is only the
//! tie-break, not the clock. Zero-byte objects (the emptied chunks) are left out.

use std::collections::{BTreeMap, HashMap};

use crate::aws::{AwsError, AwsResultExt};

use super::layout::{ExportLocation, parse_s3_uri};

/// The two file formats Data Exports writes ("Export data file names and chunks").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// `<export-name>-<chunk-number>.snappy.parquet`.
    Parquet,
    /// `<export-name>-<chunk-number>.csv.gz`: gzip-compressed CSV with a header line.
    CsvGz,
}

impl Format {
    pub(super) fn of(key: &str) -> Option<Format> {
        if key.ends_with(".parquet") {
            Some(Format::Parquet)
        } else if key.ends_with(".csv.gz") {
            Some(Format::CsvGz)
        } else {
            None
        }
    }
}

/// One object to read.
#[derive(Debug, Clone)]
pub(super) struct Object {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub format: Format,
}

/// A listed object: key, size, and when S3 last modified it (seconds, nanoseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    pub key: String,
    pub size: u64,
    pub modified: (i64, u32),
}

/// The objects of one billing period: those the manifest lists (with their sizes from a
/// listing of the period's data prefix), or, without a manifest, the latest refresh's data
/// objects there. `None` when the period has neither.
pub(super) async fn period_objects(
    s3: &aws_sdk_s3::Client,
    location: &ExportLocation,
    period: &str,
) -> Result<Option<Vec<Object>>, AwsError> {
    let listed = list(s3, location, &location.data_prefix(period)).await?;
    let mut manifest = None;
    for key in [
        location.manifest_key(period),
        location.plain_manifest_key(period),
    ] {
        if let Some(bytes) = get_if_present(s3, location, &key, period).await? {
            manifest = Some((key, bytes));
            break;
        }
    }
    let Some((manifest_key, manifest)) = manifest else {
        let latest: Vec<Object> = latest_delivery(&location.data_prefix(period), &listed)
            .into_iter()
            .filter_map(|l| {
                Some(Object {
                    format: Format::of(&l.key)?,
                    bucket: location.bucket.clone(),
                    key: l.key.clone(),
                    size: l.size,
                })
            })
            .collect();
        return Ok((!latest.is_empty()).then_some(latest));
    };
    let doc: serde_json::Value = serde_json::from_slice(&manifest).map_err(|e| {
        AwsError::setup(
            format!(
                "the manifest s3://{}/{manifest_key} is not JSON ({e})",
                location.bucket
            ),
            "Data Exports rewrites it with each delivery: try again in an hour",
        )
    })?;
    let files: Vec<&str> = doc
        .get("dataFiles")
        .and_then(|f| f.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let sizes: HashMap<&str, u64> = listed.iter().map(|l| (l.key.as_str(), l.size)).collect();
    let mut objects = Vec::new();
    for uri in files {
        let Some((bucket, key)) = parse_s3_uri(uri) else {
            return Err(AwsError::setup(
                format!("the manifest of BILLING_PERIOD={period} lists {uri:?}, not an s3:// URI"),
                "this is unexpected from Data Exports; report it",
            ));
        };
        if !location.holds(&bucket, &key) {
            return Err(AwsError::setup(
                format!(
                    "the manifest of BILLING_PERIOD={period} (s3://{}/{manifest_key}) lists \
                     s3://{bucket}/{key}, which is outside the export's own place s3://{}/{}: \
                     it is not read",
                    location.bucket,
                    location.bucket,
                    location.export_prefix()
                ),
                "Data Exports lists only its own files: someone else wrote this manifest; \
                 check who may write to the bucket (its policy) before reading it again",
            ));
        }
        let Some(format) = Format::of(&key) else {
            return Err(AwsError::setup(
                format!(
                    "the manifest of BILLING_PERIOD={period} lists s3://{bucket}/{key}, which is \
                     neither Parquet (.parquet) nor gzip CSV (.csv.gz)"
                ),
                "report --source cur reads CUR 2.0 exports in the two formats Data Exports \
                 writes",
            ));
        };
        let size = match sizes.get(key.as_str()) {
            Some(size) => *size,
            None => head_size(s3, location, &key).await.map_err(|e| {
                if e.code_is(&["NoSuchKey", "NotFound", "HTTP 404"]) {
                    AwsError::setup(
                        format!(
                            "the manifest of BILLING_PERIOD={period} lists s3://{bucket}/{key}, \
                             which does not exist: Data Exports is rewriting the period"
                        ),
                        "try again in an hour",
                    )
                } else {
                    e
                }
            })?,
        };
        if size == 0 {
            continue;
        }
        objects.push(Object {
            bucket,
            key,
            size,
            format,
        });
    }
    Ok(Some(objects))
}

/// The latest refresh among the data objects listed under `period_prefix`: grouped by their
/// folder below the period, the group with the newest object (S3's `LastModified`), ties going
/// to the later folder name. Zero-byte objects and keys that are not data files are left out.
pub(super) fn latest_delivery<'a>(period_prefix: &str, listed: &'a [Listed]) -> Vec<&'a Listed> {
    let mut groups: BTreeMap<&str, Vec<&Listed>> = BTreeMap::new();
    for l in listed {
        if l.size == 0 || Format::of(&l.key).is_none() {
            continue;
        }
        let rest = l.key.strip_prefix(period_prefix).unwrap_or(&l.key);
        let folder = rest.rsplit_once('/').map_or("", |(folder, _)| folder);
        groups.entry(folder).or_default().push(l);
    }
    groups
        .into_iter()
        .max_by_key(|(folder, objects)| {
            let newest = objects.iter().map(|o| o.modified).max();
            (newest, *folder)
        })
        .map(|(_, objects)| objects)
        .unwrap_or_default()
}

/// The object's bytes, or `None` when it does not exist.
async fn get_if_present(
    s3: &aws_sdk_s3::Client,
    location: &ExportLocation,
    key: &str,
    period: &str,
) -> Result<Option<bytes::Bytes>, AwsError> {
    let got = s3
        .get_object()
        .bucket(&location.bucket)
        .expected_bucket_owner(&location.owner)
        .key(key)
        .send()
        .await
        .aws("s3:GetObject");
    match got {
        Ok(out) => Ok(Some(
            out.body
                .collect()
                .await
                .map_err(|e| {
                    AwsError::setup(
                        format!("reading the manifest of BILLING_PERIOD={period} failed: {e}"),
                        "try again",
                    )
                })?
                .into_bytes(),
        )),
        Err(e) if e.code_is(&["NoSuchKey", "HTTP 404"]) => Ok(None),
        Err(e) => Err(denied(location, e)),
    }
}

/// An existing export's bucket refused the caller: S3 answers 403 both when the bucket's owner
/// is not the `ExpectedBucketOwner` named (S3 API reference, `x-amz-expected-bucket-owner`:
/// "the request fails with the HTTP status code 403 Forbidden (access denied)") and when no
/// policy lets the caller read. An organization's export usually lies in another account, so
/// the hint names both fixes.
fn denied(location: &ExportLocation, mut e: AwsError) -> AwsError {
    if !location.existing || !e.code_is(&["AccessDenied", "HTTP 403"]) {
        return e;
    }
    e.message = format!(
        "{} (the CUR export s3://{}/{}, its bucket expected to belong to account {})",
        e.message,
        location.bucket,
        location.export_prefix(),
        location.owner
    );
    e.with_hint(
        "if the bucket belongs to another account (the management or data-collection \
         account's), name it with [cur_export] read_owner or --cur-owner; that account's \
         bucket policy must also let you s3:ListBucket the bucket and s3:GetObject the \
         export's objects (docs/report.md, \"An export in another account\")",
    )
}

/// Every object under `prefix` of the export's bucket (every page).
pub(super) async fn list(
    s3: &aws_sdk_s3::Client,
    location: &ExportLocation,
    prefix: &str,
) -> Result<Vec<Listed>, AwsError> {
    let bucket = &location.bucket;
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .expected_bucket_owner(&location.owner)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .aws("s3:ListBucket")
            .map_err(|e| {
                if !e.code_is(&["NoSuchBucket"]) {
                    denied(location, e)
                } else if location.existing {
                    AwsError::setup(
                        format!("the CUR export's bucket s3://{bucket} does not exist"),
                        "check the bucket of [cur_export] read (or --cur) against the export's \
                         destination in the Data Exports console",
                    )
                } else {
                    AwsError::setup(
                        format!("the CUR export's bucket s3://{bucket} does not exist"),
                        "run `bedrock-monitor apply` with [cur_export] to create the export; \
                         Data Exports delivers the first files within 24 hours",
                    )
                }
            })?;
        for o in page.contents() {
            if let Some(key) = o.key() {
                out.push(Listed {
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    modified: o
                        .last_modified()
                        .map_or((0, 0), |t| (t.secs(), t.subsec_nanos())),
                });
            }
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() || page.is_truncated() != Some(true) {
            return Ok(out);
        }
    }
}

async fn head_size(
    s3: &aws_sdk_s3::Client,
    location: &ExportLocation,
    key: &str,
) -> Result<u64, AwsError> {
    let out = s3
        .head_object()
        .bucket(&location.bucket)
        .expected_bucket_owner(&location.owner)
        .key(key)
        .send()
        .await
        .aws("s3:GetObject")?;
    Ok(out.content_length().unwrap_or(0).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, size: u64, secs: i64) -> Listed {
        Listed {
            key: key.into(),
            size,
            modified: (secs, 0),
        }
    }

    const P: &str = "cur2/1/cid-cur2/data/BILLING_PERIOD=2026-10/";

    fn keys(v: Vec<&Listed>) -> Vec<String> {
        v.into_iter()
            .map(|l| l.key.trim_start_matches(P).to_string())
            .collect()
    }

    #[test]
    fn the_latest_create_new_refresh_alone_is_read() {
        let all = [
            listed(
                &format!("{P}20261101T0100Z-aaa/cid-cur2-00001.csv.gz"),
                10,
                100,
            ),
            listed(
                &format!("{P}20261101T0100Z-aaa/cid-cur2-00002.csv.gz"),
                10,
                101,
            ),
            listed(
                &format!("{P}20261102T0100Z-bbb/cid-cur2-00001.csv.gz"),
                10,
                200,
            ),
            listed(&format!("{P}20261102T0100Z-bbb/notes.txt"), 10, 300),
        ];
        assert_eq!(
            keys(latest_delivery(P, &all)),
            ["20261102T0100Z-bbb/cid-cur2-00001.csv.gz"]
        );
    }

    #[test]
    fn overwritten_files_are_one_refresh_without_their_emptied_chunks() {
        let all = [
            listed(&format!("{P}cid-cur2-00001.snappy.parquet"), 10, 500),
            listed(&format!("{P}cid-cur2-00002.snappy.parquet"), 0, 500),
            listed(&format!("{P}cid-cur2-00003.snappy.parquet"), 12, 400),
        ];
        assert_eq!(
            keys(latest_delivery(P, &all)),
            [
                "cid-cur2-00001.snappy.parquet",
                "cid-cur2-00003.snappy.parquet"
            ]
        );
        assert!(latest_delivery(P, &[]).is_empty());
    }

    #[test]
    fn a_tie_in_time_goes_to_the_later_folder_name() {
        let all = [
            listed(&format!("{P}2026-11-01-x/e-00001.snappy.parquet"), 1, 7),
            listed(&format!("{P}2026-11-02-y/e-00001.snappy.parquet"), 1, 7),
        ];
        assert_eq!(
            keys(latest_delivery(P, &all)),
            ["2026-11-02-y/e-00001.snappy.parquet"]
        );
    }

    #[test]
    fn formats_follow_the_documented_file_names() {
        assert_eq!(
            Format::of("a/e-00001.snappy.parquet"),
            Some(Format::Parquet)
        );
        assert_eq!(Format::of("a/e-00001.csv.gz"), Some(Format::CsvGz));
        assert_eq!(Format::of("a/e-Manifest.json"), None);
    }
}
