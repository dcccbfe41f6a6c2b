//! The stand-in for the AWS operations moto does not serve (`tests/support/standin.rs`),
//! exercised through the real SDK clients pointed at the proxy: every answer must parse (which
//! proves the shapes), the documented errors must come back as the SDK's typed errors, and the
//! state must be what the tests read through the stand-in's API. The tests of each service are
//! in `standin/`, as the stand-in's own files are; this file has the helpers they share and the
//! tests of the dispatch.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use bedrock_monitor::aws::{Clients, emulator_clients};

use crate::support::env::{ACCOUNT, REGION, TestEnv};
use crate::support::proxy::{Protocol, StrictRequest, StrictRule, Verdict};
use crate::support::standin::{self, StandIn};

mod anomaly_detection;
mod athena_tables;
mod bedrock_profiles;
mod budget_actions;
mod chatbot;
mod cost_allocation_tags;
mod cost_categories;
mod data_exports;
mod query_definitions;
mod service_quotas;

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
    // Athena's queries, results and workgroups are moto's; only table metadata is the
    // stand-in's.
    let athena = |op: &str, body: &str| {
        request(
            "athena",
            REGION,
            "POST",
            "/",
            Some(&format!("AmazonAthena.{op}")),
            body,
        )
    };
    for op in [
        "StartQueryExecution",
        "GetQueryExecution",
        "GetQueryResults",
        "ListWorkGroups",
    ] {
        assert!(forwarded(athena(op, "{}")), "{op}");
    }
    assert!(!forwarded(athena(
        "GetTableMetadata",
        r#"{"CatalogName":"AwsDataCatalog","DatabaseName":"cur","TableName":"bedrock_cur"}"#
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
