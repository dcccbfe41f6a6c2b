//! The AWS Price List Service (`api.pricing`, awsJson 1.1, `X-Amz-Target:
//! AWSPriceListService.<Op>`, signing name `pricing`), which moto does not serve: `GetProducts`
//! only, written from the AWS Price List Service API Reference.
//!
//! - Request: `ServiceCode` (required), `Filters` (≤ 50 of `{Type, Field, Value}`, all three
//!   required; `Type` one of `TERM_MATCH`, `EQUALS`, `CONTAINS`, `ANY_OF`, `NONE_OF`; `Field` is
//!   `ServiceCode` or a product attribute name), `FormatVersion` (`aws_v1`), `NextToken`,
//!   `MaxResults` (1–100).
//! - Answer: `FormatVersion`, `PriceList` (each product a JSON *string*), `NextToken` while more
//!   remain. A service code the Price List does not know answers an empty list, not an error.
//! - Errors: `InvalidParameterException` (400) for a request outside those constraints,
//!   `InvalidNextTokenException` (400) for a token it did not give.
//! - Endpoints: us-east-1, eu-central-1 and ap-south-1 only; a request signed for another region
//!   would not reach AWS at all, so it is refused here.
//!
//! The products are the recorded answer in `tests/fixtures/pricelist/` (the built-in table is
//! generated from it) until a test replaces an offer's.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::{decode_token, encode_token, json_error, json_ok};
use super::{Reply, StandIn, StrictRequest};

/// The offers in the fixture, as the tool asks for them.
pub const FIXTURE_OFFERS: &[&str] = &[
    "AmazonBedrock",
    "AmazonBedrockService",
    "AmazonBedrockFoundationModels",
];

/// The regions the Price List API is served in.
const ENDPOINT_REGIONS: &[&str] = &["us-east-1", "eu-central-1", "ap-south-1"];

pub struct PriceList {
    /// Service code → products (JSON strings).
    offers: BTreeMap<String, Vec<String>>,
    /// A smaller page than `MaxResults` asks for (the API may give fewer).
    page_limit: Option<usize>,
    /// GetProducts answers given (pages), per service code.
    pages: BTreeMap<String, usize>,
}

impl Default for PriceList {
    fn default() -> PriceList {
        let offers = FIXTURE_OFFERS
            .iter()
            .map(|code| (code.to_string(), fixture(code)))
            .collect();
        PriceList {
            offers,
            page_limit: None,
            pages: BTreeMap::new(),
        }
    }
}

