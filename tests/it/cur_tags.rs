//! `report --source cur --by tag:KEY`: a tag key in every form CUR 2.0 writes it (Data Exports
//! user guide): the `tags` column prefixes each key with its source ("Tags column":
//! `resourceTags/`, `userAttribute/`, `accountTag/`, `costCategory/`; the Billing user guide's
//! IAM principal cost allocation adds `iamPrincipal/`); `resource_tags` holds resource tags by
//! the normalised name Athena gives CUR columns ("Running Amazon Athena queries", Column names:
//! `user:cost-center` is `user_cost_center`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::cur::{ALICE, assert_to_the_cent, cents, cur_report, export_env, periods, rows};
use crate::support::cur::CurLine;

type Pairs = &'static [(&'static str, &'static str)];

/// One tagged line: its `tags` and `resource_tags`, and the value the test expects `--by
/// tag:cost-center` to give it (any source) and `--by tag:resourceTags/cost-center` (resource
/// tags only).
struct Tagged {
    tags: Pairs,
    resource_tags: Pairs,
    any: Option<&'static str>,
    resource: Option<&'static str>,
}

const TAGGED: &[Tagged] = &[
    // The form of the Tags column's example, with the same tag in resource_tags as an export
    // that selects both columns has it.
    Tagged {
        tags: &[("resourceTags/cost-center", "cc-100")],
        resource_tags: &[("user_cost_center", "cc-100")],
        any: Some("cc-100"),
        resource: Some("cc-100"),
    },
    // The user-defined marker as the legacy CUR column names it (`resourceTags/user:…`).
    Tagged {
        tags: &[("resourceTags/user:cost-center", "cc-200")],
        resource_tags: &[],
        any: Some("cc-200"),
        resource: Some("cc-200"),
    },
    // Only the normalised resource_tags key.
    Tagged {
        tags: &[],
        resource_tags: &[("user_cost_center", "cc-300")],
        any: Some("cc-300"),
        resource: Some("cc-300"),
    },
    // Other sources, other case and punctuation: the same key once normalised.
    Tagged {
        tags: &[("userAttribute/Cost Center", "cc-400")],
        resource_tags: &[],
        any: Some("cc-400"),
        resource: None,
    },
    Tagged {
        tags: &[("accountTag/CostCenter", "cc-500")],
        resource_tags: &[],
        any: Some("cc-500"),
        resource: None,
    },
    Tagged {
        tags: &[("costCategory/cost_center", "cc-600")],
        resource_tags: &[],
        any: Some("cc-600"),
        resource: None,
    },
    Tagged {
        tags: &[("iamPrincipal/cost-center", "cc-700")],
        resource_tags: &[],
        any: Some("cc-700"),
        resource: None,
    },
    // An unprefixed user tag, as earlier exports wrote the tags column.
    Tagged {
        tags: &[("user:cost-center", "cc-800")],
        resource_tags: &[],
        any: Some("cc-800"),
        resource: Some("cc-800"),
    },
    // Two sources on one line: the resource's own tag wins over the account's.
    Tagged {
        tags: &[
            ("resourceTags/cost-center", "cc-100"),
            ("accountTag/cost-center", "cc-999"),
        ],
        resource_tags: &[],
        any: Some("cc-100"),
        resource: Some("cc-100"),
    },
    // Another key only: no cost center.
    Tagged {
        tags: &[("iamPrincipal/team", "search")],
        resource_tags: &[],
        any: None,
        resource: None,
    },
];

fn pairs(p: Pairs) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Each tagged line on each of three days, at a cost of its own.
fn tagged_lines(first: NaiveDate) -> Vec<(CurLine, &'static Tagged)> {
    let mut out = Vec::new();
    for d in 0..3i64 {
        for (i, t) in TAGGED.iter().enumerate() {
            let cost = 0.123_457 * (i as f64 + 1.0) + 0.010_001 * d as f64;
            let mut l = CurLine::bedrock(
                first + Duration::days(d),
                "USE1-NovaLite-input-tokens",
                cost,
            );
            l.principal = Some(ALICE.into());
            l.tags = pairs(t.tags);
            l.resource_tags = pairs(t.resource_tags);
            out.push((l, t));
        }
    }
    out
}

