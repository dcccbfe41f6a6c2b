//! `inference-profiles`: application inference profiles, one per team or application, whose
//! tags attribute Bedrock spend (applications pass a profile's ARN as `modelId`).
//!
//! AWS fixes a profile's model and description at creation; only tags change afterwards. A
//! changed model or description is therefore a replacement (delete, create; the ARN changes),
//! shown as `replace` in the plan. A profile the config no longer names is deleted when it
//! carries this stack's tag.
//!
//! AWS does not report what a profile was copied from, only the foundation models it routes to,
//! and a geography cannot be told reliably from those (geographies share and gain regions:
//! APAC includes me-central-1). So the configured `model` is recorded at creation in the tag
//! [`PROFILE_SOURCE_TAG_KEY`], and that is what later plans compare (see [`source_of`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_bedrock::types::{InferenceProfileModelSource, InferenceProfileType, Tag};
use futures::FutureExt;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::attribution::CROSS_REGION_PREFIXES;
use crate::config::attribution::is_system_profile;
use crate::config::{InferenceProfileConfig, PROFILE_SOURCE_TAG_KEY, STACK_TAG_KEY};
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Foreign, Health, HealthLevel, Ownership,
    Permission, Resource,
};
use crate::resources::{
    absent_if, foreign_by_tags, ownership_from_tags, run_bounded, tagged_by_stack,
};

pub struct InferenceProfiles;

/// An application inference profile as AWS reports it.
#[derive(Debug, Clone)]
pub struct ObservedProfile {
    pub arn: String,
    pub description: Option<String>,
    /// Foundation-model ARNs the profile routes to (several for a cross-region copy).
    pub models: Vec<String>,
    pub status: String,
    pub tags: BTreeMap<String, String>,
}

/// Every application inference profile in the account and region, by name.
#[derive(Debug, Clone, Default)]
pub struct ProfilesState {
    pub profiles: BTreeMap<String, ObservedProfile>,
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
/// Concurrent tag reads and writes: Bedrock's control plane throttles at a few calls a second.
const CONCURRENCY: usize = 4;

/// What apply does to one profile.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Create,
    Replace {
        reason: String,
    },
    Retag,
    Delete,
    /// It exists, is not this stack's, and differs: the tool will not delete someone's profile.
    Refuse {
        reason: String,
    },
}

fn model_segment(arn: &str) -> &str {
    arn.rsplit_once('/').map(|(_, m)| m).unwrap_or(arn)
}

fn arn_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// What profile `o` was copied from, as the config would name it: the source recorded in its
/// tag, or for a profile made before sources were recorded, [`legacy_source`].
fn source_of(o: &ObservedProfile, region: &str, configured: &str) -> String {
    match o.tags.get(PROFILE_SOURCE_TAG_KEY) {
        Some(recorded) => recorded.clone(),
        None => legacy_source(&o.models, region, configured),
    }
}

/// The source of a profile created before the tool recorded it (no source tag), from what AWS
/// reports: the foundation models the profile routes to. By the CreateInferenceProfile
/// reference, a copy of a foundation model routes to that model in the request's region only,
/// and a copy of a system profile to the model in its geography's regions. So the model, and
/// whether the copy is cross-Region, are known; the geography is not (the region lists of
/// geographies overlap and change, and guessing from them planned a replacement on every
/// apply). The geography alone is therefore never a reason to replace a profile, whose ARN
/// applications call: when the model and the kind of copy match the configured source, that
/// source is taken as the profile's, and a tag-only update records it. A different model, or a
/// single-region copy where a cross-Region profile is configured (or the reverse), is a real
/// change: a replacement, whose new profile carries the tag, so it cannot repeat.
fn legacy_source(models: &[String], region: &str, configured: &str) -> String {
    let Some(first) = models.first() else {
        return String::new();
    };
    let base = model_segment(first);
    let here_only = models.len() == 1 && arn_region(first) == region;
    let cross_region_base = CROSS_REGION_PREFIXES
        .iter()
        .find_map(|p| configured.strip_prefix(*p));
    let (configured_cross_region, configured_base) = match cross_region_base {
        Some(b) => (true, b),
        None => (false, configured),
    };
    if base == configured_base && here_only != configured_cross_region {
        configured.to_string()
    } else if here_only {
        base.to_string()
    } else {
        format!("a cross-Region profile of {base}")
    }
}

