//! The stand-in's application inference profiles (`bedrock_profiles.rs`, `system_profiles.rs` in
//! `tests/support/standin/`), through the real SDK clients as in `tests/it/standin.rs`.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::support::env::{ACCOUNT, REGION, TestEnv};

use super::{code, through_proxy, with_key};

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
