//! `report --output html`: the page is the JSON's figures for people. Fixed reports built with
//! the library's own types (a week of four models, one through a team's inference profile and
//! one unpriced, the invocation logs per principal and the bill, as `--compare --by-principal`
//! builds them; billed spend by tag; a run over three targets, one failed) are rendered and
//! checked: the page's structure against an insta snapshot, every number of the JSON on the
//! page as the page formats it, and in headless Chromium (skipped where there is none) the bars
//! each chart draws, nothing wider than the viewport at 1280 and 390 px, and no request made.
//! End to end against moto: `--output html` and `--out` for every source, and the bad input
//! that is refused before any AWS call.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use bedrock_monitor::cost::catalogue::CatalogModel;
use bedrock_monitor::cost::prices;
use bedrock_monitor::quotas::{ListedQuota, QuotaBook};
use bedrock_monitor::report::billing::{
    BilledModel, Billing, TagSpend, TagValueSpend, UnmappedUsage,
};
use bedrock_monitor::report::html::{self, Page};
use bedrock_monitor::report::metrics::ModelDay;
use bedrock_monitor::report::profiles::ProfileRef;
use bedrock_monitor::report::quotas::{self, OpenRequest, Request as QuotaRequest, Series, Usage};
use bedrock_monitor::report::{
    ModelMetrics, PrincipalCheck, PrincipalUsage, Report, Window, compare, daily, logs,
};

use crate::support::browser::Browser;
use crate::support::env::TestEnv;

const HAIKU: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET: &str = "anthropic.claude-sonnet-4-20250514-v1:0";
const NOVA: &str = "amazon.nova-pro-v1:0";
/// An application inference profile's ID, as CloudWatch's `ModelId` shows calls through it.
const PROFILE: &str = "k3v9x2m4q8rt";
const UNKNOWN: &str = "acme.mystery-model-v1:0";
const ALICE: &str = "arn:aws:sts::123456789012:assumed-role/TeamSearch/alice";
const BOB: &str = "arn:aws:sts::123456789012:assumed-role/Analytics/bob";
const CI: &str = "arn:aws:iam::123456789012:user/ci-deployer";

fn utc(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .single()
        .expect("time")
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("date")
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn page() -> Page<'static> {
    Page {
        stack: "bedrock-monitor",
        generated_at: utc(8, 9),
    }
}

/// One model's week: (invocations, input, output) per day, 1 to 7 November.
fn week(model: &str, day: u32) -> (f64, f64, f64) {
    let d = f64::from(day);
    let (inv, per_in, per_out) = match model {
        HAIKU => (120.0 + 15.0 * d, 2000.0, 400.0),
        SONNET => (30.0 + f64::from(day % 3) * 10.0, 4000.0, 1200.0),
        NOVA if day > 2 => (50.0, 1500.0, 300.0),
        PROFILE => (20.0 + 5.0 * d, 2500.0, 500.0),
        UNKNOWN if day == 1 || day == 4 => (7.0, 700.0, 150.0),
        _ => (0.0, 0.0, 0.0),
    };
    (inv, inv * per_in, inv * per_out)
}

fn cost(model: &str, input: u64, output: u64) -> Option<f64> {
    prices::lookup(model, None, &BTreeMap::new()).map(|p| round6(p.price.cost(input, output)))
}

/// The fixed reports' week, 1 to 8 November 2026.
fn report_window() -> Window {
    Window {
        start: utc(1, 0),
        end: utc(8, 0),
    }
}

/// Metrics for a week of the given models, as `build_report` folds them, and the report of
/// them with its day rows.
fn metrics_report(ids: &[&str], region: &str) -> Report {
    let window = report_window();
    let mut days: BTreeMap<NaiveDate, BTreeMap<usize, ModelDay>> = BTreeMap::new();
    let mut metrics = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let mut m = ModelMetrics::new(*id);
        for day in 1..=7 {
            let (invocations, input_tokens, output_tokens) = week(id, day);
            if invocations == 0.0 {
                continue;
            }
            days.entry(date(day)).or_default().insert(
                index,
                ModelDay {
                    invocations,
                    input_tokens,
                    output_tokens,
                    ..ModelDay::default()
                },
            );
            m.invocations += invocations;
            m.input_tokens += input_tokens;
            m.output_tokens += output_tokens;
            m.latency_sum_ms += invocations * (400.0 + 100.0 * index as f64);
            m.latency_samples += invocations;
            m.has_data = true;
        }
        m.client_errors = index as f64;
        m.throttles = if *id == HAIKU { 4.0 } else { 0.0 };
        m.cache_read_input_tokens = if *id == SONNET { 120_000.0 } else { 0.0 };
        if *id == PROFILE {
            m.profile = Some(ProfileRef {
                name: "team-search".into(),
                arn: format!(
                    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{PROFILE}"
                ),
                model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
            });
        }
        metrics.push(m);
    }
    let pricing = BTreeMap::new();
    let mut report = Report::from_metrics(&window, 3600, region, &pricing, metrics);
    let model_ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    report.daily = Some(daily::from_metrics(
        &days,
        &model_ids,
        &report.models,
        &pricing,
        region,
    ));
    report
}