impl InferenceProfiles {
    /// What `modelSource.copyFrom` takes for a configured model.
    fn source_arn(cx: &Context, model: &str) -> String {
        if is_system_profile(model) {
            format!(
                "arn:{}:bedrock:{}:{}:inference-profile/{model}",
                cx.partition(),
                cx.region,
                cx.account.id
            )
        } else {
            format!(
                "arn:{}:bedrock:{}::foundation-model/{model}",
                cx.partition(),
                cx.region
            )
        }
    }

    /// The profile's tags: the config's, and the source marker.
    fn desired_tags(cx: &Context, p: &InferenceProfileConfig) -> BTreeMap<String, String> {
        let mut tags = cx.config.profile_tags(p);
        tags.insert(PROFILE_SOURCE_TAG_KEY.to_string(), p.model.clone());
        tags
    }

    fn desired(cx: &Context, p: &InferenceProfileConfig) -> Value {
        json!({
            "model": p.model,
            "description": p.description,
            "tags": Self::desired_tags(cx, p),
        })
    }

    fn observed(cx: &Context, p: &InferenceProfileConfig, o: &ObservedProfile) -> Value {
        let desired_tags = Self::desired_tags(cx, p);
        json!({
            "model": source_of(o, &cx.region, &p.model),
            "description": o.description,
            "tags": crate::resources::tags_field(&desired_tags, &o.tags).0,
        })
    }

    fn owned(cx: &Context, o: &ObservedProfile) -> bool {
        o.tags.get(STACK_TAG_KEY) == Some(&cx.config.stack.name)
    }

    /// Per profile name: what to do and the field change that shows it.
    fn ops(cx: &Context, state: &ProfilesState) -> Vec<(String, Op, FieldChange)> {
        let mut ops = Vec::new();
        for p in cx.config.profiles() {
            let desired = Self::desired(cx, p);
            let field = format!("profiles.{}", p.name);
            match state.profiles.get(&p.name) {
                None => ops.push((
                    p.name.clone(),
                    Op::Create,
                    FieldChange {
                        field,
                        old: Value::Null,
                        new: desired,
                    },
                )),
                Some(o) => {
                    let observed = Self::observed(cx, p, o);
                    if observed == desired {
                        continue;
                    }
                    let fixed_changed: Vec<String> = ["model", "description"]
                        .into_iter()
                        .filter(|k| observed[*k] != desired[*k])
                        .map(|k| {
                            format!(
                                "{k} {} → {}",
                                crate::engine::diff::show_value(&observed[k]),
                                crate::engine::diff::show_value(&desired[k])
                            )
                        })
                        .collect();
                    let op = if fixed_changed.is_empty() {
                        Op::Retag
                    } else if Self::owned(cx, o) {
                        Op::Replace {
                            reason: fixed_changed.join(", "),
                        }
                    } else {
                        Op::Refuse {
                            reason: fixed_changed.join(", "),
                        }
                    };
                    let (field, old, new) = if op == Op::Retag {
                        (
                            format!("{field}.tags"),
                            observed["tags"].clone(),
                            desired["tags"].clone(),
                        )
                    } else {
                        (field, observed, desired)
                    };
                    ops.push((p.name.clone(), op, FieldChange { field, old, new }));
                }
            }
        }
        for (name, o) in &state.profiles {
            let configured = cx.config.profiles().iter().any(|p| &p.name == name);
            if !configured && Self::owned(cx, o) {
                ops.push((
                    name.clone(),
                    Op::Delete,
                    FieldChange {
                        field: format!("profiles.{name}"),
                        old: json!({
                            "arn": o.arn,
                            "model": source_of(o, &cx.region, ""),
                            "description": o.description,
                        }),
                        new: Value::Null,
                    },
                ));
            }
        }
        ops
    }

