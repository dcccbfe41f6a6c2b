//! Spend limits per person and per team (`[[limits]]`), enforced by a pass that runs wherever
//! it is called: `limits run --once` from a terminal or cron, and the runner on AWS Lambda.
//!
//! A pass reads the invocation-log objects Bedrock delivered to the stack's bucket this month
//! that no earlier pass counted ([`logs`]), prices each record like `report`, adds it to the
//! month's state object ([`state`]), records who crossed what ([`evaluate`]), makes IAM hold
//! the denies the blocks call for ([`enforce`]) and writes the state with a conditional write.
//! When another pass wrote first, it reads again and redoes its work on top, so every object is
//! counted once. Notices go to the alert topic after the state that records them is written.
//!
//! Why S3 objects and not Logs Insights: a query is billed per GB scanned on every pass, the
//! whole period each time; each delivered object is read once here.

pub mod access;
pub mod enforce;
pub mod evaluate;
pub mod lift;
pub use crate::log_objects as logs;
pub mod state;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::config::Config;

use evaluate::Profiles;
use state::{Enforced, Loaded, Saved, State};

pub use enforce::Change;
pub use evaluate::Row;

/// How many times a pass starts over after losing a conditional write before it gives up.
const MAX_ATTEMPTS: u32 = 8;

/// Log objects read at once.
const READ_CONCURRENCY: usize = 16;

/// What one pass did.
#[derive(Debug, Clone, Serialize)]
pub struct PassOutcome {
    pub account: String,
    pub region: String,
    pub bucket: String,
    pub state_key: String,
    pub month: String,
    pub day: String,
    /// Log objects read (new since the last pass) and the records in them.
    pub objects_read: usize,
    pub records_counted: u64,
    /// Records without a timestamp (not counted).
    pub records_skipped: u64,
    /// How long this pass's records took from the call to their log object's delivery (the
    /// object's `Last-Modified` less the record's `timestamp`): the first term of the time to
    /// block, which AWS does not document. `None` when the pass read nothing new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_delay: Option<DelaySummary>,
    /// Times the pass started over after another pass wrote the state first.
    pub conflicts: u32,
    pub state_written: bool,
    /// IAM writes made (deny policies put or removed).
    pub iam_changes: Vec<Change>,
    /// Notices published to the alert topic (`kind limit subject`).
    pub notices: Vec<String>,
    /// `limits unblock`: the limits the principal was unblocked under.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<String>,
    /// Where every limit stands after the pass.
    pub rows: Vec<Row>,
}

/// The delays from a call to its log's delivery, in whole seconds.
#[derive(Debug, Default)]
struct DelaySample {
    seconds: Vec<u32>,
}

impl DelaySample {
    fn add(&mut self, delivered: DateTime<Utc>, called: DateTime<Utc>) {
        let seconds = (delivered - called)
            .num_seconds()
            .clamp(0, i64::from(u32::MAX));
        self.seconds.push(seconds as u32);
    }

    fn summary(mut self) -> Option<DelaySummary> {
        if self.seconds.is_empty() {
            return None;
        }
        self.seconds.sort_unstable();
        let at =
            |share: f64| self.seconds[((self.seconds.len() - 1) as f64 * share).round() as usize];
        Some(DelaySummary {
            records: self.seconds.len() as u64,
            median_seconds: at(0.5),
            p95_seconds: at(0.95),
            max_seconds: at(1.0),
        })
    }
}

/// [`PassOutcome::delivery_delay`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelaySummary {
    pub records: u64,
    pub median_seconds: u32,
    pub p95_seconds: u32,
    pub max_seconds: u32,
}

/// Where the stack's bucket and state are, for an account.
struct Place {
    account: String,
    partition: String,
    bucket: String,
    key: String,
    month: String,
    day: String,
}

impl Place {
    fn new(
        clients: &Clients,
        config: &Config,
        account: &str,
        partition: &str,
        now: DateTime<Utc>,
    ) -> Place {
        let month = state::month_of(now);
        Place {
            account: account.to_string(),
            partition: partition.to_string(),
            bucket: config.bucket.resolved_name(account, &clients.region),
            key: state::state_key(&config.stack.name, &month),
            day: now.date_naive().to_string(),
            month,
        }
    }
}