fn principal(who: &str, model: &str, share: f64) -> PrincipalUsage {
    let (mut inv, mut input, mut output) = (0u64, 0u64, 0u64);
    for day in 1..=7 {
        let (i, tin, tout) = week(model, day);
        inv += (i * share).round() as u64;
        input += (tin * share).round() as u64;
        output += (tout * share).round() as u64;
    }
    PrincipalUsage {
        principal: who.into(),
        model_id: model.into(),
        invocations: inv,
        input_tokens: input,
        output_tokens: output,
        uncounted_records: u64::from(who == CI),
        cost_usd: cost(model, input, output),
        price_key: prices::lookup(model, None, &BTreeMap::new()).map(|p| p.key),
    }
}

/// `report --compare --by-principal --daily` over the week: metrics, logs and the bill. The
/// logs miss a little of Haiku's use (unattributed), and the bill puts the profile's Haiku
/// calls under Claude 3.5 Haiku, so that row is flagged.
pub fn compare_report() -> Report {
    let mut report = metrics_report(&[HAIKU, SONNET, NOVA, PROFILE, UNKNOWN], "us-east-1");
    let rows = vec![
        principal(ALICE, PROFILE, 1.0),
        principal(ALICE, HAIKU, 0.55),
        principal(BOB, HAIKU, 0.4),
        principal(BOB, SONNET, 1.0),
        principal(CI, NOVA, 1.0),
        principal(CI, UNKNOWN, 1.0),
    ];
    logs::attach(&mut report, &rows, true, Some(2.0));
    let check = PrincipalCheck::new(&rows, &report.totals);
    report.notes.extend(check.notes());
    report.principals_check = Some(check);
    report.principals = Some(rows);

    let row = |id: &str| {
        report
            .models
            .iter()
            .find(|m| m.model_id == id)
            .expect("model row")
            .clone()
    };
    let (haiku, profile, sonnet, nova) = (row(HAIKU), row(PROFILE), row(SONNET), row(NOVA));
    let billed = |name: &str, rows: &[&bedrock_monitor::report::ModelUsage], factor: f64| {
        let input: u64 = rows.iter().map(|r| r.input_tokens).sum();
        let output: u64 = rows.iter().map(|r| r.output_tokens).sum();
        let total: f64 = rows.iter().filter_map(|r| r.cost_usd).sum::<f64>() * factor;
        let input_cost = round6(total * 0.3);
        BilledModel {
            model: name.into(),
            input_cost_usd: input_cost,
            output_cost_usd: round6(total - input_cost),
            cache_cost_usd: 0.0,
            other_cost_usd: 0.0,
            cost_usd: round6(total),
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_read_tokens: Some(0),
            cache_write_tokens: Some(0),
        }
    };
    let mut sonnet_bill = billed("Claude Sonnet 4", &[&sonnet], 1.004);
    sonnet_bill.cache_cost_usd = 0.036;
    sonnet_bill.cache_read_tokens = Some(120_000);
    sonnet_bill.cost_usd = round6(sonnet_bill.cost_usd + 0.036);
    let models = vec![
        billed("Claude 3.5 Haiku", &[&haiku, &profile], 1.0),
        sonnet_bill,
        billed("NovaPro", &[&nova], 1.0),
    ];
    let unmapped = vec![UnmappedUsage {
        service: "Amazon Bedrock".into(),
        usage_type: "USE1-ProvisionedThroughput-ModelUnits".into(),
        cost_usd: 12.5,
    }];
    let days_total: Vec<f64> = report
        .daily
        .iter()
        .flatten()
        .map(|d| d.estimated_cost_usd.unwrap_or(0.0))
        .collect();
    let all: f64 = models.iter().map(|m| m.cost_usd).sum::<f64>() + 12.5;
    let estimate: f64 = days_total.iter().sum();
    let billing = Billing {
        start: Some(date(1)),
        end: Some(date(8)),
        days: report
            .daily
            .iter()
            .flatten()
            .map(|d| bedrock_monitor::report::billing::BilledDay {
                date: d.date,
                cost_usd: round6(d.estimated_cost_usd.unwrap_or(0.0) / estimate * all),
                tokens: Some(d.input_tokens + d.output_tokens),
            })
            .collect(),
        total_cost_usd: round6(all),
        complete: true,
        requests: 1,
        models,
        services: vec![bedrock_monitor::report::billing::ServiceSpend {
            service: "Amazon Bedrock".into(),
            cost_usd: round6(all),
        }],
        unmapped_usage_types: unmapped.clone(),
        by_tag: None,
        projection: None,
    };
    compare::attach(&mut report, &billing, 2.0);
    if let Some(days) = report.daily.as_mut() {
        daily::add_billing(days, &billing);
    }
    report.billing_complete = Some(true);
    report.unmapped_usage_types = Some(unmapped);
    report.totals.billed_cost_usd = Some(billing.total_cost_usd);
    report.billing = Some(billing);
    report.source = vec!["metrics", "logs", "billing"];
    report.ce_requests = 1;
    report
}

