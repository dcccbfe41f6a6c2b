use super::*;

fn none() -> BTreeMap<String, PriceConfig> {
    BTreeMap::new()
}

fn cfg(entries: &[(&str, f64, f64)]) -> BTreeMap<String, PriceConfig> {
    entries
        .iter()
        .map(|(k, i, o)| {
            (
                k.to_string(),
                PriceConfig {
                    input_per_1k: *i,
                    output_per_1k: *o,
                    cache_read_per_1k: None,
                    cache_write_per_1k: None,
                    cache_write_1h_per_1k: None,
                },
            )
        })
        .collect()
}

fn key_of(model_id: &str) -> Option<String> {
    lookup(model_id, None, &none()).map(|m| m.key)
}

#[test]
fn exact_families_match_their_own_row() {
    let cases = [
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic.claude-3-haiku",
        ),
        (
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "anthropic.claude-3-5-haiku",
        ),
        (
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-5-sonnet",
        ),
        (
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "anthropic.claude-3-7-sonnet",
        ),
        (
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-sonnet-4-20250514",
        ),
        (
            "anthropic.claude-opus-4-20250514-v1:0",
            "anthropic.claude-opus-4-20250514",
        ),
        (
            "anthropic.claude-opus-4-1-20250805-v1:0",
            "anthropic.claude-opus-4-1",
        ),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-5",
        ),
        (
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic.claude-haiku-4-5",
        ),
        (
            "anthropic.claude-opus-4-5-20251101-v1:0",
            "anthropic.claude-opus-4-5",
        ),
        ("meta.llama3-8b-instruct-v1:0", "meta.llama3-8b-instruct"),
        (
            "meta.llama3-1-8b-instruct-v1:0",
            "meta.llama3-1-8b-instruct",
        ),
        (
            "meta.llama3-1-70b-instruct-v1:0",
            "meta.llama3-1-70b-instruct",
        ),
        (
            "meta.llama3-2-1b-instruct-v1:0",
            "meta.llama3-2-1b-instruct",
        ),
        (
            "meta.llama3-2-11b-instruct-v1:0",
            "meta.llama3-2-11b-instruct",
        ),
        (
            "meta.llama3-3-70b-instruct-v1:0",
            "meta.llama3-3-70b-instruct",
        ),
        (
            "meta.llama4-scout-17b-instruct-v1:0",
            "meta.llama4-scout-17b-instruct",
        ),
        (
            "meta.llama4-maverick-17b-instruct-v1:0",
            "meta.llama4-maverick-17b-instruct",
        ),
        ("amazon.nova-micro-v1:0", "amazon.nova-micro"),
        ("amazon.nova-lite-v1:0", "amazon.nova-lite"),
        ("amazon.nova-pro-v1:0", "amazon.nova-pro"),
        ("amazon.nova-premier-v1:0", "amazon.nova-premier"),
    ];
    for (id, key) in cases {
        assert_eq!(key_of(id).as_deref(), Some(key), "{id}");
    }
}

#[test]
fn longest_key_wins() {
    // `anthropic.claude-opus-4-1` and `-4-5` are longer than any shorter Opus key.
    let m = lookup("anthropic.claude-opus-4-5-20251101-v1:0", None, &none()).unwrap();
    assert_eq!(m.key, "anthropic.claude-opus-4-5");
    // A user key that is a prefix of a built-in key loses to the longer built-in key.
    let overrides = cfg(&[("anthropic.claude", 1.0, 1.0)]);
    let m = lookup("anthropic.claude-3-haiku-20240307-v1:0", None, &overrides).unwrap();
    assert_eq!(m.key, "anthropic.claude-3-haiku");
    assert_eq!(m.source, PriceSource::Builtin);
    // ...but prices a model that has no built-in row.
    let m = lookup("anthropic.claude-v2:1", None, &overrides).unwrap();
    assert_eq!(m.key, "anthropic.claude");
    assert_eq!(m.source, PriceSource::Config);
}

