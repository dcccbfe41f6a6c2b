//! Estimated cost as CloudWatch metric math: the dashboard's cost widgets price token-count
//! metrics with the same table and the same longest-key rule as `report`.
//!
//! CloudWatch matches SEARCH terms by tokens (runs of letters and digits), not substrings, so a
//! price-table key becomes a SEARCH term of its tokens joined by `-`, and a key's SEARCH
//! excludes (`NOT`) the longer keys that contain it, so that each model falls in the group of
//! its longest matching key (see [`cost_groups`]).

use std::collections::{BTreeMap, VecDeque};

use crate::config::{Config, Endpoint};
use crate::cost::prices::{Price, active};

/// CloudWatch's limit on the query inside one SEARCH expression.
pub const MAX_SEARCH_QUERY_LEN: usize = 1024;

/// Prices as an expression literal: plain decimals (never exponent notation), rounded to 12
/// places so that a derived price (0.1 × 0.003) reads 0.0003, not 0.00030000000000000003.
pub fn number(x: f64) -> String {
    let fixed = format!("{x:.12}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() || trimmed == "-" {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// `input/1000*input_per_1k + output/1000*output_per_1k` for two metric-math terms (metric
/// IDs or expressions) that count input and output tokens.
pub fn priced_sum(input: &str, output: &str, price: &Price) -> String {
    format!(
        "{input}/1000*{} + {output}/1000*{}",
        number(price.input_per_1k),
        number(price.output_per_1k)
    )
}

/// A metric namespace and the one dimension that names the model in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub namespace: &'static str,
    pub dimension: &'static str,
}

/// `bedrock-runtime`'s metrics (InvokeModel, Converse).
pub const RUNTIME: Schema = Schema {
    namespace: Endpoint::Runtime.namespace(),
    dimension: Endpoint::Runtime.model_dimension(),
};

/// The Mantle endpoint's metrics, at the model level only (each inference is also counted at
/// the account, project and project+model levels).
pub const MANTLE: Schema = Schema {
    namespace: Endpoint::Mantle.namespace(),
    dimension: Endpoint::Mantle.model_dimension(),
};

/// The prompt cache's token metrics in `AWS/Bedrock`, under both names AWS's own pages give
/// them. AWS's dashboard widget for them (AWS Machine Learning blog, "Effectively use prompt
/// caching on Amazon Bedrock", the widget JSON under "Monitoring with Amazon CloudWatch") names
/// them `CacheReadInputTokenCount` / `CacheWriteInputTokenCount`; the Bedrock user guide ("How
/// tokens are counted") and the same blog's prose name them `CacheReadInputTokens` /
/// `CacheWriteInputTokens`. Neither page is more authoritative than the other, so nothing here
/// picks one on faith: `report` queries the names `ListMetrics` finds for each model and counts
/// them once, and the dashboard's SEARCH asks for either name.
pub const CACHE_READ_METRICS: [&str; 2] = ["CacheReadInputTokenCount", "CacheReadInputTokens"];

/// See [`CACHE_READ_METRICS`].
pub const CACHE_WRITE_METRICS: [&str; 2] = ["CacheWriteInputTokenCount", "CacheWriteInputTokens"];

/// A token count metric and its price: what one term of a cost expression multiplies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PricedMetric {
    /// The query-ID prefix of its series (`in`, `out`, `cread`, `cwrite`).
    pub id: &'static str,
    /// The metric's name, or the names it is published under (the prompt cache's two).
    pub metrics: &'static [&'static str],
    /// USD per 1,000 tokens.
    pub per_1k: f64,
}

impl PricedMetric {
    /// The name a label shows.
    pub fn label(&self) -> &'static str {
        self.metrics.first().copied().unwrap_or_default()
    }
}

/// The token metrics of `schema` that `price` prices: input and output always, the prompt
/// cache's reads and writes (5-minute rate: the metrics do not say the lifetime) where the
/// model has those prices. The Mantle endpoint publishes no cache metrics.
pub fn priced_metrics(schema: Schema, price: &Price) -> Vec<PricedMetric> {
    if schema == MANTLE {
        return vec![
            PricedMetric {
                id: "in",
                metrics: &["TotalInputTokens"],
                per_1k: price.input_per_1k,
            },
            PricedMetric {
                id: "out",
                metrics: &["TotalOutputTokens"],
                per_1k: price.output_per_1k,
            },
        ];
    }
    let mut metrics = vec![
        PricedMetric {
            id: "in",
            metrics: &["InputTokenCount"],
            per_1k: price.input_per_1k,
        },
        PricedMetric {
            id: "out",
            metrics: &["OutputTokenCount"],
            per_1k: price.output_per_1k,
        },
    ];
    if let Some(per_1k) = price.cache_read_per_1k {
        metrics.push(PricedMetric {
            id: "cread",
            metrics: &CACHE_READ_METRICS,
            per_1k,
        });
    }
    if let Some(per_1k) = price.cache_write_per_1k {
        metrics.push(PricedMetric {
            id: "cwrite",
            metrics: &CACHE_WRITE_METRICS,
            per_1k,
        });
    }
    metrics
}

