//! `prices update`: every Bedrock offer of the AWS Price List API, read through
//! `pricing:GetProducts` in us-east-1 (all pages), turned into a price file by
//! [`crate::cost::pricelist`] and written where `report`, the dashboard and the saved queries
//! look for it ([`prices::default_file`]) or to `--out`.

use std::fmt;
use std::path::Path;

use aws_sdk_pricing::types::{Filter, FilterType};
use chrono::NaiveDate;
use serde::Serialize;

use crate::aws::{AwsError, PRICE_LIST_REGION, price_list_client};
use crate::cli::{PricesArgs, PricesCommand, PricesUpdateArgs};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::config;
use crate::cost::pricelist::{self, Answer, OFFER_CODES, Skipped};
use crate::cost::prices::{self, OfferInfo, PriceFile};

/// GetProducts' largest page.
const PAGE_SIZE: i32 = 100;

pub async fn run(session: &Session, args: &PricesArgs) -> Result<ExitStatus, CommandError> {
    match &args.command {
        PricesCommand::Update(update_args) => update(session, update_args).await,
    }
}

async fn update(session: &Session, args: &PricesUpdateArgs) -> Result<ExitStatus, CommandError> {
    let out = match &args.out {
        Some(out) => out.clone(),
        None => prices::default_file().ok_or_else(|| {
            CommandError::Usage(
                "neither XDG_CACHE_HOME nor HOME is set, so there is no cache directory: pass --out FILE"
                    .into(),
            )
        })?,
    };
    if out.is_dir() {
        return Err(CommandError::Usage(format!(
            "--out {}: is a directory; give a file name",
            out.display()
        )));
    }
    // `--region` here picks the regions to keep, not where to connect, so it is checked as a
    // region name only (the config's [targets] do not narrow it).
    let regions = session.globals.regions.clone();
    for region in &regions {
        if let Some(problem) = config::region_problem(region) {
            return Err(CommandError::Usage(format!(
                "--region {region:?}: {problem}"
            )));
        }
    }
    // The config only lends its [aws] settings (retries, timeouts); none is needed.
    let (path, explicit) = session.config_path();
    let settings = config::load_with(&path, explicit, None, crate::queries::config_violations)?
        .config
        .aws;
    let options = session.connect_options();
    let client = price_list_client(&options, &settings).await;
    let mut answers = Vec::new();
    let pages = session.printer.activity("reading the Price List", "pages");
    for offer in OFFER_CODES {
        let items = fetch_offer(&client, offer, &regions, &pages).await?;
        if items.is_empty() {
            // A service code the Price List does not know answers an empty list, not an error.
            let within = if regions.is_empty() {
                String::new()
            } else {
                format!(" in {}", regions.join(", "))
            };
            return Err(CommandError::Aws(AwsError {
                operation: "pricing:GetProducts".into(),
                code: None,
                message: format!(
                    "the Price List answered no products for offer {offer}{within} (in {PRICE_LIST_REGION})"
                ),
                hint: Some(
                    "AWS may have renamed the offer: check `aws pricing describe-services`; nothing was written".into(),
                ),
                details: None,
            }));
        }
        answers.push(Answer {
            offer: offer.to_string(),
            items,
        });
    }
    pages.finish();
    let catalogue_regions = if regions.is_empty() {
        let sdk = crate::aws::load_sdk_config(&options, None, &settings).await;
        vec![
            sdk.region()
                .map_or(PRICE_LIST_REGION.to_string(), |r| r.to_string()),
        ]
    } else {
        regions.clone()
    };
    let mut catalogue = Vec::new();
    let mut catalogue_reads = Vec::new();
    for region in &catalogue_regions {
        let bedrock = crate::aws::bedrock_client(&options, region, &settings).await;
        match crate::quotas::foundation_models(&bedrock).await {
            Ok(models) => {
                catalogue_reads.push(CatalogueRead {
                    region: region.clone(),
                    models: models.len(),
                    error: None,
                });
                catalogue.extend(models);
            }
            // Without the catalogue, the built-in model keys still place the models they
            // name; the others are listed as not priced.
            Err(e) => catalogue_reads.push(CatalogueRead {
                region: region.clone(),
                models: 0,
                error: Some(e.to_string()),
            }),
        }
    }
    catalogue.sort();
    catalogue.dedup();
    let today = chrono::Utc::now().date_naive();
    let (file, skipped) = pricelist::build(&answers, &catalogue, today, &regions);
    if file.prices.is_empty() {
        return Err(CommandError::Aws(AwsError::setup(
            "the Price List answered no token price the tool can read; nothing was written",
            "run again with -v and report the skipped rates shown",
        )));
    }
    write(&out, &file)?;
    let mut updated = Updated::new(&out, &file, skipped);
    updated.catalogue = catalogue_reads;
    session.printer.result(&updated)?;
    Ok(ExitStatus::Success)
}

