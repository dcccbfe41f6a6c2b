use std::collections::BTreeSet;

use super::*;
use crate::aws::test_account;
use crate::config::Config;

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// A config with every section a single account can have: KMS keys, alarms of its own, two
/// budgets (an IAM and an SCP action), profiles, cost allocation, anomaly detection, the CUR
/// export with Athena, saved queries.
const EVERY_SECTION: &str = r#"
[stack.tags]
Team = "platform"

[bucket]
kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

[log_group]
kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

[alerts]
emails = ["ops@example.com"]
kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

[alarms.sonnet]
metric = "OutputTokenCount"
statistic = "Sum"
comparison = "GreaterThanThreshold"
threshold = 1
model_id = "m"
name = "SonnetTokens"

[[budgets]]
name = "Team"
limit_usd = 100
[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]

[[budgets]]
name = "Org"
limit_usd = 1000
[budgets.action]
kind = "scp"
threshold_percent = 100
target_accounts = ["111111111111"]
target_ous = ["ou-abcd-12345678"]

[[inference_profiles]]
name = "team-search"
model = "anthropic.claude-3-5-haiku-20241022-v1:0"

[cost_allocation]

[anomaly_detection]
threshold_usd = 100

[cur_export]
athena = { database = "cur", table = "bedrock_cur", output = "s3://athena-results-123456789012/bedrock/" }

[queries]
"#;

fn cx_for(text: &str) -> Context {
    let config = crate::config::parse(text, "test.toml").expect("valid config");
    Context::new(
        config,
        test_account(),
        offline_clients(),
        Arc::new(QuietProgress),
    )
}

fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