/// The recorded `PriceList` of one offer.
pub fn fixture(code: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/pricelist/{code}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    answer["PriceList"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no PriceList"))
        .iter()
        .map(|item| {
            item.as_str()
                .expect("PriceList items are strings")
                .to_string()
        })
        .collect()
}

impl StandIn {
    /// Replaces the products of offer `code` (an empty list makes it answer as an unknown code).
    pub fn set_price_list(&self, code: &str, products: Vec<String>) {
        self.prices().offers.insert(code.to_string(), products);
    }

    /// Answers at most `n` products a page, whatever `MaxResults` asks.
    pub fn limit_price_list_pages(&self, n: usize) {
        self.prices().page_limit = Some(n);
    }

    /// How many GetProducts pages offer `code` answered.
    pub fn price_list_pages(&self, code: &str) -> usize {
        self.prices().pages.get(code).copied().unwrap_or(0)
    }

    pub(super) fn prices(&self) -> std::sync::MutexGuard<'_, PriceList> {
        self.price_list.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn price_list_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSPriceListService.")?;
        if op != "GetProducts" {
            return Some(json_error(
                400,
                "UnknownOperationException",
                &format!("the stand-in serves GetProducts only, not {op}"),
                Value::Null,
            ));
        }
        let region = request.signing_region().unwrap_or_default();
        if !ENDPOINT_REGIONS.contains(&region.as_str()) {
            return Some(json_error(
                400,
                "InvalidParameterException",
                &format!("api.pricing is not served in {region}"),
                Value::Null,
            ));
        }
        let Some(body) = request.json().filter(Value::is_object) else {
            return Some(invalid("The request body is not a JSON object."));
        };
        Some(self.get_products(&body).unwrap_or_else(|e| e))
    }

    fn get_products(&self, body: &Value) -> Result<Reply, Reply> {
        let code = body["ServiceCode"]
            .as_str()
            .ok_or_else(|| invalid("ServiceCode is required"))?;
        if let Some(version) = body.get("FormatVersion")
            && version.as_str() != Some("aws_v1")
        {
            return Err(invalid("FormatVersion: valid values are aws_v1"));
        }
        let max = match body.get("MaxResults") {
            None => 100,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| invalid("MaxResults must be between 1 and 100"))?
                as usize,
        };
        let filters = filters(body)?;
        let mut state = self.prices();
        let limit = state.page_limit.map_or(max, |l| l.min(max));
        let products: Vec<String> = state
            .offers
            .get(code)
            .map(|all| {
                all.iter()
                    .filter(|p| filters.iter().all(|f| f.matches(code, p)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        // The token is scoped to the query, so another query's token is refused.
        let scope = format!("{code}{}", body["Filters"]);
        let start = match body["NextToken"].as_str() {
            None => 0,
            Some(token) => decode_token(token, &scope)
                .filter(|o| *o <= products.len())
                .ok_or_else(|| {
                    json_error(
                        400,
                        "InvalidNextTokenException",
                        "The pagination token is invalid. Try again without a pagination token.",
                        Value::Null,
                    )
                })?,
        };
        let end = (start + limit).min(products.len());
        *state.pages.entry(code.to_string()).or_default() += 1;
        let mut answer = json!({
            "FormatVersion": "aws_v1",
            "PriceList": products[start..end],
        });
        if end < products.len() {
            answer["NextToken"] = json!(encode_token(&scope, end));
        }
        Ok(json_ok(answer))
    }
}

fn invalid(message: &str) -> Reply {
    json_error(400, "InvalidParameterException", message, Value::Null)
}

struct ProductFilter {
    kind: String,
    field: String,
    value: String,
}

fn filters(body: &Value) -> Result<Vec<ProductFilter>, Reply> {
    let list = match body.get("Filters") {
        None => return Ok(Vec::new()),
        Some(v) => v
            .as_array()
            .ok_or_else(|| invalid("Filters must be a list"))?,
    };
    if list.len() > 50 {
        return Err(invalid("Filters: at most 50"));
    }
    list.iter()
        .map(|f| {
            let member = |name: &str| {
                f[name]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(&format!("Filters: {name} is required")))
            };
            let kind = member("Type")?;
            if !["TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"].contains(&kind.as_str()) {
                return Err(invalid(&format!("Filters: Type {kind} is not valid")));
            }
            Ok(ProductFilter {
                kind,
                field: member("Field")?,
                value: member("Value")?,
            })
        })
        .collect()
}

impl ProductFilter {
    fn matches(&self, code: &str, product: &str) -> bool {
        let attribute = if self.field.eq_ignore_ascii_case("ServiceCode") {
            Some(code.to_string())
        } else {
            serde_json::from_str::<Value>(product).ok().and_then(|p| {
                p["product"]["attributes"][&self.field]
                    .as_str()
                    .map(str::to_string)
            })
        };
        let Some(attribute) = attribute else {
            return self.kind == "NONE_OF";
        };
        let values = || self.value.split(',').map(str::trim);
        match self.kind.as_str() {
            "CONTAINS" => attribute.contains(&self.value),
            "ANY_OF" => values().any(|v| v == attribute),
            "NONE_OF" => values().all(|v| v != attribute),
            _ => attribute == self.value,
        }
    }
}