/// One enforcement pass in the account and region of `clients` (the account from
/// `sts:GetCallerIdentity`): what `limits run --once` and the Lambda runner call.
pub async fn run_once(
    clients: &Clients,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<PassOutcome, AwsError> {
    let account = clients.account().await?;
    run_pass(clients, config, &account.id, &account.partition, now, None).await
}

/// [`run_once`] for a known account; with `release`, that principal's blocks are lifted by
/// hand in the same pass (`limits unblock`).
pub async fn run_pass(
    clients: &Clients,
    config: &Config,
    account: &str,
    partition: &str,
    now: DateTime<Utc>,
    release: Option<&str>,
) -> Result<PassOutcome, AwsError> {
    let place = Place::new(clients, config, account, partition, now);
    let bases = logs::bases(&config.bucket.key_prefix, account);
    let mut profiles: Option<Profiles> = None;
    let no_profiles = Profiles::new();
    let mut conflicts = 0;
    loop {
        let loaded = state::load(clients, &place.bucket, account, &place.key).await?;
        let (original, mut current) = start_state(clients, &place, loaded.state.clone()).await?;
        let keys =
            logs::month_objects(clients, &place.bucket, account, &bases, &place.month).await?;
        let new: Vec<String> = keys.into_iter().filter(|k| !current.counted(k)).collect();
        let bucket = place.bucket.as_str();
        // Each object is folded in as it arrives and then dropped: a pass holds at most
        // READ_CONCURRENCY objects' records, not the month's (the benchmark's million records
        // would otherwise all be in memory at once). Owned keys: a closure over borrowed ones
        // makes a future the compiler cannot prove `Send` for every lifetime, and the Lambda
        // runner runs the pass on its own task.
        let mut reads = futures::stream::iter(new.iter().cloned())
            .map(|key| async move {
                logs::read_delivered(clients, bucket, account, &key)
                    .await
                    .map(|r| (key, r))
            })
            .buffer_unordered(READ_CONCURRENCY);
        if profiles.is_none() && config.limits.iter().any(|l| l.inference_profile.is_some()) {
            profiles = Some(list_profiles(clients).await?);
        }
        let (mut counted, mut skipped, mut objects_read) = (0u64, 0u64, 0usize);
        let mut delays = DelaySample::default();
        while let Some((key, (records, without_time, delivered))) = reads.try_next().await? {
            if profiles.is_none()
                && records
                    .iter()
                    .any(|r| evaluate::looks_like_profile(&r.model_id))
            {
                profiles = Some(list_profiles(clients).await?);
            }
            let known = profiles.as_ref().map_or(&no_profiles, |p| p);
            for record in &records {
                if let Some(delivered) = delivered {
                    delays.add(delivered, record.timestamp);
                }
                evaluate::fold(
                    &mut current,
                    record,
                    known,
                    &config.pricing,
                    &clients.region,
                );
                counted += 1;
            }
            skipped += without_time;
            objects_read += 1;
            current.mark_counted(&key);
        }
        drop(reads);
        let known = profiles.clone().unwrap_or_default();
        let released = match release {
            Some(principal) => {
                let lifted = evaluate::release(&mut current, principal, now);
                if lifted.is_empty() {
                    return Err(AwsError::setup(
                        format!("{principal} is not blocked by any limit this period"),
                        "`bedrock-monitor limits` lists who is blocked (copy the ARN from there)",
                    ));
                }
                lifted
            }
            None => Vec::new(),
        };
        let rows = evaluate::rows(config, &current, &known, now);
        evaluate::transition(config, &mut current, &rows, now);
        let mut desired = enforce::desired_for(clients, &evaluate::blocked(&current)).await?;
        let iam_changes = enforce::reconcile(
            clients,
            &config.stack.name,
            &mut desired,
            &original.enforced,
        )
        .await?;
        current.enforced = desired;
        let mut written = false;
        if loaded.state.as_ref() != Some(&current) {
            match state::save(
                clients,
                &place.bucket,
                account,
                &place.key,
                loaded.etag.as_deref(),
                &current,
            )
            .await?
            {
                Saved::Written => written = true,
                Saved::Conflict => {
                    conflicts += 1;
                    if conflicts >= MAX_ATTEMPTS {
                        return Err(AwsError::setup(
                            format!(
                                "s3://{}/{}: another pass wrote the limits state first {conflicts} times in a row",
                                place.bucket, place.key
                            ),
                            "run the pass again; if it keeps happening, check that only one runner per account and region runs",
                        ));
                    }
                    continue;
                }
            }
        }
        let notices = if current.notices.iter().any(|n| !n.published) {
            publish(clients, config, &place).await?
        } else {
            Vec::new()
        };
        let rows = evaluate::rows(config, &current, &known, now);
        return Ok(PassOutcome {
            account: place.account.clone(),
            region: clients.region.clone(),
            bucket: place.bucket.clone(),
            state_key: place.key.clone(),
            month: place.month.clone(),
            day: place.day.clone(),
            objects_read,
            delivery_delay: delays.summary(),
            records_counted: counted,
            records_skipped: skipped,
            conflicts,
            state_written: written,
            iam_changes,
            notices,
            released,
            rows,
        });
    }
}

/// The state read (or a new month's, which takes over last month's denies so they are
/// lifted), as it was and as the pass will change it; the day's totals start again on a new
/// day.
async fn start_state(
    clients: &Clients,
    place: &Place,
    read: Option<State>,
) -> Result<(State, State), AwsError> {
    let original = match read {
        Some(s) => s,
        None => {
            let mut fresh = State::new(&place.month, &place.day);
            if let Some(before) = state::previous_month(&place.month) {
                let key = place
                    .key
                    .replace(&format!("{}.json", place.month), &format!("{before}.json"));
                if let Some(old) = state::load(clients, &place.bucket, &place.account, &key)
                    .await?
                    .state
                {
                    fresh.enforced = old.enforced;
                    fresh.standings = old.standings;
                }
            }
            fresh
        }
    };
    let mut current = original.clone();
    if current.day != place.day {
        current.day = place.day.clone();
        current.principals_day.clear();
        current.profiles_day.clear();
    }
    Ok((original, current))
}

/// Publishes the unpublished notices, then drops them from the state (the standings remember
/// what was sent); a lost conditional write re-reads and drops the same ones.
async fn publish(
    clients: &Clients,
    config: &Config,
    place: &Place,
) -> Result<Vec<String>, AwsError> {
    let topic = format!(
        "arn:{}:sns:{}:{}:{}",
        place.partition, clients.region, place.account, config.alerts.topic_name
    );
    let mut sent: Vec<String> = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let loaded: Loaded =
            state::load(clients, &place.bucket, &place.account, &place.key).await?;
        let Some(mut current) = loaded.state else {
            return Ok(sent);
        };
        for notice in current.notices.iter().filter(|n| !n.published) {
            if sent.contains(&notice.id) {
                continue;
            }
            // SNS API reference, Publish: Subject is at most 100 ASCII characters.
            let subject: String = format!("Bedrock limit {}: {}", notice.limit, notice.kind)
                .chars()
                .filter(char::is_ascii)
                .take(100)
                .collect();
            clients
                .sns
                .publish()
                .topic_arn(&topic)
                .subject(subject)
                .message(&notice.message)
                .send()
                .await
                .aws("sns:Publish")
                .map_err(|e| {
                    e.with_hint(format!(
                        "the alert topic {topic}: run `bedrock-monitor apply` to create it"
                    ))
                })?;
            sent.push(notice.id.clone());
        }
        current.notices.retain(|n| !sent.contains(&n.id));
        match state::save(
            clients,
            &place.bucket,
            &place.account,
            &place.key,
            loaded.etag.as_deref(),
            &current,
        )
        .await?
        {
            Saved::Written => return Ok(sent.iter().map(|id| describe(id)).collect()),
            Saved::Conflict => continue,
        }
    }
    Ok(sent.iter().map(|id| describe(id)).collect())
}

