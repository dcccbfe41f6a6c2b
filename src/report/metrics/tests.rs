use super::fold::parse_query_id;
use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn sum_periods_stay_within_200_points_and_divide_the_window() {
    // 24 h: 86400 / 200 = 432 → the first multiple of 60 dividing 86400 from 480 on.
    assert_eq!(sum_period(86_400, 60), 480);
    assert_eq!(86_400 / 480, 180);
    // 1 h: 18 s minimum → 60 s.
    assert_eq!(sum_period(3_600, 60), 60);
    // 7 minutes: 7 points of 60 s.
    assert_eq!(sum_period(420, 60), 60);
    // 211 minutes (prime): no divisor gives ≤ 200 points but the whole window.
    assert_eq!(sum_period(211 * 60, 60), 211 * 60);
    // A window of odd seconds: the plain minimum, rounded up to a minute.
    assert_eq!(sum_period(86_401, 60), 480);
    // 455 days at hourly granularity.
    let p = sum_period(455 * 86_400, 3600);
    assert_eq!(p % 3600, 0);
    assert!(455 * 86_400 / p <= MAX_POINTS_PER_QUERY);
    for length in [60, 61, 3_599, 3_600, 86_400, 7 * 86_400, 30 * 86_400 + 17] {
        for granularity in [60, 300, 3600] {
            let p = sum_period(length, granularity);
            assert_eq!(p % granularity, 0, "{length} {granularity}");
            let points = (length + p - 1) / p;
            assert!(points <= MAX_POINTS_PER_QUERY, "{length} {granularity} {p}");
        }
    }
}

#[test]
fn granularity_follows_cloudwatch_retention() {
    let now = at("2026-11-23T00:00:00Z");
    assert_eq!(granularity(at("2026-11-22T00:00:00Z"), now), 60);
    assert_eq!(granularity(at("2026-11-01T00:00:00Z"), now), 300);
    assert_eq!(granularity(at("2026-08-01T00:00:00Z"), now), 3600);
}

#[test]
fn whole_window_period_is_rounded_up() {
    let now = at("2026-11-23T00:00:00Z");
    let w = Window {
        start: at("2026-11-22T00:00:00Z"),
        end: at("2026-11-22T10:00:30Z"),
    };
    let p = Periods::for_window(&w, now);
    assert_eq!(p.whole_window_seconds, 36_060);
}

fn runtime(ids: &[String]) -> Vec<ModelSource> {
    ids.iter()
        .map(|id| ModelSource::new(Endpoint::Runtime, id.clone()))
        .collect()
}

/// The Mantle endpoint's models are read from its own namespace and dimension, under its
/// own metric names, into the same fields.
#[test]
fn mantle_models_have_their_own_namespace_and_names() {
    let models = vec![
        ModelSource::new(Endpoint::Runtime, "amazon.nova-lite-v1:0"),
        ModelSource::new(Endpoint::Mantle, "anthropic.claude-opus-4-5"),
    ];
    let queries = usage_queries(&models, 60);
    assert_eq!(queries.len(), SERIES.len() + 4);
    let mantle: Vec<&MetricDataQuery> = queries
        .iter()
        .filter(|q| q.id().is_some_and(|id| id.starts_with("m1_")))
        .collect();
    let names: Vec<&str> = mantle
        .iter()
        .filter_map(|q| q.metric_stat()?.metric()?.metric_name())
        .collect();
    assert_eq!(
        names,
        [
            "Inferences",
            "TotalInputTokens",
            "TotalOutputTokens",
            "InferenceClientErrors"
        ]
    );
    for q in mantle {
        let metric = q.metric_stat().and_then(|s| s.metric()).expect("metric");
        assert_eq!(metric.namespace(), Some("AWS/BedrockMantle"));
        assert_eq!(metric.dimensions()[0].name(), Some("Model"));
    }
    let mut results = QueryResults::default();
    results.values.insert("m1_inv".into(), vec![4.0]);
    results.values.insert("m1_tin".into(), vec![1000.0]);
    let (folded, _) = fold_usage(&models, &results);
    assert_eq!(folded[1].endpoint, Endpoint::Mantle);
    assert_eq!(folded[1].invocations, 4.0);
    assert_eq!(folded[1].input_tokens, 1000.0);
}