/// Every `PriceList` item of `offer` (all pages), for each of `regions` (all regions when
/// empty).
async fn fetch_offer(
    client: &aws_sdk_pricing::Client,
    offer: &str,
    regions: &[String],
    progress: &crate::ui::activity::Activity,
) -> Result<Vec<String>, CommandError> {
    let scopes: Vec<Option<&String>> = if regions.is_empty() {
        vec![None]
    } else {
        regions.iter().map(Some).collect()
    };
    let mut items = Vec::new();
    for region in scopes {
        let mut request = client
            .get_products()
            .service_code(offer)
            .format_version("aws_v1")
            .max_results(PAGE_SIZE);
        if let Some(region) = region {
            let filter = Filter::builder()
                .r#type(FilterType::TermMatch)
                .field("regionCode")
                .value(region)
                .build()
                .map_err(|e| CommandError::Usage(format!("--region {region}: {e}")))?;
            request = request.filters(filter);
        }
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("pricing:GetProducts", e).in_region(PRICE_LIST_REGION, None)
            })?;
            items.extend(page.price_list().iter().cloned());
            progress.advance(1);
        }
    }
    Ok(items)
}

/// Writes the file whole or not at all: a report run meanwhile reads the old one or the new.
fn write(out: &Path, file: &PriceFile) -> Result<(), CommandError> {
    let fail = |e: std::io::Error| {
        CommandError::Io(std::io::Error::new(
            e.kind(),
            format!("cannot write the price file {}: {e}", out.display()),
        ))
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let text = serde_json::to_string_pretty(file).map_err(std::io::Error::other)? + "\n";
    crate::ui::files::replace_private(out, text.as_bytes()).map_err(fail)
}

/// What `prices update` did.
#[derive(Debug, Serialize)]
pub struct Updated {
    pub path: String,
    pub as_of: NaiveDate,
    pub offers: Vec<OfferInfo>,
    pub regions: Vec<String>,
    /// Rows written: one per model, region and tier.
    pub prices: usize,
    pub models: usize,
    pub skipped: Skipped,
    /// The model catalogue read per region (`bedrock:ListFoundationModels`), which names the
    /// models the built-in keys do not.
    pub catalogue: Vec<CatalogueRead>,
}

/// One region's model catalogue: how many models, or why it could not be read.
#[derive(Debug, Serialize)]
pub struct CatalogueRead {
    pub region: String,
    pub models: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Updated {
    fn new(out: &Path, file: &PriceFile, skipped: Skipped) -> Updated {
        let models: std::collections::BTreeSet<&str> =
            file.prices.iter().map(|r| r.model.as_str()).collect();
        Updated {
            path: out.display().to_string(),
            as_of: file.as_of,
            offers: file.offers.clone(),
            regions: file.regions.clone(),
            prices: file.prices.len(),
            models: models.len(),
            skipped,
            catalogue: Vec::new(),
        }
    }
}

impl fmt::Display for Updated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Wrote {} prices of {} models in {} regions to {} (as of {}).",
            self.prices,
            self.models,
            self.regions.len(),
            self.path,
            self.as_of
        )?;
        writeln!(f, "Regions: {}", self.regions.join(", "))?;
        for offer in &self.offers {
            writeln!(
                f,
                "Offer {}: {} products, version {}, published {}",
                offer.code,
                offer.products,
                offer.version.as_deref().unwrap_or("not given"),
                offer.publication_date.as_deref().unwrap_or("not given")
            )?;
        }
        for read in &self.catalogue {
            match &read.error {
                None => writeln!(
                    f,
                    "Model catalogue of {}: {} models (names the Price List's models by ID)",
                    read.region, read.models
                )?,
                Some(e) => writeln!(
                    f,
                    "Model catalogue of {} not read ({e}): only the built-in model keys place prices",
                    read.region
                )?,
            }
        }
        if self.skipped.total > 0 {
            let reasons: Vec<String> = self
                .skipped
                .by_reason
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            writeln!(
                f,
                "Skipped {} rates the tool cannot place (never priced as another): {}",
                self.skipped.total,
                reasons.join(", ")
            )?;
        }
        if !self.skipped.unknown_models.is_empty() {
            let names: Vec<&str> = self
                .skipped
                .unknown_models
                .iter()
                .map(String::as_str)
                .collect();
            writeln!(
                f,
                "Not priced, neither a model key nor the model catalogue names them (use [pricing] entries): {}",
                names.join(", ")
            )?;
        }
        Ok(())
    }
}
