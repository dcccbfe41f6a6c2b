//! Adoption: when a resource of a name the config gives already exists without this stack's
//! tag (or marker), `apply` changes it only once the user agrees (`--adopt COMPONENT`, or a
//! yes on a terminal through [`Recovery`](crate::engine::Recovery)); one that carries another
//! stack's tag is never changed, agreement or not. The plan shows both as "exists, not
//! managed". Without a terminal, the step fails with an error naming the flag.

use serde::Serialize;

use crate::aws::AwsError;
use crate::config::STACK_TAG_KEY;
use crate::engine::{ComponentId, Context};

/// The error code of a step that would change a resource the user has not agreed to adopt.
pub const NOT_MANAGED: &str = "NotManagedByThisStack";
/// The error code of a step that would change another stack's resource.
pub const OTHER_STACK: &str = "ManagedByAnotherStack";

/// An existing resource of a name the config gives that does not carry this stack's tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Foreign {
    /// What it is, with its name: `bucket bedrock-logs-123456789012`, `alarm Bedrock-HighLatency`.
    pub what: String,
    /// The stack its mark names when that is another stack; `None` when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_stack: Option<String>,
    /// How a stack marks it as its own.
    pub mark: Mark,
}

/// What marks a resource as a stack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    /// The tag `bedrock-monitor:stack`.
    Tag,
    /// A dashboard's marker text widget (dashboards cannot be tagged).
    MarkerWidget,
}

impl Foreign {
    /// A resource marked by the stack tag.
    pub fn new(what: impl Into<String>, other_stack: Option<&str>) -> Foreign {
        Foreign {
            what: what.into(),
            other_stack: other_stack.map(str::to_string),
            mark: Mark::Tag,
        }
    }

    /// The same resource, marked otherwise than by the tag.
    pub fn marked_by(mut self, mark: Mark) -> Foreign {
        self.mark = mark;
        self
    }

    /// "bucket b exists without the tag …" / "dashboard d exists without a marker widget …".
    fn without_mark(&self, stack: &str) -> String {
        match self.mark {
            Mark::Tag => format!(
                "{} exists without the tag {STACK_TAG_KEY}={stack}",
                self.what
            ),
            Mark::MarkerWidget => format!(
                "{} exists without a marker widget naming stack {stack}",
                self.what
            ),
        }
    }

    /// "role r carries the tag …=team-x" / "dashboard d has a marker widget naming team-x".
    fn with_other_mark(&self) -> String {
        let other = self.other_stack.as_deref().unwrap_or_default();
        match self.mark {
            Mark::Tag => format!("{} carries the tag {STACK_TAG_KEY}={other}", self.what),
            Mark::MarkerWidget => format!("{} has a marker widget naming stack {other}", self.what),
        }
    }
}

/// The flag that adopts `id`'s resources.
pub fn flag(id: ComponentId) -> String {
    format!("--adopt {id}")
}