/// `report --by-tag Team --output html`: the bill only, per tag value with untagged spend, and
/// the bill's days; the current month, so with Cost Explorer's forecast.
pub fn by_tag_report() -> Report {
    let mut report = metrics_report(&[], "us-east-1");
    report
        .notes
        .retain(|n| !n.starts_with("no Bedrock model metrics"));
    let values = vec![
        TagValueSpend {
            value: Some("search".into()),
            cost_usd: 41.2,
        },
        TagValueSpend {
            value: Some("platform".into()),
            cost_usd: 18.754321,
        },
        TagValueSpend {
            value: None,
            cost_usd: 9.1,
        },
    ];
    let billing = Billing {
        start: Some(date(1)),
        end: Some(date(8)),
        days: (1..=7)
            .map(|d| bedrock_monitor::report::billing::BilledDay {
                date: date(d),
                cost_usd: 8.0 + f64::from(d),
                tokens: Some(1_000_000 + u64::from(d) * 50_000),
            })
            .collect(),
        total_cost_usd: 69.054321,
        complete: true,
        requests: 2,
        by_tag: Some(TagSpend {
            key: "Team".into(),
            values,
        }),
        projection: Some(bedrock_monitor::report::billing::BilledProjection {
            month_to_date_usd: 69.054321,
            forecast_rest_of_month_usd: 226.5,
            month_end_usd: 295.554321,
            month_end: date(30).succ_opt().expect("December"),
        }),
        ..Billing::default()
    };
    let mut days = Vec::new();
    daily::add_billing(&mut days, &billing);
    report.daily = Some(days);
    report.billing_complete = Some(true);
    report.unmapped_usage_types = Some(Vec::new());
    report.totals.billed_cost_usd = Some(billing.total_cost_usd);
    report.billing = Some(billing);
    report.source = vec!["billing"];
    report.ce_requests = 2;
    report
}