/// `a/1000*pa + b/1000*pb + …` for metric-math terms (metric IDs or expressions) that count
/// tokens, each with its price per 1,000.
pub fn priced_terms(terms: &[(String, f64)]) -> String {
    terms
        .iter()
        .map(|(term, per_1k)| format!("{term}/1000*{}", number(*per_1k)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `SUM` over an array of time series, whatever the array holds. CloudWatch's `SUM` of a
/// single time series is a scalar, which a graph does not accept as a result; adding the
/// series times zero keeps the argument an array of at least two, so the sum stays a series.
pub fn sum_of_series(ids: &[String]) -> String {
    match ids {
        [one] => format!("SUM([{one},{one}*0])"),
        many => format!("SUM([{}])", many.join(",")),
    }
}

/// The price table in `region` as SEARCH terms: the price book's rows (see
/// [`crate::cost::prices::PriceBook::table`]), then `[pricing]` entries (which replace a row
/// with the same term), sorted by term.
pub fn search_price_table(config: &Config, region: &str) -> Vec<(String, Price)> {
    let mut table: BTreeMap<String, Price> = BTreeMap::new();
    for (key, price) in active().table(region) {
        table.insert(search_term(&key), price);
    }
    for (key, price) in &config.pricing {
        table.insert(search_term(key), Price::from(price));
    }
    table.remove("");
    table.into_iter().collect()
}

/// A key as a SEARCH partial-match term: lowercase tokens joined by `-`. Only letters, digits
/// and `-` remain, so nothing in a key can end the quoted query or add an operator.
pub fn search_term(key: &str) -> String {
    let mut term = String::new();
    for ch in key.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            term.push(ch.to_ascii_lowercase());
        } else if !term.is_empty() && !term.ends_with('-') {
            term.push('-');
        }
    }
    while term.ends_with('-') {
        term.pop();
    }
    term
}

/// Price-table keys that share one SEARCH: every key in `keys` has `price`; models matching a
/// longer key in `excluded` are left to that key's group.
#[derive(Debug, Clone, PartialEq)]
pub struct CostGroup {
    pub keys: Vec<String>,
    pub price: Price,
    pub excluded: Vec<String>,
}

impl CostGroup {
    pub fn query(&self, metric: &str) -> String {
        self.query_in(RUNTIME, &[metric])
    }

    /// The SEARCH query of this group's models in `schema`, for a metric published under
    /// one name or several (any of them matches).
    pub fn query_in(&self, schema: Schema, metrics: &[&str]) -> String {
        let dimension = schema.dimension;
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{dimension}={k}"))
            .collect();
        let names: Vec<String> = metrics
            .iter()
            .map(|m| format!("MetricName=\"{m}\""))
            .collect();
        let names = match names.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(" OR ")),
        };
        let mut query = format!("{{{},{dimension}}} {names} ", schema.namespace);
        if keys.len() == 1 {
            query.push_str(&keys[0]);
        } else {
            query.push_str(&format!("({})", keys.join(" OR ")));
        }
        for longer in &self.excluded {
            query.push_str(&format!(" NOT {dimension}={longer}"));
        }
        query
    }

    pub fn search(&self, metric: &str, period: i32) -> String {
        self.search_in(RUNTIME, &[metric], period)
    }

    pub fn search_in(&self, schema: Schema, metrics: &[&str], period: i32) -> String {
        format!(
            "SEARCH('{}', 'Sum', {period})",
            self.query_in(schema, metrics)
        )
    }

    /// Whether `model_id` (as a term) falls in this group: the SEARCH's meaning, as substrings.
    pub fn matches(&self, model_id: &str) -> bool {
        let id = search_term(model_id);
        self.keys.iter().any(|k| id.contains(k.as_str()))
            && !self.excluded.iter().any(|l| id.contains(l.as_str()))
    }
}

