//! `report --source cur`: who spent what on Bedrock according to the bill, from the CUR 2.0
//! export the `cur-export` component makes (`[cur_export]`), or from an existing one
//! (`[cur_export] read`, `--cur`: Parquet or gzip CSV, [`deliveries`] finds its files).
//!
//! Two engines answer the same question with the same output:
//! - **embedded** (the default, [`reader`]): reads the export's Parquet objects straight from
//!   S3 with arrow-rs's Parquet reader: only the columns it needs (projection), only the row
//!   groups whose usage dates meet the window (statistics), one row group at a time (memory
//!   bounded by a row group, not by the data), several objects at once.
//! - **athena** ([`athena`]): one SQL query over the user's CUR table, for organizations whose
//!   bill is too big to read on one machine; partitions pruned on the billing period.
//!
//! Both hand [`aggregate::Line`]s to the same [`aggregate::Aggregator`], which applies the
//! project's one definition of Bedrock spend ([`crate::cost::spend::Definition`]) and
//! billing-line mapping ([`crate::cost::usage::classify`]) and groups as asked.

pub mod aggregate;
pub mod allocate;
pub mod athena;
mod columns;
mod csv_object;
mod deliveries;
pub mod focus;
pub mod layout;
pub mod reader;
pub mod render;
mod s3_object;
mod schema;
pub mod table;
pub mod tags;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::aws::{AwsError, Clients};
use crate::config::{Config, CurAthenaConfig, ExportUri, parse_export_uri};
use crate::cost::spend::Definition;

use super::billing::UnmappedUsage;
use super::window::Window;
pub use layout::ExportLocation;

/// What to group the billed spend by (`--by`, repeatable).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// `line_item_iam_principal`: the role, user or session that made the call.
    Principal,
    /// A tag key in any form CUR 2.0 writes it (`iamPrincipal/team`, `cost-center`,
    /// `user_cost_center`…: [`tags`]).
    Tag(String),
    /// The application inference profile (`line_item_resource_id`), by name.
    Profile,
    /// The model, from the usage type (as `--source billing` names it).
    Model,
    /// `line_item_usage_account_id`.
    Account,
}

