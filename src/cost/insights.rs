//! Estimated cost as a Logs Insights expression: the saved most-expensive-requests query prices
//! each invocation-log record with the same table and longest-key rule as `report`.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::cost::prices::{Price, REFERENCE_REGION, active};

/// The report's price table as the query sees it: the price book's keys (in the
/// [`REFERENCE_REGION`]: a query definition is saved for the whole account and the logs' records
/// do not name their region), then `[pricing]` keys (which win on an equal key), lower-case.
pub fn price_table(config: &Config) -> BTreeMap<String, Price> {
    let mut table: BTreeMap<String, Price> = active()
        .table(REFERENCE_REGION)
        .into_iter()
        .map(|(k, p)| (k.to_ascii_lowercase(), p))
        .collect();
    for (k, p) in &config.pricing {
        table.insert(k.trim().to_ascii_lowercase(), Price::from(p));
    }
    table
}

/// Per-request cost in thousandths of a dollar per 1,000 tokens: for each key, `strcontains`
/// (1 or 0) picks its price, times `1 - strcontains` of every longer key that contains it, so
/// that the longest matching key prices the request, as in the report. Each kind of token is
/// priced at its own rate (`in_tokens`, `out_n`, and the prompt cache's `cr_n` reads and `cw_n`
/// writes, at the 5-minute rate: the record does not say the lifetime); a kind the model has
/// no price for adds nothing.
///
/// `profiles` are the stack's application inference profiles as (ID, the model they were
/// copied from): a record of a call through one names the profile's ARN, which no model key
/// matches, so it is priced by its source.
pub fn cost_expression(config: &Config, profiles: &[(String, String)]) -> String {
    let table = price_table(config);
    let mut expression = per_1k_terms(&table);
    for (id, source) in profiles {
        let id = id.trim().to_ascii_lowercase();
        if id.is_empty() {
            continue;
        }
        if let Some(found) = crate::cost::prices::lookup(source, None, &config.pricing) {
            let term = format!("strcontains(m, {}) * ({})", quote(&id), kinds(&found.price));
            expression = if expression == "0" {
                term
            } else {
                format!("{expression} + {term}")
            };
        }
    }
    expression
}

/// `in_tokens * p_in + out_n * p_out [+ cr_n * p_read] [+ cw_n * p_write]`.
fn kinds(price: &Price) -> String {
    use crate::cost::metric_math::number;
    let mut sum = format!(
        "in_tokens * {} + out_n * {}",
        number(price.input_per_1k),
        number(price.output_per_1k)
    );
    if let Some(p) = price.cache_read_per_1k {
        sum.push_str(&format!(" + cr_n * {}", number(p)));
    }
    if let Some(p) = price.cache_write_per_1k {
        sum.push_str(&format!(" + cw_n * {}", number(p)));
    }
    sum
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
                "strcontains(m, {}){overridden} * ({})",
                quote(key),
                kinds(price)
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
        let expr = cost_expression(&Config::default(), &[]);
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
            let expected = lookup(model, None, &BTreeMap::new()).expect("priced");
            let want = 1000.0 * expected.price.input_per_1k + 1000.0 * expected.price.output_per_1k;
            assert!((per_1k - want).abs() < 1e-9, "{model}: {per_1k} vs {want}");
        }
    }

    /// Evaluates the expression as Logs Insights would for one record: `strcontains` is 1 or 0,
    /// the kinds' counts are the record's.
    fn evaluate(expression: &str, model: &str, counts: [f64; 4]) -> f64 {
        let term = regex::Regex::new(
            r#"strcontains\(m, "([^"]+)"\)((?: \* \(1 - strcontains\(m, "[^"]+"\)\))*) \* \(([^)]*)\)"#,
        )
        .expect("pattern");
        let off = regex::Regex::new(r#"strcontains\(m, "([^"]+)"\)"#).expect("pattern");
        let m = model.to_ascii_lowercase();
        let has = |k: &str| if m.contains(k) { 1.0 } else { 0.0 };
        term.captures_iter(expression)
            .map(|c| {
                let mut factor = has(&c[1]);
                for o in off.captures_iter(&c[2]) {
                    factor *= 1.0 - has(&o[1]);
                }
                let sum: f64 = c[3]
                    .split(" + ")
                    .map(|part| {
                        let (name, price) = part.split_once(" * ").expect("kind * price");
                        let count = match name {
                            "in_tokens" => counts[0],
                            "out_n" => counts[1],
                            "cr_n" => counts[2],
                            "cw_n" => counts[3],
                            other => panic!("{other}"),
                        };
                        count * price.parse::<f64>().expect("price")
                    })
                    .sum();
                factor * sum
            })
            .sum()
    }

    /// A record with prompt-cache reads and writes, and one through a profile copied from a
    /// global profile: the query prices them as the report does.
    #[test]
    fn cache_tokens_and_profiles_are_priced_as_the_report_prices_them() {
        use crate::cost::prices::Tokens;
        let profiles = vec![(
            "abcdef123456".to_string(),
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0".to_string(),
        )];
        let expression = cost_expression(&Config::default(), &profiles);
        let counts = [1000.0, 200.0, 5000.0, 800.0];
        let tokens = Tokens {
            input: 1000,
            output: 200,
            cache_read: 5000,
            cache_write: 800,
            cache_write_1h: 0,
        };
        for (model, priced_as) in [
            (
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            (
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdef123456",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
        ] {
            let per_1k = evaluate(&expression, model, counts);
            let want = lookup(priced_as, None, &BTreeMap::new())
                .expect("priced")
                .price
                .cost_of(&tokens)
                .usd;
            assert!(
                (per_1k / 1000.0 - want).abs() < 1e-9,
                "{model}: {per_1k} vs {want}"
            );
        }
        // The whole saved query still fits Logs Insights' limit.
        for q in crate::queries::catalog_with_profiles(&Config::default(), &profiles) {
            assert!(
                q.text.len() <= crate::queries::MAX_QUERY_LENGTH,
                "{}",
                q.name
            );
        }
    }
}
