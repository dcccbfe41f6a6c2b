//! Where a CUR 2.0 export keeps its files (Data Exports user guide, "Understanding export
//! delivery" and "Data Exports manifest file reference"):
//! `s3://<bucket>/<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/…` for the data, and
//! `s3://<bucket>/<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`
//! for the manifest, whose `dataFiles` lists the period's objects. The bucket, prefix and
//! export name are the config's (`[cur_export]`, the same functions the `cur-export`
//! component names them with), or those of an existing export named by `[cur_export] read` or
//! `--cur` (`s3://bucket/prefix/export-name`).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::config::{Config, ExportUri};

/// The export's place in S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportLocation {
    pub bucket: String,
    pub prefix: String,
    pub export: String,
    /// The account that owns the bucket: every S3 call names it as `ExpectedBucketOwner`, so
    /// that a bucket of the same name elsewhere is never read.
    #[serde(skip)]
    pub owner: String,
    /// An existing export (`[cur_export] read`, `--cur`), not the one `apply` makes: what to
    /// do about a missing file or column is then the export owner's business, not `apply`'s.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
}

impl ExportLocation {
    /// The location `[cur_export]` gives in `account_id`; `None` without `[cur_export]`.
    pub fn from_config(config: &Config, account_id: &str) -> Option<ExportLocation> {
        let cur = config.cur_export.as_ref()?;
        Some(ExportLocation {
            bucket: cur.resolved_bucket(account_id),
            prefix: cur.prefix.clone(),
            export: config.cur_export_name(),
            owner: account_id.to_string(),
            existing: false,
        })
    }

    /// An existing export at `uri`, in a bucket of the owner it names, else of `account_id`
    /// (the caller's).
    pub fn existing(uri: &ExportUri, account_id: &str) -> ExportLocation {
        ExportLocation {
            bucket: uri.bucket.clone(),
            prefix: uri.prefix.clone(),
            export: uri.export.clone(),
            owner: uri.owner.clone().unwrap_or_else(|| account_id.to_string()),
            existing: true,
        }
    }

    fn root(&self) -> String {
        let prefix = self.prefix.trim_matches('/');
        if prefix.is_empty() {
            self.export.clone()
        } else {
            format!("{prefix}/{}", self.export)
        }
    }

    /// The key prefix of one billing period's data objects (with a trailing `/`).
    pub fn data_prefix(&self, period: &str) -> String {
        format!("{}/data/BILLING_PERIOD={period}/", self.root())
    }

    /// The key of one billing period's manifest.
    pub fn manifest_key(&self, period: &str) -> String {
        format!(
            "{}/metadata/BILLING_PERIOD={period}/{}-Manifest.json",
            self.root(),
            self.export
        )
    }

    /// The other name the user guide gives the period's manifest: its "Summary" of "create
    /// new" deliveries names it `metadata/<partition>/Manifest.json`, while its "Metadata"
    /// section names every export's `metadata/<partition>/<export-name>-Manifest.json`. The
    /// reader tries the latter first and this one second, so either reading of the guide
    /// finds the manifest.
    pub fn plain_manifest_key(&self, period: &str) -> String {
        format!(
            "{}/metadata/BILLING_PERIOD={period}/Manifest.json",
            self.root()
        )
    }

    /// The key prefix under which everything of the export lies (with a trailing `/`).
    pub fn export_prefix(&self) -> String {
        format!("{}/", self.root())
    }

    /// Whether `bucket`/`key` (from a manifest) lies in the export's own place: its bucket,
    /// under its prefix and export name.
    pub fn holds(&self, bucket: &str, key: &str) -> bool {
        bucket == self.bucket && key.starts_with(&self.export_prefix())
    }

    /// `s3://bucket/prefix/export/data/`, for messages and the Athena table's location.
    pub fn data_uri(&self) -> String {
        format!("s3://{}/{}/data/", self.bucket, self.root())
    }
}

/// The billing periods (`YYYY-MM`) the days `[start, end)` touch, oldest first.
pub fn periods(start: NaiveDate, end: NaiveDate) -> Vec<String> {
    let last = end.pred_opt().unwrap_or(end).max(start);
    let mut out = Vec::new();
    let (mut year, mut month) = (start.year(), start.month());
    while (year, month) <= (last.year(), last.month()) {
        out.push(format!("{year:04}-{month:02}"));
        if month == 12 {
            year += 1;
            month = 1;
        } else {
            month += 1;
        }
    }
    out
}

/// Bucket and key of an `s3://bucket/key` URI (as a manifest's `dataFiles` list them).
pub fn parse_s3_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_string(), key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let l = ExportLocation {
            bucket: "b".into(),
            prefix: "cur".into(),
            export: "stack-bedrock-cur".into(),
            owner: "123456789012".into(),
            existing: false,
        };
        assert_eq!(
            l.data_prefix("2026-11"),
            "cur/stack-bedrock-cur/data/BILLING_PERIOD=2026-11/"
        );
        assert_eq!(
            l.manifest_key("2026-11"),
            "cur/stack-bedrock-cur/metadata/BILLING_PERIOD=2026-11/stack-bedrock-cur-Manifest.json"
        );
        assert_eq!(l.data_uri(), "s3://b/cur/stack-bedrock-cur/data/");
        assert!(l.holds(
            "b",
            "cur/stack-bedrock-cur/data/BILLING_PERIOD=2026-11/x.parquet"
        ));
        assert!(!l.holds("other", "cur/stack-bedrock-cur/data/x.parquet"));
        assert!(!l.holds("b", "cur/another-export/data/x.parquet"));
        assert!(!l.holds("b", "cur/stack-bedrock-cur-2/data/x.parquet"));
    }

    #[test]
    fn periods_cover_the_days_touched() {
        assert_eq!(
            periods(day("2026-10-25"), day("2026-11-05")),
            ["2026-10", "2026-11"]
        );
        assert_eq!(periods(day("2026-11-01"), day("2026-12-01")), ["2026-11"]);
        assert_eq!(
            periods(day("2026-12-31"), day("2027-01-02")),
            ["2026-12", "2027-01"]
        );
        assert_eq!(periods(day("2026-11-03"), day("2026-11-04")), ["2026-11"]);
    }

    #[test]
    fn s3_uris_split_into_bucket_and_key() {
        assert_eq!(
            parse_s3_uri("s3://b/cur/x/data/BILLING_PERIOD=2026-11/x-00001.snappy.parquet"),
            Some((
                "b".into(),
                "cur/x/data/BILLING_PERIOD=2026-11/x-00001.snappy.parquet".into()
            ))
        );
        assert_eq!(parse_s3_uri("https://b/k"), None);
        assert_eq!(parse_s3_uri("s3://b/"), None);
    }
}