    fn tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
        tags.iter()
            .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
            .collect()
    }

    async fn create(cx: &Context, p: &InferenceProfileConfig) -> Result<(), AwsError> {
        let created = cx
            .aws
            .bedrock
            .create_inference_profile()
            .inference_profile_name(&p.name)
            .set_description(p.description.clone())
            .model_source(InferenceProfileModelSource::CopyFrom(Self::source_arn(
                cx, &p.model,
            )))
            .set_tags(Some(Self::tags(&Self::desired_tags(cx, p))?))
            .send()
            .await
            .aws("bedrock:CreateInferenceProfile")
            .map_err(|e| {
                if e.code_is(&["ServiceQuotaExceededException"]) {
                    e.with_hint("the account's quota of application inference profiles (1,000 per region by default) is reached: delete unused ones, or ask for more in Service Quotas")
                } else if e.code_is(&["ConflictException"]) {
                    e.with_hint(format!("a profile named {:?} already exists: run `bedrock-monitor plan` to see it, or choose another name", p.name))
                } else {
                    e
                }
            })?;
        cx.set_profile(&p.name, created.inference_profile_arn());
        cx.set_id(
            ComponentId::InferenceProfiles,
            &p.name,
            created.inference_profile_arn(),
        );
        Ok(())
    }

    async fn delete_one(cx: &Context, name: &str, arn: &str) -> Result<(), AwsError> {
        absent_if(
            cx.aws
                .bedrock
                .delete_inference_profile()
                .inference_profile_identifier(arn)
                .send()
                .await
                .aws("bedrock:DeleteInferenceProfile"),
            NOT_FOUND,
        )?;
        cx.forget_profile(name);
        cx.forget_id(ComponentId::InferenceProfiles, name);
        Ok(())
    }

    async fn run_op(
        cx: &Context,
        state: &ProfilesState,
        name: &str,
        op: &Op,
    ) -> Result<(), AwsError> {
        let config = cx.config.profiles().iter().find(|p| p.name == name);
        let observed = state.profiles.get(name);
        match (op, config, observed) {
            (Op::Create, Some(p), _) => Self::create(cx, p).await,
            (Op::Replace { .. }, Some(p), Some(o)) => {
                Self::delete_one(cx, name, &o.arn).await?;
                Self::create(cx, p).await
            }
            (Op::Retag, Some(p), Some(o)) => {
                cx.aws
                    .bedrock
                    .tag_resource()
                    .resource_arn(&o.arn)
                    .set_tags(Some(Self::tags(&Self::desired_tags(cx, p))?))
                    .send()
                    .await
                    .aws("bedrock:TagResource")?;
                Ok(())
            }
            (Op::Delete, _, Some(o)) => Self::delete_one(cx, name, &o.arn).await,
            (Op::Refuse { reason }, _, _) => Err(AwsError::setup(
                format!(
                    "inference profile {name:?} exists without this stack's tag and differs from the config ({reason}); the tool does not replace profiles it does not own"
                ),
                "give the profile another name in the config, or delete the existing one yourself if nothing calls it",
            )),
            _ => Ok(()),
        }
    }
}

async fn read_tags(cx: &Context, arn: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let out = absent_if(
        cx.aws
            .bedrock
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .aws("bedrock:ListTagsForResource"),
        NOT_FOUND,
    )?;
    Ok(out.map(|o| {
        o.tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    }))
}

#[async_trait]
impl Resource for InferenceProfiles {
    type State = ProfilesState;