/// Groups `table` (unique terms) by price so that each model falls in the group of its longest
/// matching key. A group excludes the other keys that contain one of its keys; a key that
/// itself contains such an excluded key (a chain short ⊂ middle ⊂ long where short and long
/// share a price and middle does not) is moved to a group of its own, where only keys longer
/// than it are excluded. Groups whose query would be too long are split.
pub fn cost_groups(table: &[(String, Price)]) -> Vec<CostGroup> {
    let contains = |long: &str, short: &str| long != short && long.contains(short);
    let mut by_price: Vec<(Price, Vec<String>)> = Vec::new();
    for (term, price) in table {
        match by_price.iter_mut().find(|(p, _)| p == price) {
            Some((_, keys)) => keys.push(term.clone()),
            None => by_price.push((*price, vec![term.clone()])),
        }
    }
    let mut queue: VecDeque<(Price, Vec<String>)> = by_price.into();
    let mut groups = Vec::new();
    while let Some((price, keys)) = queue.pop_front() {
        let excluded: Vec<String> = table
            .iter()
            .map(|(t, _)| t)
            .filter(|t| !keys.contains(t) && keys.iter().any(|k| contains(t, k)))
            .cloned()
            .collect();
        let (conflicted, rest): (Vec<String>, Vec<String>) = keys
            .into_iter()
            .partition(|k| excluded.iter().any(|l| contains(k, l)));
        if !conflicted.is_empty() {
            // A single key never conflicts (what it excludes is longer than it), so this ends.
            queue.extend(conflicted.into_iter().map(|k| (price, vec![k])));
            if !rest.is_empty() {
                queue.push_back((price, rest));
            }
            continue;
        }
        let group = CostGroup {
            keys: rest,
            price,
            excluded,
        };
        // The longest query a group makes is its prompt-cache one (two metric names).
        let longest = group.query_in(RUNTIME, &CACHE_WRITE_METRICS).len();
        if group.keys.len() > 1 && longest > MAX_SEARCH_QUERY_LEN {
            let mut first = group.keys;
            let second = first.split_off(first.len() / 2);
            queue.push_back((price, first));
            queue.push_back((price, second));
            continue;
        }
        groups.push(group);
    }
    groups.sort_by(|a, b| a.keys.cmp(&b.keys));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PriceConfig;
    use crate::cost::prices::lookup;

    #[test]
    fn every_model_falls_in_exactly_the_group_report_prices_it_by() {
        let mut config = Config::default();
        config.pricing.insert(
            "anthropic.claude".into(),
            PriceConfig {
                input_per_1k: 0.1,
                output_per_1k: 0.2,
                cache_read_per_1k: None,
                cache_write_per_1k: None,
                cache_write_1h_per_1k: None,
            },
        );
        config.pricing.insert(
            "Amazon.Nova-Pro".into(),
            PriceConfig {
                input_per_1k: 0.0009,
                output_per_1k: 0.0036,
                cache_read_per_1k: None,
                cache_write_per_1k: None,
                cache_write_1h_per_1k: None,
            },
        );
        let groups = cost_groups(&search_price_table(&config, "us-east-1"));
        let ids = [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-opus-4-1-20250805-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-haiku-4-5-20251001-v1:0",
            "eu.anthropic.claude-opus-4-5-20251101-v1:0",
            "anthropic.claude-v2:1",
            "meta.llama3-8b-instruct-v1:0",
            "meta.llama3-1-70b-instruct-v1:0",
            "us.meta.llama3-2-11b-instruct-v1:0",
            "meta.llama4-maverick-17b-instruct-v1:0",
            "amazon.nova-pro-v1:0",
            "amazon.nova-premier-v1:0",
            "amazon.nova-micro-v1:0",
        ];
        for id in ids {
            let expected = lookup(id, None, &config.pricing).expect(id).price;
            let matching: Vec<&CostGroup> = groups.iter().filter(|g| g.matches(id)).collect();
            assert_eq!(matching.len(), 1, "{id}: {matching:#?}");
            assert_eq!(matching[0].price, expected, "{id}");
        }
        for id in ["cohere.command-r-v1:0", "amazon.nova-2-lite-v1:0"] {
            assert!(lookup(id, None, &config.pricing).is_none());
            assert!(!groups.iter().any(|g| g.matches(id)), "{id}");
        }
    }

    #[test]
    fn chains_with_alternating_prices_are_split() {
        let p1 = Price::per_1k(1.0, 1.0);
        let p2 = Price::per_1k(2.0, 2.0);
        let table = vec![
            ("a".to_string(), p1),
            ("a-b".to_string(), p2),
            ("a-b-c".to_string(), p1),
        ];
        let groups = cost_groups(&table);
        for (id, price) in [("x-a-y", p1), ("x-a-b-y", p2), ("a-b-c-d", p1)] {
            let matching: Vec<&CostGroup> = groups.iter().filter(|g| g.matches(id)).collect();
            assert_eq!(matching.len(), 1, "{id}: {groups:#?}");
            assert_eq!(matching[0].price, price, "{id}");
        }
    }

    #[test]
    fn search_terms_keep_only_tokens() {
        assert_eq!(
            search_term("anthropic.claude-3-haiku"),
            "anthropic-claude-3-haiku"
        );
        assert_eq!(search_term(" Evil') OR (x "), "evil-or-x");
        assert_eq!(search_term("..."), "");
        assert_eq!(
            search_term("cohere.command-r-v1:0"),
            "cohere-command-r-v1-0"
        );
    }
}
