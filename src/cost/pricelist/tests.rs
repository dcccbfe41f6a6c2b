use super::*;
use crate::cost::prices::{PRICES_AS_OF, PriceBook, REFERENCE_REGION, lookup_in};

/// The recorded GetProducts answers the built-in table is generated from.
fn fixture_answers() -> Vec<Answer> {
    OFFER_CODES
        .iter()
        .map(|offer| {
            let path = format!(
                "{}/tests/fixtures/pricelist/{offer}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).expect("fixture");
            let answer: Value = serde_json::from_str(&text).expect("fixture is JSON");
            assert_eq!(answer["FormatVersion"], "aws_v1", "{path}");
            let items = answer["PriceList"]
                .as_array()
                .expect("PriceList")
                .iter()
                .map(|s| {
                    s.as_str()
                        .expect("PriceList items are JSON strings")
                        .to_string()
                })
                .collect();
            Answer {
                offer: offer.to_string(),
                items,
            }
        })
        .collect()
}

fn fixture_file() -> (PriceFile, Skipped) {
    fixture_file_of(&[])
}

/// The fixture parsed, keeping only `regions` (all with none).
fn fixture_file_of(regions: &[String]) -> (PriceFile, Skipped) {
    let answers = fixture_answers();
    let mut as_of = None;
    for answer in &answers {
        for item in &answer.items {
            let item: Item = serde_json::from_str(item).expect("item");
            let date = item
                .publication_date
                .as_deref()
                .and_then(|d| d.get(..10))
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            as_of = as_of.max(date);
        }
    }
    build(&answers, &[], as_of.expect("dated"), regions)
}

/// The built-in table is the fixture parsed: change the fixture, then run
/// `scripts/regenerate-prices` (this test with REGENERATE_BUILTIN_PRICES=1) to write it.
#[test]
fn builtin_table_is_the_parsed_fixture() {
    // Only the reference region: the fixture's us-west-2 and eu-central-1 rows are test data
    // for the region-aware lookup (copies of us-east-1's figures, not AWS's), and a built-in
    // table must not ship a price nobody read from AWS. Other regions come from
    // `prices update`, or fall back to us-east-1's with a note.
    let (file, _) = fixture_file_of(&[REFERENCE_REGION.to_string()]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cost/builtin-prices.json");
    if std::env::var_os("REGENERATE_BUILTIN_PRICES").is_some() {
        let text = serde_json::to_string_pretty(&file).expect("serialise") + "\n";
        std::fs::write(path, text).expect("write the built-in table");
        return;
    }
    assert_eq!(
        PriceBook::builtin().file,
        file,
        "src/cost/builtin-prices.json is not the parsed fixture: run scripts/regenerate-prices"
    );
    assert_eq!(file.as_of.to_string(), PRICES_AS_OF);
    assert_eq!(file.regions, [REFERENCE_REGION]);
}

#[test]
fn the_fixture_skips_what_it_cannot_place_and_says_why() {
    let (file, skipped) = fixture_file();
    assert_eq!(skipped.by_reason["variant not priced"], 3, "{skipped:?}");
    assert_eq!(skipped.by_reason["model no key names"], 4, "{skipped:?}");
    assert_eq!(skipped.by_reason["not a model's tokens"], 1, "{skipped:?}");
    assert_eq!(skipped.total, 8, "{skipped:?}");
    assert_eq!(
        skipped.unknown_models.iter().collect::<Vec<_>>(),
        ["Nova2.0Lite"]
    );
    // Every offer answered, with its version and publication date.
    let codes: Vec<&str> = file.offers.iter().map(|o| o.code.as_str()).collect();
    assert_eq!(codes, OFFER_CODES);
    assert!(
        file.offers
            .iter()
            .all(|o| o.products > 0 && o.version.is_some())
    );
    // The latency-optimized rate is not Claude 3.5 Haiku's price.
    let haiku = lookup_in(
        PriceBook::builtin(),
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        None,
        &BTreeMap::new(),
    )
    .expect("priced");
    assert_eq!(haiku.price.input_per_1k, 0.0008);
}

/// The prices the built-in table had before it was generated (us-east-1, 2025-12-01), which
/// the report's tests check to the cent.
#[test]
fn the_generated_table_keeps_the_us_east_1_prices() {
    let book = PriceBook::builtin();
    let price = |id: &str| {
        lookup_in(book, id, Some(REFERENCE_REGION), &BTreeMap::new())
            .expect(id)
            .price
    };
    let sonnet = price("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(
        (sonnet.input_per_1k, sonnet.output_per_1k),
        (0.0033, 0.0165)
    );
    assert_eq!(sonnet.cache_read_per_1k, Some(0.00033));
    assert_eq!(sonnet.cache_write_per_1k, Some(0.004125));
    assert_eq!(sonnet.cache_write_1h_per_1k, Some(0.0066));
    let global = price("global.anthropic.claude-haiku-4-5-20251001-v1:0");
    assert_eq!((global.input_per_1k, global.output_per_1k), (0.001, 0.005));
    assert_eq!(global.cache_write_1h_per_1k, Some(0.002));
    let regional = price("us.anthropic.claude-haiku-4-5-20251001-v1:0");
    assert_eq!(
        (regional.input_per_1k, regional.cache_read_per_1k),
        (0.0011, Some(0.00011))
    );
    let nova = price("amazon.nova-micro-v1:0");
    assert_eq!(nova.cache_read_per_1k, Some(0.00000875));
    assert_eq!(nova.cache_write_per_1k, None);
    let llama = price("meta.llama4-maverick-17b-instruct-v1:0");
    assert_eq!(
        (llama.input_per_1k, llama.output_per_1k),
        (0.00024, 0.00097)
    );
    assert_eq!(llama.cache_read_per_1k, None);
    let opus3 = price("anthropic.claude-3-opus-20240229-v1:0");
    assert_eq!((opus3.input_per_1k, opus3.cache_read_per_1k), (0.015, None));
    // Every key of the table has a us-east-1 price.
    for key in MODEL_KEYS {
        assert!(
            book.file
                .prices
                .iter()
                .any(|r| r.model == *key && r.region == REFERENCE_REGION),
            "{key}"
        );
    }
}

fn product(region: &str, usage_type: &str, service: &str, unit: &str, usd: &str) -> String {
    json_item(region, usage_type, service, unit, usd, "")
}

fn json_item(
    region: &str,
    usage_type: &str,
    service: &str,
    unit: &str,
    usd: &str,
    description: &str,
) -> String {
    serde_json::json!({
        "product": {"attributes": {
            "regionCode": region, "usagetype": usage_type, "servicename": service}},
        "terms": {"OnDemand": {"S.JRTCKXETXF": {"priceDimensions": {"S.JRTCKXETXF.6YS6EN2CT7": {
            "unit": unit, "description": description, "pricePerUnit": {"USD": usd}}}}}},
        "version": "20260101000000",
        "publicationDate": "2026-01-01T00:00:00Z",
    })
    .to_string()
}

fn one_offer(items: Vec<String>) -> (PriceFile, Skipped) {
    let day = NaiveDate::from_ymd_opt(2026, 1, 2).expect("date");
    build(
        &[Answer {
            offer: "AmazonBedrock".into(),
            items,
        }],
        &[],
        day,
        &[],
    )
}

#[test]
fn units_become_prices_per_1000_tokens() {
    assert_eq!(tokens_per_unit("1K tokens", ""), Some(1e3));
    assert_eq!(tokens_per_unit("1M tokens", ""), Some(1e6));
    assert_eq!(tokens_per_unit("Tokens", ""), Some(1.0));
    assert_eq!(
        tokens_per_unit(
            "Units",
            "AWS Marketplace software usage|us-east-1|Million Input Tokens"
        ),
        Some(1e6)
    );
    // A unit whose description does not say how many tokens it is: not guessed.
    assert_eq!(tokens_per_unit("Units", ""), None);
    assert_eq!(tokens_per_unit("1K TPM Hour", ""), None);
    assert_eq!(tokens_per_unit("image", ""), None);

    let bedrock = "Amazon Bedrock";
    let (file, skipped) = one_offer(vec![
        product(
            "us-west-2",
            "USW2-NovaLite-input-tokens",
            bedrock,
            "1M tokens",
            "0.06",
        ),
        product(
            "us-west-2",
            "USW2-NovaLite-output-tokens",
            bedrock,
            "1K tokens",
            "0.00024",
        ),
        product(
            "us-west-2",
            "USW2-NovaLite-cache-read-input-token-count",
            bedrock,
            "Tokens",
            "0.000000015",
        ),
    ]);
    assert_eq!(skipped, Skipped::default());
    let row = &file.prices[0];
    assert_eq!(
        (row.model.as_str(), row.region.as_str()),
        ("amazon.nova-lite", "us-west-2")
    );
    assert_eq!(row.price.input_per_1k, 0.00006);
    assert_eq!(row.price.output_per_1k, 0.00024);
    assert_eq!(row.price.cache_read_per_1k, Some(0.000015));
    assert_eq!(file.regions, ["us-west-2"]);
}

#[test]
fn usage_types_become_keys_tiers_and_kinds() {
    let service = "Amazon Bedrock Service";
    let k = "1K tokens";
    let (file, skipped) = one_offer(vec![
        product(
            "eu-central-1",
            "EUC1-Claude4.5Sonnet-input-tokens-cross-region-global",
            service,
            k,
            "0.003",
        ),
        product(
            "eu-central-1",
            "EUC1-Claude4.5Sonnet-output-tokens-cross-region-global",
            service,
            k,
            "0.015",
        ),
        product(
            "eu-central-1",
            "EUC1-Claude4.5Sonnet-cache-write-input-token-count-1-hour-cross-region-global",
            service,
            k,
            "0.006",
        ),
        product(
            "us-east-1",
            "USE1-NovaPro-input-tokens-priority",
            "Amazon Bedrock",
            k,
            "0.0014",
        ),
        product(
            "us-east-1",
            "USE1-NovaPro-output-tokens-priority",
            "Amazon Bedrock",
            k,
            "0.0056",
        ),
    ]);
    assert_eq!(skipped.total, 0, "{skipped:?}");
    // Sorted by key: `amazon.` before `global.`.
    let global = &file.prices[1];
    assert_eq!(global.model, "global.anthropic.claude-sonnet-4-5");
    assert_eq!(global.price.cache_write_1h_per_1k, Some(0.006));
    assert_eq!(global.price.cache_write_per_1k, None);
    let priority = &file.prices[0];
    assert_eq!(
        (priority.model.as_str(), priority.tier),
        ("amazon.nova-pro", Some(BilledTier::Priority))
    );
}

#[test]
fn rows_that_cannot_be_placed_are_skipped_and_counted_never_mispriced() {
    let bedrock = "Amazon Bedrock";
    let k = "1K tokens";
    let (file, skipped) = one_offer(vec![
        "not json".into(),
        product(
            "us-east-1",
            "USE1-Claude3Haiku-input-tokens",
            bedrock,
            k,
            "0.00025",
        ),
        // Only an input price: no row.
        product(
            "us-east-1",
            "USE1-NovaLite-input-tokens",
            bedrock,
            k,
            "0.00006",
        ),
        // Two prices for one slot: neither is taken.
        product(
            "us-east-1",
            "USE1-Claude3Haiku-output-tokens",
            bedrock,
            k,
            "0.00125",
        ),
        product(
            "us-east-1",
            "USE1-Claude3Haiku-output-tokens",
            bedrock,
            k,
            "0.002",
        ),
        product(
            "us-east-1",
            "USE1-Claude9Sonnet-input-tokens",
            bedrock,
            k,
            "1",
        ),
        product(
            "us-east-1",
            "USE1-Claude3Haiku-input-tokens-long-context",
            bedrock,
            k,
            "1",
        ),
        product(
            "us-east-1",
            "USE1-Claude3Haiku-input-tokens",
            bedrock,
            "1K TPM Hour",
            "1",
        ),
        product(
            "us-east-1",
            "USE1-Claude3Haiku-input-tokens",
            bedrock,
            k,
            "free",
        ),
    ]);
    assert!(file.prices.is_empty(), "{:?}", file.prices);
    assert_eq!(skipped.by_reason["not a Price List product"], 1);
    assert_eq!(skipped.by_reason["model no key names"], 1);
    assert_eq!(skipped.by_reason["variant not priced"], 1);
    assert_eq!(skipped.by_reason["unit not tokens"], 1);
    assert_eq!(skipped.by_reason["no USD price"], 1);
    assert_eq!(skipped.by_reason["conflicting price"], 1);
    // Claude 3 Haiku (its output conflicts) and Nova Lite (no output).
    assert_eq!(skipped.by_reason["no input or no output price"], 2);
    assert_eq!(skipped.total, 8);
    assert!(skipped.unknown_models.contains("Claude9Sonnet"));
}

#[test]
fn regions_narrow_the_rows() {
    let bedrock = "Amazon Bedrock";
    let items = ["us-east-1", "eu-central-1"]
        .iter()
        .flat_map(|r| {
            let code = if *r == "us-east-1" { "USE1" } else { "EUC1" };
            [
                product(
                    r,
                    &format!("{code}-NovaLite-input-tokens"),
                    bedrock,
                    "1K tokens",
                    "0.00006",
                ),
                product(
                    r,
                    &format!("{code}-NovaLite-output-tokens"),
                    bedrock,
                    "1K tokens",
                    "0.00024",
                ),
            ]
        })
        .collect();
    let day = NaiveDate::from_ymd_opt(2026, 1, 2).expect("date");
    let (file, _) = build(
        &[Answer {
            offer: "AmazonBedrock".into(),
            items,
        }],
        &[],
        day,
        &["eu-central-1".to_string()],
    );
    assert_eq!(file.regions, ["eu-central-1"]);
    assert_eq!(file.prices.len(), 1);
}

#[test]
fn price_list_names_and_keys_agree_on_words_and_numbers() {
    assert!(same_model("Claude4.5Sonnet", "anthropic.claude-sonnet-4-5"));
    assert!(same_model("Claude Haiku 4.5", "anthropic.claude-haiku-4-5"));
    assert!(same_model("Claude3.5Haiku", "anthropic.claude-3-5-haiku"));
    assert!(same_model(
        "Claude4Sonnet",
        "anthropic.claude-sonnet-4-20250514"
    ));
    assert!(same_model("Llama3-1-70B", "meta.llama3-1-70b-instruct"));
    assert!(same_model(
        "Llama 3.1 405B Instruct",
        "meta.llama3-1-405b-instruct"
    ));
    assert!(same_model("NovaLite", "amazon.nova-lite"));
    // Numbers keep their order; a missing or extra word or number is another model.
    assert!(!same_model(
        "Claude5.3Sonnet",
        "anthropic.claude-3-5-sonnet"
    ));
    assert!(!same_model(
        "Claude4.6Sonnet",
        "anthropic.claude-sonnet-4-20250514"
    ));
    assert!(!same_model("Claude4Sonnet", "anthropic.claude-sonnet-4-5"));
    assert!(!same_model("Nova2.0Lite", "amazon.nova-lite"));
    assert!(!same_model("", "amazon.nova-lite"));
}

/// The billed report turns billed quantities into tokens with the unit the price book read
/// from the same Price List product, so the two cannot disagree: Claude Haiku 4.5's
/// Marketplace input is priced $1.10 a unit, its per-million price ("Million Input Tokens" in
/// the recorded answer), so 0.5 billed units are 500,000 tokens; first-party usage types are
/// priced per 1,000 tokens. Where the book has no product for a line, no count.
#[test]
fn billed_units_are_read_from_the_price_book() {
    let book = PriceBook::builtin();
    let haiku = "Claude Haiku 4.5 (Amazon Bedrock Edition)";
    assert_eq!(
        book.tokens_per_unit(haiku, "USE1-MP:USE1_InputTokenCount-Units"),
        Some(1e6)
    );
    assert_eq!(
        book.tokens_per_unit(haiku, "USE1-MP:USE1_InputTokenCount-Units")
            .map(|t| 0.5 * t),
        Some(500_000.0)
    );
    // Another region's same rate: the unit the book gives it everywhere it has it.
    assert_eq!(
        book.tokens_per_unit(haiku, "USW2-MP:USW2_OutputTokenCount-Units"),
        Some(1e6)
    );
    assert_eq!(
        book.tokens_per_unit("Amazon Bedrock", "USE1-NovaLite-input-tokens"),
        Some(1e3)
    );
    assert_eq!(
        book.tokens_per_unit(
            "Amazon Bedrock Service",
            "USW2-Claude4.5Sonnet-input-tokens"
        ),
        Some(1e3)
    );
    // A listing the book has no product of, and a line that is not tokens.
    assert_eq!(
        book.tokens_per_unit(
            "Claude 3.7 Sonnet (Amazon Bedrock Edition)",
            "USE1-MP:USE1_InputTokenCount-Units"
        ),
        None
    );
    assert_eq!(
        book.tokens_per_unit("Amazon Bedrock", "USE1-ProvisionedThroughput"),
        None
    );
}
