//! The cost-attribution sections: application inference profiles per team,
//! cost-allocation tag activation, Cost Anomaly Detection and a CUR 2.0 export. Each section is
//! optional: a component runs only when its section is in the config.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::rules::{Checker, bucket_name_problem, tag_problems};
use super::{Config, PathPart};

/// One `[[inference_profiles]]` entry: an application inference profile that applications call
/// instead of the model, so that its tags attribute their spend.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InferenceProfileConfig {
    pub name: String,
    /// A foundation-model ID (`anthropic.claude-3-5-haiku-20241022-v1:0`) or a system
    /// cross-region inference profile ID (`us.anthropic.claude-3-7-sonnet-20250219-v1:0`).
    pub model: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// `[cost_allocation]`: which tag keys to activate for cost allocation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CostAllocationConfig {
    pub enabled: bool,
    /// `None`: every key of `[stack.tags]` and of the profiles' tags.
    pub activate: Option<Vec<String>>,
}

impl Default for CostAllocationConfig {
    fn default() -> Self {
        CostAllocationConfig {
            enabled: true,
            activate: None,
        }
    }
}

/// How often anomaly alerts are sent: at once to the topic, or as a digest to the emails.
pub const ANOMALY_FREQUENCIES: &[&str] = &["IMMEDIATE", "DAILY", "WEEKLY"];

/// `[anomaly_detection]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyDetectionConfig {
    /// `false` removes what the stack created (the monitor, its subscription, the category).
    pub enabled: bool,
    /// The monitor's name; the subscription and the cost category are named after it.
    pub name: Option<String>,
    /// Alert when an anomaly's total impact is at least this many dollars...
    pub threshold_usd: Option<f64>,
    /// ...and (when both are set) at least this percentage above the expected spend.
    pub threshold_percent: Option<f64>,
    pub frequency: String,
}

impl Default for AnomalyDetectionConfig {
    fn default() -> Self {
        AnomalyDetectionConfig {
            enabled: true,
            name: None,
            threshold_usd: None,
            threshold_percent: None,
            frequency: "IMMEDIATE".into(),
        }
    }
}

/// `[cur_export]`: a CUR 2.0 export (Data Exports) into a bucket of its own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CurExportConfig {
    /// `false` removes the export and its bucket (when the stack created them).
    pub enabled: bool,
    pub name: Option<String>,
    /// May contain `{account_id}`; not the log bucket.
    pub bucket: String,
    pub prefix: String,
    /// Fill `line_item_iam_principal`: who made each call.
    pub include_iam_principal: bool,
    /// `report --source cur` through Amazon Athena instead of reading the files (the table over
    /// the export is the user's: docs/report.md, "The Athena table", shows its
    /// `CREATE EXTERNAL TABLE`).
    pub athena: Option<CurAthenaConfig>,
    /// `s3://bucket/prefix/export-name`: an existing CUR 2.0 export (one the Cloud Intelligence
    /// Dashboards made, say) that `report --source cur` reads instead of the tool's own.
    pub read: Option<String>,
    /// The account that owns `read`'s bucket when it is not the caller's (an organization's
    /// export usually lies in its management or data-collection account): every S3 call names
    /// it as `ExpectedBucketOwner`.
    pub read_owner: Option<String>,
}

/// Where an existing CUR 2.0 export lies, from `s3://bucket/prefix/export-name` (Data Exports
/// user guide, "Understanding export delivery": the export's files are under
/// `s3://<bucket-name>/<prefix>/<export-name>/`). The prefix may be empty or have several
/// folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportUri {
    pub bucket: String,
    pub prefix: String,
    pub export: String,
    /// The bucket's owner when it is not the caller's account (`[cur_export] read_owner`,
    /// `--cur-owner`).
    pub owner: Option<String>,
}