/// `report --output html` with `[quotas]`: the week's metrics and the quota section as
/// `report::quotas` builds it from a quota book and per-minute use. Haiku through its US
/// profile peaks over the alarm share of its cross-Region quota; Sonnet in-Region has a
/// minute quota and a daily one; Nova and the
/// profile have no quota of their scope; one quota names a model the catalogue lacks; one
/// increase request is open. The quota codes are the fixture's own (`L-FIX…`); the names are
/// in the forms ListServiceQuotas gives.
pub fn quotas_report() -> Report {
    let mut report = metrics_report(&[HAIKU, SONNET, NOVA, PROFILE], "us-east-1");
    let listed = |code: &str, name: &str, value: f64| ListedQuota {
        code: code.into(),
        name: name.into(),
        value,
        adjustable: true,
    };
    let book = QuotaBook::new(
        vec![
            listed(
                "L-FIX00001",
                "Cross-region model inference tokens per minute for Anthropic Claude 3.5 Haiku",
                4_000_000.0,
            ),
            listed(
                "L-FIX00002",
                "Cross-region model inference requests per minute for Anthropic Claude 3.5 Haiku",
                2_000.0,
            ),
            listed(
                "L-FIX00003",
                "On-demand model inference tokens per minute for Anthropic Claude Sonnet 4",
                200_000.0,
            ),
            listed(
                "L-FIX00004",
                "Model invocation max tokens per day for Anthropic Claude Sonnet 4 (doubled for cross-region calls)",
                288_000_000.0,
            ),
            listed(
                "L-FIX00005",
                "On-demand model inference tokens per minute for Acme Mystery Model",
                50_000.0,
            ),
        ],
        &[
            CatalogModel {
                id: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
                name: "Claude 3.5 Haiku".into(),
                provider: "Anthropic".into(),
            },
            CatalogModel {
                id: SONNET.into(),
                name: "Claude Sonnet 4".into(),
                provider: "Anthropic".into(),
            },
        ],
    );
    // Per-minute use on the 7th of November: (minute of the day, tokens, requests).
    let minutes = |points: &[(i64, f64, f64)]| {
        let at = |m: i64| utc(7, 0).timestamp() + m * 60;
        (
            Series {
                points: points.iter().map(|&(m, t, _)| (at(m), t)).collect(),
            },
            Series {
                points: points.iter().map(|&(m, _, r)| (at(m), r)).collect(),
            },
        )
    };
    let mut usage = Usage::new();
    usage.insert(
        HAIKU.into(),
        minutes(&[
            (600, 1_200_000.0, 300.0),
            (601, 3_600_000.0, 1_150.0),
            (602, 800_000.0, 200.0),
        ]),
    );
    usage.insert(
        SONNET.into(),
        minutes(&[(610, 90_000.0, 20.0), (611, 45_500.0, 12.0)]),
    );
    usage.insert(NOVA.into(), minutes(&[(620, 30_000.0, 50.0)]));
    usage.insert(PROFILE.into(), minutes(&[(630, 12_000.0, 25.0)]));
    let open = vec![OpenRequest {
        id: "7f3c2a9e1b".into(),
        quota_code: "L-FIX00001".into(),
        quota_name: "Cross-region model inference tokens per minute for Anthropic Claude 3.5 Haiku"
            .into(),
        desired_value: Some(6_000_000.0),
        status: "CASE_OPENED".into(),
        created: Some("2026-11-07T12:00:00+00:00".into()),
        case_id: Some("177001234500123".into()),
    }];
    let request = QuotaRequest {
        window: report_window(),
        days: 7,
        models: Vec::new(),
        alarm_percent: Some(80.0),
    };
    report.quotas = Some(quotas::build(&book, &usage, open, &request));
    report
}

/// `report --output html` over `[targets]`: two regions of one account and an account whose
/// role could not be assumed, as `targets::Summary` serializes them, with the totals across.
pub fn fleet_doc() -> Value {
    let entry = |report: &Report, account: &str, region: &str| {
        let mut v = serde_json::to_value(report).expect("report JSON");
        v["account"] = json!(account);
        v["region"] = json!(region);
        v["error"] = Value::Null;
        v["exit_code"] = json!(0);
        v
    };
    let east = metrics_report(&[HAIKU, SONNET], "us-east-1");
    let west = metrics_report(&[NOVA], "us-west-2");
    let sum = |f: fn(&Report) -> u64| f(&east) + f(&west);
    json!({
        "stack": "bedrock-monitor",
        "command": "report",
        "targets": [
            entry(&east, "111111111111", "us-east-1"),
            entry(&west, "111111111111", "us-west-2"),
            {
                "account": "222222222222",
                "region": "us-east-1",
                "error": "could not work in account 222222222222: sts:AssumeRole failed (AccessDenied): User is not authorized to perform: sts:AssumeRole",
                "exit_code": 1,
            },
        ],
        "skipped": [{"account": "333333333333", "reason": "SUSPENDED", "state": "SUSPENDED"}],
        "interrupted": false,
        "totals": {
            "invocations": sum(|r| r.totals.invocations),
            "input_tokens": sum(|r| r.totals.input_tokens),
            "output_tokens": sum(|r| r.totals.output_tokens),
            "cost_usd": round6(east.totals.cost_usd + west.totals.cost_usd),
        },
    })
}

