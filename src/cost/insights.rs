//! Estimated cost as a Logs Insights expression: the saved most-expensive-requests query prices
//! each invocation-log record with the same table and longest-key rule as `report`.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::cost::prices::{Price, builtin_prices};

/// The report's price table as the query sees it: built-in keys, then `[pricing]` keys
/// (which win on an equal key), lower-case.
pub fn price_table(config: &Config) -> BTreeMap<String, Price> {
    let mut table: BTreeMap<String, Price> = builtin_prices()
        .iter()
        .map(|(k, p)| (k.to_ascii_lowercase(), *p))
        .collect();
    for (k, p) in &config.pricing {
        table.insert(k.trim().to_ascii_lowercase(), Price::from(p));
    }
    table
}

/// Per-request cost in thousandths of a dollar per 1,000 tokens: for each key, `strcontains`
/// (1 or 0) picks its price, times `1 - strcontains` of every longer key that contains it, so
/// that the longest matching key prices the request, as in the report.
pub fn cost_expression(config: &Config) -> String {
    per_1k_terms(&price_table(config))
}

/// The sum behind [`cost_expression`], over `table`.
fn per_1k_terms(table: &BTreeMap<String, Price>) -> String {
    let terms: Vec<String> = table
        .iter()
        .map(|(key, price)| {
            let overridden: String = table
                .keys()
                .filter(|longer| longer.len() > key.len() && longer.contains(key.as_str()))
                .map(|longer| format!(" * (1 - strcontains(m, {}))", quote(longer)))
                .collect();
            format!(
                "strcontains(m, {}){overridden} * (in_tokens * {} + out_n * {})",
                quote(key),
                price.input_per_1k,
                price.output_per_1k
            )
        })
        .collect();
    if terms.is_empty() {
        "0".to_string()
    } else {
        terms.join(" + ")
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::prices::lookup;

    #[test]
    fn the_longest_matching_key_prices_a_request() {
        let expr = cost_expression(&Config::default());
        // The regional Claude 4.5 key is switched off where the global key matches.
        assert!(expr.contains(
            "strcontains(m, \"anthropic.claude-sonnet-4-5\") * (1 - strcontains(m, \"global.anthropic.claude-sonnet-4-5\"))"
        ));
        // Evaluate it as Logs Insights would for one request, with the report's lookup.
        let table = price_table(&Config::default());
        for model in [
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
        ] {
            let m = model.to_ascii_lowercase();
            let has = |k: &str| if m.contains(k) { 1.0 } else { 0.0 };
            let per_1k: f64 = table
                .iter()
                .map(|(key, price)| {
                    let off: f64 = table
                        .keys()
                        .filter(|l| l.len() > key.len() && l.contains(key.as_str()))
                        .map(|l| 1.0 - has(l))
                        .product();
                    has(key) * off * (1000.0 * price.input_per_1k + 1000.0 * price.output_per_1k)
                })
                .sum();
            let expected = lookup(model, &BTreeMap::new()).expect("priced");
            let want = 1000.0 * expected.price.input_per_1k + 1000.0 * expected.price.output_per_1k;
            assert!((per_1k - want).abs() < 1e-9, "{model}: {per_1k} vs {want}");
        }
    }
}
