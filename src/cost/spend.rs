//! The one definition of "Bedrock spend": what a budget, an anomaly monitor or a billed report
//! counts as money spent on Amazon Bedrock.
//!
//! Bedrock bills in two ways. Amazon's own models (Nova, Titan) and some others are billed under
//! the service "Amazon Bedrock". Anthropic's Claude and other third-party models are sold
//! through AWS Marketplace, each under its own product name ending in "(Amazon Bedrock
//! Edition)", for example "Claude 3 Haiku (Amazon Bedrock Edition)", with usage types such as
//! `USE1-MP:USE1_InputTokenCount-Units`. A filter on the "Amazon Bedrock" service alone misses
//! every Claude token.
//!
//! The definition is the union of both, written as a Cost Explorer expression on the `SERVICE`
//! dimension: an exact match on "Amazon Bedrock", or a name that ends with "(Amazon Bedrock
//! Edition)". AWS Budgets takes it as the budget's `FilterExpression` (its
//! `ExpressionDimensionValues` accept the `ENDS_WITH` match option), so a new Marketplace model
//! is counted the day it is billed, with no list to keep up to date and no extra resource. Cost
//! Explorer's `GetCostAndUsage` accepts only exact matches on dimensions, so reports group by
//! `SERVICE` and keep the groups [`is_bedrock_service`] accepts: the same rule, applied after
//! the fact. (The alternative, a Cost Category whose rules name the spend, is limited to the
//! management account, takes up to 24 hours to apply to billing data, and its rules match
//! services by service code rather than by name; see docs/components.md, "What counts as
//! Bedrock spend".)

use serde_json::{Value, json};

use crate::config::{Config, TagFilter};

/// The service that bills Amazon's own models on Bedrock.
pub const FIRST_PARTY_SERVICE: &str = "Amazon Bedrock";

/// The service that bills newer models AWS sells directly (Claude 4.5 and later), product code
/// `AmazonBedrockService`.
pub const DIRECT_SERVICE: &str = "Amazon Bedrock Service";

/// How the name of every Marketplace-billed model on Bedrock ends.
pub const MARKETPLACE_SERVICE_SUFFIX: &str = "(Amazon Bedrock Edition)";

/// Amazon Bedrock AgentCore: agents' runtime, memory and gateway, billed as a service of its
/// own. Counted unless `[spend] include_agentcore = false`.
pub const AGENTCORE_SERVICE: &str = "Amazon Bedrock AgentCore";

/// Its product (service) code.
pub const AGENTCORE_CODE: &str = "AmazonBedrockAgentCore";

/// What every Bedrock product code starts with (`AmazonBedrock`, `AmazonBedrockService`,
/// `AmazonBedrockFoundationModels`, `AmazonBedrockAgentCore`).
pub const PRODUCT_CODE_PREFIX: &str = "AmazonBedrock";

/// The word every Bedrock service name contains ("Amazon Bedrock", "Amazon Bedrock Service",
/// "Claude 3 Haiku (Amazon Bedrock Edition)", "Amazon Bedrock AgentCore").
pub const SERVICE_NAME_WORD: &str = "Bedrock";

/// Whether a Cost Explorer `SERVICE` value is Bedrock spend (AgentCore included).
pub fn is_bedrock_service(service: &str) -> bool {
    Definition::default().counts_service(service)
}

/// What counts as Bedrock spend for one config: every service whose name has "Bedrock" in it
/// (a rule that stays right when AWS adds a billing name, as it did with "Amazon Bedrock
/// Service"), AgentCore only when `[spend] include_agentcore` says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub include_agentcore: bool,
    /// Whether a budget counts credits and refunds (`[spend] count_credits_and_refunds`);
    /// gross usage otherwise.
    pub count_credits_and_refunds: bool,
}

impl Default for Definition {
    fn default() -> Self {
        Definition {
            include_agentcore: true,
            count_credits_and_refunds: false,
        }
    }
}

/// The `RECORD_TYPE` values of credits and refunds that a gross-usage budget leaves out (AWS
/// Budgets user guide, "Budget filters", Charge type: "Credit: Any AWS credits that are
/// applied to your account", "Refund: Any refunds that you received"; the Cost Explorer
/// dimension is `RECORD_TYPE`, GetDimensionValues: "the different types of charges such as …
/// tax refunds, and credits"). Budgets count both by default (CostTypes reference:
/// IncludeCredit and IncludeRefund, "The default value is true").
pub const CREDIT_RECORD_TYPES: [&str; 2] = ["Credit", "Refund"];