fn fixtures() -> Vec<(&'static str, Value)> {
    let mut docs = vec![
        (
            "compare",
            serde_json::to_value(compare_report()).expect("JSON"),
        ),
        (
            "by_tag",
            serde_json::to_value(by_tag_report()).expect("JSON"),
        ),
        ("fleet", fleet_doc()),
        (
            "quotas",
            serde_json::to_value(quotas_report()).expect("JSON"),
        ),
    ];
    for (_, doc) in &mut docs {
        fix_prices_age(doc);
    }
    docs
}

/// The built-in prices' age grows every day: the snapshots show it as 400 days.
fn fix_prices_age(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            if let Some(prices) = map.get_mut("prices").and_then(Value::as_object_mut)
                && prices.contains_key("age_days")
            {
                prices.insert("age_days".into(), serde_json::json!(400));
            }
            map.values_mut().for_each(fix_prices_age);
        }
        Value::Array(items) => items.iter_mut().for_each(fix_prices_age),
        _ => {}
    }
}

fn render(doc: &Value) -> String {
    html::render(doc, &page()).expect("the page renders")
}

/// Every number in the JSON is on the page, formatted as the page formats it.
#[track_caller]
fn assert_every_number_shown(doc: &Value, page: &str) {
    let missing: Vec<String> = html::numbers(doc)
        .into_iter()
        .map(|(key, value, signed)| (key.clone(), html::format_field(&key, &value, signed)))
        .filter(|(_, text)| !page.contains(text.as_str()))
        .map(|(key, text)| format!("{key} = {text}"))
        .collect();
    assert!(
        missing.is_empty(),
        "numbers of the JSON not on the page: {missing:?}"
    );
}

/// Nothing on the page is fetched: no `src`/`href` or CSS `url()` to another place, no
/// `@import`, no script.
#[track_caller]
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for pattern in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "url(\"http",
        "url('http",
        "@import",
        "<script",
        "<link",
        "<img",
    ] {
        assert!(!lower.contains(pattern), "the page has {pattern}");
    }
    let external =
        regex::Regex::new(r#"(?i)(src|href)\s*=\s*["']?\s*(https?:)?//"#).expect("regex");
    assert!(!external.is_match(page), "the page links outside itself");
}

#[test]
fn every_number_of_the_json_is_on_the_page() {
    for (name, doc) in fixtures() {
        let page = render(&doc);
        assert_every_number_shown(&doc, &page);
        assert_self_contained(&page);
        assert!(
            page.contains("<table") && page.contains("<th scope=\"col\""),
            "{name}: real tables with headers"
        );
    }
}

/// What the compare page must show beyond its numbers: the flagged row highlighted with a
/// word (not colour alone), the unattributed shares named, the prices' date and the bill's
/// completeness in the header.
#[test]
fn the_compare_page_flags_and_attributes() {
    let report = compare_report();
    let doc = serde_json::to_value(&report).expect("JSON");
    let page = render(&doc);
    let flagged: Vec<&str> = report
        .models
        .iter()
        .filter(|m| m.differences.as_ref().is_some_and(|d| d.flagged))
        .map(|m| m.model_id.as_str())
        .collect();
    assert!(flagged.contains(&HAIKU), "{flagged:?}");
    assert_eq!(
        page.matches("<tr class=\"flagged\">").count(),
        flagged.len(),
        "one highlighted row per flagged model"
    );
    assert_eq!(
        page.matches("<span class=\"badge\">differs</span>").count(),
        flagged.len()
    );
    assert!(page.contains(&format!("as of {}", report.prices_as_of)));
    assert!(page.contains("complete"));
    for unattributed in [
        "Not through an application inference profile",
        "Not attributed to a principal",
        "Usage types that name no model",
    ] {
        assert!(page.contains(unattributed), "{unattributed}");
    }
    assert!(page.contains("team-search"), "the profile by its name");
}