    fn id(&self) -> ComponentId {
        ComponentId::InferenceProfiles
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.inference_profiles.is_some()
    }

    fn name(&self, cx: &Context) -> String {
        match cx.config.profiles() {
            [] => "(no profiles configured)".into(),
            [one] => one.name.clone(),
            many => format!("{} profiles", many.len()),
        }
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let mut summaries = Vec::new();
        let mut next = None;
        loop {
            let page = cx
                .aws
                .bedrock
                .list_inference_profiles()
                .type_equals(InferenceProfileType::Application)
                .max_results(1000)
                .set_next_token(next)
                .send()
                .await
                .aws("bedrock:ListInferenceProfiles")?;
            summaries.extend(page.inference_profile_summaries().iter().cloned());
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        // Tags of every application profile: a profile the config dropped is found by them.
        let jobs = summaries
            .iter()
            .map(|s| {
                let arn = s.inference_profile_arn().to_string();
                async move { read_tags(cx, &arn).await.map(|tags| (arn, tags)) }.boxed()
            })
            .collect();
        let tags: BTreeMap<String, Option<BTreeMap<String, String>>> =
            run_bounded(jobs, CONCURRENCY).await?.into_iter().collect();
        let mut profiles = BTreeMap::new();
        for s in summaries {
            // Deleted between the list and the tag read: gone.
            let Some(Some(tags)) = tags.get(s.inference_profile_arn()) else {
                continue;
            };
            let observed = ObservedProfile {
                arn: s.inference_profile_arn().to_string(),
                description: s.description().map(str::to_string),
                models: s
                    .models()
                    .iter()
                    .filter_map(|m| m.model_arn().map(str::to_string))
                    .collect(),
                status: s.status().as_str().to_string(),
                tags: tags.clone(),
            };
            let name = s.inference_profile_name().to_string();
            if cx.config.profiles().iter().any(|p| p.name == name) {
                cx.set_profile(&name, &observed.arn);
                cx.set_id(ComponentId::InferenceProfiles, &name, &observed.arn);
            }
            profiles.insert(name, observed);
        }
        Ok(ProfilesState { profiles })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let ops = Self::ops(cx, state);
        if ops.is_empty() {
            return Diff::unchanged();
        }
        let nothing_exists = cx
            .config
            .profiles()
            .iter()
            .all(|p| !state.profiles.contains_key(&p.name));
        let action = if ops
            .iter()
            .any(|(_, op, _)| matches!(op, Op::Replace { .. }))
        {
            Action::Replace
        } else if nothing_exists && ops.iter().all(|(_, op, _)| *op == Op::Create) {
            Action::Create
        } else {
            Action::Update
        };
        let mut diff = Diff {
            action,
            ..Diff::unchanged()
        };
        for (name, op, change) in ops {
            match &op {
                Op::Replace { reason } => diff.notes.push(format!(
                    "{name}: replaced because AWS cannot change a profile's model or description ({reason}); it gets a new ARN, and applications calling the old one fail until they switch"
                )),
                Op::Delete => diff.notes.push(format!(
                    "{name}: deleted because it carries the tag {STACK_TAG_KEY}={} and the config no longer names it",
                    cx.config.stack.name
                )),
                Op::Refuse { reason } => diff.notes.push(format!(
                    "{name}: exists without this stack's tag and differs ({reason}); apply will not replace it: rename it in the config"
                )),
                Op::Retag => {
                    if let Some(o) = state.profiles.get(&name)
                        && !o.tags.contains_key(PROFILE_SOURCE_TAG_KEY)
                    {
                        let model = cx
                            .config
                            .profiles()
                            .iter()
                            .find(|p| p.name == name)
                            .map(|p| p.model.as_str())
                            .unwrap_or_default();
                        diff.notes.push(format!(
                            "{name}: made before profiles' sources were recorded; it routes to the same model as {model} (AWS does not report which geography's profile a copy came from), so it is kept and the tag {PROFILE_SOURCE_TAG_KEY} records {model} without replacing it"
                        ));
                    }
                }
                Op::Create => {}
            }
            diff.changes.push(change);
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        let ops = Self::ops(cx, state);
        let jobs = ops
            .iter()
            .map(|(name, op, _)| Self::run_op(cx, state, name, op).boxed())
            .collect();
        run_bounded(jobs, CONCURRENCY).await.map(|_| ())
    }

    /// Configured profiles that exist without this stack's tag.
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        cx.config
            .profiles()
            .iter()
            .filter_map(|p| {
                let o = state.profiles.get(&p.name)?;
                foreign_by_tags(cx, format!("inference profile {}", p.name), &o.tags)
            })
            .collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let owned: Vec<&String> = state
            .profiles
            .iter()
            .filter(|(_, o)| Self::owned(cx, o))
            .map(|(n, _)| n)
            .collect();
        let foreign: Vec<String> = cx
            .config
            .profiles()
            .iter()
            .filter_map(|p| {
                let o = state.profiles.get(&p.name)?;
                match ownership_from_tags(cx, &o.tags) {
                    Ownership::NotManaged { reason } => {
                        Some(format!("profile {} {reason}", p.name))
                    }
                    _ => None,
                }
            })
            .collect();
        if !foreign.is_empty() {
            return Ownership::NotManaged {
                reason: foreign.join("; "),
            };
        }
        if owned.is_empty() {
            return Ownership::Missing;
        }
        Ownership::Managed {
            evidence: format!(
                "tag {STACK_TAG_KEY}={} on {}",
                cx.config.stack.name,
                owned
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        let mut facts = Vec::new();
        for p in cx.config.profiles() {
            match state.profiles.get(&p.name) {
                None => facts.push(Health {
                    subject: p.name.clone(),
                    level: HealthLevel::Warning,
                    detail: "missing: deleted outside the tool, or not created yet; `bedrock-monitor apply` creates it (with a new ARN)".into(),
                }),
                Some(o) => facts.push(Health {
                    subject: p.name.clone(),
                    level: if o.status == "ACTIVE" {
                        HealthLevel::Ok
                    } else {
                        HealthLevel::Warning
                    },
                    detail: format!("{} ({}); applications pass this ARN as modelId", o.arn, o.status),
                }),
            }
        }
        facts
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let profiles = format!(
            "arn:{}:bedrock:{}:{}:application-inference-profile/*",
            cx.partition(),
            cx.region,
            cx.account.id
        );
        vec![
            // ListInferenceProfiles takes no resource.
            Permission::new(&["bedrock:ListInferenceProfiles"], ["*".to_string()]),
            Permission::new(
                &[
                    "bedrock:GetInferenceProfile",
                    "bedrock:CreateInferenceProfile",
                    "bedrock:ListTagsForResource",
                ],
                [profiles.clone()],
            ),
            // Profile ARNs end in generated IDs: changes only to this stack's (by its tag).
            Permission {
                condition: Some(tagged_by_stack(cx)),
                ..Permission::new(
                    &["bedrock:DeleteInferenceProfile", "bedrock:TagResource"],
                    [profiles],
                )
            },
            // CreateInferenceProfile is also authorized on the model or system profile copied.
            Permission::new(
                &["bedrock:CreateInferenceProfile"],
                [
                    format!("arn:{}:bedrock:*::foundation-model/*", cx.partition()),
                    format!(
                        "arn:{}:bedrock:{}:{}:inference-profile/*",
                        cx.partition(),
                        cx.region,
                        cx.account.id
                    ),
                ],
            ),
        ]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        let jobs = state
            .profiles
            .iter()
            .filter(|(_, o)| Self::owned(cx, o))
            .map(|(name, o)| Self::delete_one(cx, name, &o.arn).boxed())
            .collect();
        run_bounded(jobs, CONCURRENCY).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns(regions: &[&str], model: &str) -> Vec<String> {
        regions
            .iter()
            .map(|r| format!("arn:aws:bedrock:{r}::foundation-model/{model}"))
            .collect()
    }

    #[test]
    fn a_legacy_foundation_model_copy_is_its_model() {
        let m = "anthropic.claude-3-5-haiku-20241022-v1:0";
        assert_eq!(legacy_source(&arns(&["us-east-1"], m), "us-east-1", m), m);
        // The config now names a cross-Region profile of it: a different kind of copy.
        assert_eq!(
            legacy_source(&arns(&["us-east-1"], m), "us-east-1", &format!("us.{m}")),
            m
        );
    }

    /// Whatever regions a geography routes to (APAC includes me-central-1; a global profile
    /// every commercial region), a cross-Region copy of the configured model is taken as a copy
    /// of the configured profile: the geography is never guessed.
    #[test]
    fn a_legacy_cross_region_copy_of_the_same_model_is_the_configured_profile() {
        let m = "anthropic.claude-sonnet-4-20250514-v1:0";
        for (prefix, regions) in [
            (
                "apac.",
                &["ap-southeast-1", "ap-northeast-1", "me-central-1"][..],
            ),
            ("eu.", &["eu-central-1", "eu-west-1", "eu-west-3"][..]),
            ("us.", &["us-east-1", "us-east-2", "us-west-2"][..]),
            ("jp.", &["ap-northeast-1", "ap-northeast-3"][..]),
            ("au.", &["ap-southeast-2", "ap-southeast-4"][..]),
            ("ca.", &["ca-central-1", "ca-west-1"][..]),
            ("in.", &["ap-south-1", "ap-south-2"][..]),
            ("us-gov.", &["us-gov-west-1", "us-gov-east-1"][..]),
            (
                "global.",
                &["us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1"][..],
            ),
        ] {
            let configured = format!("{prefix}{m}");
            let home = regions[0];
            assert_eq!(
                legacy_source(&arns(regions, m), home, &configured),
                configured,
                "{prefix}"
            );
        }
    }

    #[test]
    fn a_legacy_copy_of_another_model_or_kind_is_a_change() {
        let m = "anthropic.claude-3-7-sonnet-20250219-v1:0";
        let models = arns(&["us-east-1", "us-east-2", "us-west-2"], m);
        // The config names the foundation model: a single-region copy would route here only.
        assert_eq!(
            legacy_source(&models, "us-east-1", m),
            format!("a cross-Region profile of {m}")
        );
        // Another model.
        let other = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
        assert_ne!(legacy_source(&models, "us-east-1", other), other);
    }

    #[test]
    fn a_recorded_source_is_what_counts() {
        let m = "anthropic.claude-3-7-sonnet-20250219-v1:0";
        let profile = |tags: &[(&str, &str)]| ObservedProfile {
            arn: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x".into(),
            description: None,
            models: arns(&["us-east-1", "us-east-2", "us-west-2"], m),
            status: "ACTIVE".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let recorded = profile(&[(
            PROFILE_SOURCE_TAG_KEY,
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        )]);
        assert_eq!(
            source_of(&recorded, "us-east-1", &format!("eu.{m}")),
            format!("us.{m}"),
            "a changed geography is seen once it is recorded"
        );
        assert_eq!(
            source_of(&profile(&[]), "us-east-1", &format!("eu.{m}")),
            format!("eu.{m}")
        );
    }

    #[test]
    fn profile_text_follows_bedrocks_pattern() {
        use crate::config::attribution::profile_text_ok;
        assert!(profile_text_ok("team-search"));
        assert!(profile_text_ok("Search team profile v1.2"));
        assert!(!profile_text_ok("a  b"));
        assert!(!profile_text_ok("-x"));
        assert!(!profile_text_ok("team, search"));
        assert!(!profile_text_ok(""));
    }
}