#[test]
fn cross_region_prefixes_are_removed() {
    for prefix in ["us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au."] {
        let id = format!("{prefix}anthropic.claude-3-5-haiku-20241022-v1:0");
        assert_eq!(
            key_of(&id).as_deref(),
            Some("anthropic.claude-3-5-haiku"),
            "{id}"
        );
    }
    assert_eq!(
        normalize_model_id("us.meta.llama3-1-70b-instruct-v1:0"),
        "meta.llama3-1-70b-instruct-v1:0"
    );
}

#[test]
fn global_profiles_of_claude_4_5_get_the_global_price() {
    let regional = lookup(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        None,
        &none(),
    )
    .unwrap();
    let global = lookup(
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        None,
        &none(),
    )
    .unwrap();
    assert_eq!(regional.key, "anthropic.claude-sonnet-4-5");
    assert_eq!(global.key, "global.anthropic.claude-sonnet-4-5");
    assert!(global.price.input_per_1k < regional.price.input_per_1k);
    // Models without a global row take the same price with the `global.` prefix.
    assert_eq!(
        key_of("global.anthropic.claude-opus-4-1-20250805-v1:0").as_deref(),
        Some("anthropic.claude-opus-4-1")
    );
}

#[test]
fn arns_are_reduced_to_their_resource_id() {
    let cases = [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
    ];
    for arn in cases {
        assert_eq!(
            key_of(arn).as_deref(),
            Some("anthropic.claude-3-7-sonnet"),
            "{arn}"
        );
    }
    let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
    assert_eq!(key_of(app), None);
    assert_eq!(suggested_key(app), "a1b2c3d4e5f6");
    let overrides = cfg(&[("a1b2c3d4e5f6", 0.002, 0.01)]);
    let m = lookup(app, None, &overrides).unwrap();
    assert_eq!(m.source, PriceSource::Config);
    assert_eq!(m.price, Price::per_1k(0.002, 0.01));
}

#[test]
fn config_overrides_builtin_of_same_text_and_wins_ties() {
    let overrides = cfg(&[("anthropic.claude-3-5-haiku", 0.001, 0.005)]);
    let m = lookup(
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        None,
        &overrides,
    )
    .unwrap();
    assert_eq!(m.source, PriceSource::Config);
    assert_eq!(m.price, Price::per_1k(0.001, 0.005));
    // A config key of the same length as a different built-in key also wins.
    let same_len = "x".repeat("anthropic.claude-3-5-haiku".len());
    let overrides = cfg(&[(&same_len, 9.0, 9.0)]);
    let id = format!("anthropic.claude-3-5-haiku-{same_len}");
    let m = lookup(&id, None, &overrides).unwrap();
    assert_eq!(m.key, same_len);
    assert_eq!(m.source, PriceSource::Config);
    // Case does not matter.
    let overrides = cfg(&[("Anthropic.Claude-3-5-Haiku", 0.001, 0.005)]);
    let m = lookup("anthropic.claude-3-5-haiku-20241022-v1:0", None, &overrides).unwrap();
    assert_eq!(m.source, PriceSource::Config);
}

#[test]
fn unknown_models_are_unpriced_never_priced_as_another_model() {
    for id in [
        "cohere.command-r-v1:0",
        "amazon.nova-2-lite-v1:0",
        "anthropic.claude-sonnet-4-6",
        "anthropic.claude-opus-4-7-v1:0",
        "",
    ] {
        assert_eq!(key_of(id), None, "{id}");
    }
    assert_eq!(
        suggested_key("us.cohere.command-r-v1:0"),
        "cohere.command-r-v1:0"
    );
}