/// The quota section as a person reads it: a row per model and kind with the over-alarm rows
/// marked by a word as well as a colour, a bar per quota, the quotas not tied to a model and
/// the open request listed; when the report's window reaches back further than CloudWatch's
/// per-minute datapoints, the page says the figures cover the last 15 days only. A report
/// without `[quotas]` has no such section (nor a `quotas` key in its JSON).
#[test]
fn the_quota_section_shows_each_models_headroom() {
    let report = quotas_report();
    let section = report.quotas.as_ref().expect("the quota section");
    let mut doc = serde_json::to_value(&report).expect("JSON");
    let page = render(&doc);
    assert!(page.contains("<h3 id=\"report-quotas\" class=\"part\">Quota headroom</h3>"));
    let over: Vec<&str> = section
        .rows
        .iter()
        .filter(|r| r.over_alarm_share)
        .map(|r| r.model_id.as_str())
        .collect();
    assert_eq!(over, [HAIKU], "the fixture has one row over the share");
    let table = &page[page
        .find("<table class=\"data quotas\">")
        .expect("the table")..];
    let table = &table[..table.find("</table>").expect("its end")];
    assert_eq!(table.matches("<tr class=\"flagged\">").count(), 1);
    assert_eq!(
        table
            .matches("<span class=\"badge\">over alarm</span>")
            .count(),
        1
    );
    assert_eq!(
        table.matches("<tr").count() - 1,
        section.rows.len(),
        "a row per model and kind, the header apart"
    );
    for shown in [
        "no quota",
        "4,000,000",
        "3,600,000",
        "10.0 %",
        "2026-11-07 10:01 UTC",
        "L-FIX00005",
        "Acme Mystery Model",
        "CASE_OPENED",
        "6,000,000",
        "team-search (profile)",
    ] {
        assert!(table.contains(shown) || page.contains(shown), "{shown}");
    }
    let chart = &page[page.find("data-chart=\"quotas\"").expect("the chart")..];
    let chart = &chart[..chart.find("</figure>").expect("its end")];
    assert_eq!(chart.matches("<svg class=\"bar\"").count(), 4);
    assert!(
        chart.contains("<rect class=\"seg s1\""),
        "the over-alarm bar"
    );
    assert!(chart.contains("90.0 %"), "{chart}");
    assert!(!page.contains("Only the last 15 days"));

    doc["quotas"]["clipped_from"] = json!("2026-10-09T00:00:00+00:00");
    let page = render(&doc);
    assert!(
        page.contains(
            "<strong>Only the last 15 days:</strong> the report's window starts 2026-10-09 00:00 UTC"
        ),
        "the clipping is said"
    );

    let plain = serde_json::to_value(compare_report()).expect("JSON");
    assert!(plain.get("quotas").is_none());
    assert!(!render(&plain).contains("Quota headroom"));
}

/// The HTML's structure (elements, their roles and classes, and their text; no CSS, no bar
/// geometry) for the fixed reports, so a change to the page is seen in review.
#[test]
fn the_page_structure_is_stable() {
    for (name, doc) in fixtures() {
        insta::assert_snapshot!(name, outline(&render(&doc)));
    }
}

