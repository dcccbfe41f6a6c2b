//! `prices update` against the Price List stand-in (moto has no Price List API), then the
//! commands that price with the file it writes: `report` costs to the cent from the saved prices
//! (by the report's region, falling back to us-east-1 with a note), a model the list leaves out
//! reported unpriced, the prices' age and the 30-day warning, paging, an offer that answers
//! empty, and a dashboard that converges on the saved prices.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use serde_json::{Value, json};

use bedrock_monitor::aws::emulator_clients;
use bedrock_monitor::cost::prices::PriceBook;

use crate::support::env::TestEnv;
use crate::support::standin::{FIXTURE_OFFERS, fixture};

/// Where the binary looks for the price file in a test (HOME is the scratch directory).
fn price_file(env: &TestEnv) -> std::path::PathBuf {
    env.path(".cache/bedrock-monitor/prices.json")
}

/// One Price List product, as GetProducts answers it (a JSON string).
fn product(region: &str, usage_type: &str, usd: &str) -> String {
    json!({
        "product": {"productFamily": "Amazon Bedrock", "sku": "TESTSKU", "attributes": {
            "regionCode": region, "usagetype": usage_type, "servicecode": "AmazonBedrock",
            "servicename": "Amazon Bedrock", "operation": ""}},
        "serviceCode": "AmazonBedrock",
        "terms": {"OnDemand": {"TESTSKU.JRTCKXETXF": {
            "priceDimensions": {"TESTSKU.JRTCKXETXF.6YS6EN2CT7": {
                "unit": "1K tokens", "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                "description": format!("${usd} per 1K tokens for {usage_type}"),
                "pricePerUnit": {"USD": usd}}},
            "sku": "TESTSKU", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261201000000",
        "publicationDate": "2026-12-01T00:00:00Z",
    })
    .to_string()
}

fn usage_type_of(item: &str) -> String {
    let v: Value = serde_json::from_str(item).expect("product");
    v["product"]["attributes"]["usagetype"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The AmazonBedrock offer as the tests serve it: the fixture with Nova Pro in us-east-1 at
/// other prices (so the report's figures can only come from the file), Claude 3 Haiku in
/// eu-central-1 dearer than in us-east-1, and no Llama 3.3 at all.
fn amazon_bedrock_offer() -> Vec<String> {
    let mut items: Vec<String> = fixture("AmazonBedrock")
        .into_iter()
        .filter(|p| {
            let u = usage_type_of(p);
            !(u.starts_with("USE1-NovaPro-")
                || u.starts_with("EUC1-Claude3Haiku-")
                || u.contains("Llama3-3-70B"))
        })
        .collect();
    items.extend([
        product("us-east-1", "USE1-NovaPro-input-tokens", "0.0010000000"),
        product("us-east-1", "USE1-NovaPro-output-tokens", "0.0040000000"),
        product(
            "us-east-1",
            "USE1-NovaPro-cache-read-input-token-count",
            "0.0002500000",
        ),
        product(
            "eu-central-1",
            "EUC1-Claude3Haiku-input-tokens",
            "0.0003000000",
        ),
        product(
            "eu-central-1",
            "EUC1-Claude3Haiku-output-tokens",
            "0.0015000000",
        ),
    ]);
    items
}

/// Token metrics for `model` in `region`, half an hour ago.
fn put_usage(env: &TestEnv, region: &str, model: &str, counts: &[(&str, f64)]) {
    let at = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 1800);
    let clients = emulator_clients(&env.moto.url(), region);
    let mut request = clients
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/Bedrock");
    for (metric, value) in counts {
        request = request.metric_data(
            MetricDatum::builder()
                .metric_name(*metric)
                .dimensions(Dimension::builder().name("ModelId").value(model).build())
                .timestamp(at)
                .value(*value)
                .build(),
        );
    }
    env.block_on(async { request.send().await.expect("put metric data") });
}

fn row<'a>(doc: &'a Value, model: &str) -> &'a Value {
    doc["models"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["model_id"] == json!(model)))
        .unwrap_or_else(|| panic!("no row for {model}: {doc:#}"))
}

fn cost(doc: &Value, model: &str) -> Option<f64> {
    row(doc, model)["cost_usd"].as_f64()
}

fn get_products_calls(env: &TestEnv) -> usize {
    env.proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "GetProducts")
        .count()
}