fn want(
    lines: &[(CurLine, &'static Tagged)],
    pick: impl Fn(&Tagged) -> Option<&'static str>,
) -> BTreeMap<Option<String>, f64> {
    let mut sums = BTreeMap::new();
    for (l, t) in lines {
        *sums.entry(pick(t).map(str::to_string)).or_insert(0.0) += l.cost;
    }
    sums
}

/// Every documented spelling of a key finds it wherever CUR 2.0 put it, to the cent; a key
/// found nowhere says so and lists the keys the export has, instead of a 100 % unattributed row.
#[test]
fn cur_tag_keys_are_found_in_every_form_and_a_missing_key_lists_the_keys_seen() {
    let (_, p2) = periods();
    let lines = tagged_lines(p2);
    let plain: Vec<CurLine> = lines.iter().map(|(l, _)| l.clone()).collect();
    let env = export_env(&plain);
    let report = |extra: &[&str]| cur_report(&env, p2, p2 + Duration::days(3), extra);

    let any = want(&lines, |t| t.any);
    for spelling in [
        "cost-center",
        "user:cost-center",
        "user_cost_center",
        "CostCenter",
        "Cost Center",
    ] {
        let by = format!("tag:{spelling}");
        let doc = report(&["--by", &by, "-o", "json"]).json();
        assert_to_the_cent(&rows(&doc, &by), &any);
        let found = &doc["tag_keys"][0];
        assert_eq!(found["found"], true, "{by}: {found}");
        assert_eq!(
            cents(doc["totals"]["unattributed_cost_usd"].as_f64().expect("u")),
            cents(any[&None]),
            "{by}"
        );
    }
    // Both sources on one line: the resource's tag counts, and the report says why.
    let doc = report(&["--by", "tag:cost-center", "-o", "json"]).json();
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("accountTag/cost-center") && notes.contains("tag:accountTag/cost-center"),
        "{notes}"
    );

    // A source named: only that source's keys.
    let resource = want(&lines, |t| t.resource);
    for spelling in [
        "resourceTags/cost-center",
        "resourceTags/user:cost-center",
        "resource_tags_user_cost_center",
    ] {
        let by = format!("tag:{spelling}");
        let doc = report(&["--by", &by, "-o", "json"]).json();
        assert_to_the_cent(&rows(&doc, &by), &resource);
    }
    let doc = report(&["--by", "tag:iamPrincipal/cost-center", "-o", "json"]).json();
    let got = rows(&doc, "tag:iamPrincipal/cost-center");
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        [None, Some("cc-700".to_string())]
    );

    // A key no line has: said, with the keys seen, and not shown as unattributed spend.
    let doc = report(&["--by", "tag:owner", "-o", "json"]).json();
    let owner = &doc["tag_keys"][0];
    assert_eq!(owner["dimension"], "tag:owner");
    assert_eq!(owner["found"], false, "{owner}");
    let seen: Vec<&str> = owner["seen"]
        .as_array()
        .expect("seen")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for key in [
        "tags['iamPrincipal/team']",
        "tags['resourceTags/cost-center']",
        "tags['userAttribute/Cost Center']",
        "resource_tags['user_cost_center']",
    ] {
        assert!(seen.contains(&key), "{key} not in {seen:?}");
    }
    assert_eq!(doc["totals"]["unattributed_cost_usd"], 0.0);
    let row = &doc["rows"][0];
    assert!(row["tag:owner"].is_null(), "{row}");
    assert_eq!(row["unattributed"], false, "{row}");
    assert!(
        doc["notes"].to_string().contains("tag key \\\"owner\\\""),
        "{}",
        doc["notes"]
    );
    let text = report(&["--by", "tag:owner"]).stdout;
    assert!(
        text.contains("tag key \"owner\"")
            && text.contains("tags['iamPrincipal/team']")
            && text.contains("resource_tags['user_cost_center']"),
        "{text}"
    );
    assert!(!text.contains("(unattributed)"), "{text}");
    assert!(!text.contains("Unattributed"), "{text}");
}
