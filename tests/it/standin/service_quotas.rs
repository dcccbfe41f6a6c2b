//! The stand-in's Service Quotas for Amazon Bedrock (`service_quotas.rs` and
//! `service_quota_catalogue.rs` in `tests/support/standin/`), through the real SDK client as in
//! `tests/it/standin.rs`.

use aws_sdk_servicequotas::types::RequestStatus;

use crate::support::env::{ACCOUNT, REGION, TestEnv};
use crate::support::proxy::{StrictRule, Verdict};
use crate::support::standin::{
    DEFAULT_BEDROCK_QUOTAS, FoundationModel, StandIn, bedrock_quota_models,
};

use super::{error, request, through_proxy};

/// Claude 3 Haiku's on-demand tokens per minute: adjustable, 2,000,000 by default.
const HAIKU_TPM: &str = "L-8CE99163";
/// Claude 3 Haiku's on-demand requests per minute: not adjustable.
const HAIKU_RPM: &str = "L-2DC80978";

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_service_quotas_list_and_get() {
    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let sq = &aws.servicequotas;

    // Nothing until a test seeds the Region.
    let empty = env
        .block_on(sq.list_service_quotas().service_code("bedrock").send())
        .expect("ListServiceQuotas");
    assert!(empty.quotas().is_empty());
    assert_eq!(empty.next_token(), None);
    env.standin.seed_bedrock_quotas(REGION);

    // Paged with a small MaxResults: every quota once, in order, no page over the size, the
    // last page without NextToken.
    let mut codes = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = env
            .block_on(
                sq.list_service_quotas()
                    .service_code("bedrock")
                    .max_results(4)
                    .set_next_token(token.clone())
                    .send(),
            )
            .expect("a page");
        assert!(out.quotas().len() <= 4);
        codes.extend(
            out.quotas()
                .iter()
                .filter_map(|q| q.quota_code())
                .map(str::to_string),
        );
        pages += 1;
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let expected: Vec<&str> = DEFAULT_BEDROCK_QUOTAS.iter().map(|q| q.code).collect();
    assert_eq!(codes, expected);
    assert_eq!(pages, expected.len().div_ceil(4));

    // Without MaxResults a page is smaller than the whole set: a caller must follow NextToken.
    let first = env
        .block_on(sq.list_service_quotas().service_code("bedrock").send())
        .expect("default page");
    assert!(first.quotas().len() < expected.len());
    assert!(first.next_token().is_some());

    // The quota as AWS lists it.
    let haiku = &first.quotas()[0];
    assert_eq!(haiku.service_code(), Some("bedrock"));
    assert_eq!(haiku.service_name(), Some("Amazon Bedrock"));
    assert_eq!(haiku.quota_code(), Some(HAIKU_TPM));
    assert_eq!(
        haiku.quota_name(),
        Some("On-demand model inference tokens per minute for Anthropic Claude 3 Haiku")
    );
    assert_eq!(haiku.value(), Some(2_000_000.0));
    assert_eq!(haiku.unit(), Some("None"));
    assert!(haiku.adjustable());
    assert!(!haiku.global_quota());
    assert_eq!(
        haiku.quota_arn(),
        Some(format!("arn:aws:servicequotas:{REGION}:{ACCOUNT}:bedrock/{HAIKU_TPM}").as_str())
    );
    assert_eq!(
        haiku.quota_applied_at_level().map(|l| l.as_str()),
        Some("ACCOUNT")
    );

    // QuotaCode narrows the list; RESOURCE-level quotas: Bedrock has none.
    let one = env
        .block_on(
            sq.list_service_quotas()
                .service_code("bedrock")
                .quota_code(HAIKU_RPM)
                .send(),
        )
        .expect("one quota");
    assert_eq!(one.quotas().len(), 1);
    assert_eq!(one.quotas()[0].value(), Some(1_000.0));
    let resource = env
        .block_on(
            sq.list_service_quotas()
                .service_code("bedrock")
                .quota_applied_at_level(aws_sdk_servicequotas::types::AppliedLevelEnum::Resource)
                .send(),
        )
        .expect("resource level");
    assert!(resource.quotas().is_empty());

    // MaxResults outside 1–100 and a token that is not one are refused.
    for max in [0, 101] {
        let (code, message) = error(
            env.block_on(
                sq.list_service_quotas()
                    .service_code("bedrock")
                    .max_results(max)
                    .send(),
            ),
        );
        assert_eq!(code, "IllegalArgumentException");
        assert!(message.contains("maxResults"), "{message}");
    }
    let (code, _) = error(
        env.block_on(
            sq.list_service_quotas()
                .service_code("bedrock")
                .next_token("bm90LW91cnM=")
                .send(),
        ),
    );
    assert_eq!(code, "InvalidPaginationTokenException");
    // A token of another listing is not one either.
    let (code, _) = error(
        env.block_on(
            sq.list_service_quotas()
                .service_code("bedrock")
                .quota_code(HAIKU_RPM)
                .next_token(first.next_token().expect("token"))
                .send(),
        ),
    );
    assert_eq!(code, "InvalidPaginationTokenException");

    // GetServiceQuota by code; an unknown quota; an unknown service (`vpc` included: only
    // `bedrock` is served).
    let got = env
        .block_on(
            sq.get_service_quota()
                .service_code("bedrock")
                .quota_code("L-FF8B4E28")
                .send(),
        )
        .expect("GetServiceQuota");
    let quota = got.quota().expect("Quota");
    assert_eq!(
        quota.quota_name(),
        Some("Cross-Region model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2")
    );
    assert_eq!(quota.value(), Some(800_000.0));
    assert_eq!(
        error(
            env.block_on(
                sq.get_service_quota()
                    .service_code("bedrock")
                    .quota_code("L-00000000")
                    .send()
            )
        ),
        (
            "NoSuchResourceException".to_string(),
            "The request failed because the specified quota and service do not exist.".to_string()
        )
    );
    for service in ["vpc", "ec2"] {
        assert_eq!(
            error(
                env.block_on(
                    sq.get_service_quota()
                        .service_code(service)
                        .quota_code(HAIKU_TPM)
                        .send()
                )
            ),
            (
                "NoSuchResourceException".to_string(),
                "The request failed because the specified service does not exist.".to_string()
            )
        );
    }
    let (code, _) = error(
        env.block_on(
            sq.get_service_quota()
                .service_code("bedrock")
                .quota_code("not a code")
                .send(),
        ),
    );
    assert_eq!(code, "IllegalArgumentException");

    // Another Region holds nothing until seeded; a raised quota shows at once.
    let west = super::with_key(&env, "AKIDWEST", "us-west-2");
    let out = env
        .block_on(
            west.servicequotas
                .list_service_quotas()
                .service_code("bedrock")
                .send(),
        )
        .expect("us-west-2");
    assert!(out.quotas().is_empty());
    assert!(env.standin.set_quota_value(REGION, HAIKU_TPM, 3_000_000.0));
    assert!(!env.standin.set_quota_value(REGION, "L-00000000", 1.0));
    let raised = env
        .block_on(
            sq.get_service_quota()
                .service_code("bedrock")
                .quota_code(HAIKU_TPM)
                .send(),
        )
        .expect("raised");
    assert_eq!(raised.quota().and_then(|q| q.value()), Some(3_000_000.0));
}