#[test]
fn keys_are_unique_and_every_price_is_sane() {
    let book = PriceBook::builtin();
    let mut rows: Vec<_> = book
        .file
        .prices
        .iter()
        .map(|r| (&r.model, &r.region, r.tier))
        .collect();
    rows.sort_unstable();
    let before = rows.len();
    rows.dedup();
    assert_eq!(rows.len(), before, "duplicate built-in rows");
    for (key, price) in book
        .table(REFERENCE_REGION)
        .iter()
        .map(|(k, p)| (k.as_str(), p))
    {
        assert!(
            price.input_per_1k > 0.0 && price.output_per_1k > 0.0,
            "{key}"
        );
        assert!(price.output_per_1k >= price.input_per_1k, "{key}");
        assert_eq!(*key, key.to_ascii_lowercase(), "{key}");
    }
}

#[test]
fn every_kind_of_token_has_its_own_price() {
    // Claude Sonnet 4.5 through a US profile: $3.30 per million in, 0.1 × for cache
    // reads, 1.25 × and 2 × for 5-minute and 1-hour writes.
    let m = lookup(
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        None,
        &none(),
    )
    .expect("priced");
    let tokens = Tokens {
        input: 1_000_000,
        output: 100_000,
        cache_read: 2_000_000,
        cache_write: 400_000,
        cache_write_1h: 100_000,
    };
    let priced = m.price.cost_of(&tokens);
    let expected = 3.3 + 1.65 + 2.0 * 0.33 + 0.4 * 4.125 + 0.1 * 6.6;
    assert!(
        (priced.usd - expected).abs() < 1e-9,
        "{priced:?} vs {expected}"
    );
    assert!(priced.unpriced.is_empty());
    // Nova: cache reads at 0.25 ×, writes have no price: reported, not guessed.
    let nova = lookup("amazon.nova-pro-v1:0", None, &none()).expect("priced");
    let priced = nova.price.cost_of(&Tokens {
        input: 1000,
        cache_read: 1000,
        cache_write: 1000,
        ..Tokens::default()
    });
    assert!((priced.usd - (0.0008 + 0.0002)).abs() < 1e-12, "{priced:?}");
    assert_eq!(priced.unpriced, vec!["cache write"]);
    // Llama has no prompt cache price at all.
    let llama = lookup("meta.llama3-3-70b-instruct-v1:0", None, &none()).expect("priced");
    let priced = llama.price.cost_of(&Tokens {
        cache_read: 5,
        ..Tokens::default()
    });
    assert_eq!(priced.unpriced, vec!["cache read"]);
}

/// A book of its own: Nova Pro's standard price in two regions and a Price List Flex rate
/// that is not 0.5 × standard.
fn book() -> PriceBook {
    let row = |region: &str, tier: Option<BilledTier>, input: f64| PriceRow {
        model: "amazon.nova-pro".into(),
        region: region.into(),
        tier,
        price: Price::per_1k(input, input * 4.0),
    };
    PriceBook {
        path: Some(PathBuf::from("/tmp/prices.json")),
        file: PriceFile {
            format: FILE_FORMAT,
            as_of: NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
            offers: Vec::new(),
            regions: vec!["eu-central-1".into(), "us-east-1".into()],
            prices: vec![
                row("us-east-1", None, 0.0008),
                row("us-east-1", Some(BilledTier::Flex), 0.0003),
                row("eu-central-1", None, 0.001),
            ],
            units: BTreeMap::new(),
        },
    }
}

