use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::report::{ModelUsage, PrincipalUsage};

fn model(id: &str, cost: Option<f64>, invocations: u64) -> ModelUsage {
    ModelUsage {
        model_id: id.to_string(),
        invocations,
        cost_usd: cost,
        ..ModelUsage::empty()
    }
}

fn principal(arn: &str, model: &str, cost: Option<f64>, invocations: u64) -> PrincipalUsage {
    PrincipalUsage {
        principal: arn.to_string(),
        model_id: model.to_string(),
        invocations,
        input_tokens: 0,
        output_tokens: 0,
        uncounted_records: 0,
        cost_usd: cost,
        price_key: None,
    }
}

fn report(models: Vec<ModelUsage>, principals: Option<Vec<PrincipalUsage>>) -> Report {
    let mut r = Report::empty_for_tests();
    r.totals.cost_usd = models.iter().filter_map(|m| m.cost_usd).sum();
    r.totals.invocations = models.iter().map(|m| m.invocations).sum();
    r.projection.monthly_cost_usd = r.totals.cost_usd * 30.0 / 7.0;
    r.models = models;
    r.principals = principals;
    r
}

fn heading() -> Heading {
    Heading {
        stack: "bedrock-monitor".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        frequency: "weekly".into(),
    }
}

fn sample() -> Digest {
    let now = Utc.with_ymd_and_hms(2026, 5, 8, 10, 0, 30).unwrap();
    let (window, previous_window) = windows(7, now).unwrap();
    let current = report(
        vec![
            model("anthropic.claude-haiku", Some(6.0), 300),
            model("amazon.nova-lite", Some(1.5), 900),
            model("mystery.model", None, 4),
        ],
        Some(vec![
            principal("arn:aws:iam::123456789012:user/alice", "a", Some(5.0), 200),
            principal("arn:aws:iam::123456789012:user/alice", "b", Some(0.5), 10),
            principal("arn:aws:iam::123456789012:user/bob", "a", Some(2.0), 990),
        ]),
    );
    let previous = report(
        vec![
            model("anthropic.claude-haiku", Some(1.0), 50),
            model("amazon.nova-lite", Some(1.5), 900),
        ],
        Some(vec![principal(
            "arn:aws:iam::123456789012:user/bob",
            "a",
            Some(2.5),
            950,
        )]),
    );
    assemble(
        heading(),
        (&window, &current),
        (&previous_window, &previous),
        vec![BudgetState {
            name: "BedrockUsageBudget".into(),
            time_unit: Some("MONTHLY".into()),
            limit: Some(Amount {
                amount: 100.0,
                unit: "USD".into(),
            }),
            actual: Some(Amount {
                amount: 42.0,
                unit: "USD".into(),
            }),
            forecast: Some(Amount {
                amount: 120.0,
                unit: "USD".into(),
            }),
            unreadable: None,
        }],
        vec![Blocked {
            subject: "arn:aws:iam::123456789012:user/alice".into(),
            limit: "per-person".into(),
            since: Some(now - Duration::hours(3)),
        }],
    )
}

#[test]
fn windows_are_reports_and_the_one_before() {
    let now = Utc.with_ymd_and_hms(2026, 5, 8, 10, 0, 30).unwrap();
    let (w, p) = windows(7, now).unwrap();
    assert_eq!(w, Window::last_hours(168, now).unwrap());
    assert_eq!(p.end, w.start);
    assert_eq!(p.duration(), w.duration());
    let (d, _) = windows(1, now).unwrap();
    assert_eq!(d.duration(), Duration::hours(24));
}