/// Parses `s3://bucket/prefix/export-name` (a trailing `/` is allowed): the bucket by S3's
/// naming rules, the export by Data Exports' name pattern, no empty folder in the prefix.
pub fn parse_export_uri(text: &str) -> Result<ExportUri, String> {
    let shape = "give the export as s3://bucket/prefix/export-name (the export's folder, \
                 above data/ and metadata/)";
    let Some(rest) = text.strip_prefix("s3://") else {
        return Err(format!("{text:?} is not an s3:// URI: {shape}"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts: Vec<&str> = rest.split('/').collect();
    if parts.len() < 2 {
        return Err(format!("{text:?} names no export: {shape}"));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("{text:?} has an empty folder (\"//\"): {shape}"));
    }
    let bucket = parts.remove(0).to_string();
    if let Some(problem) = bucket_name_problem(&bucket) {
        return Err(format!("{text:?}: bucket {bucket:?}: {problem}"));
    }
    let export = parts.pop().unwrap_or_default().to_string();
    if !export_name_ok(&export) {
        return Err(format!(
            "{text:?}: {export:?} is not an export name (1-128 letters, digits, '-' and '_', \
             Data Exports' naming rule): {shape}"
        ));
    }
    if matches!(export.as_str(), "data" | "metadata") {
        return Err(format!(
            "{text:?} ends in {export}/: {shape}, not one of its own folders"
        ));
    }
    Ok(ExportUri {
        bucket,
        prefix: parts.join("/"),
        export,
        owner: None,
    })
}

/// `[cur_export] athena = { … }`: where `report --source cur --engine athena` queries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CurAthenaConfig {
    #[serde(default = "default_workgroup")]
    pub workgroup: String,
    /// The Athena data catalog the database is in: `AwsDataCatalog`, this account's AWS Glue
    /// Data Catalog, unless another is registered in Athena (Athena API reference,
    /// GetTableMetadata `CatalogName` and QueryExecutionContext `Catalog`).
    #[serde(default = "default_catalog")]
    pub catalog: String,
    pub database: String,
    pub table: String,
    /// `s3://…` for the query results; optional when the workgroup sets one.
    pub output: Option<String>,
    /// `s3://bucket/prefix/`: where the table's data lies (its `LOCATION`), when that is not
    /// the export's folder (`read`, else the tool's own export): a table over every payer's
    /// export, such as the Cloud Intelligence Dashboards'. Athena reads it with the caller's
    /// credentials, so `permissions` grants reading it; nothing else uses it.
    pub location: Option<String>,
}

fn default_workgroup() -> String {
    "primary".into()
}

/// Athena's name for the AWS Glue Data Catalog of the account (Athena user guide, "Use AWS Glue
/// Data Catalog to connect to your data": queries and GetTableMetadata name it `AwsDataCatalog`).
pub const DEFAULT_CATALOG: &str = "AwsDataCatalog";

fn default_catalog() -> String {
    DEFAULT_CATALOG.into()
}

impl Default for CurExportConfig {
    fn default() -> Self {
        CurExportConfig {
            enabled: true,
            name: None,
            bucket: "bedrock-cur-{account_id}".into(),
            prefix: "cur".into(),
            include_iam_principal: true,
            athena: None,
            read: None,
            read_owner: None,
        }
    }
}

impl CurExportConfig {
    pub fn resolved_bucket(&self, account_id: &str) -> String {
        self.bucket.replace("{account_id}", account_id)
    }
}

/// `[queries]`: the saved Logs Insights queries, as query definitions in a folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueriesConfig {
    /// `false` removes the definitions the stack saved.
    pub enabled: bool,
    /// The folder (name prefix before `/`); default: the stack name.
    pub folder: Option<String>,
}

impl Default for QueriesConfig {
    fn default() -> Self {
        QueriesConfig {
            enabled: true,
            folder: None,
        }
    }
}

impl Config {
    /// The query definitions' folder.
    pub fn queries_folder(&self) -> String {
        self.queries
            .as_ref()
            .and_then(|q| q.folder.clone())
            .unwrap_or_else(|| self.stack.name.clone())
    }

    pub fn profiles(&self) -> &[InferenceProfileConfig] {
        self.inference_profiles.as_deref().unwrap_or_default()
    }

    /// A profile's tags: the stack's (with its marker) and its own.
    pub fn profile_tags(&self, profile: &InferenceProfileConfig) -> BTreeMap<String, String> {
        let mut tags = self.tags();
        tags.extend(profile.tags.clone());
        tags
    }

    /// The tag keys to activate: the configured list, or every key of `[stack.tags]` and of the
    /// profiles' tags (sorted, each once).
    pub fn cost_allocation_keys(&self) -> Vec<String> {
        if let Some(list) = self
            .cost_allocation
            .as_ref()
            .and_then(|c| c.activate.clone())
        {
            return list;
        }
        let keys: BTreeSet<String> = self
            .stack
            .tags
            .keys()
            .chain(self.profiles().iter().flat_map(|p| p.tags.keys()))
            .cloned()
            .collect();
        keys.into_iter().collect()
    }

