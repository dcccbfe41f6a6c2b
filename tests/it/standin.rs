//! The stand-in for the AWS operations moto does not serve (`tests/support/standin.rs`),
//! exercised through the real SDK clients pointed at the proxy: every answer must parse (which
//! proves the shapes), the documented errors must come back as the SDK's typed errors, and the
//! state must be what the tests read through the stand-in's API.

use std::collections::HashMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use bedrock_monitor::aws::{Clients, emulator_clients};

use crate::support::env::{ACCOUNT, LOG_GROUP, REGION, TestEnv};
use crate::support::proxy::{Protocol, StrictRequest, StrictRule, Verdict};
use crate::support::standin::{self, StandIn};

/// The AWS error code of a failed call (panics on success: the test expected an error).
#[track_caller]
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    match result {
        Ok(v) => panic!("expected an AWS error, got {v:?}"),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("an error without an AWS code: {e:?}"))
            .to_string(),
    }
}

/// The AWS error code and message of a failed call.
#[track_caller]
fn error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> (String, String) {
    match result {
        Ok(v) => panic!("expected an AWS error, got {v:?}"),
        Err(e) => (
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        ),
    }
}

/// SDK clients that go through the proxy (and so reach the stand-in).
fn through_proxy(env: &TestEnv) -> Clients {
    emulator_clients(&env.proxy.url(), REGION)
}

/// Clients through the proxy signed with another access key, in `region`.
fn with_key(env: &TestEnv, key: &str, region: &str) -> Clients {
    let sdk = aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_types::region::Region::new(region.to_string()))
        .endpoint_url(env.proxy.url())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(key, "secret", None, None, "test"),
            ),
        )
        .build();
    Clients::from_sdk_config(&sdk).expect("clients")
}

#[test]
fn standin_patterns_compile() {
    standin::patterns_compile();
    // A fresh stand-in holds nothing.
    assert_eq!(StandIn::new().snapshot(), serde_json::json!({}));
}

/// A request as the proxy hands it to the stand-in, signed for `service` in `region`.
fn request(
    service: &str,
    region: &str,
    method: &str,
    path: &str,
    target: Option<&str>,
    body: &str,
) -> StrictRequest {
    let mut headers = http::HeaderMap::new();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20250101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    headers.insert("authorization", auth.parse().expect("header"));
    if let Some(t) = target {
        headers.insert("x-amz-target", t.parse().expect("header"));
    }
    let classification = crate::support::proxy::classify(method, path, &headers, body.as_bytes());
    StrictRequest {
        service: classification.service,
        operation: classification.operation,
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: bytes::Bytes::from(body.to_string()),
        protocol: if target.is_some() {
            Protocol::Json
        } else {
            Protocol::RestJson
        },
    }
}

#[test]
fn standin_forwards_what_is_not_its_own() {
    let standin = StandIn::new();
    let forwarded = |r: StrictRequest| matches!(standin.before(&r), Verdict::Forward);
    let ce = |op: &str, body: &str| {
        request(
            "ce",
            REGION,
            "POST",
            "/",
            Some(&format!("AWSInsightsIndexService.{op}")),
            body,
        )
    };
    let guardrail =
        format!(r#"{{"resourceARN":"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123"}}"#);
    assert!(forwarded(request(
        "bedrock",
        REGION,
        "POST",
        "/listTagsForResource",
        None,
        &guardrail
    )));
    // The model catalogue is the stand-in's own now (moto does not serve it).
    assert!(!forwarded(request(
        "bedrock",
        REGION,
        "GET",
        "/foundation-models",
        None,
        ""
    )));
    assert!(forwarded(request(
        "bedrock",
        REGION,
        "GET",
        "/logging/modelinvocations",
        None,
        ""
    )));
    assert!(forwarded(ce("GetCostAndUsage", "{}")));
    let budget = format!(r#"{{"ResourceArn":"arn:aws:budgets::{ACCOUNT}:budget/monthly"}}"#);
    assert!(forwarded(ce("ListTagsForResource", &budget)));
    assert!(forwarded(request(
        "bcm-data-exports",
        REGION,
        "POST",
        "/",
        Some("AWSBillingAndCostManagementDataExports.ListTables"),
        "{}"
    )));
    assert!(forwarded(request(
        "logs",
        REGION,
        "POST",
        "/",
        Some("Logs_20140328.DescribeLogGroups"),
        "{}"
    )));
    // Logs Insights queries run in moto; only saved query definitions are the stand-in's.
    assert!(forwarded(request(
        "logs",
        REGION,
        "POST",
        "/",
        Some("Logs_20140328.StartQuery"),
        r#"{"logGroupName":"/aws/bedrock/modelinvocations","startTime":0,"endTime":1,"queryString":"fields @message"}"#
    )));
    // Budgets, their notifications and subscribers are moto's; only actions are the stand-in's.
    for op in [
        "CreateBudget",
        "DescribeBudgets",
        "CreateNotification",
        "TagResource",
    ] {
        assert!(forwarded(request(
            "budgets",
            REGION,
            "POST",
            "/",
            Some(&format!("AWSBudgetServiceGateway.{op}")),
            &format!(r#"{{"AccountId":"{ACCOUNT}"}}"#)
        )));
    }

    // Its own operations are answered; the proxy names and classifies them.
    let create = request("bedrock", REGION, "POST", "/inference-profiles", None, "{}");
    assert_eq!(create.operation, "CreateInferenceProfile");
    match standin.before(&create) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 400);
            assert_eq!(
                reply.headers.get("x-amzn-errortype").map(|v| v.as_bytes()),
                Some(&b"ValidationException"[..])
            );
        }
        _ => panic!("CreateInferenceProfile not answered"),
    }
    let delete = request(
        "bedrock",
        REGION,
        "DELETE",
        "/inference-profiles/abcdefabcdef",
        None,
        "",
    );
    assert_eq!(delete.operation, "DeleteInferenceProfile");
    assert!(matches!(standin.before(&delete), Verdict::Answer(r) if r.status == 404));

    // Cost categories are all the stand-in's, tagging included (moto never sees one).
    let category = format!(
        r#"{{"ResourceArn":"arn:aws:ce::{ACCOUNT}:costcategory/0a1b2c3d-0000-4000-8000-000000000000"}}"#
    );
    let body_of = |reply: crate::support::proxy::Reply| -> serde_json::Value {
        serde_json::from_slice(&reply.body).expect("json")
    };
    match standin.before(&ce("ListTagsForResource", &category)) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 400);
            assert_eq!(body_of(reply)["__type"], "ResourceNotFoundException");
        }
        _ => panic!("tagging of a cost category was forwarded"),
    }
    let list = ce("ListCostCategoryDefinitions", "{}");
    assert_eq!(list.operation, "ListCostCategoryDefinitions");
    match standin.before(&list) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 200);
            assert_eq!(
                body_of(reply),
                serde_json::json!({"CostCategoryReferences": []})
            );
        }
        _ => panic!("ListCostCategoryDefinitions was forwarded"),
    }

    // Query definitions and budget actions are answered (an unknown ID; a budget the stand-in
    // has not seen).
    let delete_query = request(
        "logs",
        REGION,
        "POST",
        "/",
        Some("Logs_20140328.DeleteQueryDefinition"),
        r#"{"queryDefinitionId":"00000000-0000-4000-8000-000000000000"}"#,
    );
    match standin.before(&delete_query) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 400);
            let body = body_of(reply);
            assert_eq!(body["__type"], "ResourceNotFoundException");
            assert!(
                body["message"].is_string(),
                "Logs errors carry `message`: {body}"
            );
        }
        _ => panic!("DeleteQueryDefinition was forwarded"),
    }
    let action = request(
        "budgets",
        REGION,
        "POST",
        "/",
        Some("AWSBudgetServiceGateway.DescribeBudgetActionsForBudget"),
        &format!(r#"{{"AccountId":"{ACCOUNT}","BudgetName":"unseen"}}"#),
    );
    match standin.before(&action) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 400);
            let body = body_of(reply);
            assert_eq!(body["__type"], "NotFoundException");
            assert!(
                body["Message"].is_string(),
                "Budgets errors carry `Message`: {body}"
            );
        }
        _ => panic!("DescribeBudgetActionsForBudget was forwarded"),
    }

    // Data Exports is served in us-east-1 only.
    let elsewhere = request(
        "bcm-data-exports",
        "eu-west-1",
        "POST",
        "/",
        Some("AWSBillingAndCostManagementDataExports.ListExports"),
        "{}",
    );
    match standin.before(&elsewhere) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 403);
            let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
            assert_eq!(body["__type"], "InvalidSignatureException");
        }
        _ => panic!("a request for another Region was forwarded"),
    }
}

// ---------------------------------------------------------------------------
// Bedrock application inference profiles