impl Definition {
    pub fn new(config: &Config) -> Definition {
        Definition {
            include_agentcore: config.spend.include_agentcore,
            count_credits_and_refunds: config.spend.count_credits_and_refunds,
        }
    }

    /// A service name as Cost Explorer's `SERVICE` dimension and the CUR's
    /// `product_servicename` give it.
    pub fn counts_service(&self, service: &str) -> bool {
        let service = service.trim();
        service.contains(SERVICE_NAME_WORD)
            && (self.include_agentcore || service != AGENTCORE_SERVICE)
    }

    /// A CUR line by its product code (`line_item_product_code`, which for a Marketplace model
    /// is the listing's own code) and its product's service name.
    pub fn counts_product(&self, product_code: &str, service_name: &str) -> bool {
        let code = product_code.trim();
        if code.starts_with(PRODUCT_CODE_PREFIX) {
            return self.include_agentcore || code != AGENTCORE_CODE;
        }
        self.counts_service(service_name)
    }
}

/// Bedrock spend as a Cost Explorer / Budgets expression (the JSON shape of the AWS API), in
/// canonical form, for every config that counts AgentCore (the default); see
/// [`Definition::filter_expression`].
pub fn filter_expression(tag: Option<&TagFilter>) -> Value {
    Definition::default().filter_expression(tag)
}

/// The cost category value that marks Bedrock spend (anomaly detection monitors it).
pub const COST_CATEGORY_VALUE: &str = "Bedrock";

/// The service code of first-party Bedrock billing ("Amazon Bedrock").
pub const FIRST_PARTY_SERVICE_CODE: &str = "AmazonBedrock";

/// [`Definition::cost_category_rules`] for a config that counts AgentCore (the default).
pub fn cost_category_rules() -> Vec<Value> {
    Definition::default().cost_category_rules()
}

impl Definition {
    /// Bedrock spend as a budget's `FilterExpression` (the JSON shape of the AWS API), in
    /// canonical form; narrowed to one cost-allocation tag value when `tag` is given.
    ///
    /// One dimension: `SERVICE` `CONTAINS` "Bedrock" (Budgets API reference,
    /// ExpressionDimensionValues: one match option per dimension, `CONTAINS` among them), so a
    /// billing name AWS adds later is counted the day it is billed. AgentCore is taken out with
    /// a `Not` when the config says so.
    pub fn filter_expression(&self, tag: Option<&TagFilter>) -> Value {
        let mut parts = vec![json!({"Dimensions": {
            "Key": "SERVICE",
            "Values": [SERVICE_NAME_WORD],
            "MatchOptions": ["CONTAINS"],
        }})];
        if !self.include_agentcore {
            parts.push(json!({"Not": {"Dimensions": {
                "Key": "SERVICE",
                "Values": [AGENTCORE_SERVICE],
                "MatchOptions": ["EQUALS"],
            }}}));
        }
        if !self.count_credits_and_refunds {
            parts.push(json!({"Not": {"Dimensions": {
                "Key": "RECORD_TYPE",
                "Values": CREDIT_RECORD_TYPES,
                "MatchOptions": ["EQUALS"],
            }}}));
        }
        if let Some(t) = tag {
            parts.push(
                json!({"Tags": {"Key": t.key, "Values": [t.value], "MatchOptions": ["EQUALS"]}}),
            );
        }
        let expression = match parts.len() {
            1 => parts.remove(0),
            _ => json!({ "And": parts }),
        };
        canonical(&expression)
    }