#[test]
fn query_ids_are_valid_and_parse_back() {
    let ids: Vec<String> = (0..60).map(|i| format!("model-{i}")).collect();
    let queries = usage_queries(&runtime(&ids), 60);
    assert_eq!(queries.len(), 60 * SERIES.len());
    for q in &queries {
        let id = q.id().unwrap();
        assert!(id.starts_with(|c: char| c.is_ascii_lowercase()), "{id}");
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{id}"
        );
        let (index, suffix) = parse_query_id(id).unwrap();
        assert!(index < 60);
        assert!(SERIES.iter().any(|(s, _, _)| *s == suffix));
    }
    assert_eq!(parse_query_id("m12_p99"), Some((12, "p99")));
    assert_eq!(parse_query_id("x12_p99"), None);
}

#[test]
fn folding_sums_values_per_model() {
    let ids = vec!["a".to_string(), "b".to_string()];
    let mut results = QueryResults::default();
    results.values.insert("m0_inv".into(), vec![2.0, 3.0]);
    results.values.insert("m0_lsum".into(), vec![1000.0, 500.0]);
    results.values.insert("m0_lcnt".into(), vec![2.0, 3.0]);
    results.values.insert("m1_inv".into(), vec![]);
    results.values.insert("bogus".into(), vec![1.0]);
    let (models, _) = fold_usage(&runtime(&ids), &results);
    assert_eq!(models[0].invocations, 5.0);
    assert_eq!(models[0].latency_sum_ms, 1500.0);
    assert_eq!(models[0].latency_samples, 5.0);
    assert!(models[0].has_data);
    assert!(!models[1].has_data);
}

/// AWS's pages name the cache metrics two ways; whichever the account publishes is
/// queried (as `ListMetrics` lists it) and counted once.
#[test]
fn cache_tokens_count_once_whichever_name_carries_them() {
    let mut both = ModelSource::new(Endpoint::Runtime, "a");
    both.cache_metrics = vec![
        CACHE_READ_METRICS[0],
        CACHE_READ_METRICS[1],
        CACHE_WRITE_METRICS[1],
    ];
    let mut second = ModelSource::new(Endpoint::Runtime, "b");
    second.cache_metrics = vec![CACHE_READ_METRICS[1]];
    let none = ModelSource::new(Endpoint::Runtime, "c");
    let sources = vec![both, second, none];
    let queries = usage_queries(&sources, 60);
    let names: Vec<(String, String)> = queries
        .iter()
        .filter_map(|q| {
            let name = q.metric_stat()?.metric()?.metric_name()?;
            name.starts_with("Cache")
                .then(|| (q.id().unwrap_or_default().to_string(), name.to_string()))
        })
        .collect();
    assert_eq!(
        names,
        [
            ("m0_cread".into(), "CacheReadInputTokenCount".into()),
            ("m0_creadb".into(), "CacheReadInputTokens".into()),
            ("m0_cwriteb".into(), "CacheWriteInputTokens".into()),
            ("m1_creadb".into(), "CacheReadInputTokens".into()),
        ]
    );
    let mut results = QueryResults::default();
    results.values.insert("m0_cread".into(), vec![100.0, 50.0]);
    results.values.insert("m0_creadb".into(), vec![100.0, 50.0]);
    results.values.insert("m0_cwriteb".into(), vec![7.0]);
    results.values.insert("m1_creadb".into(), vec![30.0]);
    for id in ["m0_cread", "m0_creadb", "m0_cwriteb", "m1_creadb"] {
        let n = results.values[id].len();
        results.timestamps.insert(
            id.into(),
            (0..n as i64).map(|i| 1_700_000_000 + i * 86_400).collect(),
        );
    }
    let (models, doubled) = fold_usage(&sources, &results);
    assert_eq!(models[0].cache_read_input_tokens, 150.0);
    assert_eq!(models[0].cache_write_input_tokens, 7.0);
    assert_eq!(models[1].cache_read_input_tokens, 30.0);
    assert_eq!(models[2].cache_read_input_tokens, 0.0);
    assert_eq!(doubled, ["a"]);
    let days = fold_daily(&results);
    let read: f64 = days
        .values()
        .filter_map(|d| d.get(&0))
        .map(|d| d.cache_read_input_tokens)
        .sum();
    assert_eq!(read, 150.0);
}

#[test]
fn p99_is_taken_only_from_a_single_whole_window_value() {
    let mut results = QueryResults::default();
    results.values.insert("m0_p99".into(), vec![812.5]);
    results.values.insert("m1_p99".into(), vec![]);
    results.values.insert("m2_p99".into(), vec![1.0, 2.0]);
    let (p99, split) = fold_p99(&results);
    assert_eq!(p99.get(&0), Some(&812.5));
    assert_eq!(p99.get(&1), None);
    assert_eq!(p99.get(&2), None);
    assert_eq!(split, 1);
}