const SONNET_US: &str = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
const HAIKU_FM: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn bedrock_tag(k: &str, v: &str) -> aws_sdk_bedrock::types::Tag {
    aws_sdk_bedrock::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .expect("tag")
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_inference_profiles() {
    use aws_sdk_bedrock::types::{InferenceProfileModelSource, InferenceProfileType};

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let bedrock = &aws.bedrock;
    let system_arn = format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{SONNET_US}");

    // The system-defined catalogue: listed without a type filter (only those), gettable by ID.
    let listed = env
        .block_on(bedrock.list_inference_profiles().send())
        .expect("ListInferenceProfiles");
    let ids: Vec<&str> = listed
        .inference_profile_summaries()
        .iter()
        .map(|p| p.inference_profile_id())
        .collect();
    assert!(ids.contains(&SONNET_US), "{ids:?}");
    assert!(
        !ids.iter().any(|i| i.starts_with("eu.")),
        "only the geography of the Region: {ids:?}"
    );
    assert!(
        listed
            .inference_profile_summaries()
            .iter()
            .all(|p| p.r#type() == &InferenceProfileType::SystemDefined)
    );
    let system = env
        .block_on(
            bedrock
                .get_inference_profile()
                .inference_profile_identifier(SONNET_US)
                .send(),
        )
        .expect("GetInferenceProfile of a system profile");
    assert_eq!(system.inference_profile_arn(), system_arn);
    let system_models: Vec<String> = system
        .models()
        .iter()
        .filter_map(|m| m.model_arn().map(str::to_string))
        .collect();
    assert_eq!(
        system_models,
        ["us-east-1", "us-east-2", "us-west-2"].map(|r| format!(
            "arn:aws:bedrock:{r}::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0"
        ))
    );

    // Create from the system profile, with tags and a description.
    let created = env
        .block_on(
            bedrock
                .create_inference_profile()
                .inference_profile_name("team-a sonnet")
                .description("Project A: Claude 3.7 Sonnet")
                .model_source(InferenceProfileModelSource::CopyFrom(system_arn.clone()))
                .tags(bedrock_tag("Project", "a"))
                .client_request_token("token-1")
                .send(),
        )
        .expect("CreateInferenceProfile");
    let arn = created.inference_profile_arn().to_string();
    let arn_shape = regex::Regex::new(&format!(
        "^arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/[a-z0-9]{{12}}$"
    ))
    .expect("regex");
    assert!(arn_shape.is_match(&arn), "{arn}");
    let id = arn.rsplit('/').next().expect("id").to_string();
    let calls = env.proxy.calls();
    let create_call = calls
        .iter()
        .find(|c| c.operation == "CreateInferenceProfile")
        .expect("the proxy names CreateInferenceProfile");
    assert!(create_call.write);
    assert_eq!(create_call.status, Some(201));

    // Read back by ARN and by ID: an application profile with the system profile's models.
    for identifier in [arn.as_str(), id.as_str()] {
        let got = env
            .block_on(
                bedrock
                    .get_inference_profile()
                    .inference_profile_identifier(identifier)
                    .send(),
            )
            .expect("GetInferenceProfile");
        assert_eq!(got.inference_profile_name(), "team-a sonnet");
        assert_eq!(got.inference_profile_id(), id);
        assert_eq!(got.description(), Some("Project A: Claude 3.7 Sonnet"));
        assert_eq!(got.r#type(), &InferenceProfileType::Application);
        assert!(got.created_at().is_some());
        let models: Vec<String> = got
            .models()
            .iter()
            .filter_map(|m| m.model_arn().map(str::to_string))
            .collect();
        assert_eq!(models, system_models);
    }

    // The same token and parameters: the same profile, no second one.
    let again = env
        .block_on(
            bedrock
                .create_inference_profile()
                .inference_profile_name("team-a sonnet")
                .description("Project A: Claude 3.7 Sonnet")
                .model_source(InferenceProfileModelSource::CopyFrom(system_arn.clone()))
                .tags(bedrock_tag("Project", "a"))
                .client_request_token("token-1")
                .send(),
        )
        .expect("idempotent retry");
    assert_eq!(again.inference_profile_arn(), arn);
    assert_eq!(env.standin.inference_profiles().len(), 1);

    // The name is taken: ConflictException.
    let conflict = env.block_on(
        bedrock
            .create_inference_profile()
            .inference_profile_name("team-a sonnet")
            .model_source(InferenceProfileModelSource::CopyFrom(system_arn.clone()))
            .send(),
    );
    match conflict {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_conflict_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("a second profile of the same name: {v:?}"),
    }

    // Validation: the name pattern, a foundation model of another Region, an application
    // profile as source, an unknown system profile.
    let create = |name: &str, source: String| {
        env.block_on(
            bedrock
                .create_inference_profile()
                .inference_profile_name(name)
                .model_source(InferenceProfileModelSource::CopyFrom(source))
                .send(),
        )
    };
    let fm = |region: &str| format!("arn:aws:bedrock:{region}::foundation-model/{HAIKU_FM}");
    assert_eq!(code(create("bad name!", fm(REGION))), "ValidationException");
    assert_eq!(
        code(create("x".repeat(65).as_str(), fm(REGION))),
        "ValidationException"
    );
    assert_eq!(
        code(create("elsewhere", fm("us-west-2"))),
        "ValidationException"
    );
    assert_eq!(code(create("nested", arn.clone())), "ValidationException");
    assert_eq!(
        code(create(
            "unknown",
            format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.vendor.nothing-v1:0"),
        )),
        "ResourceNotFoundException"
    );

    // From a foundation model: that one model. Then four more for paging.
    let single = create("haiku single", fm(REGION)).expect("from a foundation model");
    let single_arn = single.inference_profile_arn().to_string();
    let got = env
        .block_on(
            bedrock
                .get_inference_profile()
                .inference_profile_identifier(&single_arn)
                .send(),
        )
        .expect("get");
    assert_eq!(got.models().len(), 1);
    assert_eq!(got.models()[0].model_arn(), Some(fm(REGION).as_str()));
    for i in 0..3 {
        create(&format!("extra-{i}"), fm(REGION)).expect("extra profile");
    }
    let first_page = env
        .block_on(
            bedrock
                .list_inference_profiles()
                .type_equals(InferenceProfileType::Application)
                .max_results(2)
                .send(),
        )
        .expect("first page");
    assert_eq!(first_page.inference_profile_summaries().len(), 2);
    assert!(first_page.next_token().is_some());
    let all: Vec<_> = env
        .block_on(
            bedrock
                .list_inference_profiles()
                .type_equals(InferenceProfileType::Application)
                .max_results(2)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .expect("all pages");
    let mut names: Vec<&str> = all.iter().map(|p| p.inference_profile_name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "extra-0",
            "extra-1",
            "extra-2",
            "haiku single",
            "team-a sonnet"
        ]
    );
    assert_eq!(
        code(
            env.block_on(
                bedrock
                    .list_inference_profiles()
                    .next_token("not-a-token")
                    .send()
            )
        ),
        "ValidationException"
    );

    // Tags: add, list, remove; more than 50 is TooManyTagsException; an absent profile is 404.
    env.block_on(
        bedrock
            .tag_resource()
            .resource_arn(&arn)
            .tags(bedrock_tag("Owner", "team-a"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        bedrock
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("Project")
            .send(),
    )
    .expect("UntagResource");
    let tags = env
        .block_on(bedrock.list_tags_for_resource().resource_arn(&arn).send())
        .expect("ListTagsForResource");
    let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("Owner", "team-a")]);
    let mut many = bedrock.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        many = many.tags(bedrock_tag(&format!("k{i}"), "v"));
    }
    let too_many = env.block_on(many.send());
    match too_many {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_too_many_tags_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("51 tags accepted: {v:?}"),
    }
    let absent =
        format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/zzzzzzzzzzzz");
    let missing = env.block_on(
        bedrock
            .tag_resource()
            .resource_arn(&absent)
            .tags(bedrock_tag("a", "b"))
            .send(),
    );
    match missing {
        Err(e) => {
            assert_eq!(e.code(), Some("ResourceNotFoundException"));
            assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
        }
        Ok(v) => panic!("tagged an absent profile: {v:?}"),
    }

    // Outside the tool: a tag removed in the console shows on the next read.
    assert!(env.standin.untag_profile("team-a sonnet", "Owner"));
    let tags = env
        .block_on(bedrock.list_tags_for_resource().resource_arn(&arn).send())
        .expect("ListTagsForResource");
    assert!(tags.tags().is_empty());

    // The snapshot: by Region and name, no IDs.
    let snapshot = env.standin.snapshot();
    let profile = &snapshot[ACCOUNT]["inference_profiles"][format!("{REGION}/team-a sonnet")];
    assert_eq!(
        profile["copy_from"],
        format!("arn:aws:bedrock:{REGION}::inference-profile/{SONNET_US}")
    );
    assert!(!snapshot.to_string().contains(&id));

    // Delete: gone, and a second delete is 404. The proxy names the call.
    env.block_on(
        bedrock
            .delete_inference_profile()
            .inference_profile_identifier(&arn)
            .send(),
    )
    .expect("DeleteInferenceProfile");
    assert_eq!(
        code(
            env.block_on(
                bedrock
                    .get_inference_profile()
                    .inference_profile_identifier(&arn)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    let again = env.block_on(
        bedrock
            .delete_inference_profile()
            .inference_profile_identifier(&id)
            .send(),
    );
    match again {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("deleted twice: {v:?}"),
    }
    assert!(
        env.proxy
            .writes()
            .iter()
            .any(|c| c.operation == "DeleteInferenceProfile")
    );

    // Another account, by its access key: its own profiles, ARNs in its account.
    env.standin
        .register_access_key("AKIAOTHERACCOUNT", "210987654321");
    let other = with_key(&env, "AKIAOTHERACCOUNT", "us-west-2");
    let theirs = env
        .block_on(
            other
                .bedrock
                .create_inference_profile()
                .inference_profile_name("team-a sonnet")
                .model_source(InferenceProfileModelSource::CopyFrom(fm("us-west-2")))
                .send(),
        )
        .expect("create in the other account");
    assert!(
        theirs
            .inference_profile_arn()
            .starts_with("arn:aws:bedrock:us-west-2:210987654321:application-inference-profile/")
    );
    let in_default: Vec<_> = env
        .standin
        .inference_profiles()
        .into_iter()
        .filter(|p| p.account == ACCOUNT)
        .collect();
    assert_eq!(in_default.len(), 4);
}

// ---------------------------------------------------------------------------
// Cost Explorer: cost-allocation tags

#[test]
fn standin_cost_allocation_tags() {
    use aws_sdk_costexplorer::types::{CostAllocationTagStatus, CostAllocationTagStatusEntry};

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let ce = &aws.costexplorer;
    let entry = |key: &str, status: CostAllocationTagStatus| {
        CostAllocationTagStatusEntry::builder()
            .tag_key(key)
            .status(status)
            .build()
            .expect("entry")
    };

    env.standin
        .tag_keys_seen_in_billing(&["Project", "Team", "CostCenter", "App", "Env"]);
    let listed = env
        .block_on(ce.list_cost_allocation_tags().send())
        .expect("ListCostAllocationTags");
    assert_eq!(listed.cost_allocation_tags().len(), 5);
    assert!(
        listed
            .cost_allocation_tags()
            .iter()
            .all(|t| t.status() == &CostAllocationTagStatus::Inactive
                && t.r#type().as_str() == "UserDefined")
    );

    // A known key is activated; a key billing has not seen gets an Errors entry, with 200.
    let updated = env
        .block_on(
            ce.update_cost_allocation_tags_status()
                .cost_allocation_tags_status(entry("Project", CostAllocationTagStatus::Active))
                .cost_allocation_tags_status(entry("Unbilled", CostAllocationTagStatus::Active))
                .send(),
        )
        .expect("UpdateCostAllocationTagsStatus answers 200 with Errors");
    let errors = updated.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].tag_key(), Some("Unbilled"));
    assert_eq!(errors[0].code(), Some("TagKeysNotFoundException"));
    assert_eq!(
        errors[0].message(),
        Some("Failed to update Cost Allocation Tag: Unbilled")
    );
    let calls = env.proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "UpdateCostAllocationTagsStatus" && c.status == Some(200))
    );
    assert_eq!(env.standin.active_cost_allocation_tags(), ["Project"]);

    // Filters: Status, TagKeys; the unbilled key stays unlisted.
    let active = env
        .block_on(
            ce.list_cost_allocation_tags()
                .status(CostAllocationTagStatus::Active)
                .send(),
        )
        .expect("active");
    let keys: Vec<&str> = active
        .cost_allocation_tags()
        .iter()
        .map(|t| t.tag_key())
        .collect();
    assert_eq!(keys, ["Project"]);
    assert!(
        active.cost_allocation_tags()[0]
            .last_updated_date()
            .is_some()
    );
    let by_key = env
        .block_on(
            ce.list_cost_allocation_tags()
                .tag_keys("Unbilled")
                .tag_keys("Team")
                .send(),
        )
        .expect("by key");
    let keys: Vec<&str> = by_key
        .cost_allocation_tags()
        .iter()
        .map(|t| t.tag_key())
        .collect();
    assert_eq!(keys, ["Team"]);

    // Paging.
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let page = env
            .block_on(
                ce.list_cost_allocation_tags()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send(),
            )
            .expect("page");
        assert!(page.cost_allocation_tags().len() <= 2);
        seen.extend(
            page.cost_allocation_tags()
                .iter()
                .map(|t| t.tag_key().to_string()),
        );
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(
        code(env.block_on(ce.list_cost_allocation_tags().next_token("bogus").send())),
        "InvalidNextTokenException"
    );

    // More than 20 entries: refused as a whole.
    let mut big = ce.update_cost_allocation_tags_status();
    for i in 0..21 {
        big = big
            .cost_allocation_tags_status(entry(&format!("k{i}"), CostAllocationTagStatus::Active));
    }
    assert_eq!(code(env.block_on(big.send())), "ValidationException");

    // A member account of an organization: no access to cost-allocation tags.
    env.standin.set_member_account(true);
    let (code_list, message) = error(env.block_on(ce.list_cost_allocation_tags().send()));
    assert_eq!(code_list, "AccessDeniedException");
    assert!(message.contains("Linked account"), "{message}");
    assert_eq!(
        code(
            env.block_on(
                ce.update_cost_allocation_tags_status()
                    .cost_allocation_tags_status(entry("Team", CostAllocationTagStatus::Active))
                    .send()
            )
        ),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);

    let snapshot = env.standin.snapshot();
    assert_eq!(
        snapshot[ACCOUNT]["cost_allocation_tags"]["Project"]["status"],
        "Active"
    );
}

// ---------------------------------------------------------------------------
// Cost Anomaly Detection

#[test]
fn standin_anomaly_detection() {
    use aws_sdk_costexplorer::types::{
        AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, Dimension,
        DimensionValues, Expression, MatchOption, MonitorDimension, MonitorType, ResourceTag,
        Subscriber, SubscriberType,
    };

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let ce = &aws.costexplorer;
    let dimensional = |name: &str| {
        AnomalyMonitor::builder()
            .monitor_name(name)
            .monitor_type(MonitorType::Dimensional)
            .monitor_dimension(MonitorDimension::Service)
            .build()
            .expect("monitor")
    };
    let threshold = |key: Dimension, value: &str| {
        Expression::builder()
            .dimensions(
                DimensionValues::builder()
                    .key(key)
                    .match_options(MatchOption::GreaterThanOrEqual)
                    .values(value)
                    .build(),
            )
            .build()
    };
    let email = |address: &str| {
        Subscriber::builder()
            .address(address)
            .r#type(SubscriberType::Email)
            .build()
    };
    let tag = |k: &str, v: &str| ResourceTag::builder().key(k).value(v).build().expect("tag");

    // A DIMENSIONAL SERVICE monitor exists already: a second one is refused.
    let existing = env
        .standin
        .add_dimensional_service_monitor("Default-Services-Monitor");
    let (second, message) = error(
        env.block_on(
            ce.create_anomaly_monitor()
                .anomaly_monitor(dimensional("bedrock-monitor"))
                .send(),
        ),
    );
    assert_eq!(second, "ValidationException");
    assert_eq!(
        message,
        "Limit exceeded on dimensional spend monitor creation"
    );

    // DIMENSIONAL without a dimension, CUSTOM without a specification: refused.
    let bare = AnomalyMonitor::builder()
        .monitor_name("bare")
        .monitor_type(MonitorType::Dimensional)
        .build()
        .expect("monitor");
    assert_eq!(
        code(env.block_on(ce.create_anomaly_monitor().anomaly_monitor(bare).send())),
        "ValidationException"
    );
    let custom_bare = AnomalyMonitor::builder()
        .monitor_name("custom")
        .monitor_type(MonitorType::Custom)
        .build()
        .expect("monitor");
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_monitor()
                    .anomaly_monitor(custom_bare)
                    .send()
            )
        ),
        "ValidationException"
    );

    // A CUSTOM monitor of two linked accounts, tagged.
    let custom = AnomalyMonitor::builder()
        .monitor_name("accounts")
        .monitor_type(MonitorType::Custom)
        .monitor_specification(
            Expression::builder()
                .dimensions(
                    DimensionValues::builder()
                        .key(Dimension::LinkedAccount)
                        .values("111111111111")
                        .values("222222222222")
                        .build(),
                )
                .build(),
        )
        .build()
        .expect("monitor");
    let monitor_arn = env
        .block_on(
            ce.create_anomaly_monitor()
                .anomaly_monitor(custom)
                .resource_tags(tag("Project", "a"))
                .send(),
        )
        .expect("CreateAnomalyMonitor")
        .monitor_arn()
        .to_string();
    let arn_shape = regex::Regex::new(&format!(
        "^arn:aws:ce::{ACCOUNT}:anomalymonitor/[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$"
    ))
    .expect("regex");
    assert!(arn_shape.is_match(&monitor_arn), "{monitor_arn}");

    // Read, rename, page, unknown ARNs.
    let monitors = env
        .block_on(ce.get_anomaly_monitors().send())
        .expect("GetAnomalyMonitors");
    assert_eq!(monitors.anomaly_monitors().len(), 2);
    let ours = monitors
        .anomaly_monitors()
        .iter()
        .find(|m| m.monitor_arn() == Some(monitor_arn.as_str()))
        .expect("ours listed");
    assert_eq!(ours.monitor_type(), &MonitorType::Custom);
    assert!(ours.monitor_specification().is_some());
    assert!(ours.creation_date().is_some());
    env.block_on(
        ce.update_anomaly_monitor()
            .monitor_arn(&monitor_arn)
            .monitor_name("linked accounts")
            .send(),
    )
    .expect("UpdateAnomalyMonitor");
    let page = env
        .block_on(ce.get_anomaly_monitors().max_results(1).send())
        .expect("first page");
    assert_eq!(page.anomaly_monitors().len(), 1);
    let rest = env
        .block_on(
            ce.get_anomaly_monitors()
                .max_results(1)
                .set_next_page_token(page.next_page_token().map(str::to_string))
                .send(),
        )
        .expect("second page");
    assert_eq!(rest.anomaly_monitors().len(), 1);
    assert!(rest.next_page_token().is_none());
    let unknown =
        format!("arn:aws:ce::{ACCOUNT}:anomalymonitor/00000000-0000-4000-8000-000000000000");
    match env.block_on(ce.get_anomaly_monitors().monitor_arn_list(&unknown).send()) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_monitor_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown monitor listed: {v:?}"),
    }
    let filtered = env
        .block_on(ce.get_anomaly_monitors().monitor_arn_list(&existing).send())
        .expect("by ARN");
    assert_eq!(
        filtered.anomaly_monitors()[0].monitor_dimension(),
        Some(&MonitorDimension::Service)
    );

    // Subscriptions: DAILY email with an absolute threshold.
    let subscription = AnomalySubscription::builder()
        .subscription_name("daily")
        .monitor_arn_list(&monitor_arn)
        .subscribers(email("finops@example.com"))
        .frequency(AnomalySubscriptionFrequency::Daily)
        .threshold_expression(threshold(Dimension::AnomalyTotalImpactAbsolute, "100"))
        .build()
        .expect("subscription");
    let subscription_arn = env
        .block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(subscription)
                .send(),
        )
        .expect("CreateAnomalySubscription")
        .subscription_arn()
        .to_string();
    assert!(
        subscription_arn.starts_with(&format!("arn:aws:ce::{ACCOUNT}:anomalysubscription/")),
        "{subscription_arn}"
    );

    // IMMEDIATE is for SNS; no threshold at all; an unknown monitor; a bad threshold shape.
    let with =
        |f: AnomalySubscriptionFrequency, s: Subscriber, t: Option<Expression>, monitor: &str| {
            AnomalySubscription::builder()
                .subscription_name("x")
                .monitor_arn_list(monitor)
                .subscribers(s)
                .frequency(f)
                .set_threshold_expression(t)
                .build()
                .expect("subscription")
        };
    let absolute = Some(threshold(Dimension::AnomalyTotalImpactAbsolute, "10"));
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_subscription()
                    .anomaly_subscription(with(
                        AnomalySubscriptionFrequency::Immediate,
                        email("a@example.com"),
                        absolute.clone(),
                        &monitor_arn
                    ))
                    .send()
            )
        ),
        "ValidationException"
    );
    let (no_threshold, message) = error(
        env.block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(with(
                    AnomalySubscriptionFrequency::Daily,
                    email("a@example.com"),
                    None,
                    &monitor_arn,
                ))
                .send(),
        ),
    );
    assert_eq!(no_threshold, "ValidationException");
    assert_eq!(
        message,
        "Threshold and ThresholdExpression cannot both be null"
    );
    match env.block_on(
        ce.create_anomaly_subscription()
            .anomaly_subscription(with(
                AnomalySubscriptionFrequency::Daily,
                email("a@example.com"),
                absolute.clone(),
                &unknown,
            ))
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_monitor_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("a subscription to an unknown monitor: {v:?}"),
    }
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_subscription()
                    .anomaly_subscription(with(
                        AnomalySubscriptionFrequency::Daily,
                        email("a@example.com"),
                        Some(threshold(Dimension::Service, "10")),
                        &monitor_arn
                    ))
                    .send()
            )
        ),
        "ValidationException"
    );

    // IMMEDIATE with an SNS topic, And of both thresholds, on both monitors.
    let sns = Subscriber::builder()
        .address(format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts"))
        .r#type(SubscriberType::Sns)
        .build();
    let both = Expression::builder()
        .and(threshold(Dimension::AnomalyTotalImpactAbsolute, "50"))
        .and(threshold(Dimension::AnomalyTotalImpactPercentage, "20"))
        .build();
    let immediate = env
        .block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(
                    AnomalySubscription::builder()
                        .subscription_name("immediate")
                        .monitor_arn_list(&monitor_arn)
                        .monitor_arn_list(&existing)
                        .subscribers(sns)
                        .frequency(AnomalySubscriptionFrequency::Immediate)
                        .threshold_expression(both)
                        .build()
                        .expect("subscription"),
                )
                .resource_tags(tag("Team", "finops"))
                .send(),
        )
        .expect("IMMEDIATE with SNS")
        .subscription_arn()
        .to_string();

    // Read by ARN list and by monitor; update; unknown ARNs.
    let by_arn = env
        .block_on(
            ce.get_anomaly_subscriptions()
                .subscription_arn_list(&subscription_arn)
                .send(),
        )
        .expect("by ARN");
    let daily = &by_arn.anomaly_subscriptions()[0];
    assert_eq!(daily.subscription_name(), "daily");
    assert_eq!(daily.account_id(), Some(ACCOUNT));
    assert_eq!(daily.frequency(), &AnomalySubscriptionFrequency::Daily);
    assert!(daily.threshold_expression().is_some());
    let by_monitor = env
        .block_on(ce.get_anomaly_subscriptions().monitor_arn(&existing).send())
        .expect("by monitor");
    let names: Vec<&str> = by_monitor
        .anomaly_subscriptions()
        .iter()
        .map(|s| s.subscription_name())
        .collect();
    assert_eq!(names, ["immediate"]);
    // The deprecated Threshold stands for an absolute ThresholdExpression.
    #[allow(deprecated)]
    let shorthand = ce
        .update_anomaly_subscription()
        .subscription_arn(&subscription_arn)
        .frequency(AnomalySubscriptionFrequency::Weekly)
        .threshold(250.0);
    env.block_on(shorthand.send())
        .expect("UpdateAnomalySubscription");
    let updated = env
        .block_on(
            ce.get_anomaly_subscriptions()
                .subscription_arn_list(&subscription_arn)
                .send(),
        )
        .expect("read back");
    let weekly = &updated.anomaly_subscriptions()[0];
    assert_eq!(weekly.frequency(), &AnomalySubscriptionFrequency::Weekly);
    let dims = weekly
        .threshold_expression()
        .and_then(|e| e.dimensions())
        .expect("absolute threshold");
    assert_eq!(dims.key(), Some(&Dimension::AnomalyTotalImpactAbsolute));
    assert_eq!(dims.values(), ["250"]);
    assert_eq!(
        code(
            env.block_on(
                ce.update_anomaly_subscription()
                    .subscription_arn(&subscription_arn)
                    .frequency(AnomalySubscriptionFrequency::Immediate)
                    .send()
            )
        ),
        "ValidationException",
        "email subscribers cannot be IMMEDIATE"
    );
    let unknown_subscription =
        format!("arn:aws:ce::{ACCOUNT}:anomalysubscription/00000000-0000-4000-8000-000000000000");
    match env.block_on(
        ce.get_anomaly_subscriptions()
            .subscription_arn_list(&unknown_subscription)
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_subscription_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown subscription listed: {v:?}"),
    }

    // Tags on monitors and subscriptions.
    env.block_on(
        ce.tag_resource()
            .resource_arn(&immediate)
            .resource_tags(tag("Owner", "me"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        ce.untag_resource()
            .resource_arn(&immediate)
            .resource_tag_keys("Team")
            .send(),
    )
    .expect("UntagResource");
    let tags = env
        .block_on(ce.list_tags_for_resource().resource_arn(&immediate).send())
        .expect("ListTagsForResource");
    let tags: Vec<(&str, &str)> = tags
        .resource_tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("Owner", "me")]);
    assert_eq!(
        code(
            env.block_on(
                ce.tag_resource()
                    .resource_arn(&monitor_arn)
                    .resource_tags(tag("aws:reserved", "x"))
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(
        code(env.block_on(ce.list_tags_for_resource().resource_arn(&unknown).send())),
        "ResourceNotFoundException"
    );

    // The snapshot names monitors, not ARNs.
    let snapshot = env.standin.snapshot();
    let subs = snapshot[ACCOUNT]["anomaly_subscriptions"]
        .as_array()
        .expect("subscriptions");
    assert!(
        subs.iter()
            .any(|s| s["monitors"]
                == serde_json::json!(["Default-Services-Monitor", "linked accounts"])),
        "{subs:?}"
    );
    assert!(!snapshot.to_string().contains(&monitor_arn));

    // Delete; deleting again is unknown.
    env.block_on(
        ce.delete_anomaly_subscription()
            .subscription_arn(&subscription_arn)
            .send(),
    )
    .expect("DeleteAnomalySubscription");
    assert_eq!(
        code(
            env.block_on(
                ce.delete_anomaly_subscription()
                    .subscription_arn(&subscription_arn)
                    .send()
            )
        ),
        "UnknownSubscriptionException"
    );
    env.block_on(ce.delete_anomaly_monitor().monitor_arn(&existing).send())
        .expect("DeleteAnomalyMonitor");
    assert_eq!(
        code(env.block_on(ce.delete_anomaly_monitor().monitor_arn(&existing).send())),
        "UnknownMonitorException"
    );

    // A member account: a SERVICE monitor is fine, a linked-account one is the management
    // account's.
    env.standin.set_member_account(true);
    env.block_on(
        ce.create_anomaly_monitor()
            .anomaly_monitor(dimensional("services"))
            .send(),
    )
    .expect("a member account's SERVICE monitor");
    let linked = AnomalyMonitor::builder()
        .monitor_name("linked")
        .monitor_type(MonitorType::Dimensional)
        .monitor_dimension(MonitorDimension::LinkedAccount)
        .build()
        .expect("monitor");
    assert_eq!(
        code(env.block_on(ce.create_anomaly_monitor().anomaly_monitor(linked).send())),
        "AccessDeniedException"
    );
}

// ---------------------------------------------------------------------------
// Cost categories

/// Requests moto answers, counted from its log (werkzeug logs one line per request).
fn moto_requests(env: &TestEnv) -> usize {
    env.moto
        .log()
        .lines()
        .filter(|l| l.contains(" HTTP/1."))
        .count()
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_cost_categories() {
    use std::sync::{Arc, Mutex};

    use aws_sdk_costexplorer::types::{
        CostCategoryInheritedValueDimension, CostCategoryInheritedValueDimensionName,
        CostCategoryRule, CostCategoryRuleType, CostCategoryRuleVersion,
        CostCategorySplitChargeMethod, CostCategorySplitChargeRule, CostCategoryStatus, Dimension,
        DimensionValues, Expression, MatchOption, ResourceTag, TagValues,
    };
    use bedrock_monitor::cost::{expression, spend};
    use serde_json::json;

    let env = TestEnv::new();
    // What the stand-in and the strict rules let through reaches this last rule, then moto.
    let forwarded = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = forwarded.clone();
    env.proxy
        .add_rule(Arc::new(crate::support::proxy::AnswerWith(
            move |r: &StrictRequest| {
                if r.service == "ce" {
                    seen.lock().unwrap().push(format!(
                        "{} {}",
                        r.operation,
                        String::from_utf8_lossy(&r.body)
                    ));
                }
                None
            },
        )));
    let moto_before = moto_requests(&env);
    assert!(moto_before > 0, "moto's log shows its readiness check");

    // Clients through the proxy, as the tool talks to AWS.
    let ce = bedrock_monitor::aws::emulator_clients(&env.proxy.url(), REGION).costexplorer;
    let month_start = chrono::Utc::now().format("%Y-%m-01T00:00:00Z").to_string();
    let dimension = |key: Dimension, values: &[&str], option: MatchOption| {
        Expression::builder()
            .dimensions(
                DimensionValues::builder()
                    .key(key)
                    .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                    .match_options(option)
                    .build(),
            )
            .build()
    };
    let regular =
        |value: &str, rule: Expression| CostCategoryRule::builder().value(value).rule(rule).build();
    let tag = |k: &str, v: &str| ResourceTag::builder().key(k).value(v).build().expect("tag");
    let create = |name: &str, rules: Vec<CostCategoryRule>| {
        env.block_on(
            ce.create_cost_category_definition()
                .name(name)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .set_rules(Some(rules))
                .send(),
        )
    };

    // The tool's own rules (two REGULAR rules with SERVICE_CODE and USAGE_TYPE, CONTAINS match
    // options) are accepted and read back equal after the round trip through the SDK.
    let tool_rules: Vec<CostCategoryRule> = spend::cost_category_rules()
        .iter()
        .map(|r| {
            regular(
                spend::COST_CATEGORY_VALUE,
                expression::ce_expression(&r["Rule"]),
            )
        })
        .collect();
    let created = env
        .block_on(
            ce.create_cost_category_definition()
                .name("bedrock-monitor")
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .set_rules(Some(tool_rules.clone()))
                .default_value("Other")
                .resource_tags(tag("ManagedBy", "bedrock-monitor"))
                .resource_tags(tag("Project", "genai"))
                .send(),
        )
        .expect("CreateCostCategoryDefinition");
    let arn = created.cost_category_arn().expect("arn").to_string();
    assert!(
        arn.starts_with(&format!("arn:aws:ce::{ACCOUNT}:costcategory/")),
        "{arn}"
    );
    assert_eq!(created.effective_start(), Some(month_start.as_str()));

    let described = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("DescribeCostCategoryDefinition");
    let category = described.cost_category().expect("CostCategory");
    assert_eq!(category.name(), "bedrock-monitor");
    assert_eq!(category.cost_category_arn(), arn);
    assert_eq!(category.effective_start(), month_start);
    assert_eq!(category.effective_end(), None);
    assert_eq!(
        category.rule_version(),
        &CostCategoryRuleVersion::CostCategoryExpressionV1
    );
    assert_eq!(category.rules(), tool_rules.as_slice());
    let read_back: Vec<serde_json::Value> = category
        .rules()
        .iter()
        .map(|r| json!({"Value": r.value(), "Rule": r.rule().map(expression::to_json)}))
        .collect();
    assert_eq!(read_back, spend::cost_category_rules());
    assert_eq!(category.default_value(), Some("Other"));
    assert_eq!(category.processing_status().len(), 1);
    assert_eq!(
        category.processing_status()[0].status(),
        Some(&CostCategoryStatus::Processing)
    );
    env.standin.cost_categories_applied();
    let applied = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe");
    assert_eq!(
        applied
            .cost_category()
            .expect("category")
            .processing_status()[0]
            .status(),
        Some(&CostCategoryStatus::Applied)
    );

    // The stand-in keeps the rules as the request sent them, match options included.
    let stored = env.standin.cost_categories();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].account, ACCOUNT);
    assert_eq!(stored[0].arn, arn);
    assert_eq!(stored[0].name, "bedrock-monitor");
    assert_eq!(
        stored[0].rules[0],
        json!({"Value": "Bedrock", "Rule": {"Dimensions": {
            "Key": "SERVICE_CODE", "Values": ["AmazonBedrock"], "MatchOptions": ["STARTS_WITH"],
        }}})
    );
    assert_eq!(
        stored[0].rules[1]["Rule"]["And"][0]["Dimensions"]["MatchOptions"],
        json!(["CONTAINS"])
    );
    assert_eq!(stored[0].tags.len(), 2);

    // Names are unique in the account.
    let (duplicate, message) = error(create(
        "bedrock-monitor",
        vec![regular(
            "x",
            dimension(Dimension::Region, &["us-east-1"], MatchOption::Equals),
        )],
    ));
    assert_eq!(duplicate, "ValidationException");
    assert!(message.contains("already exists"), "{message}");

    // Only LINKED_ACCOUNT, SERVICE_CODE, RECORD_TYPE, LINKED_ACCOUNT_NAME, REGION and
    // USAGE_TYPE: a SERVICE rule is refused, nested or not.
    let service = dimension(Dimension::Service, &["Amazon Bedrock"], MatchOption::Equals);
    let (refused, message) = error(create("by-service", vec![regular("x", service.clone())]));
    assert_eq!(refused, "ValidationException");
    assert!(
        message.starts_with("Failed to create Cost Category: Invalid Rule: Dimension SERVICE"),
        "{message}"
    );
    let nested_service = Expression::builder().not(service.clone()).build();
    assert_eq!(
        code(create("by-service", vec![regular("x", nested_service)])),
        "ValidationException"
    );

    // Root-level Or is refused; Or inside And is accepted.
    let region = dimension(Dimension::Region, &["us-east-1"], MatchOption::Equals);
    let usage = dimension(Dimension::UsageType, &["-MP:"], MatchOption::Contains);
    let or = Expression::builder()
        .or(region.clone())
        .or(usage.clone())
        .build();
    let (refused, message) = error(create("root-or", vec![regular("x", or.clone())]));
    assert_eq!(refused, "ValidationException");
    assert!(
        message.contains("Root level OR is not supported"),
        "{message}"
    );
    let linked = dimension(
        Dimension::LinkedAccount,
        &["111122223333"],
        MatchOption::Equals,
    );
    let nested = Expression::builder().and(or).and(linked.clone()).build();
    create("nested-or", vec![regular("x", nested)]).expect("Or below And");

    // More than one root operator in one expression.
    let two_roots = Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(Dimension::Region)
                .values("us-east-1")
                .build(),
        )
        .tags(TagValues::builder().key("Team").values("a").build())
        .build();
    let (_, message) = error(create("two-roots", vec![regular("x", two_roots)]));
    assert!(
        message.starts_with("Expression has more than one roots"),
        "{message}"
    );

    // A REGULAR rule needs Value and Rule (the service's words).
    let (_, message) = error(create(
        "no-value",
        vec![CostCategoryRule::builder().rule(region.clone()).build()],
    ));
    assert_eq!(
        message,
        "Failed to create Cost Category: Invalid Rule: Value and Rule must not be null."
    );
    // ABSENT takes no values.
    let absent = Expression::builder()
        .tags(
            TagValues::builder()
                .key("Team")
                .values("a")
                .match_options(MatchOption::Absent)
                .build(),
        )
        .build();
    let (_, message) = error(create("absent", vec![regular("x", absent)]));
    assert!(
        message.ends_with("Tags expression must not have values set when ABSENT is provided"),
        "{message}"
    );
    // An INHERITED_VALUE rule takes its value from a tag key.
    let inherited = CostCategoryRule::builder()
        .r#type(CostCategoryRuleType::InheritedValue)
        .inherited_value(
            CostCategoryInheritedValueDimension::builder()
                .dimension_name(CostCategoryInheritedValueDimensionName::Tag)
                .dimension_key("Team")
                .build(),
        )
        .build();
    create("by-team", vec![inherited]).expect("INHERITED_VALUE rule");

    // Name, rule version and rule count, as the reference gives them.
    for bad in [
        " leading-space",
        "trailing-space ",
        "slash/name",
        &"n".repeat(51),
        "",
    ] {
        assert_eq!(
            code(create(bad, vec![regular("x", region.clone())])),
            "ValidationException",
            "{bad:?}"
        );
    }
    create("Team Ä_1-2", vec![regular("x", region.clone())]).expect("letters, spaces, _ and -");
    assert_eq!(
        code(
            env.block_on(
                ce.create_cost_category_definition()
                    .name("v2")
                    .rule_version(CostCategoryRuleVersion::from("CostCategoryExpression.v2"))
                    .rules(regular("x", region.clone()))
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(code(create("no-rules", Vec::new())), "ValidationException");
    assert_eq!(
        code(create(
            "too-many-rules",
            vec![regular("x", region.clone()); 501]
        )),
        "ValidationException"
    );

    // Split charge rules: a source is no other rule's target.
    let split = |source: &str, targets: &[&str]| {
        CostCategorySplitChargeRule::builder()
            .source(source)
            .set_targets(Some(targets.iter().map(|t| t.to_string()).collect()))
            .method(CostCategorySplitChargeMethod::Even)
            .build()
            .expect("split charge rule")
    };
    let values = vec![
        regular("a", region.clone()),
        regular("b", usage.clone()),
        regular("c", linked.clone()),
    ];
    env.block_on(
        ce.create_cost_category_definition()
            .name("split")
            .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
            .set_rules(Some(values.clone()))
            .split_charge_rules(split("a", &["b", "c"]))
            .send(),
    )
    .expect("split charge rules");
    assert_eq!(
        code(
            env.block_on(
                ce.create_cost_category_definition()
                    .name("split-bad")
                    .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                    .set_rules(Some(values))
                    .split_charge_rules(split("a", &["b"]))
                    .split_charge_rules(split("b", &["c"]))
                    .send()
            )
        ),
        "ValidationException"
    );

    // EffectiveStart: a month start, within the previous twelve months, not in the future.
    let last_month = {
        use chrono::Datelike;
        let now = chrono::Utc::now();
        let (y, m) = if now.month() == 1 {
            (now.year() - 1, 12)
        } else {
            (now.year(), now.month() - 1)
        };
        format!("{y:04}-{m:02}-01T00:00:00Z")
    };
    let starting = |name: &str, start: &str| {
        env.block_on(
            ce.create_cost_category_definition()
                .name(name)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular("x", region.clone()))
                .effective_start(start)
                .send(),
        )
    };
    let backdated = starting("backdated", &last_month).expect("last month");
    assert_eq!(backdated.effective_start(), Some(last_month.as_str()));
    for bad in [
        "2020-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
        &month_start.replace("-01T", "-02T"),
        "yesterday",
    ] {
        assert_eq!(
            code(starting("bad-start", bad)),
            "ValidationException",
            "{bad}"
        );
    }

    // ListCostCategoryDefinitions: paged by MaxResults and NextToken.
    let list_all = |max: Option<i32>, on: Option<&str>| {
        let mut token: Option<String> = None;
        let mut pages = 0;
        let mut references = Vec::new();
        loop {
            let page = env
                .block_on(
                    ce.list_cost_category_definitions()
                        .set_max_results(max)
                        .set_effective_on(on.map(str::to_string))
                        .set_next_token(token.clone())
                        .send(),
                )
                .expect("ListCostCategoryDefinitions");
            pages += 1;
            if let Some(m) = max {
                assert!(page.cost_category_references().len() <= m as usize);
            }
            references.extend(page.cost_category_references().iter().cloned());
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        (references, pages)
    };
    let (references, pages) = list_all(Some(2), None);
    let names: Vec<&str> = references.iter().filter_map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "bedrock-monitor",
            "nested-or",
            "by-team",
            "Team Ä_1-2",
            "split",
            "backdated"
        ]
    );
    assert_eq!(pages, 3);
    let ours = &references[0];
    assert_eq!(ours.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(ours.number_of_rules(), 2);
    assert_eq!(ours.values(), ["Bedrock", "Other"]);
    assert_eq!(ours.default_value(), Some("Other"));
    assert_eq!(ours.effective_start(), Some(month_start.as_str()));
    assert_eq!(ours.effective_end(), None);
    assert_eq!(
        ours.processing_status()[0].status(),
        Some(&CostCategoryStatus::Applied)
    );
    let (all, _) = list_all(None, None);
    assert_eq!(all.len(), references.len());
    // EffectiveOn last month: only the category that was in effect then.
    let (then, _) = list_all(None, Some(&last_month));
    let names: Vec<&str> = then.iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["backdated"]);
    assert_eq!(
        code(
            env.block_on(
                ce.list_cost_category_definitions()
                    .next_token("bogus")
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(
        code(env.block_on(ce.list_cost_category_definitions().max_results(101).send())),
        "ValidationException"
    );

    // Update replaces the definition.
    let updated = env
        .block_on(
            ce.update_cost_category_definition()
                .cost_category_arn(&arn)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular(
                    "Bedrock",
                    dimension(
                        Dimension::ServiceCode,
                        &["AmazonBedrock"],
                        MatchOption::Equals,
                    ),
                ))
                .send(),
        )
        .expect("UpdateCostCategoryDefinition");
    assert_eq!(updated.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(updated.effective_start(), Some(month_start.as_str()));
    let after = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe after update");
    let after = after.cost_category().expect("category");
    assert_eq!(after.rules().len(), 1);
    assert_eq!(after.default_value(), None);
    assert_eq!(
        after.processing_status()[0].status(),
        Some(&CostCategoryStatus::Processing)
    );
    let (refused, message) = error(
        env.block_on(
            ce.update_cost_category_definition()
                .cost_category_arn(&arn)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular("Bedrock", service))
                .send(),
        ),
    );
    assert_eq!(refused, "ValidationException");
    assert!(
        message.starts_with("Failed to update Cost Category:"),
        "{message}"
    );

    // Rules edited outside the tool are what the next Describe shows.
    assert!(env.standin.set_cost_category_rules(
        "bedrock-monitor",
        json!([{"Value": "Bedrock", "Rule": {"Dimensions": {
            "Key": "USAGE_TYPE", "Values": ["InputTokenCount"], "MatchOptions": ["ENDS_WITH"],
        }}}]),
    ));
    assert!(!env.standin.set_cost_category_rules("nothing", json!([])));
    let edited = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe after an outside edit");
    let rule = edited.cost_category().expect("category").rules()[0]
        .rule()
        .expect("rule")
        .dimensions()
        .expect("dimensions");
    assert_eq!(rule.key(), Some(&Dimension::UsageType));
    assert_eq!(rule.match_options(), [MatchOption::EndsWith]);

    // Tags round trip.
    let tags_of = |arn: &str| {
        let listed = env
            .block_on(ce.list_tags_for_resource().resource_arn(arn).send())
            .expect("ListTagsForResource");
        listed
            .resource_tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<Vec<_>>()
    };
    let pairs = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tags_of(&arn),
        pairs(&[("ManagedBy", "bedrock-monitor"), ("Project", "genai")])
    );
    env.block_on(
        ce.tag_resource()
            .resource_arn(&arn)
            .resource_tags(tag("Owner", "finops"))
            .resource_tags(tag("Project", "bedrock"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        ce.untag_resource()
            .resource_arn(&arn)
            .resource_tag_keys("ManagedBy")
            .resource_tag_keys("NotThere")
            .send(),
    )
    .expect("UntagResource");
    assert_eq!(
        tags_of(&arn),
        pairs(&[("Owner", "finops"), ("Project", "bedrock")])
    );
    assert!(env.standin.untag_cost_category("bedrock-monitor", "Owner"));
    assert!(
        env.standin
            .tag_cost_category("bedrock-monitor", "Env", "prod")
    );
    assert_eq!(
        tags_of(&arn),
        pairs(&[("Env", "prod"), ("Project", "bedrock")])
    );

    // Unknown ARNs: ResourceNotFoundException everywhere.
    let unknown =
        format!("arn:aws:ce::{ACCOUNT}:costcategory/0a1b2c3d-0000-4000-8000-000000000000");
    match env.block_on(
        ce.describe_cost_category_definition()
            .cost_category_arn(&unknown)
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown category described: {v:?}"),
    }
    assert_eq!(
        code(
            env.block_on(
                ce.update_cost_category_definition()
                    .cost_category_arn(&unknown)
                    .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                    .rules(regular("x", region.clone()))
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.block_on(
                ce.delete_cost_category_definition()
                    .cost_category_arn(&unknown)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(env.block_on(ce.list_tags_for_resource().resource_arn(&unknown).send())),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.block_on(
                ce.tag_resource()
                    .resource_arn(&unknown)
                    .resource_tags(tag("a", "b"))
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    // Describe on a date before the category took effect finds nothing.
    assert_eq!(
        code(
            env.block_on(
                ce.describe_cost_category_definition()
                    .cost_category_arn(&arn)
                    .effective_on(&last_month)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // The snapshot: by name, no ARNs or dates.
    let snapshot = env.standin.snapshot();
    let ours = &snapshot[ACCOUNT]["cost_categories"]["bedrock-monitor"];
    assert_eq!(ours["rules"][0]["Rule"]["Dimensions"]["Key"], "USAGE_TYPE");
    assert_eq!(ours["tags"], json!({"Env": "prod", "Project": "bedrock"}));
    assert_eq!(
        snapshot[ACCOUNT]["cost_categories"]["split"]["split_charge_rules"][0]["Source"],
        "a"
    );
    let text = snapshot.to_string();
    assert!(
        !text.contains(&arn) && !text.contains(&month_start),
        "{text}"
    );

    // Delete: EffectiveEnd this month, then gone.
    let deleted = env
        .block_on(
            ce.delete_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("DeleteCostCategoryDefinition");
    assert_eq!(deleted.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(deleted.effective_end(), Some(month_start.as_str()));
    assert!(
        !env.standin
            .cost_categories()
            .iter()
            .any(|c| c.name == "bedrock-monitor")
    );
    assert_eq!(
        code(
            env.block_on(
                ce.describe_cost_category_definition()
                    .cost_category_arn(&arn)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // 50 cost categories per account.
    let existing = env.standin.cost_categories().len();
    for i in existing..50 {
        env.standin
            .add_cost_category(&format!("filler-{i}"), json!([]));
    }
    assert_eq!(
        code(create("one-too-many", vec![regular("x", region.clone())])),
        "ServiceQuotaExceededException"
    );

    // A member account has no access to cost categories.
    env.standin.set_member_account(true);
    let (denied, message) = error(env.block_on(ce.list_cost_category_definitions().send()));
    assert_eq!(denied, "AccessDeniedException");
    assert!(message.contains("Linked account"), "{message}");
    assert_eq!(
        code(create("member", vec![regular("x", region.clone())])),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);

    // Nothing about cost categories reached moto: no request was forwarded, moto logged none,
    // and every answer was the stand-in's (no HTTP 500 retried by the SDK).
    assert!(
        forwarded.lock().unwrap().is_empty(),
        "forwarded to moto: {:?}",
        forwarded.lock().unwrap()
    );
    assert_eq!(moto_requests(&env), moto_before, "{}", env.moto.log());
    let calls = env.proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "ListCostCategoryDefinitions")
    );
    assert!(
        calls
            .iter()
            .all(|c| c.service == "ce" && c.status.is_some_and(|s| s < 500)),
        "{calls:?}"
    );
    // The instruments see what does go to moto: tagging of an ARN that is not the stand-in's.
    let other = format!("arn:aws:budgets::{ACCOUNT}:budget/monthly");
    let _ = env.block_on(ce.list_tags_for_resource().resource_arn(&other).send());
    assert_eq!(forwarded.lock().unwrap().len(), 1);
    assert!(moto_requests(&env) > moto_before);
}

// ---------------------------------------------------------------------------
// Data Exports

const QUERY: &str = "SELECT line_item_usage_account_id, line_item_product_code, line_item_unblended_cost FROM COST_AND_USAGE_REPORT";

fn export(
    name: &str,
    query: &str,
    config: &[(&str, &str)],
    format: &str,
    compression: &str,
) -> aws_sdk_bcmdataexports::types::Export {
    use aws_sdk_bcmdataexports::types::{
        CompressionOption, DataQuery, DestinationConfigurations, Export, FormatOption,
        FrequencyOption, OverwriteOption, RefreshCadence, S3Destination, S3OutputConfigurations,
        S3OutputType,
    };
    let config: HashMap<String, String> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Export::builder()
        .name(name)
        .description("CUR 2.0 for Bedrock")
        .data_query(
            DataQuery::builder()
                .query_statement(query)
                .table_configurations("COST_AND_USAGE_REPORT", config)
                .build()
                .expect("query"),
        )
        .destination_configurations(
            DestinationConfigurations::builder()
                .s3_destination(
                    S3Destination::builder()
                        .s3_bucket("cur-bucket")
                        .s3_prefix("cur2")
                        .s3_region(REGION)
                        .s3_output_configurations(
                            S3OutputConfigurations::builder()
                                .output_type(S3OutputType::Custom)
                                .format(FormatOption::from(format))
                                .compression(CompressionOption::from(compression))
                                .overwrite(OverwriteOption::OverwriteReport)
                                .build()
                                .expect("output"),
                        )
                        .build()
                        .expect("destination"),
                )
                .build(),
        )
        .refresh_cadence(
            RefreshCadence::builder()
                .frequency(FrequencyOption::Synchronous)
                .build()
                .expect("cadence"),
        )
        .build()
        .expect("export")
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_data_exports() {
    use aws_sdk_bcmdataexports::types::ResourceTag;

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let de = &aws.dataexports;
    let daily = [
        ("TIME_GRANULARITY", "DAILY"),
        ("INCLUDE_RESOURCES", "FALSE"),
    ];

    let arn = env
        .block_on(
            de.create_export()
                .export(export("bedrock-cur", QUERY, &daily, "PARQUET", "PARQUET"))
                .resource_tags(
                    ResourceTag::builder()
                        .key("Project")
                        .value("a")
                        .build()
                        .expect("tag"),
                )
                .send(),
        )
        .expect("CreateExport")
        .export_arn()
        .expect("ExportArn")
        .to_string();
    let arn_shape = regex::Regex::new(&format!(
        "^arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/bedrock-cur-[0-9a-f-]{{36}}$"
    ))
    .expect("regex");
    assert!(arn_shape.is_match(&arn), "{arn}");

    // GetExport adds BILLING_VIEW_ARN to what was set.
    let got = env
        .block_on(de.get_export().export_arn(&arn).send())
        .expect("GetExport");
    let exported = got.export().expect("Export");
    assert_eq!(exported.name(), "bedrock-cur");
    let configs = exported
        .data_query()
        .and_then(|q| q.table_configurations())
        .and_then(|t| t.get("COST_AND_USAGE_REPORT"))
        .expect("CUR table configuration");
    assert_eq!(
        configs.get("BILLING_VIEW_ARN").map(String::as_str),
        Some(format!("arn:aws:billing::{ACCOUNT}:billingview/primary").as_str())
    );
    assert_eq!(
        configs.get("TIME_GRANULARITY").map(String::as_str),
        Some("DAILY")
    );
    assert_eq!(
        got.export_status()
            .and_then(|s| s.status_code())
            .map(|c| c.as_str()),
        Some("HEALTHY")
    );
    assert!(got.export_status().and_then(|s| s.created_at()).is_some());
    assert_eq!(
        exported
            .destination_configurations()
            .and_then(|d| d.s3_destination())
            .map(|s| s.s3_bucket()),
        Some("cur-bucket")
    );

    // Refused: the same name, PARQUET with GZIP, a bad granularity, a column that needs a
    // configuration, another table, an unknown property.
    let create = |e| env.block_on(de.create_export().export(e).send());
    assert_eq!(
        code(create(export(
            "bedrock-cur",
            QUERY,
            &daily,
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export("other", QUERY, &daily, "PARQUET", "GZIP"))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export(
            "other",
            QUERY,
            &[("TIME_GRANULARITY", "WEEKLY")],
            "TEXT_OR_CSV",
            "GZIP"
        ))),
        "ValidationException"
    );
    let with_resources =
        "SELECT line_item_resource_id, line_item_unblended_cost FROM COST_AND_USAGE_REPORT";
    let (column_code, message) = error(create(export(
        "other",
        with_resources,
        &daily,
        "TEXT_OR_CSV",
        "GZIP",
    )));
    assert_eq!(column_code, "ValidationException");
    assert_eq!(
        message,
        "The columns in the query provided are not a subset of the table COST_AND_USAGE_REPORT"
    );
    assert_eq!(
        code(create(export(
            "other",
            "SELECT * FROM FOCUS_1_0_AWS",
            &[],
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export(
            "other",
            QUERY,
            &[("INCLUDE_EVERYTHING", "TRUE")],
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );

    // With INCLUDE_RESOURCES the column is there; a CSV export.
    let second = create(export(
        "with-resources",
        with_resources,
        &[("INCLUDE_RESOURCES", "TRUE")],
        "TEXT_OR_CSV",
        "GZIP",
    ))
    .expect("with INCLUDE_RESOURCES")
    .export_arn()
    .expect("arn")
    .to_string();

    // List and page.
    let page = env
        .block_on(de.list_exports().max_results(1).send())
        .expect("ListExports");
    assert_eq!(page.exports().len(), 1);
    let rest = env
        .block_on(
            de.list_exports()
                .max_results(1)
                .set_next_token(page.next_token().map(str::to_string))
                .send(),
        )
        .expect("second page");
    assert_eq!(rest.exports().len(), 1);
    assert!(rest.next_token().is_none());
    let mut names: Vec<&str> = page
        .exports()
        .iter()
        .chain(rest.exports())
        .map(|e| e.export_name())
        .collect();
    names.sort();
    assert_eq!(names, ["bedrock-cur", "with-resources"]);

    // Update overwrites every parameter.
    env.block_on(
        de.update_export()
            .export_arn(&arn)
            .export(export(
                "bedrock-cur",
                QUERY,
                &[("TIME_GRANULARITY", "HOURLY")],
                "PARQUET",
                "PARQUET",
            ))
            .send(),
    )
    .expect("UpdateExport");
    let updated = env.standin.exports();
    let ours = updated
        .iter()
        .find(|e| e.name == "bedrock-cur")
        .expect("ours");
    assert_eq!(
        ours.table_configurations["COST_AND_USAGE_REPORT"]["TIME_GRANULARITY"],
        "HOURLY"
    );
    assert!(
        !ours.table_configurations["COST_AND_USAGE_REPORT"].contains_key("INCLUDE_RESOURCES"),
        "replaced, not merged"
    );

    // Outside the tool: a description changed in the console.
    assert!(
        env.standin
            .set_export_description("bedrock-cur", Some("changed"))
    );
    let got = env
        .block_on(de.get_export().export_arn(&arn).send())
        .expect("GetExport");
    assert_eq!(got.export().and_then(|e| e.description()), Some("changed"));

    // Tags.
    env.block_on(
        de.untag_resource()
            .resource_arn(&arn)
            .resource_tag_keys("Project")
            .send(),
    )
    .expect("UntagResource");
    env.block_on(
        de.tag_resource()
            .resource_arn(&arn)
            .resource_tags(
                ResourceTag::builder()
                    .key("Owner")
                    .value("me")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("TagResource");
    let tags = env
        .block_on(de.list_tags_for_resource().resource_arn(&arn).send())
        .expect("ListTagsForResource");
    let tags: Vec<(&str, &str)> = tags
        .resource_tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("Owner", "me")]);

    // Unknown ARNs.
    let unknown = format!("arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/nothing-here");
    match env.block_on(de.get_export().export_arn(&unknown).send()) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown export read: {v:?}"),
    }
    assert_eq!(
        code(env.block_on(de.delete_export().export_arn(&unknown).send())),
        "ResourceNotFoundException"
    );

    // The quota: five CUR 2.0 exports.
    for i in 0..3 {
        create(export(
            &format!("more-{i}"),
            QUERY,
            &[],
            "PARQUET",
            "PARQUET",
        ))
        .expect("export");
    }
    assert_eq!(
        code(create(export("sixth", QUERY, &[], "PARQUET", "PARQUET"))),
        "ServiceQuotaExceededException"
    );

    // The snapshot: by name, BILLING_VIEW_ARN included, no ARNs or timestamps.
    let snapshot = env.standin.snapshot();
    let cur = &snapshot[ACCOUNT]["data_exports"]["bedrock-cur"];
    assert_eq!(
        cur["table_configurations"]["COST_AND_USAGE_REPORT"]["BILLING_VIEW_ARN"],
        format!("arn:aws:billing::{ACCOUNT}:billingview/primary")
    );
    assert!(!snapshot.to_string().contains(&arn));

    // Delete.
    let deleted = env
        .block_on(de.delete_export().export_arn(&second).send())
        .expect("DeleteExport");
    assert_eq!(deleted.export_arn(), Some(second.as_str()));
    assert_eq!(env.standin.exports().len(), 4);

    // A member account creates exports of its own data like any account.
    env.block_on(de.delete_export().export_arn(&arn).send())
        .expect("make room under the quota");
    env.standin.set_member_account(true);
    create(export("member-cur", QUERY, &[], "PARQUET", "PARQUET"))
        .expect("a member account's export");

    // Reset forgets everything (the recovery tests reset between items).
    env.standin.reset();
    assert_eq!(env.standin.snapshot(), serde_json::json!({}));
}

// ---------------------------------------------------------------------------
// Budget actions

const BUDGET: &str = "bedrock-monthly";
const DENY_POLICY: &str = "arn:aws:iam::aws:policy/AWSDenyAll";

fn action_role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/BudgetsActionRole")
}

fn email(address: &str) -> aws_sdk_budgets::types::Subscriber {
    aws_sdk_budgets::types::Subscriber::builder()
        .subscription_type(aws_sdk_budgets::types::SubscriptionType::Email)
        .address(address)
        .build()
        .expect("subscriber")
}

fn sns(address: &str) -> aws_sdk_budgets::types::Subscriber {
    aws_sdk_budgets::types::Subscriber::builder()
        .subscription_type(aws_sdk_budgets::types::SubscriptionType::Sns)
        .address(address)
        .build()
        .expect("subscriber")
}

fn threshold(value: f64) -> aws_sdk_budgets::types::ActionThreshold {
    aws_sdk_budgets::types::ActionThreshold::builder()
        .action_threshold_value(value)
        .action_threshold_type(aws_sdk_budgets::types::ThresholdType::Percentage)
        .build()
        .expect("threshold")
}

/// An IAM definition attaching `policy` to `roles`.
fn iam_definition(policy: &str, roles: &[&str]) -> aws_sdk_budgets::types::Definition {
    aws_sdk_budgets::types::Definition::builder()
        .iam_action_definition(
            aws_sdk_budgets::types::IamActionDefinition::builder()
                .policy_arn(policy)
                .set_roles(
                    (!roles.is_empty()).then(|| roles.iter().map(|r| r.to_string()).collect()),
                )
                .build()
                .expect("IAM definition"),
        )
        .build()
}

fn create_budget(env: &TestEnv, budgets: &aws_sdk_budgets::Client, name: &str) {
    use aws_sdk_budgets::types::{Budget, BudgetType, Spend, TimeUnit};
    env.block_on(
        budgets
            .create_budget()
            .account_id(ACCOUNT)
            .budget(
                Budget::builder()
                    .budget_name(name)
                    .budget_limit(
                        Spend::builder()
                            .amount("100")
                            .unit("USD")
                            .build()
                            .expect("spend"),
                    )
                    .time_unit(TimeUnit::Monthly)
                    .budget_type(BudgetType::Cost)
                    .build()
                    .expect("budget"),
            )
            .send(),
    )
    .expect("CreateBudget (moto)");
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_budget_actions() {
    use aws_sdk_budgets::types::{
        ActionStatus, ActionType, ApprovalModel, Definition, EventType, ExecutionType,
        NotificationType, ScpActionDefinition,
    };

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let budgets = &aws.budgets;
    let create = |budget: &str,
                  definition: Definition,
                  approval: ApprovalModel,
                  value: f64,
                  subscribers: Vec<aws_sdk_budgets::types::Subscriber>| {
        env.block_on(
            budgets
                .create_budget_action()
                .account_id(ACCOUNT)
                .budget_name(budget)
                .notification_type(NotificationType::Actual)
                .action_type(ActionType::Iam)
                .action_threshold(threshold(value))
                .definition(definition)
                .execution_role_arn(action_role())
                .approval_model(approval)
                .set_subscribers(Some(subscribers))
                .send(),
        )
    };
    let iam = || iam_definition(DENY_POLICY, &["BedrockUsers"]);
    let status = |id: &str| {
        env.block_on(
            budgets
                .describe_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(id)
                .send(),
        )
        .expect("DescribeBudgetAction")
        .action()
        .expect("Action")
        .status()
        .clone()
    };
    let execute = |id: &str, kind: ExecutionType| {
        env.block_on(
            budgets
                .execute_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(id)
                .execution_type(kind)
                .send(),
        )
    };

    // No budget yet: the stand-in knows none.
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "NotFoundException"
    );

    // The budget is moto's (CreateBudget reaches it); the stand-in learns its name on the way.
    create_budget(&env, budgets, BUDGET);
    let in_moto = env
        .block_on(
            env.aws
                .budgets
                .describe_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .send(),
        )
        .expect("the budget is in moto");
    assert_eq!(in_moto.budget().map(|b| b.budget_name()), Some(BUDGET));
    assert_eq!(env.standin.known_budgets(), [BUDGET]);

    let manual = create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        80.0,
        vec![email("ops@example.com")],
    )
    .expect("CreateBudgetAction");
    assert_eq!(manual.account_id(), ACCOUNT);
    assert_eq!(manual.budget_name(), BUDGET);
    let uuid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .expect("regex");
    assert!(uuid.is_match(manual.action_id()), "{}", manual.action_id());
    let manual_id = manual.action_id().to_string();

    // Read back: every member, STANDBY, the IAM definition as given.
    let described = env
        .block_on(
            budgets
                .describe_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .send(),
        )
        .expect("DescribeBudgetAction");
    let action = described.action().expect("Action");
    assert_eq!(action.status(), &ActionStatus::Standby);
    assert_eq!(action.action_type(), &ActionType::Iam);
    assert_eq!(action.approval_model(), &ApprovalModel::Manual);
    assert_eq!(action.execution_role_arn(), action_role());
    assert_eq!(
        action
            .action_threshold()
            .map(|t| t.action_threshold_value()),
        Some(80.0)
    );
    let definition = action
        .definition()
        .and_then(|d| d.iam_action_definition())
        .expect("IamActionDefinition");
    assert_eq!(definition.policy_arn(), DENY_POLICY);
    assert_eq!(definition.roles(), ["BedrockUsers"]);
    assert!(
        action
            .definition()
            .and_then(|d| d.scp_action_definition())
            .is_none()
    );
    assert_eq!(action.subscribers().len(), 1);
    let held = env.standin.budget_actions();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, "STANDBY");
    assert_eq!(
        held[0]
            .iam
            .as_ref()
            .map(|i| (i.policy_arn.as_str(), i.roles.clone())),
        Some((DENY_POLICY, vec!["BedrockUsers".to_string()]))
    );

    // Validation: the definition must match the type; an IAM definition names someone; at most
    // one SNS subscriber and 11 in all; the role pattern and account; 100 roles at most; the
    // threshold's range; another account's ID.
    let scp = Definition::builder()
        .scp_action_definition(
            ScpActionDefinition::builder()
                .policy_id("p-12345678")
                .target_ids(ACCOUNT)
                .build()
                .expect("SCP definition"),
        )
        .build();
    let invalid = |r| assert_eq!(code(r), "InvalidParameterException");
    invalid(create(
        BUDGET,
        scp.clone(),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    invalid(create(
        BUDGET,
        iam_definition(DENY_POLICY, &[]),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:budget-alerts");
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        90.0,
        vec![sns(&topic), sns(&format!("{topic}-2"))],
    ));
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        90.0,
        (0..12)
            .map(|i| email(&format!("u{i}@example.com")))
            .collect(),
    ));
    invalid(create(BUDGET, iam(), ApprovalModel::Manual, 90.0, vec![]));
    invalid(create(
        BUDGET,
        iam_definition("arn:aws:iam::aws:role/NotAPolicy", &["BedrockUsers"]),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    let many: Vec<String> = (0..101).map(|i| format!("role-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    invalid(create(
        BUDGET,
        iam_definition(DENY_POLICY, &many),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        -1.0,
        vec![email("a@example.com")],
    ));
    let other_role = env.block_on(
        budgets
            .create_budget_action()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .notification_type(NotificationType::Actual)
            .action_type(ActionType::Iam)
            .action_threshold(threshold(95.0))
            .definition(iam())
            .execution_role_arn("arn:aws:iam::210987654321:role/BudgetsActionRole")
            .approval_model(ApprovalModel::Manual)
            .subscribers(email("a@example.com"))
            .send(),
    );
    invalid(other_role);
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_actions_for_account()
                    .account_id("210987654321")
                    .send()
            )
        ),
        "AccessDeniedException"
    );
    // The same action twice.
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "DuplicateRecordException"
    );
    // An SCP action: the management account's only.
    env.standin.set_member_account(true);
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .create_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .notification_type(NotificationType::Actual)
                    .action_type(ActionType::Scp)
                    .action_threshold(threshold(100.0))
                    .definition(scp.clone())
                    .execution_role_arn(action_role())
                    .approval_model(ApprovalModel::Auto)
                    .subscribers(email("a@example.com"))
                    .send(),
            )
        ),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);
    assert_eq!(
        env.standin.budget_actions().len(),
        1,
        "nothing refused was kept"
    );

    // The manual workflow. Approving a STANDBY action is refused; the threshold is crossed and
    // the action waits for approval; reversing it before it ran is refused; approved, it runs;
    // reversed, it is undone; reset, it waits again.
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ApproveBudgetAction)),
        "ResourceLockedException"
    );
    assert_eq!(env.standin.cross_budget_action_threshold(BUDGET), 1);
    assert_eq!(status(&manual_id), ActionStatus::Pending);
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ReverseBudgetAction)),
        "ResourceLockedException"
    );
    let approved = execute(&manual_id, ExecutionType::ApproveBudgetAction).expect("approve");
    assert_eq!(
        approved.execution_type(),
        &ExecutionType::ApproveBudgetAction
    );
    assert_eq!(approved.action_id(), manual_id);
    assert_eq!(status(&manual_id), ActionStatus::ExecutionSuccess);
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ApproveBudgetAction)),
        "ResourceLockedException"
    );
    execute(&manual_id, ExecutionType::ReverseBudgetAction).expect("reverse");
    assert_eq!(status(&manual_id), ActionStatus::ReverseSuccess);
    execute(&manual_id, ExecutionType::ResetBudgetAction).expect("reset");
    assert_eq!(status(&manual_id), ActionStatus::Standby);

    // The history, newest first: reset, reverse, approve, the threshold, creation.
    let histories = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .send(),
        )
        .expect("DescribeBudgetActionHistories");
    let events: Vec<(EventType, ActionStatus)> = histories
        .action_histories()
        .iter()
        .map(|h| (h.event_type().clone(), h.status().clone()))
        .collect();
    assert_eq!(
        events,
        [
            (EventType::ExecuteAction, ActionStatus::Standby),
            (EventType::ExecuteAction, ActionStatus::ReverseSuccess),
            (EventType::ExecuteAction, ActionStatus::ExecutionSuccess),
            (EventType::System, ActionStatus::Pending),
            (EventType::CreateAction, ActionStatus::Standby),
        ]
    );
    let details = histories.action_histories()[0]
        .action_history_details()
        .expect("details");
    assert_eq!(
        details.action().map(|a| a.action_id()),
        Some(manual_id.as_str())
    );
    // Paged.
    let first = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .max_results(2)
                .send(),
        )
        .expect("a page");
    assert_eq!(first.action_histories().len(), 2);
    let rest = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .max_results(100)
                .next_token(first.next_token().expect("NextToken"))
                .send(),
        )
        .expect("the rest");
    assert_eq!(rest.action_histories().len(), 3);
    assert!(rest.next_token().is_none());

    // An automatic action runs when its threshold is crossed.
    let automatic = create(
        BUDGET,
        iam_definition(DENY_POLICY, &["BedrockAdmins"]),
        ApprovalModel::Auto,
        100.0,
        vec![sns(&topic), email("ops@example.com")],
    )
    .expect("an automatic action")
    .action_id()
    .to_string();
    assert_eq!(env.standin.cross_budget_action_threshold(BUDGET), 2);
    assert_eq!(status(&automatic), ActionStatus::ExecutionSuccess);
    assert_eq!(status(&manual_id), ActionStatus::Pending);

    // While an action is being worked on it can be neither changed nor deleted.
    assert!(
        env.standin
            .set_budget_action_status(&automatic, "REVERSE_IN_PROGRESS")
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .update_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .action_threshold(threshold(110.0))
                    .send()
            )
        ),
        "ResourceLockedException"
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .delete_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .send()
            )
        ),
        "ResourceLockedException"
    );
    assert!(
        env.standin
            .set_budget_action_status(&automatic, "REVERSE_FAILURE")
    );
    execute(&automatic, ExecutionType::RetryBudgetAction).expect("retry");
    assert_eq!(status(&automatic), ActionStatus::ReverseSuccess);

    // Update: what is given changes, the rest stays.
    let updated = env
        .block_on(
            budgets
                .update_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .action_threshold(threshold(85.0))
                .send(),
        )
        .expect("UpdateBudgetAction");
    let threshold_of = |a: Option<&aws_sdk_budgets::types::Action>| {
        a.and_then(|a| a.action_threshold())
            .map(|t| t.action_threshold_value())
    };
    assert_eq!(threshold_of(updated.old_action()), Some(80.0));
    assert_eq!(threshold_of(updated.new_action()), Some(85.0));
    assert_eq!(
        updated.new_action().map(|a| a.approval_model()),
        Some(&ApprovalModel::Manual)
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .update_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&manual_id)
                    .definition(scp.clone())
                    .send()
            )
        ),
        "InvalidParameterException"
    );

    // Listings, paged.
    let page = env
        .block_on(
            budgets
                .describe_budget_actions_for_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .max_results(1)
                .send(),
        )
        .expect("DescribeBudgetActionsForBudget");
    assert_eq!(page.actions().len(), 1);
    assert_eq!(page.actions()[0].action_id(), manual_id);
    let next = env
        .block_on(
            budgets
                .describe_budget_actions_for_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .max_results(1)
                .next_token(page.next_token().expect("NextToken"))
                .send(),
        )
        .expect("second page");
    assert_eq!(next.actions()[0].action_id(), automatic);
    assert!(next.next_token().is_none());
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_actions_for_budget()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .next_token("not-a-token")
                    .send()
            )
        ),
        "InvalidNextTokenException"
    );
    let all = env
        .block_on(
            budgets
                .describe_budget_actions_for_account()
                .account_id(ACCOUNT)
                .send(),
        )
        .expect("DescribeBudgetActionsForAccount");
    assert_eq!(all.actions().len(), 2);

    // The snapshot: by budget name and policy, statuses included, no action IDs.
    let snapshot = env.standin.snapshot();
    let actions = &snapshot[ACCOUNT]["budget_actions"];
    let key = format!("{BUDGET}/{DENY_POLICY}");
    assert_eq!(actions.as_object().map(|o| o.len()), Some(2), "{actions:#}");
    let statuses: Vec<&str> = [key.clone(), format!("{key} (2)")]
        .iter()
        .map(|k| actions[k]["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(sorted(statuses), ["PENDING", "REVERSE_SUCCESS"]);
    assert!(!snapshot.to_string().contains(&manual_id));

    // Delete: answers the action; then it is gone.
    let deleted = env
        .block_on(
            budgets
                .delete_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&automatic)
                .send(),
        )
        .expect("DeleteBudgetAction");
    assert_eq!(
        deleted.action().map(|a| a.action_id()),
        Some(automatic.as_str())
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .send()
            )
        ),
        "NotFoundException"
    );

    // Deleting the budget (in moto) takes its actions along.
    env.block_on(
        budgets
            .delete_budget()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .send(),
    )
    .expect("DeleteBudget (moto)");
    assert!(env.standin.budget_actions().is_empty());
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "NotFoundException"
    );

    // A budget made straight in moto is known once read through the proxy.
    create_budget(&env, &env.aws.budgets, "made-in-moto");
    assert!(env.standin.known_budgets().is_empty());
    env.block_on(budgets.describe_budgets().account_id(ACCOUNT).send())
        .expect("DescribeBudgets (moto)");
    assert_eq!(env.standin.known_budgets(), ["made-in-moto"]);
    create(
        "made-in-moto",
        iam(),
        ApprovalModel::Manual,
        80.0,
        vec![email("ops@example.com")],
    )
    .expect("an action on a budget seen in DescribeBudgets");

    env.standin.reset();
    assert_eq!(env.standin.snapshot(), serde_json::json!({}));
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// CloudWatch Logs query definitions