#[test]
fn report_prices_from_the_saved_price_list_by_region() {
    let env = TestEnv::new();
    env.standin
        .set_price_list("AmazonBedrock", amazon_bedrock_offer());
    let run = env.run(&["prices", "update", "-o", "json"]);
    run.assert_code(0);
    let updated = run.json();
    let path = price_file(&env);
    assert_eq!(updated["path"], json!(path.display().to_string()));
    assert_eq!(
        updated["regions"],
        json!(["eu-central-1", "us-east-1", "us-west-2"])
    );
    let offers: Vec<&str> = updated["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(offers, FIXTURE_OFFERS);
    // The fixture's rates the tool cannot place are counted, never priced as others.
    assert_eq!(updated["skipped"]["total"], 8, "{updated:#}");
    assert_eq!(updated["skipped"]["unknown_models"], json!(["Nova2.0Lite"]));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("price file")).expect("json");
    assert_eq!(
        saved["as_of"],
        json!(chrono::Utc::now().date_naive().to_string())
    );
    // Every call went to the Price List's us-east-1 endpoint.
    assert!(
        env.proxy
            .calls()
            .iter()
            .filter(|c| c.operation == "GetProducts")
            .all(|c| c.signer.ends_with("/us-east-1")),
        "{:?}",
        env.proxy.calls()
    );

    let nova = "amazon.nova-pro-v1:0";
    let sonnet = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let llama = "meta.llama3-3-70b-instruct-v1:0";
    put_usage(
        &env,
        "us-east-1",
        nova,
        &[
            ("Invocations", 10.0),
            ("InputTokenCount", 200_000.0),
            ("OutputTokenCount", 50_000.0),
            ("CacheReadInputTokens", 40_000.0),
        ],
    );
    put_usage(
        &env,
        "us-east-1",
        sonnet,
        &[
            ("Invocations", 4.0),
            ("InputTokenCount", 100_000.0),
            ("OutputTokenCount", 10_000.0),
            ("CacheReadInputTokens", 1_000_000.0),
            ("CacheWriteInputTokens", 20_000.0),
        ],
    );
    put_usage(
        &env,
        "us-east-1",
        llama,
        &[
            ("Invocations", 5.0),
            ("InputTokenCount", 10_000.0),
            ("OutputTokenCount", 10_000.0),
        ],
    );
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    // 200 × $0.001 + 50 × $0.004 + 40 × $0.00025 (the saved prices, not the built-in $0.0008).
    assert_eq!(cost(&doc, nova), Some(0.41), "{doc:#}");
    assert_eq!(row(&doc, nova)["price_source"], "file");
    // Global Sonnet 4.5: 100 × $0.003 + 10 × $0.015 + 1000 × $0.0003 + 20 × $0.00375.
    assert_eq!(cost(&doc, sonnet), Some(0.825), "{doc:#}");
    // Left out of the list: unpriced, not priced as another Llama.
    assert_eq!(cost(&doc, llama), None, "{doc:#}");
    assert_eq!(doc["totals"]["cost_usd"], json!(1.235));
    let prices = &doc["prices"];
    assert_eq!(prices["source"], "file", "{prices:#}");
    assert_eq!(prices["path"], json!(path.display().to_string()));
    assert_eq!(prices["age_days"], 0);
    assert_eq!(prices["stale"], false);
    assert!(!run.stderr.contains("days old"), "{}", run.stderr);

    // eu-central-1: Claude 3 Haiku at the Frankfurt price; Nova Pro has none there and takes
    // us-east-1's, with a note that says so.
    let haiku = "eu.anthropic.claude-3-haiku-20240307-v1:0";
    put_usage(
        &env,
        "eu-central-1",
        haiku,
        &[
            ("Invocations", 3.0),
            ("InputTokenCount", 1_000_000.0),
            ("OutputTokenCount", 100_000.0),
        ],
    );
    put_usage(
        &env,
        "eu-central-1",
        nova,
        &[
            ("Invocations", 1.0),
            ("InputTokenCount", 100_000.0),
            ("OutputTokenCount", 0.0),
        ],
    );
    let run = env.run(&[
        "report",
        "--hours",
        "6",
        "--region",
        "eu-central-1",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    // 1000 × $0.0003 + 100 × $0.0015 (us-east-1 would give $0.375).
    assert_eq!(cost(&doc, haiku), Some(0.45), "{doc:#}");
    assert_eq!(cost(&doc, nova), Some(0.1), "{doc:#}");
    assert_eq!(doc["prices_region"], "eu-central-1");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("none in eu-central-1 for amazon.nova-pro-v1:0 (us-east-1)"),
        "{notes}"
    );

    // Text names the prices used.
    let text = env.run(&["report", "--hours", "6"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains(&format!(
            "from the Price List as saved in {}, as of {} (0 days old)",
            path.display(),
            chrono::Utc::now().date_naive()
        )),
        "{}",
        text.stdout
    );
}

#[test]
fn prices_update_reads_every_page_and_makes_the_built_in_table_of_the_fixture() {
    let env = TestEnv::new();
    let out = env.path("prices.json");
    let out_arg = out.display().to_string();
    let text = env.run(&["prices", "update", "--out", &out_arg]);
    text.assert_code(0);
    // The saved price file is the owner's alone (mode 0600).
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out)
            .expect("price file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    for line in [
        format!("Wrote 75 prices of 31 models in 3 regions to {out_arg}"),
        "Regions: eu-central-1, us-east-1, us-west-2".to_string(),
        "Offer AmazonBedrockService: 123 products, version 20251130203457".to_string(),
        "Skipped 8 rates the tool cannot place (never priced as another): 4 model no key \
         names, 1 not a model's tokens, 3 variant not priced"
            .to_string(),
        "neither a model key nor the model catalogue names them (use [pricing] entries): Nova2.0Lite".to_string(),
    ] {
        assert!(text.stdout.contains(&line), "{line}\n{}", text.stdout);
    }
    // 123 AmazonBedrockService products: two pages of at most 100.
    assert_eq!(env.standin.price_list_pages("AmazonBedrockService"), 2);
    let saved = PriceBook::load(&out).expect("valid").expect("written");
    // The built-in table is the same parse, of the reference region only.
    let reference: Vec<_> = saved
        .file
        .prices
        .iter()
        .filter(|row| row.region == "us-east-1")
        .cloned()
        .collect();
    assert_eq!(reference, PriceBook::builtin().file.prices);
    assert!(
        !price_file(&env).exists(),
        "--out writes there and only there"
    );

    // Small pages: every product is still read, one page at a time.
    let env = TestEnv::new();
    env.standin.limit_price_list_pages(7);
    let run = env.run(&["prices", "update", "--out", &out_arg, "-o", "json"]);
    run.assert_code(0);
    let products: usize = FIXTURE_OFFERS.iter().map(|o| fixture(o).len()).sum();
    let pages: usize = FIXTURE_OFFERS
        .iter()
        .map(|o| fixture(o).len().div_ceil(7))
        .sum();
    assert_eq!(get_products_calls(&env), pages);
    let read: u64 = run.json()["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .filter_map(|o| o["products"].as_u64())
        .sum();
    assert_eq!(read as usize, products);
    let saved = PriceBook::load(&out).expect("valid").expect("written");
    // The built-in table is the same parse, of the reference region only.
    let reference: Vec<_> = saved
        .file
        .prices
        .iter()
        .filter(|row| row.region == "us-east-1")
        .cloned()
        .collect();
    assert_eq!(reference, PriceBook::builtin().file.prices);

    // --region keeps those regions, asked for with a regionCode filter.
    let run = env.run(&[
        "prices",
        "update",
        "--out",
        &out_arg,
        "--region",
        "eu-central-1",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    assert_eq!(run.json()["regions"], json!(["eu-central-1"]));
}

#[test]
fn an_offer_that_answers_empty_is_an_error_and_nothing_is_written() {
    let env = TestEnv::new();
    env.standin
        .set_price_list("AmazonBedrockFoundationModels", Vec::new());
    let run = env.run(&["prices", "update"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("AmazonBedrockFoundationModels"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!price_file(&env).exists());
    // Bad input: refused before any call.
    env.proxy.clear();
    let run = env.run(&["prices", "update", "--region", "narnia-1"]);
    run.assert_code(3);
    assert_eq!(get_products_calls(&env), 0);
}

#[test]
fn old_prices_are_shown_with_their_age_and_warned_about() {
    let env = TestEnv::new();
    put_usage(
        &env,
        "us-east-1",
        "amazon.nova-lite-v1:0",
        &[
            ("Invocations", 1.0),
            ("InputTokenCount", 1000.0),
            ("OutputTokenCount", 1000.0),
        ],
    );
    let mut file = PriceBook::builtin().file.clone();
    file.as_of = chrono::Utc::now().date_naive() - chrono::Duration::days(45);
    let path = price_file(&env);
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, serde_json::to_string(&file).expect("json")).expect("write");
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let prices = &run.json()["prices"];
    assert_eq!(prices["age_days"], 45, "{prices:#}");
    assert_eq!(prices["stale"], true);
    assert_eq!(prices["source"], "file");
    assert!(
        run.stderr.contains("prices are 45 days old") && run.stderr.contains("prices update"),
        "{}",
        run.stderr
    );

    // Without a file: the built-in table, with its own date and age.
    std::fs::remove_file(&path).expect("rm");
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let prices = &run.json()["prices"];
    assert_eq!(prices["source"], "builtin", "{prices:#}");
    assert_eq!(prices["as_of"], PriceBook::builtin().file.as_of.to_string());

    // A file that is not a price file stops the run before any AWS call, naming the file.
    std::fs::write(&path, "{\"format\": 1").expect("write");
    env.proxy.clear();
    let run = env.run(&["report", "--hours", "6"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains(&path.display().to_string()) && run.stderr.contains("prices update"),
        "{}",
        run.stderr
    );
    assert!(env.proxy.calls().is_empty());
    // The bill carries its own costs: a billed report does not read the prices at all.
    let run = env.run(&["report", "--source", "billing", "--hours", "48"]);
    assert_ne!(run.code, 3, "{}", run.stderr);
    assert!(
        !run.stderr.contains(&path.display().to_string()),
        "{}",
        run.stderr
    );
}

#[test]
fn the_dashboard_prices_from_the_saved_list_and_converges() {
    let env = TestEnv::new();
    env.standin
        .set_price_list("AmazonBedrock", amazon_bedrock_offer());
    env.run(&["prices", "update"]).assert_code(0);
    env.write_config("[dashboard]\nmodels = [\"amazon.nova-pro-v1:0\"]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let body = env.dashboard_body();
    // The saved Nova Pro prices ($0.001 in, $0.004 out, $0.00025 cache reads).
    assert!(
        body.contains("in0/1000*0.001 + out0/1000*0.004 + (cread0+cread1x0)/1000*0.00025"),
        "{body}"
    );
    // A second run with the same file changes nothing.
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// A Price List product with a `model` attribute, as first-party products carry one.
fn named_product(region: &str, usage_type: &str, model: &str, usd: &str) -> String {
    let mut v: Value = serde_json::from_str(&product(region, usage_type, usd)).expect("product");
    v["product"]["attributes"]["model"] = json!(model);
    v.to_string()
}

/// A model released after this build: no key in the repository names "Ministral 3 8B" (the
/// built-in table and `MODEL_KEYS` know nothing of it), but the Price List prices it and
/// `bedrock:ListFoundationModels` names its ID. After `prices update` the report prices its
/// metrics to the cent: 2,000,000 input tokens at $0.0001 per 1,000 and 500,000 output at
/// $0.0003 = 0.20 + 0.15 = $0.35. A product no catalogue entry names is listed as not
/// priced, never guessed.
#[test]
fn a_model_nobody_here_has_heard_of_is_priced_after_prices_update() {
    use crate::support::standin::FoundationModel;

    let env = TestEnv::new();
    let id = "mistral.ministral-3-8b-instruct-v1:0";
    let mut offer = fixture("AmazonBedrock");
    offer.extend([
        named_product(
            "us-east-1",
            "USE1-Ministral3-8B-input-tokens",
            "Ministral 3 8B",
            "0.0001",
        ),
        named_product(
            "us-east-1",
            "USE1-Ministral3-8B-output-tokens",
            "Ministral 3 8B",
            "0.0003",
        ),
        named_product(
            "us-east-1",
            "USE1-Mystery9-input-tokens",
            "Mystery 9",
            "0.5",
        ),
        named_product(
            "us-east-1",
            "USE1-Mystery9-output-tokens",
            "Mystery 9",
            "0.5",
        ),
    ]);
    env.standin.set_price_list("AmazonBedrock", offer);
    env.standin.set_foundation_models(
        "us-east-1",
        vec![
            FoundationModel {
                id: id.into(),
                name: "Ministral 3 8B".into(),
                provider: "Mistral AI".into(),
            },
            FoundationModel {
                id: "amazon.nova-2-lite-v1:0".into(),
                name: "Nova 2 Lite".into(),
                provider: "Amazon".into(),
            },
        ],
    );
    let update = env.run(&["prices", "update", "-o", "json"]);
    update.assert_code(0);
    let doc = update.json();
    assert_eq!(doc["catalogue"][0]["region"], "us-east-1", "{doc:#}");
    assert_eq!(doc["catalogue"][0]["models"], 2, "{doc:#}");
    let unknown = doc["skipped"]["unknown_models"].to_string();
    assert!(unknown.contains("Mystery9"), "{unknown}");
    assert!(!unknown.contains("Ministral"), "{unknown}");
    // The recorded answer's Nova 2.0 Lite is named by the catalogue too.
    assert!(!unknown.contains("Nova2"), "{unknown}");
    assert!(
        env.proxy
            .calls()
            .iter()
            .any(|c| c.service == "bedrock" && c.path.starts_with("/foundation-models")),
        "the catalogue was not read"
    );
    let saved = std::fs::read_to_string(price_file(&env)).expect("price file");
    assert!(
        saved.contains("\"mistral.ministral-3-8b-instruct\""),
        "{saved}"
    );
    assert!(saved.contains("\"amazon.nova-2-lite\""), "{saved}");

    put_usage(
        &env,
        "us-east-1",
        id,
        &[
            ("Invocations", 20.0),
            ("InputTokenCount", 2_000_000.0),
            ("OutputTokenCount", 500_000.0),
        ],
    );
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let report = run.json();
    let cents = cost(&report, id).map(|c| (c * 100.0).round() as i64);
    assert_eq!(cents, Some(35), "{report:#}");
}