    /// The same definition as Cost Category rules, for Cost Anomaly Detection: custom monitors
    /// cannot filter by service, only by a cost category. Cost Category rules match services by
    /// `SERVICE_CODE`, not by name (CostCategoryRule reference: `LINKED_ACCOUNT`,
    /// `SERVICE_CODE`, `RECORD_TYPE`, `LINKED_ACCOUNT_NAME`, `REGION` and `USAGE_TYPE` only),
    /// and take no root-level `Or`, so the definition is two rules with one value: every
    /// service code that starts with "AmazonBedrock" (`AmazonBedrock`, `AmazonBedrockService`,
    /// `AmazonBedrockFoundationModels`, and `AmazonBedrockAgentCore` unless excluded), and
    /// Marketplace token usage, whose usage types carry `-MP:` and a token count
    /// (`USE1-MP:USE1_InputTokenCount-Units`): the nearest rule form of "a service name ending in
    /// (Amazon Bedrock Edition)", since Marketplace listings have codes of their own.
    pub fn cost_category_rules(&self) -> Vec<Value> {
        let codes = json!({"Dimensions": {
            "Key": "SERVICE_CODE",
            "Values": [PRODUCT_CODE_PREFIX],
            "MatchOptions": ["STARTS_WITH"],
        }});
        let services = if self.include_agentcore {
            codes
        } else {
            json!({"And": [
                codes,
                {"Not": {"Dimensions": {
                    "Key": "SERVICE_CODE",
                    "Values": [AGENTCORE_CODE],
                    "MatchOptions": ["EQUALS"],
                }}},
            ]})
        };
        let marketplace_tokens = json!({"And": [
            {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["-MP:"], "MatchOptions": ["CONTAINS"]}},
            {"Dimensions": {
                "Key": "USAGE_TYPE",
                "Values": ["InputTokenCount", "OutputTokenCount", "input_tokens", "output_tokens"],
                "MatchOptions": ["CONTAINS"],
            }},
        ]});
        [services, marketplace_tokens]
            .iter()
            .map(|rule| json!({"Value": COST_CATEGORY_VALUE, "Rule": canonical(rule)}))
            .collect()
    }

    /// The `SERVICE` values a Cost Explorer request names, which matches dimension values
    /// exactly only: the names AWS bills Bedrock under today. Marketplace-billed models are
    /// asked for by their billing entity; answers are kept by [`Definition::counts_service`].
    pub fn billed_service_names(&self) -> Vec<&'static str> {
        let mut names = vec![FIRST_PARTY_SERVICE, DIRECT_SERVICE];
        if self.include_agentcore {
            names.push(AGENTCORE_SERVICE);
        }
        names
    }
}

/// One billing line as a cost expression sees it.
#[derive(Debug, Clone, Default)]
pub struct LineFacts<'a> {
    pub service: &'a str,
    pub service_code: &'a str,
    pub usage_type: &'a str,
    /// The line's `RECORD_TYPE` (`Usage`, `Credit`, `Refund`, …); empty means usage.
    pub record_type: &'a str,
    pub tags: &'a [(&'a str, &'a str)],
}

