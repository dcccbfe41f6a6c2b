//! Unit tests of the report's assembly: pricing per model, totals, sorting, projection, notes,
//! and the JSON, CSV and text renderings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test data")
        .with_timezone(&Utc)
}

fn day() -> Window {
    Window {
        start: at("2026-11-22T00:00:00Z"),
        end: at("2026-11-23T00:00:00Z"),
    }
}

fn metrics(id: &str, invocations: f64, input: f64, output: f64) -> ModelMetrics {
    ModelMetrics {
        model_id: id.into(),
        invocations,
        input_tokens: input,
        output_tokens: output,
        latency_sum_ms: invocations * 500.0,
        latency_samples: invocations,
        has_data: true,
        ..ModelMetrics::default()
    }
}

fn sample() -> Report {
    Report::from_metrics(
        &day(),
        480,
        "us-east-1",
        &BTreeMap::new(),
        vec![
            metrics(
                "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                10.0,
                150_000.0,
                20_000.0,
            ),
            metrics(
                "anthropic.claude-3-opus-20240229-v1:0",
                2.0,
                10_000.0,
                2_000.0,
            ),
            metrics("acme.mystery-model-v1:0", 7.0, 5_000.0, 1_000.0),
            metrics("amazon.nova-micro-v1:0", 1.0, 1_000.0, 1_000.0),
            ModelMetrics::new("listed-but-idle"),
        ],
    )
}

#[test]
fn prices_totals_and_sorts_by_cost() {
    let r = sample();
    let ids: Vec<&str> = r.models.iter().map(|m| m.model_id.as_str()).collect();
    // opus: 10 × 0.015 + 2 × 0.075 = 0.30; haiku: 150 × 0.0008 + 20 × 0.004 = 0.20;
    // nova micro: 0.000035 + 0.00014 = 0.000175; the unknown model last; the idle one absent.
    assert_eq!(
        ids,
        [
            "anthropic.claude-3-opus-20240229-v1:0",
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "amazon.nova-micro-v1:0",
            "acme.mystery-model-v1:0",
        ]
    );
    assert_eq!(r.models[0].cost_usd, Some(0.3));
    assert_eq!(r.models[1].cost_usd, Some(0.2));
    assert_eq!(
        r.models[1].price_key.as_deref(),
        Some("anthropic.claude-3-5-haiku")
    );
    assert_eq!(r.models[1].price_source, Some(PriceSource::Builtin));
    assert_eq!(r.models[2].cost_usd, Some(0.000175));
    assert_eq!(r.models[3].cost_usd, None);
    assert_eq!(r.models[3].avg_latency_ms, Some(500.0));

    assert_eq!(r.totals.invocations, 20);
    assert_eq!(r.totals.input_tokens, 166_000);
    assert_eq!(r.totals.output_tokens, 24_000);
    assert_eq!(r.totals.cost_usd, 0.500175);
    assert_eq!(r.totals.unpriced_models, 1);
    assert_eq!(r.totals.unpriced_invocations, 7);
    assert_eq!(r.totals.unpriced_input_tokens, 5_000);
    assert_eq!(r.totals.unpriced_output_tokens, 1_000);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("[pricing.\"acme.mystery-model-v1:0\"]")),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("1 of 4 models are unpriced")),
        "{:?}",
        r.notes
    );
}

#[test]
fn config_prices_override_and_extend() {
    let mut pricing = BTreeMap::new();
    pricing.insert(
        "acme.mystery-model".to_string(),
        PriceConfig {
            input_per_1k: 0.01,
            output_per_1k: 0.02,
            cache_read_per_1k: None,
            cache_write_per_1k: None,
            cache_write_1h_per_1k: None,
        },
    );
    let r = Report::from_metrics(
        &day(),
        480,
        "us-east-1",
        &pricing,
        vec![metrics("acme.mystery-model-v1:0", 7.0, 5_000.0, 1_000.0)],
    );
    assert_eq!(r.models[0].cost_usd, Some(0.07));
    assert_eq!(r.models[0].price_source, Some(PriceSource::Config));
    assert_eq!(r.totals.unpriced_models, 0);
    assert!(
        r.notes.iter().all(|n| !n.contains("unpriced")),
        "{:?}",
        r.notes
    );
}

#[test]
fn projection_scales_the_window_to_30_days() {
    let r = sample();
    // A 24-hour window: × 30.
    assert_eq!(r.projection.days, 30);
    assert_eq!(r.projection.monthly_invocations, 600);
    assert_eq!(r.projection.monthly_input_tokens, 166_000 * 30);
    assert!((r.projection.monthly_cost_usd - 0.500175 * 30.0).abs() < 1e-9);

    // A 7-hour window: × 720 / 7.
    let w = Window {
        start: at("2026-11-22T00:00:00Z"),
        end: at("2026-11-22T07:00:00Z"),
    };
    assert!((projection_factor(&w) - 720.0 / 7.0).abs() < 1e-12);
    let r = Report::from_metrics(
        &w,
        60,
        "us-east-1",
        &BTreeMap::new(),
        vec![metrics(
            "anthropic.claude-3-opus-20240229-v1:0",
            7.0,
            10_000.0,
            2_000.0,
        )],
    );
    assert_eq!(r.projection.monthly_invocations, 720);
    assert!((r.projection.monthly_cost_usd - 0.3 * 720.0 / 7.0).abs() < 1e-6);
}

