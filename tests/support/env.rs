//! A test environment: moto behind the recording proxy, a scratch directory with the config,
//! the real `bedrock-monitor` binary run against them, and SDK clients (talking to moto
//! directly, so that checks are not recorded as the tool's calls) to check the emulator's state.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use bedrock_monitor::aws::{Clients, emulator_clients};

use super::{Moto, Proxy};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const BUCKET: &str = "bedrock-logs-123456789012";
pub const ROLE: &str = "BedrockCloudWatchLoggingRole";
pub const LOG_GROUP: &str = "/aws/bedrock/modelinvocations";

pub struct TestEnv {
    pub moto: Moto,
    pub proxy: Proxy,
    /// The strict-AWS rules on the proxy, for tests that look at what they refused.
    pub strict: super::strict::Installed,
    /// The stand-in for the AWS operations moto does not serve (inference profiles, cost
    /// allocation tags, cost categories, anomaly detection, Data Exports): its state and test
    /// controls.
    pub standin: Arc<super::standin::StandIn>,
    pub dir: tempfile::TempDir,
    pub aws: Clients,
    runtime: tokio::runtime::Runtime,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let moto = Moto::start();
        let proxy = Proxy::start(&moto.url());
        // What moto does not serve is answered by the stand-in, ahead of the strict rules.
        let standin = Arc::new(super::standin::StandIn::new());
        proxy.add_rule(standin.clone());
        // Every end-to-end test runs against AWS's rules, not only moto's.
        let strict = super::strict::install(&proxy);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime for SDK checks");
        let aws = emulator_clients(&moto.url(), REGION);
        let dir = tempfile::tempdir().expect("scratch directory");
        // Empty AWS config files: nothing from the machine's own profiles leaks in.
        std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
        std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
        TestEnv {
            moto,
            proxy,
            strict,
            standin,
            dir,
            aws,
            runtime,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `bedrock-monitor.toml` (the default config file) in the scratch directory.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.path("bedrock-monitor.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// The binary with a clean environment: test credentials, the proxy as endpoint, CI=true,
    /// no profile files from the machine.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bedrock-monitor"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", self.proxy.url())
            .env("AWS_CONFIG_FILE", self.path("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command(args))
    }

    pub fn run_command(&self, mut cmd: Command) -> Run {
        let out = cmd.output().expect("run bedrock-monitor");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// The body of the stack's default dashboard, as CloudWatch holds it.
    pub fn dashboard_body(&self) -> String {
        self.block_on(async {
            self.aws
                .cloudwatch
                .get_dashboard()
                .dashboard_name("BedrockUsageMonitoring")
                .send()
                .await
                .expect("dashboard")
                .dashboard_body()
                .unwrap_or_default()
                .to_string()
        })
    }

    /// Queues canned answers on one of moto's `/moto-api/static/…` endpoints (Cost Explorer's
    /// cost and usage, Athena's query results): moto serves them to the next calls.
    pub fn queue_moto_results(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}{}", self.moto.url(), path);
        let body = body.to_string();
        let status = self.block_on(async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Full<bytes::Bytes>>();
            let request = http::Request::post(url)
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .expect("request");
            client
                .request(request)
                .await
                .expect("POST to moto")
                .status()
        });
        assert_eq!(status.as_u16(), 201, "moto took the results at {path}");
    }

    /// GET a path on moto directly (moto checks no signature), e.g. an S3 subresource whose
    /// SDK parser rejects moto's answer.
    pub fn raw_get(&self, path: &str) -> String {
        let url = format!("{}{}", self.moto.url(), path);
        self.block_on(async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Full<bytes::Bytes>>();
            let uri: http::Uri = url.parse().expect("uri");
            let resp = client.get(uri).await.expect("GET moto");
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .expect("body")
                .to_bytes();
            String::from_utf8_lossy(&body).into_owned()
        })
    }

    /// Take the stack's bucket name in us-west-2: the tool must refuse it (Bedrock delivers
    /// only to a bucket in its own region), which makes the bucket step fail.
    pub fn bucket_in_us_west_2(&self) {
        let west = emulator_clients(&self.moto.url(), "us-west-2");
        self.block_on(
            west.s3
                .create_bucket()
                .bucket(BUCKET)
                .create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                        .build(),
                )
                .send(),
        )
        .expect("bucket in us-west-2");
    }

    /// The stack's bucket policy as AWS applies it to the tool's object requests (over TLS):
    /// see `strict::TlsOnlyDenyMetOverTls`. Call before the first `apply`.
    pub fn objects_over_tls(&self) {
        self.proxy
            .add_rule(Arc::new(super::strict::TlsOnlyDenyMetOverTls::default()));
    }

    /// Puts an object into moto (a new version where versioning is on).
    pub fn put_object(&self, bucket: &str, key: &str, body: &'static str) {
        self.block_on(
            self.aws
                .s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    body.as_bytes(),
                ))
                .send(),
        )
        .unwrap_or_else(|e| panic!("put s3://{bucket}/{key}: {e:?}"));
    }

    /// Deletes an object in moto (a delete marker where versioning is on).
    pub fn delete_object(&self, bucket: &str, key: &str) {
        self.block_on(self.aws.s3.delete_object().bucket(bucket).key(key).send())
            .unwrap_or_else(|e| panic!("delete s3://{bucket}/{key}: {e:?}"));
    }

    /// Operation names of the write calls the proxy saw since the last `clear`.
    pub fn writes(&self) -> Vec<String> {
        self.proxy
            .writes()
            .into_iter()
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect()
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }
}

/// Every S3 call the binary sent through the proxy must name the bucket's owner
/// (`ExpectedBucketOwner`): a test whose run sent one without it fails here, so the whole suite
/// shows that no call of the tool could reach a bucket of the same name in another account.
impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let missing = self.strict.bucket_owner.missing();
        assert!(
            missing.is_empty(),
            "S3 calls without ExpectedBucketOwner: {missing:?}"
        );
    }
}

/// The entry for component `id` in a plan/apply JSON document.
pub fn resource<'a>(doc: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    doc["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("no resource {id} in {doc:#}"))
}

/// Statements of a policy document by Sid.
pub fn statement<'a>(policy: &'a serde_json::Value, sid: &str) -> &'a serde_json::Value {
    policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|st| st["Sid"] == sid))
        .unwrap_or_else(|| panic!("no statement {sid} in {policy:#}"))
}