/// Their names, joined.
pub(crate) fn list(items: &[&Foreign]) -> String {
    items
        .iter()
        .map(|f| f.what.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What each untagged one lacks, joined.
pub(crate) fn unmarked_text(cx: &Context, untagged: &[&Foreign]) -> String {
    untagged
        .iter()
        .map(|f| f.without_mark(&cx.config.stack.name))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Those that another stack's mark names: never changed.
pub(crate) fn others(foreign: &[Foreign]) -> Vec<&Foreign> {
    foreign.iter().filter(|f| f.other_stack.is_some()).collect()
}

/// Those without any stack's mark: adopted with consent.
pub(crate) fn untagged(foreign: &[Foreign]) -> Vec<&Foreign> {
    foreign.iter().filter(|f| f.other_stack.is_none()).collect()
}

/// Whose they are, joined.
pub(crate) fn other_stack_text(cx: &Context, others: &[&Foreign]) -> String {
    others
        .iter()
        .map(|f| {
            format!(
                "{}: it belongs to stack {:?}, not to {:?}",
                f.with_other_mark(),
                f.other_stack.as_deref().unwrap_or_default(),
                cx.config.stack.name
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why `id` may not change what it found, or `None` when it may (nothing foreign, or the user
/// agreed to adopt the untagged ones).
pub fn refusal(cx: &Context, id: ComponentId, foreign: &[Foreign]) -> Option<AwsError> {
    let others = others(foreign);
    if !others.is_empty() {
        return Some(AwsError {
            operation: String::new(),
            code: Some(OTHER_STACK.into()),
            message: other_stack_text(cx, &others),
            hint: Some(format!(
                "this stack never changes another stack's resources, not even with {}: give this stack other names in the config, or manage them from the stack that owns them",
                flag(id)
            )),
            details: None,
        });
    }
    let untagged = untagged(foreign);
    if untagged.is_empty() || cx.adopts(id) {
        return None;
    }
    Some(AwsError {
        operation: String::new(),
        code: Some(NOT_MANAGED.into()),
        message: format!(
            "{}, so this stack does not manage {}",
            unmarked_text(cx, &untagged),
            if untagged.len() == 1 { "it" } else { "them" },
        ),
        hint: Some(format!(
            "pass {} to adopt {it} (apply marks {it} as this stack's and brings {it} to the config), or give this stack other names in the config",
            flag(id),
            it = if untagged.len() == 1 { "it" } else { "them" },
        )),
        details: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn cx() -> Context {
        Context::offline()
    }

    #[test]
    fn an_untagged_resource_needs_consent_and_the_error_names_the_flag() {
        let cx = cx();
        let foreign = [Foreign::new("bucket b", None)];
        let e = refusal(&cx, ComponentId::Bucket, &foreign).expect("refused");
        assert_eq!(e.code.as_deref(), Some(NOT_MANAGED));
        assert!(
            e.message
                .contains("bucket b exists without the tag bedrock-monitor:stack=bedrock-monitor"),
            "{e}"
        );
        assert!(
            e.hint.as_deref().unwrap_or("").contains("--adopt bucket"),
            "{e:?}"
        );
        cx.allow_adoption(ComponentId::Bucket);
        assert!(refusal(&cx, ComponentId::Bucket, &foreign).is_none());
        // Consent is per component.
        assert!(refusal(&cx, ComponentId::Role, &foreign).is_some());
    }

    #[test]
    fn another_stacks_resource_is_refused_even_with_consent() {
        let cx = cx();
        cx.allow_adoption(ComponentId::Role);
        let foreign = [Foreign::new("role R", Some("team-x"))];
        let e = refusal(&cx, ComponentId::Role, &foreign).expect("refused");
        assert_eq!(e.code.as_deref(), Some(OTHER_STACK));
        assert!(e.message.contains("team-x"), "{e}");
    }

    /// A component found by name (its `foreign` as given), or one that waits for another;
    /// `writes` counts what apply did.
    struct Fake {
        id: ComponentId,
        deps: &'static [ComponentId],
        foreign: Vec<Foreign>,
        writes: Arc<std::sync::atomic::AtomicU32>,
    }

    #[async_trait::async_trait]
    impl crate::engine::Resource for Fake {
        type State = ();
        fn id(&self) -> ComponentId {
            self.id
        }
        fn name(&self, _: &Context) -> String {
            self.id.to_string()
        }
        fn depends_on(&self) -> &'static [ComponentId] {
            self.deps
        }
        async fn read(&self, _: &Context) -> Result<(), AwsError> {
            Ok(())
        }
        fn diff(&self, _: &Context, _: &()) -> crate::engine::Diff {
            crate::engine::Diff::compare(vec![("tags".into(), serde_json::json!(1))], |_| {
                serde_json::Value::Null
            })
        }
        async fn apply(
            &self,
            _: &Context,
            _: &(),
            _: &crate::engine::Diff,
        ) -> Result<(), AwsError> {
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
        fn ownership(&self, _: &Context, _: &()) -> crate::engine::Ownership {
            crate::engine::Ownership::Missing
        }
        fn foreign(&self, _: &Context, _: &()) -> Vec<Foreign> {
            self.foreign.clone()
        }
        async fn delete(&self, _: &Context, _: &()) -> Result<(), AwsError> {
            Ok(())
        }
    }

    /// Runs an apply of the bucket and its dependent with `recovery` deciding; returns the
    /// outcomes (bucket, dependent) and how many writes reached the bucket.
    fn run(
        owner: Option<&'static str>,
        recovery: Arc<dyn crate::engine::Recovery>,
    ) -> (crate::engine::Outcome, crate::engine::Outcome, u32) {
        use crate::engine::{Interrupt, Node, Operation, execute};
        let writes = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let steps = vec![
            Node::new(Fake {
                id: ComponentId::Bucket,
                deps: &[],
                foreign: vec![Foreign::new("bucket b", owner)],
                writes: writes.clone(),
            }),
            // As logging waits for the bucket.
            Node::new(Fake {
                id: ComponentId::Logging,
                deps: &[ComponentId::Bucket],
                foreign: Vec::new(),
                writes: Arc::new(std::sync::atomic::AtomicU32::new(0)),
            }),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let reports = runtime.block_on(execute(
            Arc::new(cx()),
            steps,
            Operation::Apply,
            recovery,
            Interrupt::default(),
        ));
        (
            reports[0].outcome,
            reports[1].outcome,
            writes.load(std::sync::atomic::Ordering::SeqCst),
        )
    }

    #[test]
    fn consent_through_recovery_adopts_and_a_no_skips_the_dependents() {
        use crate::engine::{Decision, Outcome, ScriptedRecovery};
        // The terminal's "Adopt it": the step runs again with consent and writes.
        let (bucket, dependent, writes) =
            run(None, Arc::new(ScriptedRecovery::new([Decision::Adopt])));
        assert_eq!(
            (bucket, dependent, writes),
            (Outcome::Updated, Outcome::Updated, 1)
        );
        // "Leave it": nothing written, and what needs the bucket is skipped with it.
        let (bucket, dependent, writes) =
            run(None, Arc::new(ScriptedRecovery::new([Decision::Skip])));
        assert_eq!(
            (bucket, dependent, writes),
            (Outcome::Skipped, Outcome::Skipped, 0)
        );
        // Without a terminal: failed at once (no retries can help), nothing written.
        let (bucket, dependent, writes) = run(
            None,
            Arc::new(crate::engine::recovery::NonInteractive::new(3)),
        );
        assert_eq!(
            (bucket, dependent, writes),
            (Outcome::Failed, Outcome::Blocked, 0)
        );
    }

    #[test]
    fn consent_never_reaches_another_stacks_resource() {
        use crate::engine::{Decision, Outcome, ScriptedRecovery};
        let recovery = Arc::new(ScriptedRecovery::new([Decision::Adopt, Decision::Adopt]));
        let (bucket, _, writes) = run(Some("team-x"), recovery.clone());
        assert_eq!((bucket, writes), (Outcome::Failed, 0));
        let asked = recovery.asked.lock().expect("asked");
        assert!(
            asked
                .iter()
                .all(|f| f.error.code.as_deref() == Some(OTHER_STACK)),
            "{asked:?}"
        );
    }
}
