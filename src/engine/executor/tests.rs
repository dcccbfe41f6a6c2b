use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;

use super::*;
use crate::engine::{Ownership, ScriptedRecovery};

/// A step that fails its first `failures` attempts, then succeeds, and logs when it ran.
struct FakeStep {
    id: ComponentId,
    deps: &'static [ComponentId],
    failures: u32,
    calls: AtomicU32,
    log: Arc<Mutex<Vec<(ComponentId, &'static str)>>>,
    delay_ms: u64,
}

#[async_trait]
impl Step for FakeStep {
    fn id(&self) -> ComponentId {
        self.id
    }
    fn name(&self, _: &Context) -> String {
        format!("fake-{}", self.id)
    }
    fn depends_on(&self) -> &'static [ComponentId] {
        self.deps
    }
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Region
    }
    fn configured(&self, _: &crate::config::Config) -> bool {
        true
    }
    async fn refresh(&self, _: &Context) -> Result<(), AwsError> {
        Ok(())
    }
    fn plan(&self, _: &Context) -> Option<Diff> {
        None
    }
    async fn apply(&self, _: &Context) -> Result<Diff, AwsError> {
        self.log.lock().expect("test lock").push((self.id, "start"));
        tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.log.lock().expect("test lock").push((self.id, "end"));
        if n < self.failures {
            Err(AwsError::setup(format!("{} broke", self.id), "fix it"))
        } else {
            Ok(Diff::create(vec![]))
        }
    }
    fn ownership(&self, _: &Context) -> Option<Ownership> {
        None
    }
    fn health(&self, _: &Context) -> Vec<crate::engine::Health> {
        Vec::new()
    }
    fn permissions(&self, _: &Context) -> Vec<crate::engine::Permission> {
        Vec::new()
    }
    async fn delete(&self, _: &Context) -> Result<(), AwsError> {
        self.apply_delete().await
    }
}

impl FakeStep {
    async fn apply_delete(&self) -> Result<(), AwsError> {
        self.log
            .lock()
            .expect("test lock")
            .push((self.id, "delete"));
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            Err(AwsError::setup("delete broke", "fix it"))
        } else {
            Ok(())
        }
    }
}

type Log = Arc<Mutex<Vec<(ComponentId, &'static str)>>>;

fn stack(failing: &[(ComponentId, u32)]) -> (Vec<Arc<dyn Step>>, Log) {
    use ComponentId::*;
    let log: Log = Arc::default();
    let graph: [(ComponentId, &'static [ComponentId]); 8] = [
        (Role, &[Bucket, LogGroup]),
        (Bucket, &[]),
        (LogGroup, &[]),
        (Logging, &[Role, Bucket, LogGroup]),
        (Dashboard, &[]),
        (Topic, &[]),
        (Alarms, &[Topic]),
        (Budgets, &[Topic]),
    ];
    let steps = graph
        .into_iter()
        .map(|(id, deps)| {
            let failures = failing
                .iter()
                .find(|(f, _)| *f == id)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            Arc::new(FakeStep {
                id,
                deps,
                failures,
                calls: AtomicU32::new(0),
                log: log.clone(),
                delay_ms: 5,
            }) as Arc<dyn Step>
        })
        .collect();
    (steps, log)
}

fn cx() -> Arc<Context> {
    Arc::new(Context::offline())
}

fn outcome(reports: &[StepReport], id: ComponentId) -> &StepReport {
    reports
        .iter()
        .find(|r| r.id == id)
        .expect("report for every step")
}

#[tokio::test]
async fn all_succeed_in_dependency_order() {
    let (steps, log) = stack(&[]);
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        Arc::new(ScriptedRecovery::new([])),
        Interrupt::default(),
    )
    .await;
    assert!(reports.iter().all(|r| r.outcome == Outcome::Created));
    let log = log.lock().expect("test lock");
    let pos = |id, what| log.iter().position(|e| *e == (id, what)).expect("present");
    use ComponentId::*;
    assert!(pos(Bucket, "end") < pos(Role, "start"));
    assert!(pos(LogGroup, "end") < pos(Role, "start"));
    assert!(pos(Role, "end") < pos(Logging, "start"));
    assert!(pos(Topic, "end") < pos(Alarms, "start"));
    // Independent steps overlap: the dashboard starts before the bucket ends.
    assert!(pos(Dashboard, "start") < pos(Bucket, "end"));
}

#[tokio::test]
async fn failure_blocks_only_dependents() {
    use ComponentId::*;
    let (steps, _) = stack(&[(Bucket, 99)]);
    let recovery = Arc::new(ScriptedRecovery::new([Decision::Fail]));
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        recovery.clone(),
        Interrupt::default(),
    )
    .await;
    assert_eq!(outcome(&reports, Bucket).outcome, Outcome::Failed);
    assert!(outcome(&reports, Bucket).error.is_some());
    assert_eq!(outcome(&reports, Role).outcome, Outcome::Blocked);
    assert_eq!(outcome(&reports, Role).blocked_by, vec![Bucket]);
    assert_eq!(outcome(&reports, Logging).outcome, Outcome::Blocked);
    for id in [LogGroup, Dashboard, Topic, Alarms, Budgets] {
        assert_eq!(outcome(&reports, id).outcome, Outcome::Created, "{id}");
    }
    let asked = recovery.asked.lock().expect("test lock");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].dependents, vec![Role, Logging]);
}