    pub fn anomaly_name(&self) -> String {
        self.anomaly_detection
            .as_ref()
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| format!("{}-bedrock-spend", self.stack.name))
    }

    /// Whether anomaly alerts go to the SNS topic (IMMEDIATE), whose policy must then let Cost
    /// Anomaly Detection publish.
    pub fn anomaly_alerts_to_topic(&self) -> bool {
        self.anomaly_detection
            .as_ref()
            .is_some_and(|a| a.enabled && a.frequency == "IMMEDIATE")
    }

    pub fn cur_export_name(&self) -> String {
        self.cur_export
            .as_ref()
            .and_then(|c| c.name.clone())
            .unwrap_or_else(|| format!("{}-bedrock-cur", self.stack.name))
    }
}

/// Bedrock's patterns for inference-profile names (`([0-9a-zA-Z][ _-]?)+`) and descriptions
/// (`([0-9a-zA-Z:.][ _-]?)+`), CreateInferenceProfile's API reference: letters and digits
/// (and, in a description, `:` and `.`), each optionally followed by one space, `_` or `-`.
pub fn profile_name_ok(s: &str) -> bool {
    !s.contains([':', '.']) && profile_text_ok(s)
}

/// The description pattern (see [`profile_name_ok`]).
pub fn profile_text_ok(s: &str) -> bool {
    let mut previous_was_separator = true;
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() || ch == ':' || ch == '.' {
            previous_was_separator = false;
        } else if " _-".contains(ch) && !previous_was_separator {
            previous_was_separator = true;
        } else {
            return false;
        }
    }
    !s.is_empty() && !s.starts_with([' ', '_', '-'])
}

/// Geography prefixes of system-defined cross-region inference profiles (Bedrock user guide,
/// "Supported Regions and models for inference profiles": `us.`, `eu.`, `apac.`, `us-gov.`,
/// `jp.`, `au.`, `ca.`, `in.` geographic profiles and `global.` ones).
pub const CROSS_REGION_PREFIXES: &[&str] = &[
    "us.", "eu.", "apac.", "us-gov.", "jp.", "au.", "ca.", "in.", "global.",
];

/// Whether `model` names a system cross-region inference profile rather than a foundation model.
pub fn is_system_profile(model: &str) -> bool {
    CROSS_REGION_PREFIXES.iter().any(|p| model.starts_with(p))
}

/// A model or system-profile ID: `provider.model-name[-version][:n]`, lower-case, no ARN.
pub fn model_id_ok(model: &str) -> bool {
    let body = CROSS_REGION_PREFIXES
        .iter()
        .find_map(|p| model.strip_prefix(p))
        .unwrap_or(model);
    let Some((provider, rest)) = body.split_once('.') else {
        return false;
    };
    !provider.is_empty()
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c))
        && model.len() <= 140
}

/// Data Exports' export-name pattern (`[0-9A-Za-z\-_]+`, 1-128; API reference, Export).
fn export_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

fn key(parts: &[&str]) -> Vec<PathPart> {
    parts
        .iter()
        .map(|p| PathPart::Key((*p).to_string()))
        .collect()
}

/// The most tags a Bedrock resource takes (TagResource).
const MAX_PROFILE_TAGS: usize = 50;
/// The most keys one UpdateCostAllocationTagsStatus request takes; the tool batches, but an
/// account may activate at most 500 user-defined keys in all.
const MAX_ACTIVE_COST_ALLOCATION_KEYS: usize = 500;

pub(super) fn check(config: &Config, c: &mut Checker) {
    check_profiles(config, c);
    check_cost_allocation(config, c);
    check_anomaly(config, c);
    check_cur_export(config, c);
    check_queries(config, c);
}

fn check_queries(config: &Config, c: &mut Checker) {
    if config.queries.is_none() {
        return;
    }
    let folder = config.queries_folder();
    c.check(
        !folder.is_empty()
            && folder.len() <= 200
            && !folder.starts_with('/')
            && !folder.ends_with('/')
            && !folder.chars().any(|ch| ch.is_control()),
        key(&["queries", "folder"]),
        format!(
            "{folder:?}: a folder name has 1-200 characters, without a leading or trailing '/'"
        ),
    );
}