impl Dimension {
    /// How the dimension is named in `--by`, in JSON and in CSV headers.
    pub fn name(&self) -> String {
        match self {
            Dimension::Principal => "principal".into(),
            Dimension::Tag(key) => format!("tag:{key}"),
            Dimension::Profile => "profile".into(),
            Dimension::Model => "model".into(),
            Dimension::Account => "account".into(),
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Dimension {
    type Err = String;

    fn from_str(s: &str) -> Result<Dimension, String> {
        match s.trim() {
            "principal" => Ok(Dimension::Principal),
            "profile" => Ok(Dimension::Profile),
            "model" => Ok(Dimension::Model),
            "account" => Ok(Dimension::Account),
            other => match other.strip_prefix("tag:") {
                Some(key) if tag_key_ok(key) && !tags::TagKey::new(key).names_a_key() => {
                    Err(format!(
                        "--by tag:{key}: name the tag key after its source (for example tag:iamPrincipal/team)"
                    ))
                }
                Some(key) if tag_key_ok(key) => Ok(Dimension::Tag(key.to_string())),
                Some(key) => Err(format!(
                    "--by tag:{key}: a tag key is 1-128 letters, digits, spaces and _ . : / = + - @ \
                     (for example tag:iamPrincipal/team, or tag:team for a user tag)"
                )),
                None => Err(format!(
                    "--by {other:?}: use principal, tag:KEY, profile, model or account"
                )),
            },
        }
    }
}

/// AWS's tag-key pattern (`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, 1-128 characters): also what keeps a
/// key safe to put in Athena's SQL as a string literal.
pub fn tag_key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= 128
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

/// Which engine reads the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Embedded,
    Athena,
}

/// A `report --source cur` request, checked.
#[derive(Debug, Clone)]
pub struct Request {
    pub window: Window,
    /// At least one; in the order given.
    pub by: Vec<Dimension>,
    pub daily: bool,
    pub engine: Engine,
    pub definition: Definition,
    pub athena: Option<CurAthenaConfig>,
    /// An existing export to read (`--cur`, else `[cur_export] read`) instead of the tool's
    /// own.
    pub read: Option<ExportUri>,
    /// `--allocate meta:KEY`: the key whose values the bill is split among.
    pub allocate: Option<String>,
    /// `--output focus`: collect the FOCUS rows (the embedded engine).
    pub focus: bool,
    /// Where the embedded engine shows the objects it has read (hidden unless the command
    /// asks for it).
    pub progress: crate::ui::activity::Activity,
}

impl Request {
    /// The request from the flags; `None` for `--by` means by principal. The Athena engine
    /// needs `[cur_export] athena`.
    pub fn new(
        config: &Config,
        window: Window,
        by: &[String],
        daily: bool,
        engine: Option<&str>,
    ) -> Result<Request, String> {
        Request::reading(config, window, by, daily, engine, None)
    }

    /// [`Request::new`] with `--cur s3://bucket/prefix/export-name`: an existing export, which
    /// needs no `[cur_export]`.
    pub fn reading(
        config: &Config,
        window: Window,
        by: &[String],
        daily: bool,
        engine: Option<&str>,
        cur_uri: Option<&str>,
    ) -> Result<Request, String> {
        let read = match cur_uri {
            Some(uri) => Some(parse_export_uri(uri).map_err(|e| format!("--cur {e}"))?),
            None => config
                .cur_export
                .as_ref()
                .and_then(|c| c.read.as_deref().map(|read| (read, c.read_owner.clone())))
                .map(|(read, owner)| parse_export_uri(read).map(|uri| ExportUri { owner, ..uri }))
                .transpose()
                .map_err(|e| format!("[cur_export] read: {e}"))?,
        };
        let default = crate::config::CurExportConfig::default();
        let cur = match (config.cur_export.as_ref(), &read) {
            (Some(cur), _) => cur,
            (None, Some(_)) => &default,
            (None, None) => {
                return Err(
                    "--source cur reads the CUR 2.0 export of [cur_export]: add a [cur_export] \
                     section to the config (and run apply; the first files arrive within 24 \
                     hours), or name an existing export with --cur s3://bucket/prefix/export-name"
                        .into(),
                );
            }
        };
        let mut dims = Vec::new();
        for value in by {
            for part in value.split(',').filter(|p| !p.trim().is_empty()) {
                let d: Dimension = part.parse()?;
                if !dims.contains(&d) {
                    dims.push(d);
                }
            }
        }
        if dims.is_empty() {
            dims.push(Dimension::Principal);
        }
        let engine = match engine {
            None if cur.athena.is_some() => Engine::Athena,
            None | Some("embedded") => Engine::Embedded,
            Some("athena") => Engine::Athena,
            Some(other) => {
                return Err(format!("--engine {other:?}: use embedded or athena"));
            }
        };
        if engine == Engine::Athena && cur.athena.is_none() {
            return Err(
                "--engine athena needs [cur_export] athena = { database = \"…\", table = \"…\", \
                 output = \"s3://…\" } in the config (docs/report.md, \"The Athena table\", \
                 shows the table to create)"
                    .into(),
            );
        }
        Ok(Request {
            window,
            by: dims,
            daily,
            engine,
            definition: Definition::new(config),
            athena: cur.athena.clone(),
            read,
            allocate: None,
            focus: false,
            progress: crate::ui::activity::Activity::hidden(),
        })
    }

    /// With `--output focus`: collect the FOCUS rows; they are read from the export's files
    /// (the embedded engine), line by line with every column a row shows.
    pub fn focus(mut self, on: bool) -> Result<Request, String> {
        if on && self.engine == Engine::Athena {
            return Err(
                "--output focus reads the export's files: add --engine embedded (the Athena \
                 query sums lines over the columns FOCUS rows show)"
                    .into(),
            );
        }
        self.focus = on;
        Ok(self)
    }

    /// With `--allocate meta:KEY`: the key, checked; the split reads the export's files
    /// (the embedded engine), since it needs each day's lines by account, region and
    /// principal, which the Athena query does not group by.
    pub fn allocate(mut self, value: Option<&str>) -> Result<Request, String> {
        let Some(value) = value else {
            return Ok(self);
        };
        let key = match super::meta::parse_key("--allocate", value) {
            Some(parsed) => parsed?,
            None => {
                return Err(format!(
                    "--allocate {value}: give a request-metadata key as meta:KEY (for example \
                     meta:user)"
                ));
            }
        };
        if self.engine == Engine::Athena {
            return Err(
                "--allocate reads the export's files: add --engine embedded (the Athena query \
                 does not group by day, account, region and principal)"
                    .into(),
            );
        }
        self.allocate = Some(key);
        Ok(self)
    }

    /// `--cur-owner ACCOUNT`: the account owning the bucket of the export read (`--cur` or
    /// `[cur_export] read`), when it is not the caller's.
    pub fn owned_by(mut self, owner: Option<&str>) -> Result<Request, String> {
        let Some(owner) = owner else {
            return Ok(self);
        };
        if !crate::config::targets::account_id_ok(owner) {
            return Err(format!(
                "--cur-owner {owner:?}: an account ID has 12 digits"
            ));
        }
        let Some(read) = self.read.as_mut() else {
            return Err(
                "--cur-owner names the owner of the bucket of an existing export: add --cur \
                 s3://bucket/prefix/export-name (or [cur_export] read)"
                    .into(),
            );
        };
        read.owner = Some(owner.to_string());
        Ok(self)
    }

    /// The UTC days the report covers: the same whole days as `--source billing`
    /// (CUR line items are daily), so the two totals can be put side by side.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        super::billing::billing_days(&self.window)
    }
}

/// A request over 2026-10-30 to 2026-11-02 (two billing periods) by `by`, for unit tests.
#[cfg(test)]
pub(crate) fn test_request(by: &[&str], daily: bool) -> Request {
    let config = Config {
        cur_export: Some(Default::default()),
        ..Config::default()
    };
    let window = Window {
        start: chrono::DateTime::parse_from_rfc3339("2026-10-30T00:00:00Z")
            .expect("time")
            .into(),
        end: chrono::DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z")
            .expect("time")
            .into(),
    };
    let by: Vec<String> = by.iter().map(|s| s.to_string()).collect();
    Request::new(&config, window, &by, daily, Some("embedded")).expect("request")
}

/// Reads the export for the request with the engine it names.
pub async fn fetch(
    clients: &Clients,
    config: &Config,
    request: &Request,
) -> Result<CurReport, AwsError> {
    let account = clients.account().await?;
    let location = match &request.read {
        Some(uri) => Some(ExportLocation::existing(uri, &account.id)),
        None => ExportLocation::from_config(config, &account.id),
    }
    .ok_or_else(|| {
        AwsError::setup(
            "no [cur_export] in the config",
            "add [cur_export] and run apply, or name an existing export with --cur",
        )
    })?;
    let profiles = if request.by.contains(&Dimension::Profile) {
        match super::profiles::resolve(&clients.bedrock).await {
            Ok(found) => Ok(found),
            Err(e) => Err(format!(
                "inference profiles are shown by resource ID: {} failed ({}); grant it to see their names",
                e.operation,
                e.code.as_deref().unwrap_or("error")
            )),
        }
    } else {
        Ok(Default::default())
    };
    let mut aggregator = aggregate::Aggregator::new(request);
    let mut report = match request.engine {
        Engine::Embedded => {
            let scan = reader::read(clients, &location, request, &mut aggregator).await?;
            let billed = aggregator.billed.take();
            let focus = aggregator.focus.take();
            let mut report = aggregator.finish(request, &location, profiles.as_ref().ok());
            report.scan = Some(scan);
            report.focus = focus;
            if let (Some(key), Some(billed)) = (&request.allocate, billed) {
                let (start, end) = request.days();
                let mut records = allocate::LogTokens::new(key, &account.id);
                let (_, logs) =
                    super::meta::fold_records(clients, config, (start, end), |r| records.add(r))
                        .await?;
                report.allocation = Some(allocate::allocate(&logs, &billed, &records));
            }
            report
        }
        Engine::Athena => {
            let Some(athena_config) = request.athena.as_ref() else {
                return Err(AwsError::setup(
                    "--engine athena needs [cur_export] athena",
                    "add it to the config",
                ));
            };
            let stats = athena::run(
                &clients.athena,
                athena_config,
                &location,
                request,
                &mut aggregator,
            )
            .await?;
            let mut report = aggregator.finish(request, &location, profiles.as_ref().ok());
            report.athena = Some(stats);
            report
        }
    };
    if let Err(note) = profiles {
        report.notes.push(note);
    }
    Ok(report)
}

/// Billed Bedrock spend from the CUR, grouped as asked: the value behind JSON, text and CSV.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurReport {
    pub source: &'static str,
    pub engine: Engine,
    pub export: ExportLocation,
    /// The UTC days read: the window's days, as `--source billing` counts them.
    pub start: NaiveDate,
    /// Exclusive.
    pub end: NaiveDate,
    /// The billing periods (`BILLING_PERIOD=YYYY-MM`) read.
    pub periods: Vec<String>,
    pub by: Vec<String>,
    /// By cost, highest first.
    pub rows: Vec<CurRow>,
    pub totals: CurTotals,
    /// The Bedrock products counted, as the CUR names them.
    pub services: Vec<String>,
    /// Bedrock usage types that name no model, with their cost (counted in the total).
    pub unmapped_usage_types: Vec<UnmappedUsage>,
    /// Per `--by tag:KEY`: whether the key was found and as which keys of `tags` and
    /// `resource_tags`; when it was not, the keys the lines had instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_keys: Vec<tags::TagKeyReport>,
    /// With `--daily`: the billed cost of each UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<Vec<CurDay>>,
    /// The embedded engine: what it read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<reader::ScanStats>,
    /// The Athena engine: the query and what it scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub athena: Option<athena::AthenaStats>,
    /// With `--output focus`: the FOCUS rows (written as CSV, not part of the JSON).
    #[serde(skip)]
    pub focus: Option<focus::FocusRows>,
    /// With `--allocate meta:KEY`: the bill split among the key's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<allocate::Allocation>,
    /// With `--compare`: Cost Explorer's total for the same days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_cost_usd: Option<f64>,
    pub notes: Vec<String>,
}