/// The page as an indented outline: one line per element with its identifying attributes,
/// text on its own line; `<style>` left out.
fn outline(html: &str) -> String {
    let tag = regex::Regex::new(r#"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*?)(/?)>"#).expect("regex");
    let attr = regex::Regex::new(
        r#"\b(id|class|role|scope|aria-label|aria-labelledby|data-chart|data-bars|data-label|lang|title|href)="([^"]*)""#,
    )
    .expect("regex");
    let body = html.split("</style>").nth(1).unwrap_or(html);
    let mut out = String::new();
    let mut depth = 0usize;
    let mut last = 0;
    let void = ["meta", "br", "input", "img"];
    let unescape = |s: &str| {
        s.replace("&#x2f;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let text = |s: &str, depth: usize, out: &mut String| {
        let t = unescape(&s.split_whitespace().collect::<Vec<_>>().join(" "));
        if !t.is_empty() {
            out.push_str(&format!("{}\"{t}\"\n", "  ".repeat(depth)));
        }
    };
    for m in tag.captures_iter(body) {
        let whole = m.get(0).expect("match");
        text(&body[last..whole.start()], depth, &mut out);
        last = whole.end();
        let name = &m[2];
        if &m[1] == "/" {
            depth = depth.saturating_sub(1);
            continue;
        }
        let attrs: Vec<String> = attr
            .captures_iter(&m[3])
            .map(|a| format!("{}={:?}", &a[1], unescape(&a[2])))
            .collect();
        out.push_str(&format!(
            "{}<{name}{}{}>\n",
            "  ".repeat(depth),
            if attrs.is_empty() { "" } else { " " },
            attrs.join(" ")
        ));
        if &m[4] != "/" && !void.contains(&name) {
            depth += 1;
        }
    }
    out
}

/// The bars each chart must draw, from the JSON: a column per day, a bar per model row (by
/// profile), per principal row plus the unattributed one, per tag value, per billed model plus
/// each unmapped usage type, per target.
fn expected_bars(doc: &Value) -> Vec<(String, usize)> {
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    let mut out = Vec::new();
    let report = |r: &Value, out: &mut Vec<(String, usize)>| {
        if len(&r["daily"]) > 0 {
            out.push(("daily".into(), len(&r["daily"])));
        }
        let models = r["models"].as_array().cloned().unwrap_or_default();
        let metrics = r["source"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("metrics")));
        if models.iter().any(|m| m.get("profile").is_some()) {
            out.push(("profiles".into(), models.len()));
        } else if metrics && !models.is_empty() {
            out.push(("models".into(), models.len()));
        }
        if len(&r["principals"]) > 0 {
            let attributed: f64 = r["principals"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["cost_usd"].as_f64())
                .sum();
            let unattributed = r["totals"]["cost_usd"].as_f64().unwrap_or(0.0) > attributed;
            out.push((
                "principals".into(),
                len(&r["principals"]) + usize::from(unattributed),
            ));
        }
        if r["billing"]["by_tag"].is_object() {
            out.push(("tags".into(), len(&r["billing"]["by_tag"]["values"])));
        } else if r["billing"].is_object() {
            let n = len(&r["billing"]["models"]) + len(&r["unmapped_usage_types"]);
            if n > 0 {
                out.push(("billed".into(), n));
            }
        }
        let with_quota = r["quotas"]["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| row["quota"].as_f64().is_some_and(|q| q > 0.0))
            .count();
        if with_quota > 0 {
            out.push(("quotas".into(), with_quota));
        }
    };
    match doc["targets"].as_array() {
        Some(targets) => {
            out.push(("accounts".into(), targets.len()));
            for t in targets.iter().filter(|t| t["error"].is_null()) {
                report(t, &mut out);
            }
        }
        None => report(doc, &mut out),
    }
    out
}

/// In a real browser: each fixed page (and the demo-like page from moto, below) at a desktop
/// and a phone width, with a screenshot of each kept under the target directory to look at.
#[test]
fn the_page_in_a_real_browser() {
    let Some(browser) = Browser::find("the_page_in_a_real_browser") else {
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    // The check can fail: a page that fetches something is seen.
    let fetching = shots.join("fetching.html");
    std::fs::write(
        &fetching,
        "<!DOCTYPE html><html><body><img src=\"http://cdn.example.com/logo.png\" alt=\"\"></body></html>",
    )
    .expect("write page");
    browser.screenshot(&fetching, &shots.join("fetching.png"), 800, 600);
    let seen = browser.page_requests();
    assert!(
        seen.iter().any(|r| r.contains("cdn.example.com")),
        "the proxy sees a page's request: {seen:?} (all: {:?})",
        browser.requests()
    );
    let before = seen.len();
    for (name, doc) in fixtures() {
        let page = render(&doc);
        check_in_browser(&browser, &shots, name, &doc, &page);
    }
    let after = browser.page_requests();
    assert_eq!(
        after[before..],
        [] as [String; 0],
        "the report pages made no request (Chromium's own: {:?})",
        browser.requests()
    );
}

fn check_in_browser(browser: &Browser, shots: &Path, name: &str, doc: &Value, page: &str) {
    let file = shots.join(format!("{name}.html"));
    std::fs::write(&file, page).expect("write page");
    browser.screenshot(&file, &shots.join(format!("{name}-1280.png")), 1280, 2400);
    let expected = expected_bars(doc);
    for width in [1280, 390] {
        let measured = browser.measure(page, shots, width);
        assert_eq!(
            measured.viewport,
            f64::from(width),
            "{name}: laid out {width} px wide"
        );
        assert!(
            measured.overflowing.is_empty(),
            "{name} at {width} px: {:#?}",
            measured.overflowing
        );
        assert!(
            measured.scroll_width <= measured.viewport,
            "{name} at {width} px scrolls sideways ({} px)",
            measured.scroll_width
        );
        assert_eq!(
            measured.bars, expected,
            "{name} at {width} px: bars per chart"
        );
    }
    // The phone's view, for a person to look at.
    browser.screenshot(
        &shots.join("measure-390.html"),
        &shots.join(format!("{name}-390.png")),
        540,
        1600,
    );
}

/// One metric datum in moto, as Bedrock publishes it.
fn put_metric(env: &TestEnv, model: &str, metric: &str, at: DateTime<Utc>, value: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Bedrock")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("ModelId").value(model).build())
                    .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                    .value(value)
                    .build(),
            )
            .send(),
    )
    .expect("PutMetricData");
}

/// End to end against moto: two models over two days. `--output html --out FILE` writes the
/// page and nothing to stdout; the page has every number `--output json` prints for the same
/// report, and its daily chart a column per day; without `--out` the page is on stdout; every
/// source and grouping renders (the bill and the logs, which moto cannot give here, are then
/// named in the notes as the JSON names them).
#[test]
fn html_end_to_end_for_every_source() {
    let env = TestEnv::new();
    let first = (Utc::now() - chrono::Duration::days(4)).date_naive();
    let end = first + chrono::Duration::days(2);
    for (offset, scale) in [(0, 1.0), (1, 2.5)] {
        let at = (first + chrono::Duration::days(offset))
            .and_hms_opt(10, 0, 0)
            .expect("time")
            .and_utc();
        for (model, invocations, input, output) in [
            (HAIKU, 40.0, 80_000.0, 12_000.0),
            (SONNET, 10.0, 30_000.0, 9_000.0),
        ] {
            put_metric(&env, model, "Invocations", at, invocations * scale);
            put_metric(&env, model, "InputTokenCount", at, input * scale);
            put_metric(&env, model, "OutputTokenCount", at, output * scale);
        }
    }
    let (start, end) = (first.to_string(), end.to_string());
    let window = ["--start", start.as_str(), "--end", end.as_str()];
    let run = |extra: &[&str]| {
        let mut args = vec!["report"];
        args.extend(window);
        args.extend(extra);
        let run = env.run(&args);
        run.assert_code(0);
        run
    };

    let out = env.path("bedrock-report.html");
    let written = run(&["-o", "html", "--out", out.to_str().expect("path")]);
    assert_eq!(written.stdout, "", "with --out nothing goes to stdout");
    assert!(
        written.stderr.contains("report written to"),
        "{}",
        written.stderr
    );
    let page = std::fs::read_to_string(&out).expect("the page was written");
    let doc = run(&["--daily", "-o", "json"]).json();
    assert_eq!(doc["daily"].as_array().map(Vec::len), Some(2), "{doc:#}");
    assert_eq!(
        doc["daily"][1]["models"].as_array().map(Vec::len),
        Some(2),
        "each day carries its models"
    );
    assert_every_number_shown(&doc, &page);
    assert_self_contained(&page);
    assert_eq!(page.matches("<g class=\"column\">").count(), 2);

    let stdout = run(&["-o", "html"]).stdout;
    assert!(stdout.starts_with("<!DOCTYPE html>"), "{stdout}");

    for (extra, shows) in [
        (&["--source", "logs"][..], "logs source:"),
        (&["--by-principal"][..], "invocation logging is off"),
        (&["--source", "billing"][..], "Sources</dt><dd>billing"),
        (&["--compare"][..], "Sources</dt><dd>metrics, logs, billing"),
        (&["--by-tag", "Team"][..], "Sources</dt><dd>billing"),
        (
            &["--compare", "--by-principal"][..],
            "Estimated cost by model",
        ),
    ] {
        let mut args = extra.to_vec();
        args.extend(["-o", "html"]);
        let page = run(&args).stdout;
        assert!(
            page.starts_with("<!DOCTYPE html>") && page.contains(shows),
            "{extra:?}: {shows:?} not in the page:\n{page}"
        );
        assert_self_contained(&page);
    }
}

/// Bad input is refused with exit 3 before any AWS call: `--output html` on another command,
/// `--out` in a directory that does not exist or naming a directory. A write that fails after
/// the report is made names the file and why.
#[test]
fn html_bad_input_is_refused_before_any_call() {
    let env = TestEnv::new();
    let run = env.run(&["status", "-o", "html"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("--output html is only for `report`"),
        "{}",
        run.stderr
    );
    let missing = env.path("no-such-dir/report.html");
    let run = env.run(&["report", "--out", missing.to_str().expect("path")]);
    run.assert_code(3);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    let dir = env.dir_path().to_str().expect("path").to_string();
    let run = env.run(&["report", "-o", "html", "--out", &dir]);
    run.assert_code(3);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    assert!(
        env.proxy.calls().is_empty(),
        "no AWS call: {:?}",
        env.proxy.calls()
    );

    // /proc/version exists and cannot be written, even by root.
    let run = env.run(&["report", "-o", "html", "--out", "/proc/version"]);
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("cannot write the report to /proc/version"),
        "{}",
        run.stderr
    );
}