#[test]
#[allow(clippy::result_large_err)]
fn standin_service_quotas_increase_requests() {
    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let sq = &aws.servicequotas;
    env.standin.seed_bedrock_quotas(REGION);
    let ask = |code: &str, value: f64| {
        env.block_on(
            sq.request_service_quota_increase()
                .service_code("bedrock")
                .quota_code(code)
                .desired_value(value)
                .send(),
        )
    };

    // A value not above the applied one is refused, and nothing is recorded.
    assert_eq!(
        error(ask(HAIKU_TPM, 2_000_000.0)),
        (
            "IllegalArgumentException".to_string(),
            "You must provide a quota value greater than the current quota value".to_string()
        )
    );
    // So is a quota that is not adjustable, and one the service does not have.
    assert_eq!(error(ask(HAIKU_RPM, 5_000.0)).0, "IllegalArgumentException");
    assert_eq!(
        error(ask("L-00000000", 5_000.0)).0,
        "NoSuchResourceException"
    );
    assert_eq!(error(ask(HAIKU_TPM, 1e11)).0, "IllegalArgumentException");
    assert!(env.standin.quota_requests().is_empty());

    // A request: PENDING, as asked.
    let made = ask(HAIKU_TPM, 4_000_000.0).expect("RequestServiceQuotaIncrease");
    let requested = made.requested_quota().expect("RequestedQuota");
    assert_eq!(requested.status(), Some(&RequestStatus::Pending));
    assert_eq!(requested.desired_value(), Some(4_000_000.0));
    assert_eq!(requested.quota_code(), Some(HAIKU_TPM));
    assert_eq!(requested.service_code(), Some("bedrock"));
    assert!(requested.created().is_some());
    let id = requested.id().expect("Id").to_string();
    let recorded = env.standin.quota_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].id, id);
    assert_eq!(recorded[0].region, REGION);
    assert_eq!(recorded[0].account, ACCOUNT);
    assert_eq!(recorded[0].status, "PENDING");

    // A second one for the same quota while the first is open is refused.
    assert_eq!(
        error(ask(HAIKU_TPM, 5_000_000.0)),
        (
            "ResourceAlreadyExistsException".to_string(),
            "Only one open service quota increase request is allowed per quota.".to_string()
        )
    );
    // Another quota may be asked for; without a support case AWS does not approve it.
    let declined = env
        .block_on(
            sq.request_service_quota_increase()
                .service_code("bedrock")
                .quota_code("L-58BE175A")
                .desired_value(8_000_000.0)
                .support_case_allowed(false)
                .send(),
        )
        .expect("without a support case");
    assert_eq!(
        declined.requested_quota().and_then(|r| r.status()),
        Some(&RequestStatus::NotApproved)
    );

    // The history, newest first, paged, filtered by status; by quota.
    let history = |status: Option<RequestStatus>, token: Option<String>| {
        env.block_on(
            sq.list_requested_service_quota_change_history()
                .service_code("bedrock")
                .set_status(status)
                .max_results(1)
                .set_next_token(token)
                .send(),
        )
        .expect("history")
    };
    let first = history(None, None);
    assert_eq!(first.requested_quotas().len(), 1);
    assert_eq!(first.requested_quotas()[0].quota_code(), Some("L-58BE175A"));
    let second = history(None, first.next_token().map(str::to_string));
    assert_eq!(second.requested_quotas()[0].id(), Some(id.as_str()));
    assert_eq!(second.next_token(), None);
    let pending = history(Some(RequestStatus::Pending), None);
    assert_eq!(pending.requested_quotas().len(), 1);
    assert_eq!(pending.requested_quotas()[0].id(), Some(id.as_str()));
    let all = env
        .block_on(sq.list_requested_service_quota_change_history().send())
        .expect("every service");
    assert_eq!(all.requested_quotas().len(), 2);
    let by_quota = env
        .block_on(
            sq.list_requested_service_quota_change_history_by_quota()
                .service_code("bedrock")
                .quota_code(HAIKU_TPM)
                .send(),
        )
        .expect("by quota");
    assert_eq!(by_quota.requested_quotas().len(), 1);
    assert_eq!(
        by_quota.requested_quotas()[0].status(),
        Some(&RequestStatus::Pending)
    );
    assert_eq!(
        error(
            env.block_on(
                sq.list_requested_service_quota_change_history_by_quota()
                    .service_code("bedrock")
                    .quota_code("L-00000000")
                    .send()
            )
        )
        .0,
        "NoSuchResourceException"
    );
    assert_eq!(
        error(
            env.block_on(
                sq.list_requested_service_quota_change_history()
                    .service_code("bedrock")
                    .max_results(101)
                    .send()
            )
        )
        .0,
        "IllegalArgumentException"
    );
    assert_eq!(
        error(
            env.block_on(
                sq.list_requested_service_quota_change_history()
                    .service_code("vpc")
                    .send()
            )
        )
        .0,
        "NoSuchResourceException"
    );

    // The snapshot: by Region, service and quota, no IDs.
    let snapshot = env.standin.snapshot();
    let requests = &snapshot[ACCOUNT]["quota_requests"];
    assert_eq!(
        requests[format!("{REGION}/bedrock/{HAIKU_TPM}")],
        serde_json::json!({"desired_value": 4_000_000.0, "status": "PENDING"})
    );
    assert!(!snapshot.to_string().contains(&id));

    // AWS approves: the quota is raised, the request is closed, and a new one may be made (for
    // more than the new value).
    assert!(env.standin.set_quota_request_status(&id, "APPROVED"));
    assert!(!env.standin.set_quota_request_status("nope", "APPROVED"));
    let quota = env
        .standin
        .bedrock_quotas(REGION)
        .into_iter()
        .find(|q| q.code == HAIKU_TPM)
        .expect("quota");
    assert_eq!(quota.value, 4_000_000.0);
    assert_eq!(
        error(ask(HAIKU_TPM, 4_000_000.0)).0,
        "IllegalArgumentException"
    );
    let again = ask(HAIKU_TPM, 6_000_000.0).expect("a new request after approval");
    assert_eq!(
        again.requested_quota().and_then(|r| r.status()),
        Some(&RequestStatus::Pending)
    );
}