#[test]
fn a_book_prices_by_region_and_tier_and_says_where_it_fell_back() {
    let book = book();
    let at = |id: &str, region: &str| lookup_in(&book, id, Some(region), &none()).expect("priced");
    let eu = at("eu.amazon.nova-pro-v1:0", "eu-central-1");
    assert_eq!(
        (eu.price.input_per_1k, eu.region.as_deref()),
        (0.001, Some("eu-central-1"))
    );
    assert_eq!(eu.source, PriceSource::File);
    // No row in us-west-2: us-east-1's, and the match says so.
    let west = at("amazon.nova-pro-v1:0", "us-west-2");
    assert_eq!(west.region.as_deref(), Some("us-east-1"));
    // The Price List's own Flex rate wins over the ratio...
    let flex = at("amazon.nova-pro-v1:0+flex", "us-east-1");
    assert_eq!(flex.price.input_per_1k, 0.0003);
    assert_eq!(flex.tier, Some(Tier::Flex));
    // ...but only in the region it is for: Frankfurt's Flex is its standard price × 0.5.
    let eu_flex = at("amazon.nova-pro-v1:0+flex", "eu-central-1");
    assert_eq!(eu_flex.price.input_per_1k, 0.0005);
    let priority = at("amazon.nova-pro-v1:0+priority", "us-east-1");
    assert!((priority.price.input_per_1k - 0.0014).abs() < 1e-15);
    // A model the book lacks is unpriced, even though the built-in table has it.
    assert!(lookup_in(&book, "amazon.nova-lite-v1:0", None, &none()).is_none());
    // Age and staleness.
    let used = PricesUsed::of(&book, NaiveDate::from_ymd_opt(2026, 12, 4).expect("date"));
    assert_eq!((used.age_days, used.stale), (33, true));
    assert!(used.warning().is_some_and(|w| w.contains("33 days old")));
    let used = PricesUsed::of(&book, NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"));
    assert_eq!(
        (used.age_days, used.stale, used.warning()),
        (29, false, None)
    );
}

#[test]
fn a_file_that_is_not_a_price_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("prices.json");
    assert!(PriceBook::load(&path).expect("no file is fine").is_none());
    for (text, says) in [
        ("{", "is not a price file"),
        (
            r#"{"format": 2, "as_of": "2026-01-01", "offers": [], "regions": [], "prices": []}"#,
            "has format 2",
        ),
    ] {
        std::fs::write(&path, text).expect("write");
        let e = PriceBook::load(&path).expect_err(text).to_string();
        assert!(
            e.contains(&path.display().to_string())
                && e.contains(says)
                && e.contains("prices update"),
            "{e}"
        );
    }
    std::fs::write(&path, serde_json::to_string(&book().file).expect("json")).expect("write");
    let loaded = PriceBook::load(&path).expect("valid").expect("there");
    assert_eq!(loaded.file, book().file);
    assert_eq!(loaded.source(), PriceSource::File);
}

#[test]
fn service_tiers_scale_every_price() {
    let standard = lookup(
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        None,
        &none(),
    )
    .expect("priced");
    let flex = lookup(
        "global.anthropic.claude-haiku-4-5-20251001-v1:0+flex",
        None,
        &none(),
    )
    .expect("priced");
    let priority = lookup("amazon.nova-pro-v1:0+priority", None, &none()).expect("priced");
    assert_eq!(flex.key, standard.key);
    assert_eq!(flex.tier, Some(Tier::Flex));
    assert!((flex.price.input_per_1k - standard.price.input_per_1k * 0.5).abs() < 1e-12);
    assert_eq!(
        flex.price.cache_read_per_1k.map(|p| (p * 1e9).round()),
        standard
            .price
            .cache_read_per_1k
            .map(|p| (p * 0.5 * 1e9).round())
    );
    assert!((priority.price.output_per_1k - 0.0032 * 1.75).abs() < 1e-12);
    assert_eq!(
        normalize_model_id("us.amazon.nova-pro-v1:0+priority"),
        "amazon.nova-pro-v1:0"
    );
    // An unknown suffix is part of the ID, not a tier.
    assert_eq!(split_tier("x+turbo"), ("x+turbo", None));
}

#[test]
fn cost_arithmetic() {
    let price = Price::per_1k(0.0008, 0.004);
    let cost = price.cost(150_000, 20_000);
    assert!((cost - (0.12 + 0.08)).abs() < 1e-12, "{cost}");
}
