//! The stand-in's Logs Insights query definitions (`query_definitions.rs` in
//! `tests/support/standin/`), through the real SDK clients as in `tests/it/standin.rs`.

use crate::support::env::{ACCOUNT, LOG_GROUP, REGION, TestEnv};
use crate::support::standin::{self};

use super::{code, through_proxy};

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