#[test]
fn an_empty_window_is_a_valid_empty_report() {
    let r = Report::from_metrics(&day(), 480, "us-east-1", &BTreeMap::new(), vec![]);
    assert!(r.is_empty());
    assert_eq!(r.totals.invocations, 0);
    assert_eq!(r.totals.cost_usd, 0.0);
    assert_eq!(r.projection.monthly_cost_usd, 0.0);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("no Bedrock model metrics"))
    );
    let text = r.to_string();
    assert!(
        text.contains("No Bedrock invocations in this window."),
        "{text}"
    );
    let csv = r.to_csv().expect("test data");
    assert_eq!(csv.lines().count(), 1);
}

#[test]
fn json_has_the_documented_fields() {
    let r = sample();
    let v: serde_json::Value = serde_json::to_value(&r).expect("test data");
    assert_eq!(v["window"]["start"], "2026-11-22T00:00:00Z");
    assert_eq!(v["window"]["end"], "2026-11-23T00:00:00Z");
    assert_eq!(v["window"]["hours"], 24.0);
    for field in [
        "invocations",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "unpriced_models",
    ] {
        assert!(v["totals"].get(field).is_some(), "totals.{field}");
    }
    for model in v["models"].as_array().expect("test data") {
        for field in [
            "model_id",
            "invocations",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "avg_latency_ms",
            "p99_latency_ms",
            "client_errors",
            "server_errors",
            "throttles",
        ] {
            assert!(model.get(field).is_some(), "models[].{field}");
        }
    }
    assert!(v["models"][3]["cost_usd"].is_null());
    assert!(v["models"][0]["p99_latency_ms"].is_null());
    assert!(v["projection"].get("monthly_invocations").is_some());
    assert!(v["projection"].get("monthly_cost_usd").is_some());
    assert_eq!(v["prices_as_of"], PRICES_AS_OF);
    assert!(v["notes"].is_array());
    assert!(v.get("principals").is_none());
}

#[test]
fn csv_parses_back() {
    let r = sample();
    let csv_text = r.to_csv().expect("test data");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("test data")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header[..5],
        [
            "model_id",
            "invocations",
            "input_tokens",
            "output_tokens",
            "cost_usd"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("test data")).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][0], "anthropic.claude-3-opus-20240229-v1:0");
    assert_eq!(&rows[0][4], "0.3");
    // The unknown model: an empty cost; a model ID with a colon survives.
    assert_eq!(&rows[3][0], "acme.mystery-model-v1:0");
    assert_eq!(&rows[3][4], "");
    assert_eq!(&rows[3][1], "7");
}

#[test]
fn text_is_an_aligned_table_with_totals_and_projection() {
    let r = sample();
    let text = r.to_string();
    assert!(
        text.contains(
            "Bedrock usage in us-east-1, 2026-11-22 00:00 UTC to 2026-11-23 00:00 UTC (24 h)"
        ),
        "{text}"
    );
    assert!(
        text.contains("anthropic.claude-3-opus-20240229-v1:0"),
        "{text}"
    );
    assert!(text.contains("unpriced"), "{text}");
    assert!(text.contains("Total: 20 invocations"), "{text}");
    assert!(
        text.contains(
            "Projected 30-day month at this rate (from the metrics): 600 invocations, $15.01"
        ),
        "{text}"
    );
    assert!(text.contains("as of 2025-12-01"), "{text}");
    assert!(text.contains("Notes:"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colours: {text}");
    // Every row of the table has the same width (aligned, right-aligned numbers last).
    let table_lines: Vec<&str> = text
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with('─'))
        .collect();
    assert_eq!(table_lines.len(), 6, "header, 4 models, total: {text}");
    let width = table_lines[0].chars().count();
    assert!(
        table_lines.iter().all(|l| l.chars().count() == width),
        "{text}"
    );
}

#[test]
fn other_regions_get_a_price_note() {
    let r = Report::from_metrics(
        &day(),
        480,
        "eu-west-1",
        &BTreeMap::new(),
        vec![metrics("amazon.nova-micro-v1:0", 1.0, 1.0, 1.0)],
    );
    assert!(
        r.notes.iter().any(|n| n
            .contains("none in eu-west-1 for amazon.nova-micro-v1:0 (us-east-1): priced at that region's rates")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.prices_region, "us-east-1");
    // A region the prices cover: its own prices, no note.
    let r = Report::from_metrics(
        &day(),
        480,
        "us-east-1",
        &BTreeMap::new(),
        vec![metrics("amazon.nova-micro-v1:0", 1.0, 1.0, 1.0)],
    );
    assert!(
        !r.notes
            .iter()
            .any(|n| n.contains("priced at that region's rates")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.prices_region, "us-east-1");
    assert_eq!(r.prices.source, PriceSource::Builtin);
}

#[test]
fn counts_are_rounded_and_never_negative() {
    assert_eq!(to_count(2.4999), 2);
    assert_eq!(to_count(2.5), 3);
    assert_eq!(to_count(-1.0), 0);
    assert_eq!(to_count(f64::NAN), 0);
    assert_eq!(round_cost(0.1 + 0.2), 0.3);
}