/// Whether `line` falls under `expression` (the JSON shape of Cost Explorer's and Budgets'
/// `Expression`), as AWS evaluates it: `And`, `Or`, `Not`, and `Dimensions` / `Tags` parts
/// with their match options (`EQUALS`, `CONTAINS`, `STARTS_WITH`, `ENDS_WITH`, `ABSENT`,
/// `CASE_INSENSITIVE`). A dimension this function does not know never matches. Lets tests (and
/// readers) see which billing lines a budget filter or a Cost Category rule counts.
pub fn matches(expression: &Value, line: &LineFacts) -> bool {
    if let Some(items) = expression.get("And").and_then(Value::as_array) {
        return items.iter().all(|e| matches(e, line));
    }
    if let Some(items) = expression.get("Or").and_then(Value::as_array) {
        return items.iter().any(|e| matches(e, line));
    }
    if let Some(inner) = expression.get("Not") {
        return !matches(inner, line);
    }
    let part_matches = |part: &Value, actual: Option<&str>| {
        let options = sorted_strings(part, "MatchOptions");
        let has = |o: &str| options.iter().any(|x| x == o);
        if has("ABSENT") {
            return actual.is_none_or(str::is_empty);
        }
        let Some(actual) = actual else {
            return false;
        };
        let fold = |s: &str| {
            if has("CASE_INSENSITIVE") {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let actual = fold(actual);
        sorted_strings(part, "Values")
            .iter()
            .map(|v| fold(v))
            .any(|v| {
                if has("CONTAINS") {
                    actual.contains(&v)
                } else if has("STARTS_WITH") {
                    actual.starts_with(&v)
                } else if has("ENDS_WITH") {
                    actual.ends_with(&v)
                } else {
                    actual == v
                }
            })
    };
    if let Some(d) = expression.get("Dimensions") {
        let actual = match d.get("Key").and_then(Value::as_str) {
            Some("SERVICE") => Some(line.service),
            Some("SERVICE_CODE") => Some(line.service_code),
            Some("USAGE_TYPE") => Some(line.usage_type),
            Some("RECORD_TYPE") => Some(if line.record_type.is_empty() {
                "Usage"
            } else {
                line.record_type
            }),
            _ => None,
        };
        return actual.is_some() && part_matches(d, actual);
    }
    if let Some(t) = expression.get("Tags") {
        let key = t.get("Key").and_then(Value::as_str).unwrap_or_default();
        let actual = line.tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        return part_matches(t, actual);
    }
    false
}

/// A custom anomaly monitor's specification: the Bedrock value of cost category `category`.
pub fn anomaly_monitor_specification(category: &str) -> Value {
    canonical(&json!({"CostCategories": {
        "Key": category,
        "Values": [COST_CATEGORY_VALUE],
        "MatchOptions": ["EQUALS"],
    }}))
}

/// An expression in a form that compares equal however AWS orders or defaults it: values and
/// operands sorted, match options as [`match_options`] writes them, empty members gone.
pub fn canonical(expression: &Value) -> Value {
    let Some(object) = expression.as_object() else {
        return expression.clone();
    };
    let mut out = serde_json::Map::new();
    for (key, value) in object {
        match key.as_str() {
            "Or" | "And" => {
                let Some(items) = value.as_array().filter(|a| !a.is_empty()) else {
                    continue;
                };
                let mut items: Vec<Value> = items.iter().map(canonical).collect();
                items.sort_by_key(|v| v.to_string());
                out.insert(key.clone(), Value::Array(items));
            }
            "Not" if !value.is_null() => {
                out.insert(key.clone(), canonical(value));
            }
            "Dimensions" | "Tags" | "CostCategories" if value.is_object() => {
                let values = sorted_strings(value, "Values");
                let options = match_options(value);
                out.insert(
                    key.clone(),
                    json!({"Key": value.get("Key"), "Values": values, "MatchOptions": options}),
                );
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// The match options of a Dimensions, Tags or CostCategories part, in one form for every way
/// AWS may echo them. The Cost Explorer Expression reference gives `EQUALS` and
/// `CASE_SENSITIVE` as the defaults, and an answer may spell them out or leave them away for
/// the same rule (a rule written with `["EQUALS"]` read back as `["EQUALS", "CASE_SENSITIVE"]`,
/// or with none). So `CASE_SENSITIVE` is dropped (it is what no case option means), `EQUALS`
/// is added when no other kind of match (`ABSENT`, `STARTS_WITH`, `ENDS_WITH`, `CONTAINS`,
/// `GREATER_THAN_OR_EQUAL`) is given, and the list is sorted without repeats.
/// `CASE_INSENSITIVE` stays: it changes what matches.
fn match_options(value: &Value) -> Vec<String> {
    let mut options: Vec<String> = sorted_strings(value, "MatchOptions")
        .into_iter()
        .filter(|o| o != "CASE_SENSITIVE")
        .collect();
    if options.iter().all(|o| o == "CASE_INSENSITIVE") {
        options.push("EQUALS".into());
    }
    options.sort();
    options.dedup();
    options
}

/// The strings of `value[key]`, sorted.
fn sorted_strings(value: &Value, key: &str) -> Vec<String> {
    let mut strings: Vec<String> = value
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    strings.sort();
    strings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Service names as Cost Explorer shows them.
    #[test]
    fn first_party_and_marketplace_models_are_bedrock_spend() {
        for service in [
            "Amazon Bedrock",
            "Claude 3 Haiku (Amazon Bedrock Edition)",
            "Claude 3.7 Sonnet (Amazon Bedrock Edition)",
            "Llama 3.1 405B Instruct (Amazon Bedrock Edition) ",
        ] {
            assert!(is_bedrock_service(service), "{service}");
        }
        for service in [
            "Amazon Simple Storage Service",
            "Claude (Anthropic API)",
            "AWS Marketplace",
        ] {
            assert!(!is_bedrock_service(service), "{service}");
        }
    }

    #[test]
    fn every_billing_name_counts_and_agentcore_by_the_setting() {
        let all = Definition::default();
        let models_only = Definition {
            include_agentcore: false,
            ..Definition::default()
        };
        for service in [
            "Amazon Bedrock",
            "Amazon Bedrock Service",
            "Claude Haiku 4.5 (Amazon Bedrock Edition)",
        ] {
            assert!(all.counts_service(service) && models_only.counts_service(service));
        }
        assert!(all.counts_service("Amazon Bedrock AgentCore"));
        assert!(!models_only.counts_service("Amazon Bedrock AgentCore"));
        for (code, name) in [
            ("AmazonBedrock", "Amazon Bedrock"),
            ("AmazonBedrockService", "Amazon Bedrock Service"),
            ("AmazonBedrockFoundationModels", ""),
            ("prodview-abc123", "Claude 3 Haiku (Amazon Bedrock Edition)"),
        ] {
            assert!(models_only.counts_product(code, name), "{code}");
        }
        assert!(all.counts_product("AmazonBedrockAgentCore", "Amazon Bedrock AgentCore"));
        assert!(!models_only.counts_product("AmazonBedrockAgentCore", "Amazon Bedrock AgentCore"));
        assert!(!all.counts_product("AmazonS3", "Amazon Simple Storage Service"));
    }

    /// Every billing name Bedrock spend appears under today, as (service, service code, usage
    /// type), and some that are not Bedrock.
    const BEDROCK_LINES: &[(&str, &str, &str)] = &[
        (
            "Amazon Bedrock",
            "AmazonBedrock",
            "USE1-NovaLite-input-tokens",
        ),
        (
            "Amazon Bedrock Service",
            "AmazonBedrockService",
            "USE1-Claude4.6Sonnet-input-tokens",
        ),
        (
            "Amazon Bedrock Service",
            "AmazonBedrockService",
            "USE1-Claude4.6Sonnet-cache-write-input-token-count",
        ),
        (
            "Amazon Bedrock Service",
            "AmazonBedrockService",
            "USW2-anthropic.claude-opus-4-8-mantle-input-tokens-global-standard",
        ),
        (
            "Claude 3 Haiku (Amazon Bedrock Edition)",
            "prodview-abc123",
            "USE1-MP:USE1_InputTokenCount-Units",
        ),
        (
            "Claude Opus 5 (Amazon Bedrock Edition)",
            "AmazonBedrockFoundationModels",
            "USW2-MP:USW2_input_tokens_global_standard-Units",
        ),
    ];
    const OTHER_LINES: &[(&str, &str, &str)] = &[
        (
            "Amazon Simple Storage Service",
            "AmazonS3",
            "USE1-TimedStorage-ByteHrs",
        ),
        (
            "AWS Marketplace",
            "prodview-xyz",
            "USE1-MP:USE1_Hours-Units",
        ),
    ];
    const AGENTCORE_LINE: (&str, &str, &str) = (
        "Amazon Bedrock AgentCore",
        "AmazonBedrockAgentCore",
        "USE1-Runtime-vCPU-Hours",
    );

    fn facts<'a>((service, code, usage): &'a (&str, &str, &str)) -> LineFacts<'a> {
        LineFacts {
            service,
            service_code: code,
            usage_type: usage,
            record_type: "",
            tags: &[],
        }
    }

    /// The budget filter, the Cost Category rules (the anomaly monitor's) and the report's
    /// own test all count the same lines, AgentCore as the setting says.
    #[test]
    fn the_filter_and_the_category_rules_count_every_billing_name() {
        for include_agentcore in [true, false] {
            let d = Definition {
                include_agentcore,
                ..Definition::default()
            };
            let filter = d.filter_expression(None);
            let rules = d.cost_category_rules();
            let in_category = |l: &LineFacts| rules.iter().any(|r| matches(&r["Rule"], l));
            for line in BEDROCK_LINES {
                let l = facts(line);
                assert!(matches(&filter, &l), "filter misses {line:?}");
                assert!(d.counts_service(line.0), "{line:?}");
                // Marketplace listings bill under codes of their own: the token rule counts
                // their token lines.
                assert!(in_category(&l), "category misses {line:?}");
            }
            for line in OTHER_LINES {
                let l = facts(line);
                assert!(!matches(&filter, &l), "filter counts {line:?}");
                assert!(!in_category(&l), "category counts {line:?}");
                assert!(!d.counts_service(line.0), "{line:?}");
            }
            let agentcore = facts(&AGENTCORE_LINE);
            assert_eq!(matches(&filter, &agentcore), include_agentcore);
            assert_eq!(in_category(&agentcore), include_agentcore);
            assert_eq!(d.counts_service(AGENTCORE_LINE.0), include_agentcore);
        }
        let tagged = Definition::default().filter_expression(Some(&TagFilter {
            key: "team".into(),
            value: "search".into(),
        }));
        let line = BEDROCK_LINES[1];
        let with_tag = LineFacts {
            tags: &[("team", "search")],
            ..facts(&line)
        };
        assert!(matches(&tagged, &with_tag));
        assert!(!matches(&tagged, &facts(&line)));
    }

    #[test]
    fn the_filter_is_one_contains_rule_narrowed_by_tag() {
        let service = json!({"Dimensions": {"Key": "SERVICE", "Values": ["Bedrock"], "MatchOptions": ["CONTAINS"]}});
        let gross = Definition {
            count_credits_and_refunds: true,
            ..Definition::default()
        };
        let plain = gross.filter_expression(None);
        assert_eq!(plain, service);
        // By default credits and refunds are left out: a budget measures gross usage.
        let default = filter_expression(None);
        assert_eq!(
            default,
            canonical(&json!({"And": [service, {"Not": {"Dimensions": {
                "Key": "RECORD_TYPE", "Values": ["Credit", "Refund"], "MatchOptions": ["EQUALS"]}}}]}))
        );
        let line = BEDROCK_LINES[0];
        let credit = LineFacts {
            record_type: "Credit",
            ..facts(&line)
        };
        assert!(matches(&default, &facts(&line)));
        assert!(!matches(&default, &credit));
        assert!(matches(&plain, &credit));
        let plain = service;
        let tagged = filter_expression(Some(&TagFilter {
            key: "Project".into(),
            value: "x".into(),
        }));
        let ands = tagged["And"].as_array().expect("And");
        assert!(ands.contains(&plain));
        assert!(ands.iter().any(|a| a["Tags"]["Key"] == "Project"));
    }

    #[test]
    fn canonical_form_ignores_order_and_default_match_options() {
        let a = json!({"Or": [
            {"Dimensions": {"Key": "SERVICE", "Values": ["b", "a"]}},
            {"Tags": {"Key": "k", "Values": ["v"], "MatchOptions": ["EQUALS"]}},
        ]});
        let b = json!({"Or": [
            {"Tags": {"Key": "k", "Values": ["v"]}},
            {"Dimensions": {"Key": "SERVICE", "Values": ["a", "b"], "MatchOptions": ["EQUALS"]}},
        ], "And": []});
        assert_eq!(canonical(&a), canonical(&b));
    }

    /// The defaults AWS may echo (Expression reference: `EQUALS` and `CASE_SENSITIVE`) compare
    /// equal to what the tool writes; a case-insensitive match does not.
    #[test]
    fn canonical_form_ignores_echoed_default_match_options() {
        let part = |options: Option<Value>| {
            let mut d = json!({"Key": "SERVICE_CODE", "Values": ["AmazonBedrock"]});
            if let Some(o) = options {
                d["MatchOptions"] = o;
            }
            canonical(&json!({"Dimensions": d}))
        };
        let written = part(Some(json!(["EQUALS"])));
        assert_eq!(part(None), written);
        assert_eq!(part(Some(json!(["EQUALS", "CASE_SENSITIVE"]))), written);
        assert_eq!(part(Some(json!(["CASE_SENSITIVE"]))), written);
        assert_eq!(
            part(Some(json!(["CASE_SENSITIVE", "EQUALS", "EQUALS"]))),
            written
        );
        assert_eq!(
            part(Some(json!(["CONTAINS", "CASE_SENSITIVE"]))),
            part(Some(json!(["CONTAINS"])))
        );
        assert_ne!(part(Some(json!(["CASE_INSENSITIVE"]))), written);
        assert_eq!(
            part(Some(json!(["CASE_INSENSITIVE"]))),
            part(Some(json!(["EQUALS", "CASE_INSENSITIVE"])))
        );
        assert_ne!(part(Some(json!(["ENDS_WITH"]))), written);
    }
}