/// A statement's `Action` or `Resource` list.
fn strings(s: &Value, key: &str) -> Vec<String> {
    s[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The statement `sid` of `doc` (the test fails without it).
fn by_sid(doc: &Value, sid: &str) -> Value {
    statements(doc)
        .into_iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{sid}: {doc:#}"))
}

fn actions_of(s: &Value) -> Vec<String> {
    strings(s, "Action")
}

fn resources_of(s: &Value) -> Vec<String> {
    strings(s, "Resource")
}

fn all_actions(doc: &Value) -> BTreeSet<String> {
    statements(doc).iter().flat_map(actions_of).collect()
}

#[test]
fn every_component_and_command_call_has_a_statement() {
    let cx = Context::new(
        Config::default(),
        test_account(),
        offline_clients(),
        Arc::new(QuietProgress),
    );
    let everyday = policy(&cx, Variant::Everyday, false);
    let bootstrap = policy(&cx, Variant::Bootstrap, false);
    let actions: BTreeSet<String> = all_actions(&everyday)
        .into_iter()
        .chain(all_actions(&bootstrap))
        .collect();
    for needed in [
        "sts:GetCallerIdentity",
        "iam:CreateRole",
        "iam:PassRole",
        "s3:PutBucketPolicy",
        "logs:PutRetentionPolicy",
        "bedrock:PutModelInvocationLoggingConfiguration",
        "sns:Subscribe",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:GetMetricData",
        // `prices update`
        "pricing:GetProducts",
    ] {
        assert!(actions.contains(needed), "{needed} missing");
    }
    let pass_role = statements(&everyday)
        .into_iter()
        .find(|s| s["Action"] == json!(["iam:PassRole"]))
        .expect("PassRole statement");
    assert_eq!(
        pass_role["Resource"],
        json!(["arn:aws:iam::123456789012:role/BedrockCloudWatchLoggingRole"])
    );
    assert_eq!(
        pass_role["Condition"]["StringEquals"]["iam:PassedToService"],
        "bedrock.amazonaws.com"
    );
    let price_list = statements(&everyday)
        .into_iter()
        .find(|s| s["Sid"] == "ReadPriceList")
        .expect("ReadPriceList statement");
    assert_eq!(
        price_list["Action"],
        json!(["pricing:GetProducts", "bedrock:ListFoundationModels"])
    );
    assert_eq!(price_list["Resource"], json!(["*"]));
}

/// Actions AWS authorizes on no resource type: `"*"` is the only resource they can have
/// (Service Authorization Reference: CloudWatch Logs query definitions, Bedrock's invocation
/// logging configuration).
const NO_RESOURCE_TYPE: &[&str] = &[
    "logs:DeleteQueryDefinition",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
];

/// A call that removes or detaches something.
fn destroys(action: &str) -> bool {
    let name = action.split_once(':').map(|(_, n)| n).unwrap_or(action);
    ["Delete", "Detach", "Remove", "Untag", "Disassociate"]
        .iter()
        .any(|v| name.starts_with(v))
}

/// The names the config gives, after which a wildcard reaches only the named resource's parts
/// (a bucket's objects, a log group's streams, a budget's actions, a topic's subscriptions).
fn named_prefixes(cx: &Context) -> Vec<String> {
    let mut names = vec![
        format!("{}/", cx.bucket_name()),
        format!("log-group:{}:", cx.config.log_group.name),
        format!("{}:", cx.configured_topic_arn()),
    ];
    if let Some(location) =
        crate::report::cur::ExportLocation::from_config(&cx.config, &cx.account.id)
    {
        names.push(format!("{}/", location.bucket));
    }
    for b in &cx.config.budgets {
        names.push(format!("budget/{}/action/", b.name));
    }
    names
}

/// The checks the issue asks of the everyday policy: no IAM or Organizations write at all, no
/// delete on a wildcard the config could have named (unless the service lets the stack's tag
/// narrow it), `iam:PassRole` only of named roles to one service.
fn assert_everyday_is_safe(cx: &Context, doc: &Value) {
    let named = named_prefixes(cx);
    for s in statements(doc) {
        let actions = actions_of(&s);
        for a in &actions {
            assert!(
                !is_bootstrap(a),
                "the everyday policy has the IAM/Organizations write {a}: {s:#}"
            );
        }
        if actions.iter().any(|a| a == "iam:PassRole") {
            assert!(
                s["Condition"]["StringEquals"]["iam:PassedToService"].is_string(),
                "{s:#}"
            );
            assert!(resources_of(&s).iter().all(|r| !r.contains('*')), "{s:#}");
        }
        let tagged = s["Condition"]["StringEquals"].as_object().is_some_and(|c| {
            c.keys()
                .any(|k| k == "aws:ResourceTag/bedrock-monitor:stack")
        });
        for a in actions.iter().filter(|a| destroys(a)) {
            for r in resources_of(&s) {
                let Some(star) = r.find('*') else { continue };
                if r == "*" {
                    assert!(
                        NO_RESOURCE_TYPE.contains(&a.as_str()),
                        "{a} on \"*\": {s:#}"
                    );
                    continue;
                }
                let before = &r[..star];
                let after_a_name = named.iter().any(|n| before.contains(n.as_str()));
                assert!(
                    tagged || after_a_name,
                    "{a} on {r}: a wildcard the config could have named, without the stack-tag condition: {s:#}"
                );
                for forbidden in ["budget/*", "export/*", "Bedrock-*"] {
                    assert!(tagged || !r.contains(forbidden), "{a} on {r}: {s:#}");
                }
            }
        }
    }
}

#[test]
fn the_everyday_policy_cannot_grant_its_holder_more() {
    let cx = cx_for(EVERY_SECTION);
    let everyday = policy(&cx, Variant::Everyday, true);
    assert_everyday_is_safe(&cx, &everyday);
    // The writes it lacks are all in the bootstrap policy, and nothing else is.
    let bootstrap = policy(&cx, Variant::Bootstrap, true);
    let writes = all_actions(&bootstrap);
    for needed in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:DeleteRole",
        "organizations:CreatePolicy",
        "organizations:UpdatePolicy",
        "organizations:DetachPolicy",
    ] {
        assert!(writes.contains(needed), "{needed} not in {writes:?}");
    }
    assert!(writes.iter().all(|a| is_bootstrap(a)), "{writes:?}");
    // The deny policy's budget action runs, but cannot be rewritten, by the everyday holder.
    let everyday_actions = all_actions(&everyday);
    assert!(everyday_actions.contains("budgets:ExecuteBudgetAction"));
    assert!(!everyday_actions.contains("iam:CreatePolicyVersion"));
}

#[test]
fn assuming_target_roles_stays_in_the_organization() {
    let cx = cx_for(
        "[bucket]\nname = \"bedrock-logs-{account_id}-{region}\"\n[targets]\norganization = true\nregions = [\"us-east-1\", \"eu-west-1\"]\n[alerts]\nemails = [\"ops@example.com\"]\n[[budgets]]\nname = \"Team\"\nlimit_usd = 10\n[budgets.action]\nthreshold_percent = 100\ndeny_roles = [\"app\"]\n[anomaly_detection]\nthreshold_usd = 10\n",
    );
    let targets = cx.config.targets.clone().expect("targets");
    let doc = fleet_policies(
        &cx.config,
        &targets,
        test_account(),
        offline_clients(),
        Variant::Everyday,
        false,
    );
    let assume: Vec<Value> = statements(&doc["operator"])
        .into_iter()
        .filter(|s| actions_of(s).iter().any(|a| a == "sts:AssumeRole"))
        .collect();
    assert_eq!(assume.len(), 1, "{doc:#}");
    assert_eq!(
        assume[0]["Condition"]["StringEquals"]["aws:ResourceOrgID"],
        "${aws:PrincipalOrgID}"
    );
    for part in [&doc["operator"], &doc["target_role"]["PolicyDocument"]] {
        for s in statements(part) {
            for a in actions_of(&s) {
                assert!(!is_bootstrap(&a), "{a} in the everyday fleet policy");
            }
        }
    }
    let bootstrap = fleet_policies(
        &cx.config,
        &targets,
        test_account(),
        offline_clients(),
        Variant::Bootstrap,
        false,
    );
    let role_writes = all_actions(&bootstrap["target_role"]["PolicyDocument"]);
    assert!(role_writes.contains("iam:PutRolePolicy"), "{bootstrap:#}");
}

#[test]
fn the_read_only_policy_reads() {
    let cx = cx_for(EVERY_SECTION);
    let doc = policy(&cx, Variant::ReadOnly, true);
    let actions = all_actions(&doc);
    // Athena writes its results where the workgroup says: the one write a CUR query needs.
    let allowed = [
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
        "logs:StartQuery",
        "logs:GetQueryResults",
        "logs:StopQuery",
        "bedrock:ListInferenceProfiles",
        // `quotas`: the applied quotas, the open requests, the model list that places them.
        "servicequotas:ListServiceQuotas",
        "servicequotas:ListRequestedServiceQuotaChangeHistory",
        "bedrock:ListFoundationModels",
        "ce:GetCostAndUsage",
        "ce:GetCostForecast",
        "bcm-data-exports:ListExports",
        "bcm-data-exports:GetExport",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:PutObject",
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:GetTableMetadata",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetPartitions",
        // `quotas`, and `report`'s quota section with [quotas]: the applied quotas, the open
        // increase requests and the model list that ties quota names to models.
        "servicequotas:ListServiceQuotas",
        "servicequotas:ListRequestedServiceQuotaChangeHistory",
        "bedrock:ListFoundationModels",
    ];
    for a in &actions {
        assert!(allowed.contains(&a.as_str()), "{a} in the read-only policy");
    }
    for needed in [
        "cloudwatch:GetMetricData",
        "logs:StartQuery",
        "ce:GetCostAndUsage",
        "servicequotas:ListServiceQuotas",
    ] {
        assert!(actions.contains(needed), "{needed}");
    }
    let put = statements(&doc)
        .into_iter()
        .find(|s| actions_of(s).iter().any(|a| a == "s3:PutObject"))
        .expect("athena results");
    assert_eq!(
        resources_of(&put),
        vec!["arn:aws:s3:::athena-results-123456789012/bedrock/*".to_string()]
    );
    // The table's columns: the one data catalog, nothing else, and no other action with it.
    let columns = statements(&doc)
        .into_iter()
        .find(|s| actions_of(s).iter().any(|a| a == "athena:GetTableMetadata"))
        .expect("the table's columns");
    assert_eq!(
        actions_of(&columns),
        vec!["athena:GetTableMetadata".to_string()]
    );
    assert_eq!(
        resources_of(&columns),
        vec!["arn:aws:athena:us-east-1:123456789012:datacatalog/AwsDataCatalog".to_string()]
    );
}

#[test]
fn key_policies_name_every_configured_key() {
    let cx = cx_for(EVERY_SECTION);
    let doc = key_policies(&cx);
    let statements = doc[KEY]["Statement"].as_array().expect("statements");
    let services: BTreeSet<String> = statements
        .iter()
        .map(|s| {
            s["Principal"]["Service"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for needed in [
        "logs.us-east-1.amazonaws.com",
        "bedrock.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "budgets.amazonaws.com",
        "costalerts.amazonaws.com",
    ] {
        assert!(services.contains(needed), "{needed}: {services:?}");
    }
    assert!(statements.iter().all(|s| s["Condition"].is_object()));
}

/// With `[cur_export] read`, the report reads only that export's objects, in a bucket of the
/// owner named (`s3:ResourceAccount`), and asks Data Exports nothing about it.
#[test]
fn an_existing_export_is_read_only_under_its_folder_in_its_owners_bucket() {
    let cx = cx_for(
        "[cur_export]\nenabled = false\nread = \"s3://org-exports/cur2/222222222222/cid-cur2\"\nread_owner = \"222222222222\"\n",
    );
    let doc = policy(&cx, Variant::ReadOnly, false);
    let find = |sid: &str| by_sid(&doc, sid);
    let read = find("ReadExistingCurExport");
    assert_eq!(actions_of(&read), ["s3:GetObject"]);
    assert_eq!(
        resources_of(&read),
        ["arn:aws:s3:::org-exports/cur2/222222222222/cid-cur2/*"]
    );
    assert_eq!(
        read["Condition"]["StringEquals"]["s3:ResourceAccount"],
        "222222222222"
    );
    let list = find("ListExistingCurExport");
    assert_eq!(resources_of(&list), ["arn:aws:s3:::org-exports"]);
    assert_eq!(
        list["Condition"]["StringLike"]["s3:prefix"][0],
        "cur2/222222222222/cid-cur2/*"
    );
    assert_eq!(
        list["Condition"]["StringEquals"]["s3:ResourceAccount"],
        "222222222222"
    );
    assert!(
        !all_actions(&doc)
            .iter()
            .any(|a| a.starts_with("bcm-data-exports:")),
        "{doc:#}"
    );
}

/// An Athena table over more than the export's folder (the Cloud Intelligence Dashboards' one
/// table over every payer's export): `athena.location` is what the query reads, so that is what
/// the policy grants, under its prefix only.
#[test]
fn a_table_over_other_data_is_granted_its_location_only() {
    let cx = cx_for(
        "[cur_export]\nenabled = false\nathena = { database = \"cid_data_export\", table = \"cur2\", location = \"s3://cid-data-exports/cur2/\" }\n",
    );
    let doc = policy(&cx, Variant::ReadOnly, false);
    let find = |sid: &str| by_sid(&doc, sid);
    let read = find("ReadCurTableData");
    assert_eq!(
        resources_of(&read),
        ["arn:aws:s3:::cid-data-exports/cur2/*"]
    );
    assert_eq!(actions_of(&read), ["s3:GetObject"]);
    let list = find("ListCurTableData");
    assert_eq!(actions_of(&list), ["s3:ListBucket"]);
    assert_eq!(list["Condition"]["StringLike"]["s3:prefix"][0], "cur2/*");
    let find_bucket = find("FindCurTableDataBucket");
    assert_eq!(
        resources_of(&find_bucket),
        ["arn:aws:s3:::cid-data-exports"]
    );
    assert!(find_bucket["Condition"].is_null());
    // Without it, nothing beyond the export's own folder.
    let plain = cx_for("[cur_export]\nathena = { database = \"cur\", table = \"bedrock_cur\" }\n");
    let doc = policy(&plain, Variant::ReadOnly, false);
    assert!(
        !statements(&doc)
            .iter()
            .any(|s| s["Sid"] == "ReadCurTableData")
    );
}