fn check_profiles(config: &Config, c: &mut Checker) {
    let mut names = BTreeSet::new();
    for (i, p) in config.profiles().iter().enumerate() {
        let at = |field: &str| {
            vec![
                PathPart::Key("inference_profiles".into()),
                PathPart::Index(i),
                PathPart::Key(field.into()),
            ]
        };
        c.check(
            p.name.len() <= 64 && profile_name_ok(&p.name),
            at("name"),
            format!(
                "{:?} is not a valid inference-profile name: 1-64 letters or digits, each optionally followed by one space, '_' or '-' (Bedrock's naming rule)",
                p.name
            ),
        );
        c.check(
            names.insert(p.name.clone()),
            at("name"),
            format!("inference profile {:?} is named twice", p.name),
        );
        c.check(
            model_id_ok(&p.model),
            at("model"),
            format!(
                "{:?} is not a model ID: use a foundation-model ID such as \"anthropic.claude-3-5-haiku-20241022-v1:0\" or a system inference profile ID such as \"us.anthropic.claude-3-7-sonnet-20250219-v1:0\" (not an ARN)",
                p.model
            ),
        );
        if let Some(d) = &p.description {
            c.check(
                d.len() <= 200 && profile_text_ok(d),
                at("description"),
                format!(
                    "{d:?}: Bedrock accepts 1-200 letters, digits, ':' or '.', each optionally followed by one space, '_' or '-' (no commas or other punctuation)"
                ),
            );
        }
        for problem in tag_problems(&p.tags, &at("tags")) {
            c.push(problem);
        }
        c.check(
            !p.tags.contains_key(super::PROFILE_SOURCE_TAG_KEY),
            at("tags"),
            format!(
                "tag key {:?} is set by the tool from `model`; remove it",
                super::PROFILE_SOURCE_TAG_KEY
            ),
        );
        // The tool adds the source marker to the profile's own and [stack.tags].
        let total = config.profile_tags(p).len() + 1;
        c.check(
            total <= MAX_PROFILE_TAGS,
            at("tags"),
            format!(
                "{total} tags with [stack.tags], the stack marker and the source marker: Bedrock allows at most {MAX_PROFILE_TAGS} on a resource"
            ),
        );
    }
}

fn check_cost_allocation(config: &Config, c: &mut Checker) {
    let Some(section) = &config.cost_allocation else {
        return;
    };
    let Some(list) = &section.activate else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, k) in list.iter().enumerate() {
        let at = vec![
            PathPart::Key("cost_allocation".into()),
            PathPart::Key("activate".into()),
            PathPart::Index(i),
        ];
        c.check(
            !k.is_empty() && k.chars().count() <= 128,
            at.clone(),
            format!("{k:?}: a tag key has 1-128 characters"),
        );
        c.check(seen.insert(k), at, format!("tag key {k:?} is listed twice"));
    }
    c.check(
        list.len() <= MAX_ACTIVE_COST_ALLOCATION_KEYS,
        key(&["cost_allocation", "activate"]),
        format!(
            "{} keys: AWS allows at most {MAX_ACTIVE_COST_ALLOCATION_KEYS} active cost-allocation tag keys",
            list.len()
        ),
    );
}

fn check_anomaly(config: &Config, c: &mut Checker) {
    let Some(a) = &config.anomaly_detection else {
        return;
    };
    let name = config.anomaly_name();
    c.check(
        !name.is_empty() && name.len() <= 1024 && !name.chars().any(|ch| ch.is_control()),
        key(&["anomaly_detection", "name"]),
        format!("{name:?}: a monitor name has 1-1024 characters"),
    );
    if !a.enabled {
        return;
    }
    c.check(
        a.threshold_usd.is_some() || a.threshold_percent.is_some(),
        key(&["anomaly_detection"]),
        "set threshold_usd, threshold_percent or both: an alert needs a threshold (both: an anomaly must cross both)",
    );
    for (field, v) in [
        ("threshold_usd", a.threshold_usd),
        ("threshold_percent", a.threshold_percent),
    ] {
        if let Some(v) = v {
            c.check(
                v.is_finite() && v >= 0.0,
                key(&["anomaly_detection", field]),
                format!("{v}: a threshold is 0 or more"),
            );
        }
    }
    if !ANOMALY_FREQUENCIES.contains(&a.frequency.as_str()) {
        c.fail(
            key(&["anomaly_detection", "frequency"]),
            format!(
                "{:?} is not a frequency: use IMMEDIATE (alerts to the SNS topic), DAILY or WEEKLY (digests to alerts.emails)",
                a.frequency
            ),
        );
    } else if a.frequency != "IMMEDIATE" {
        c.check(
            !config.alerts.emails.is_empty(),
            key(&["anomaly_detection", "frequency"]),
            format!(
                "{} digests go to email addresses: list them in alerts.emails, or use IMMEDIATE (alerts to the SNS topic)",
                a.frequency
            ),
        );
        c.check(
            config.alerts.emails.len() <= 10,
            key(&["anomaly_detection", "frequency"]),
            format!(
                "{} email addresses: an anomaly subscription takes at most 10; use IMMEDIATE (the SNS topic reaches every address)",
                config.alerts.emails.len()
            ),
        );
    }
}