#[tokio::test]
async fn retry_then_success() {
    use ComponentId::*;
    let (steps, _) = stack(&[(Topic, 2)]);
    let recovery = Arc::new(ScriptedRecovery::new([
        Decision::Retry(Duration::ZERO),
        Decision::Retry(Duration::ZERO),
    ]));
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        recovery.clone(),
        Interrupt::default(),
    )
    .await;
    assert_eq!(outcome(&reports, Topic).outcome, Outcome::Created);
    assert_eq!(outcome(&reports, Topic).attempts, 3);
    assert_eq!(outcome(&reports, Alarms).outcome, Outcome::Created);
    let attempts: Vec<u32> = recovery
        .asked
        .lock()
        .expect("asked")
        .iter()
        .map(|f| f.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 2]);
}

#[tokio::test]
async fn skip_marks_dependents_skipped() {
    use ComponentId::*;
    let (steps, _) = stack(&[(Topic, 1)]);
    let recovery = Arc::new(ScriptedRecovery::new([Decision::Skip]));
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        recovery,
        Interrupt::default(),
    )
    .await;
    assert_eq!(outcome(&reports, Topic).outcome, Outcome::Skipped);
    assert_eq!(outcome(&reports, Alarms).outcome, Outcome::Skipped);
    assert_eq!(outcome(&reports, Budgets).outcome, Outcome::Skipped);
    assert_eq!(outcome(&reports, Alarms).blocked_by, vec![Topic]);
    assert_eq!(outcome(&reports, Logging).outcome, Outcome::Created);
}