const TOKENS_QUERY: &str = "fields @timestamp, modelId, input.inputTokenCount | stats sum(input.inputTokenCount) by modelId";

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_query_definitions() {
    use aws_sdk_cloudwatchlogs::types::{QueryLanguage, QueryParameter};

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let logs = &aws.logs;
    let put = |name: &str, query: &str, groups: &[&str]| {
        env.block_on(
            logs.put_query_definition()
                .name(name)
                .query_string(query)
                .set_log_group_names(
                    (!groups.is_empty()).then(|| groups.iter().map(|g| g.to_string()).collect()),
                )
                .send(),
        )
    };
    let describe = |prefix: Option<&str>| {
        env.block_on(
            logs.describe_query_definitions()
                .set_query_definition_name_prefix(prefix.map(str::to_string))
                .max_results(1000)
                .send(),
        )
        .expect("DescribeQueryDefinitions")
        .query_definitions()
        .to_vec()
    };

    // Create (no queryDefinitionId): an ID back, the definition as given, CWLI by default.
    let id = put("bedrock/tokens-by-model", TOKENS_QUERY, &[LOG_GROUP])
        .expect("PutQueryDefinition")
        .query_definition_id()
        .expect("queryDefinitionId")
        .to_string();
    put(
        "other/errors",
        "fields @message | filter @message like /ERROR/",
        &[],
    )
    .expect("a second definition");
    let found = describe(Some("bedrock/"));
    assert_eq!(found.len(), 1);
    let q = &found[0];
    assert_eq!(q.query_definition_id(), Some(id.as_str()));
    assert_eq!(q.name(), Some("bedrock/tokens-by-model"));
    assert_eq!(q.query_string(), Some(TOKENS_QUERY));
    assert_eq!(q.log_group_names(), [LOG_GROUP]);
    assert_eq!(q.query_language(), Some(&QueryLanguage::Cwli));
    assert!(q.last_modified().is_some_and(|t| t > 1_600_000_000_000));
    assert_eq!(describe(None).len(), 2);

    // Update (with the ID): nothing is kept that is not given, the log groups included.
    let updated = put_update(
        &env,
        logs,
        &id,
        "bedrock/tokens-by-model",
        "fields @message",
    );
    assert_eq!(updated, id);
    let q = &describe(Some("bedrock/"))[0];
    assert_eq!(q.query_string(), Some("fields @message"));
    assert!(q.log_group_names().is_empty());
    assert_eq!(
        code(
            env.block_on(
                logs.put_query_definition()
                    .query_definition_id("00000000-0000-4000-8000-000000000000")
                    .name("x")
                    .query_string("fields @message")
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // The client token: the same request again is the same definition; the token with other
    // parameters is refused.
    let token = "6b3a1f0c-3c84-4a4c-9d0e-7f1f0f5a2b11";
    let with_token = |query: &str| {
        env.block_on(
            logs.put_query_definition()
                .name("retried")
                .query_string(query)
                .client_token(token)
                .send(),
        )
    };
    let first = with_token("fields @message").expect("first");
    let again = with_token("fields @message").expect("retry");
    assert_eq!(first.query_definition_id(), again.query_definition_id());
    assert_eq!(env.standin.query_definitions().len(), 3);
    assert_eq!(
        code(with_token("fields @timestamp")),
        "InvalidParameterException"
    );

    // Validation.
    let invalid = |r| assert_eq!(code(r), "InvalidParameterException");
    invalid(put("", "fields @message", &[]));
    invalid(put(&"n".repeat(256), "fields @message", &[]));
    invalid(put("long", &"x".repeat(10_001), &[]));
    invalid(put("bad group", "fields @message", &["not a log group!"]));
    invalid(
        env.block_on(
            logs.put_query_definition()
                .name("sql")
                .query_string("SELECT * FROM `/aws/bedrock/modelinvocations`")
                .query_language(QueryLanguage::Sql)
                .log_group_names(LOG_GROUP)
                .send(),
        ),
    );
    invalid(
        env.block_on(
            logs.put_query_definition()
                .name("ppl")
                .query_string("fields @message")
                .query_language(QueryLanguage::Ppl)
                .parameters(
                    QueryParameter::builder()
                        .name("model")
                        .build()
                        .expect("parameter"),
                )
                .send(),
        ),
    );
    for max in [0, 1001] {
        assert_eq!(
            code(env.block_on(logs.describe_query_definitions().max_results(max).send())),
            "InvalidParameterException"
        );
    }
    assert_eq!(
        code(env.block_on(logs.describe_query_definitions().next_token("nope").send())),
        "InvalidParameterException"
    );

    // Parameters of a Logs Insights query are kept.
    env.block_on(
        logs.put_query_definition()
            .name("bedrock/by-model")
            .query_string("fields @message | filter modelId = {{model}}")
            .parameters(
                QueryParameter::builder()
                    .name("model")
                    .default_value("anthropic.claude-3-5-haiku-20241022-v1:0")
                    .build()
                    .expect("parameter"),
            )
            .send(),
    )
    .expect("a definition with parameters");
    let by_model = describe(Some("bedrock/by-"));
    assert_eq!(by_model[0].parameters().len(), 1);
    assert_eq!(by_model[0].parameters()[0].name(), "model");

    // Paging, sorted by name; the language filter.
    let page = env
        .block_on(logs.describe_query_definitions().max_results(1).send())
        .expect("a page");
    assert_eq!(page.query_definitions()[0].name(), Some("bedrock/by-model"));
    let next = env
        .block_on(
            logs.describe_query_definitions()
                .max_results(1)
                .next_token(page.next_token().expect("nextToken"))
                .send(),
        )
        .expect("next page");
    assert_eq!(
        next.query_definitions()[0].name(),
        Some("bedrock/tokens-by-model")
    );
    let sql = env
        .block_on(
            logs.describe_query_definitions()
                .query_language(QueryLanguage::Sql)
                .send(),
        )
        .expect("SQL only");
    assert!(sql.query_definitions().is_empty());

    // Edited in the console.
    assert!(
        env.standin
            .set_query_string("other/errors", "fields @message | limit 5")
    );
    assert_eq!(
        describe(Some("other/"))[0].query_string(),
        Some("fields @message | limit 5")
    );

    // The snapshot: by Region and name, no IDs.
    let snapshot = env.standin.snapshot();
    let queries = &snapshot[ACCOUNT]["query_definitions"];
    assert_eq!(
        queries[format!("{REGION}/other/errors")]["query_string"],
        "fields @message | limit 5"
    );
    assert_eq!(
        queries[format!("{REGION}/bedrock/tokens-by-model")]["query_language"],
        "CWLI"
    );
    assert!(!snapshot.to_string().contains(&id));

    // Delete: success, then the ID is unknown.
    let deleted = env
        .block_on(
            logs.delete_query_definition()
                .query_definition_id(&id)
                .send(),
        )
        .expect("DeleteQueryDefinition");
    assert!(deleted.success());
    assert_eq!(
        code(
            env.block_on(
                logs.delete_query_definition()
                    .query_definition_id(&id)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // The quota: 1000 per Region and account.
    let region = REGION.to_string();
    env.standin.mutate(|acct| {
        for i in acct.query_definitions.len()..1000 {
            acct.query_definitions.push(standin::QueryDefinition {
                account: ACCOUNT.to_string(),
                region: region.clone(),
                id: format!("filler-{i}"),
                name: format!("filler/{i}"),
                query_string: "fields @message".into(),
                query_language: "CWLI".into(),
                log_group_names: Vec::new(),
                parameters: Vec::new(),
                last_modified: 0,
            });
        }
    });
    assert_eq!(
        code(put("one too many", "fields @message", &[])),
        "LimitExceededException"
    );

    // Everything else of CloudWatch Logs is moto's: a query runs there.
    env.block_on(logs.create_log_group().log_group_name(LOG_GROUP).send())
        .expect("CreateLogGroup (moto)");
    let now = chrono::Utc::now().timestamp();
    let started = env
        .block_on(
            logs.start_query()
                .log_group_name(LOG_GROUP)
                .start_time(now - 3600)
                .end_time(now)
                .query_string("fields @message")
                .send(),
        )
        .expect("StartQuery (moto)");
    let query_id = started.query_id().expect("queryId");
    env.block_on(logs.get_query_results().query_id(query_id).send())
        .expect("GetQueryResults (moto)");
    let calls = env.proxy.calls();
    let start_call = calls
        .iter()
        .find(|c| c.operation == "StartQuery")
        .expect("the proxy saw StartQuery");
    assert_eq!(start_call.status, Some(200));
    assert!(
        env.moto.log().contains("POST / HTTP/1.1\" 200"),
        "moto answered the Logs calls"
    );
}

/// PutQueryDefinition updating `id`.
fn put_update(
    env: &TestEnv,
    logs: &aws_sdk_cloudwatchlogs::Client,
    id: &str,
    name: &str,
    query: &str,
) -> String {
    env.block_on(
        logs.put_query_definition()
            .query_definition_id(id)
            .name(name)
            .query_string(query)
            .send(),
    )
    .expect("PutQueryDefinition (update)")
    .query_definition_id()
    .expect("queryDefinitionId")
    .to_string()
}