fn check_cur_export(config: &Config, c: &mut Checker) {
    let Some(x) = &config.cur_export else {
        return;
    };
    let name = config.cur_export_name();
    c.check(
        export_name_ok(&name),
        key(&["cur_export", "name"]),
        format!(
            "{name:?} is not a valid export name: 1-128 letters, digits, '-' and '_' (Data Exports' naming rule)"
        ),
    );
    if x.bucket.contains("{region}") {
        c.fail(
            key(&["cur_export", "bucket"]),
            "Data Exports writes from us-east-1 for the whole account: use {account_id}, not {region}",
        );
    }
    let sample = x.resolved_bucket("123456789012");
    if let Some(problem) = bucket_name_problem(&sample) {
        c.fail(
            key(&["cur_export", "bucket"]),
            format!("{:?}: {problem}", x.bucket),
        );
    }
    c.check(
        x.bucket != config.bucket.name,
        key(&["cur_export", "bucket"]),
        "the export needs a bucket of its own (other retention; Data Exports writes a test object at its root): choose a name other than bucket.name",
    );
    if let Some(a) = &x.athena {
        // Glue's naming rule (lower-case letters, digits, `_`), which also keeps the names
        // safe to quote in the query.
        let glue_name = |n: &str| {
            !n.is_empty()
                && n.len() <= 255
                && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        };
        for (field, value) in [("database", &a.database), ("table", &a.table)] {
            c.check(
                glue_name(value),
                key(&["cur_export", "athena", field]),
                format!("{value:?}: a Glue name of letters, digits and '_'"),
            );
        }
        c.check(
            !a.workgroup.is_empty()
                && a.workgroup.len() <= 128
                && a.workgroup
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)),
            key(&["cur_export", "athena", "workgroup"]),
            format!(
                "{:?}: a workgroup name of letters, digits, '.', '_' and '-'",
                a.workgroup
            ),
        );
        // Athena API reference, CreateDataCatalog `Name`: "a maximum of 127 alphanumeric,
        // underscore, at sign, or hyphen characters" (the rest of its 256 is Athena's). It is
        // also part of the `datacatalog` ARN that `permissions` grants GetTableMetadata on.
        c.check(
            !a.catalog.is_empty()
                && a.catalog.chars().count() <= 127
                && a.catalog
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "_@-".contains(ch)),
            key(&["cur_export", "athena", "catalog"]),
            format!(
                "{:?}: an Athena data catalog name of 1-127 letters, digits, '_', '@' and '-' \
                 (AwsDataCatalog for the account's AWS Glue Data Catalog)",
                a.catalog
            ),
        );
        if let Some(output) = &a.output {
            c.check(
                output.starts_with("s3://") && output.len() > 5,
                key(&["cur_export", "athena", "output"]),
                format!("{output:?}: an S3 URI (s3://bucket/prefix/) for the query results"),
            );
        }
        if let Some(location) = &a.location {
            let problem = match location.strip_prefix("s3://") {
                None => Some("not an s3:// URI"),
                Some(rest) => {
                    super::rules::bucket_name_problem(rest.split('/').next().unwrap_or_default())
                }
            };
            if let Some(problem) = problem {
                c.fail(
                    key(&["cur_export", "athena", "location"]),
                    format!(
                        "{location:?}: {problem}; give the table's LOCATION as \
                         s3://bucket/prefix/"
                    ),
                );
            }
        }
    }
    if let Some(read) = &x.read
        && let Err(problem) = parse_export_uri(read)
    {
        c.fail(key(&["cur_export", "read"]), problem);
    }
    if let Some(owner) = &x.read_owner {
        c.check(
            super::targets::account_id_ok(owner),
            key(&["cur_export", "read_owner"]),
            format!("{owner:?} is not an AWS account ID (12 digits, quoted)"),
        );
        c.check(
            x.read.is_some(),
            key(&["cur_export", "read_owner"]),
            "names the owner of read's bucket: add read = \"s3://bucket/prefix/export-name\"",
        );
    }
    c.check(
        !x.prefix.is_empty()
            && x.prefix.len() <= 512
            && !x.prefix.starts_with('/')
            && !x.prefix.ends_with('/'),
        key(&["cur_export", "prefix"]),
        format!(
            "{:?}: a prefix of 1-512 characters without a leading or trailing '/'",
            x.prefix
        ),
    );
}