#[tokio::test]
async fn abort_starts_nothing_new() {
    use ComponentId::*;
    // Only the bucket runs first (others wait on it) when the graph is a chain.
    let log: Log = Arc::default();
    let chain: Vec<Arc<dyn Step>> = [
        (Bucket, &[] as &'static [ComponentId], 1),
        (Role, &[Bucket] as &'static [ComponentId], 0),
        (Logging, &[Role] as &'static [ComponentId], 0),
    ]
    .into_iter()
    .map(|(id, deps, failures)| {
        Arc::new(FakeStep {
            id,
            deps,
            failures,
            calls: AtomicU32::new(0),
            log: log.clone(),
            delay_ms: 1,
        }) as Arc<dyn Step>
    })
    .collect();
    let recovery = Arc::new(ScriptedRecovery::new([Decision::Abort]));
    let reports = execute(
        cx(),
        chain,
        Operation::Apply,
        recovery,
        Interrupt::default(),
    )
    .await;
    assert_eq!(outcome(&reports, Bucket).outcome, Outcome::Failed);
    // Nothing starts after an abort: the rest is reported as skipped, with the reason.
    assert_eq!(outcome(&reports, Role).outcome, Outcome::Skipped);
    assert_eq!(outcome(&reports, Logging).outcome, Outcome::Skipped);
    assert!(
        outcome(&reports, Role)
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("aborted")
    );
    assert!(
        !log.lock()
            .expect("test lock")
            .iter()
            .any(|(id, _)| *id == Role)
    );
}

#[tokio::test]
async fn interrupt_before_start_runs_nothing() {
    let (steps, log) = stack(&[]);
    let interrupt = Interrupt::default();
    interrupt.trigger();
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        Arc::new(ScriptedRecovery::new([])),
        interrupt,
    )
    .await;
    assert!(reports.iter().all(|r| r.outcome == Outcome::Skipped));
    assert!(log.lock().expect("test lock").is_empty());
}

#[tokio::test]
async fn delete_runs_dependents_first() {
    use ComponentId::*;
    let (steps, log) = stack(&[]);
    let reports = execute(
        cx(),
        steps,
        Operation::Delete,
        Arc::new(ScriptedRecovery::new([])),
        Interrupt::default(),
    )
    .await;
    assert!(reports.iter().all(|r| r.outcome == Outcome::Deleted));
    let log = log.lock().expect("test lock");
    let pos = |id| {
        log.iter()
            .position(|e| *e == (id, "delete"))
            .expect("present")
    };
    assert!(pos(Logging) < pos(Role));
    assert!(pos(Role) < pos(Bucket));
    assert!(pos(Alarms) < pos(Topic));
    assert!(pos(Budgets) < pos(Topic));
}

/// A step with a bug: it panics.
struct PanickingStep;

#[async_trait]
impl Step for PanickingStep {
    fn id(&self) -> ComponentId {
        ComponentId::Topic
    }
    fn name(&self, _: &Context) -> String {
        "panicking".into()
    }
    fn depends_on(&self) -> &'static [ComponentId] {
        &[]
    }
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Region
    }
    fn configured(&self, _: &crate::config::Config) -> bool {
        true
    }
    async fn refresh(&self, _: &Context) -> Result<(), AwsError> {
        Ok(())
    }
    fn plan(&self, _: &Context) -> Option<Diff> {
        None
    }
    async fn apply(&self, _: &Context) -> Result<Diff, AwsError> {
        panic!("a bug")
    }
    fn ownership(&self, _: &Context) -> Option<Ownership> {
        None
    }
    fn health(&self, _: &Context) -> Vec<crate::engine::Health> {
        Vec::new()
    }
    fn permissions(&self, _: &Context) -> Vec<crate::engine::Permission> {
        Vec::new()
    }
    async fn delete(&self, _: &Context) -> Result<(), AwsError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_step_fails_like_an_error_and_blocks_its_dependents() {
    use ComponentId::*;
    let (mut steps, _) = stack(&[]);
    steps.retain(|s| s.id() != Topic);
    steps.push(Arc::new(PanickingStep));
    let reports = execute(
        cx(),
        steps,
        Operation::Apply,
        Arc::new(ScriptedRecovery::new([Decision::Fail])),
        Interrupt::default(),
    )
    .await;
    assert_eq!(reports.len(), 8, "every step is reported");
    let topic = outcome(&reports, Topic);
    assert_eq!(topic.outcome, Outcome::Failed);
    assert!(
        topic
            .error
            .as_ref()
            .map(|e| e.message.contains("panicked"))
            .unwrap_or(false),
        "{topic:?}"
    );
    assert_eq!(outcome(&reports, Alarms).outcome, Outcome::Blocked);
    assert_eq!(outcome(&reports, Budgets).outcome, Outcome::Blocked);
    assert_eq!(outcome(&reports, Bucket).outcome, Outcome::Created);
}