/// One group of usage lines: its key per dimension (`principal` with `principal_arn`,
/// `tag:KEY`, `profile` with `profile_arn`, `model`, `account`; `null` when the line has none)
/// and its sums. Or the one row of the lines that adjust the bill (`adjustments`), with no key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurRow {
    #[serde(flatten)]
    pub keys: Map<String, Value>,
    pub cost_usd: f64,
    /// The row's share of gross usage, in percent; `null` for the adjustments row.
    pub share_percent: Option<f64>,
    /// `line_item_usage_amount` summed, in each line's own unit (tokens are priced per 1K or
    /// 1M: compare rows of one model and kind only).
    pub usage_amount: f64,
    pub line_items: u64,
    /// Usage with no principal, tag or profile to attribute the spend to.
    pub unattributed: bool,
    /// The row of credits, refunds, discounts and the other lines that are not usage
    /// ([`crate::cost::line_item`]).
    pub adjustments: bool,
    /// The adjustments row: each line item type's cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_item_types: Option<BTreeMap<String, f64>>,
    /// How text and CSV show the key, one label per dimension.
    #[serde(skip)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurTotals {
    /// The net total: every line counted, usage and adjustments; Cost Explorer's unblended cost
    /// for the same days.
    pub cost_usd: f64,
    /// The usage lines: what shares are of.
    pub gross_usage_cost_usd: f64,
    /// Credits, refunds, discounts and the other lines that are not usage.
    pub adjustments_cost_usd: f64,
    pub usage_amount: f64,
    pub line_items: u64,
    pub unattributed_cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurDay {
    pub date: NaiveDate,
    pub cost_usd: f64,
}