/// `kind limit subject` of a notice ID (`AT/kind/limit/subject`).
fn describe(id: &str) -> String {
    let mut parts = id.splitn(4, '/').skip(1);
    let (kind, limit, subject) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    format!("{kind} {limit} {subject}")
}

/// Every application inference profile in the region, by ARN and by ID: its name and the
/// model it routes to (the first, for a cross-Region copy), for team limits and pricing.
async fn list_profiles(clients: &Clients) -> Result<Profiles, AwsError> {
    Ok(crate::aws::profiles::resolve(&clients.bedrock)
        .await?
        .into_iter()
        .map(|(key, p)| (key, (p.name, p.model)))
        .collect())
}

/// Where every limit stands now, from the state alone (no pass, no write): `bedrock-monitor
/// limits`.
pub async fn standings(
    clients: &Clients,
    config: &Config,
    account: &str,
    partition: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Row>, AwsError> {
    let place = Place::new(clients, config, account, partition, now);
    let loaded = state::load(clients, &place.bucket, account, &place.key).await?;
    let mut current = loaded
        .state
        .unwrap_or_else(|| State::new(&place.month, &place.day));
    if current.day != place.day {
        current.principals_day.clear();
        current.profiles_day.clear();
    }
    let profiles = if config.limits.iter().any(|l| l.inference_profile.is_some()) {
        list_profiles(clients).await?
    } else {
        Profiles::new()
    };
    Ok(evaluate::rows(config, &current, &profiles, now))
}

/// What the tool denies now in the account, from the month's state: `status`.
pub async fn enforced(
    clients: &Clients,
    config: &Config,
    account: &str,
    now: DateTime<Utc>,
) -> Result<(Enforced, Vec<String>), AwsError> {
    let place = Place::new(clients, config, account, "aws", now);
    let loaded = state::load(clients, &place.bucket, account, &place.key).await?;
    let state = loaded.state.unwrap_or_default();
    let blocked = evaluate::blocked(&state).into_iter().collect();
    Ok((state.enforced, blocked))
}