#[test]
fn figures_come_from_the_reports() {
    let d = sample();
    assert_eq!(d.spend.estimated_usd, 7.5);
    assert_eq!(d.spend.previous_estimated_usd, 2.5);
    assert_eq!(d.spend.invocations, 1204);
    assert!((d.spend.projected_30_days_usd - 7.5 * 30.0 / 7.0).abs() < 1e-9);
    assert_eq!(d.top_models.len(), 3);
    assert_eq!(d.top_models[0].name, "anthropic.claude-haiku");
    let principals = d.top_principals.as_ref().unwrap();
    assert_eq!(principals[0].name, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(principals[0].cost_usd, Some(5.5));
    assert_eq!(principals[0].invocations, 210);
    // The largest changes first: alice +5.5 (new), haiku +5.0, bob -0.5; nova did not move.
    let moved: Vec<(&str, &str, f64)> = d
        .moved
        .iter()
        .map(|m| (m.kind, m.name.as_str(), m.change_usd))
        .collect();
    assert_eq!(
        moved,
        [
            ("principal", "arn:aws:iam::123456789012:user/alice", 5.5),
            ("model", "anthropic.claude-haiku", 5.0),
            ("principal", "arn:aws:iam::123456789012:user/bob", -0.5),
        ]
    );
}

#[test]
fn the_notification_has_the_custom_format() {
    let d = sample();
    let n = d.notification();
    assert_eq!(n["version"], "1.0");
    assert_eq!(n["source"], "custom");
    assert_eq!(n["content"]["textType"], "client-markdown");
    let description = n["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("Spend: $7.50 estimated"),
        "{description}"
    );
    assert!(description.contains("*Budgets*"));
    assert!(
        description
            .contains("BedrockUsageBudget: $42.00 of $100.00 (42%) this month, forecast $120.00")
    );
    assert!(description.contains("user/alice (limit per-person)"));
    assert!(
        n["content"]["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.is_string())
    );
    assert!(
        n["metadata"]["additionalContext"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.is_string())
    );
    assert!(
        n["content"]["title"]
            .as_str()
            .unwrap()
            .starts_with("Weekly Bedrock spend: $7.50")
    );
}

#[test]
fn one_message_carries_chat_json_and_email_text() {
    let d = sample();
    let body: serde_json::Value = serde_json::from_str(&publish::message(&d).unwrap()).unwrap();
    let default = body["default"].as_str().expect("default is a string");
    let chat: serde_json::Value = serde_json::from_str(default).unwrap();
    assert_eq!(chat, d.notification());
    assert_eq!(body["https"], body["default"]);
    let email = body["email"].as_str().unwrap();
    assert!(!email.contains('{') && !email.contains('}'), "{email}");
    assert!(email.contains("Top principals:"));
    assert!(email.contains("Projected for 30 days at this rate: $32.14."));
    let subject = publish::subject(&d);
    assert!(subject.len() <= 100 && subject.is_ascii());
}

#[test]
fn a_period_is_due_a_little_early_not_twice() {
    let now = Utc.with_ymd_and_hms(2026, 5, 8, 10, 0, 0).unwrap();
    assert!(due(None, 7, now));
    assert!(!due(Some(now - Duration::days(1)), 7, now));
    assert!(due(
        Some(now - Duration::days(7) + Duration::minutes(5)),
        7,
        now
    ));
    assert!(!due(Some(now - Duration::hours(23)), 1, now));
    assert!(due(Some(now - Duration::hours(24)), 1, now));
}

#[test]
fn no_principals_is_said_not_hidden() {
    let now = Utc.with_ymd_and_hms(2026, 5, 8, 10, 0, 0).unwrap();
    let (w, p) = windows(1, now).unwrap();
    let empty = report(Vec::new(), None);
    let d = assemble(
        heading(),
        (&w, &empty),
        (&p, &empty),
        Vec::new(),
        Vec::new(),
    );
    assert!(d.top_principals.is_none());
    let text = d.to_text();
    assert!(
        text.contains("not available from the invocation logs"),
        "{text}"
    );
    assert!(text.contains("no Bedrock use in this period"));
    assert!(text.contains("Blocked by the limits:\n  - no one"));
}