/// The default quotas name the models the seeded catalogue lists, as AWS's names relate to
/// ListFoundationModels: provider and model name, apart from case, hyphens and a " V1" the
/// quota adds.
#[test]
fn standin_service_quotas_match_the_model_catalogue() {
    let env = TestEnv::new();
    let aws = through_proxy(&env);
    // Seeding adds to the models a test already set.
    env.standin.set_foundation_models(
        REGION,
        vec![FoundationModel {
            id: "amazon.nova-2-lite-v1:0".into(),
            name: "Nova 2 Lite".into(),
            provider: "Amazon".into(),
        }],
    );
    env.standin.seed_bedrock_quotas(REGION);
    let listed = env
        .block_on(aws.bedrock.list_foundation_models().send())
        .expect("ListFoundationModels");
    let models = listed.model_summaries();
    assert_eq!(models.len(), 1 + bedrock_quota_models().len());
    assert_eq!(models[0].model_id(), "amazon.nova-2-lite-v1:0");
    let normalise = |s: &str| s.to_lowercase().replace('-', " ");
    for q in DEFAULT_BEDROCK_QUOTAS {
        let model_part = q
            .name
            .trim_end_matches(" (doubled for cross-region calls)")
            .rsplit_once(" for ")
            .map(|(_, m)| normalise(m))
            .unwrap_or_default();
        let Some(id) = q.model_id else {
            // Not a model of the catalogue: no model's name is its model part.
            assert!(
                models.iter().all(|m| {
                    let full = normalise(&format!(
                        "{} {}",
                        m.provider_name().unwrap_or(""),
                        m.model_name().unwrap_or("")
                    ));
                    model_part != full && model_part != format!("{full} v1")
                }),
                "{} names a catalogue model",
                q.code
            );
            continue;
        };
        let m = models
            .iter()
            .find(|m| m.model_id() == id)
            .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        let full = normalise(&format!(
            "{} {}",
            m.provider_name().unwrap_or(""),
            m.model_name().unwrap_or("")
        ));
        assert!(
            model_part == full || model_part == format!("{full} v1"),
            "{}: {model_part:?} is not {full:?}",
            q.code
        );
    }

    // Seeding twice replaces the quotas, it does not add them again.
    let second = StandIn::new();
    second.seed_bedrock_quotas(REGION);
    second.seed_bedrock_quotas(REGION);
    assert_eq!(
        second.bedrock_quotas(REGION).len(),
        DEFAULT_BEDROCK_QUOTAS.len()
    );
}

/// Service Quotas operations the stand-in does not serve still go to moto.
#[test]
fn standin_service_quotas_forwards_the_rest() {
    let standin = StandIn::new();
    let sq = |op: &str, body: &str| {
        request(
            "servicequotas",
            REGION,
            "POST",
            "/",
            Some(&format!("ServiceQuotasV20190624.{op}")),
            body,
        )
    };
    assert!(matches!(
        standin.before(&sq(
            "ListAWSDefaultServiceQuotas",
            r#"{"ServiceCode":"vpc"}"#
        )),
        Verdict::Forward
    ));
    assert!(matches!(
        standin.before(&sq("ListServices", "{}")),
        Verdict::Forward
    ));
    match standin.before(&sq("ListServiceQuotas", r#"{"ServiceCode":"vpc"}"#)) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 400);
            let body: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
            assert_eq!(body["__type"], "NoSuchResourceException");
        }
        _ => panic!("ListServiceQuotas was forwarded"),
    }
}
