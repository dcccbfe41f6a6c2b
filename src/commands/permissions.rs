//! `permissions`: the least-privilege IAM policy for the person or CI role running this tool
//! with this config, assembled from what each component declares it calls.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::aws::{Account, offline_clients};
use crate::cli::PermissionsArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::{Context, Permission, QuietProgress};
use crate::report::cur::ExportLocation;
use crate::resources;

/// Calls the commands make outside any component: who am I, and the metrics and log queries
/// of `status` and `report`.
fn command_permissions(cx: &Context) -> Vec<(String, Permission)> {
    let log_group = format!(
        "arn:{}:logs:{}:{}:log-group:{}",
        cx.partition(),
        cx.region,
        cx.account.id,
        cx.config.log_group.name
    );
    vec![
        (
            "WhoAmI".into(),
            Permission::new(&["sts:GetCallerIdentity"], ["*".to_string()]),
        ),
        (
            "ReadBedrockMetrics".into(),
            Permission::new(
                &["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"],
                ["*".to_string()],
            ),
        ),
        (
            "QueryInvocationLogs".into(),
            Permission::new(
                &["logs:StartQuery"],
                [log_group.clone(), format!("{log_group}:*")],
            ),
        ),
        (
            // report: names the application inference profiles it finds in the metrics.
            "NameInferenceProfiles".into(),
            Permission::new(&["bedrock:ListInferenceProfiles"], ["*".to_string()]),
        ),
        (
            "ReadQueryResults".into(),
            Permission::new(
                &["logs:GetQueryResults", "logs:StopQuery"],
                ["*".to_string()],
            ),
        ),
        price_list_permission(),
    ]
}

/// `report --source cur`, when `[cur_export]` is configured: read the export's objects (and
/// list them, only under the export's prefix), and with `[cur_export] athena` run the query in
/// its workgroup over the Glue table, writing results to its output location.
fn cur_report_permissions(cx: &Context) -> Vec<(String, Permission)> {
    let Some(location) = ExportLocation::from_config(&cx.config, &cx.account.id) else {
        return Vec::new();
    };
    let partition = cx.partition();
    let bucket = format!("arn:{partition}:s3:::{}", location.bucket);
    let prefix = location.export_prefix();
    let mut list = Permission::new(&["s3:ListBucket"], [bucket.clone()]);
    list.condition = Some(json!({"StringLike": {"s3:prefix": [format!("{prefix}*")]}}));
    let mut out = vec![
        (
            "ReadCurExport".to_string(),
            Permission::new(&["s3:GetObject"], [format!("{bucket}/{prefix}*")]),
        ),
        ("ListCurExport".to_string(), list),
    ];
    let Some(athena) = cx
        .config
        .cur_export
        .as_ref()
        .and_then(|c| c.athena.as_ref())
    else {
        return out;
    };
    let (region, account) = (&cx.region, &cx.account.id);
    out.push((
        "QueryCurWithAthena".into(),
        Permission::new(
            &[
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
            ],
            [format!(
                "arn:{partition}:athena:{region}:{account}:workgroup/{}",
                athena.workgroup
            )],
        ),
    ));
    out.push((
        "ReadCurTable".into(),
        Permission::new(
            &["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            [
                format!("arn:{partition}:glue:{region}:{account}:catalog"),
                format!(
                    "arn:{partition}:glue:{region}:{account}:database/{}",
                    athena.database
                ),
                format!(
                    "arn:{partition}:glue:{region}:{account}:table/{}/{}",
                    athena.database, athena.table
                ),
            ],
        ),
    ));
    out.push((
        "ReadCurExportBucket".into(),
        Permission::new(&["s3:GetBucketLocation"], [bucket]),
    ));
    if let Some(output) = athena
        .output
        .as_deref()
        .and_then(|o| o.strip_prefix("s3://"))
    {
        let output = output.trim_end_matches('/');
        let out_bucket = output.split('/').next().unwrap_or(output);
        out.push((
            "WriteAthenaResults".into(),
            Permission::new(
                &["s3:GetObject", "s3:PutObject"],
                [format!("arn:{partition}:s3:::{output}/*")],
            ),
        ));
        out.push((
            "FindAthenaResultsBucket".into(),
            Permission::new(
                &["s3:GetBucketLocation", "s3:ListBucket"],
                [format!("arn:{partition}:s3:::{out_bucket}")],
            ),
        ));
    }
    out
}

/// `prices update` reads the AWS Price List (public prices) and Bedrock's model catalogue
/// (`ListFoundationModels`, which names the Price List's models by ID); neither API has
/// resources to scope to (Service Authorization Reference). It runs where the operator runs,
/// so a fleet's operator policy has it too.
fn price_list_permission() -> (String, Permission) {
    (
        "ReadPriceList".into(),
        Permission::new(
            &["pricing:GetProducts", "bedrock:ListFoundationModels"],
            ["*".to_string()],
        ),
    )
}

fn sid(id: &str, index: usize) -> String {
    let base: String = id
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if index == 0 {
        base
    } else {
        format!("{base}{}", index + 1)
    }
}

/// The Cost Explorer read of `report --source billing`, only when asked for: Cost Explorer
/// cannot scope it to a resource.
fn billing_permissions() -> Vec<(String, Permission)> {
    vec![(
        "ReadBilledSpend".into(),
        Permission::new(
            &["ce:GetCostAndUsage", "ce:GetCostForecast"],
            ["*".to_string()],
        ),
    )]
}

/// The policy document for `cx`'s config, account and region; `with_billing` adds the Cost
/// Explorer reads.
pub fn policy(cx: &Context, with_billing: bool) -> Value {
    let mut statements = Vec::new();
    let billing = if with_billing {
        billing_permissions()
    } else {
        Vec::new()
    };
    for (name, p) in command_permissions(cx)
        .into_iter()
        .chain(billing)
        .chain(cur_report_permissions(cx))
    {
        statements.push(statement(&name, &p));
    }
    for step in resources::steps_for(&cx.config) {
        for (i, p) in step.permissions(cx).iter().enumerate() {
            statements.push(statement(&sid(step.id().as_str(), i), p));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn statement(sid: &str, p: &Permission) -> Value {
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": p.actions,
        "Resource": p.resources,
    });
    if let (Some(obj), Some(condition)) = (s.as_object_mut(), &p.condition) {
        obj.insert("Condition".into(), condition.clone());
    }
    s
}

pub async fn run(session: &Session, args: &PermissionsArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    // ARNs need the account and region; without credentials the policy still comes out,
    // with wildcards where they would go.
    let (clients, account) = match session.clients(&loaded).await {
        Ok(clients) => match clients.account().await {
            Ok(account) => (clients, account),
            Err(e) => {
                session.printer.warn(format!(
                    "could not learn the account ({e}); using * for the account ID"
                ));
                (clients, wildcard_account())
            }
        },
        Err(e) => {
            session
                .printer
                .warn(format!("{e}; using * for the account ID and region"));
            let mut clients = offline_clients();
            clients.region = "*".into();
            (clients, wildcard_account())
        }
    };
    let document = match &loaded.config.targets {
        None => {
            let cx = Context::new(
                loaded.config.clone(),
                account,
                clients,
                Arc::new(QuietProgress),
            );
            policy(&cx, args.with_billing)
        }
        Some(targets) => {
            fleet_policies(&loaded.config, targets, account, clients, args.with_billing)
        }
    };
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
    println!("{text}");
    Ok(ExitStatus::Success)
}

/// With [targets]: what the operator needs where the tool runs (Organizations, assuming the
/// target role, and the billing components, which run in the caller's own account), and what
/// that role needs in every target account (the policy variable `${aws:PrincipalAccount}`
/// stands for each account; regions are `*`).
fn fleet_policies(
    config: &crate::config::Config,
    targets: &crate::config::targets::TargetsConfig,
    caller: Account,
    clients: crate::aws::Clients,
    with_billing: bool,
) -> Value {
    use crate::engine::ComponentId;
    let partition = caller.partition.clone();
    let role_arns: Vec<String> = if targets.accounts.is_empty() {
        vec![format!("arn:{partition}:iam::*:role/{}", targets.role_name)]
    } else {
        targets
            .accounts
            .iter()
            .map(|a| format!("arn:{partition}:iam::{a}:role/{}", targets.role_name))
            .collect()
    };
    let (price_list_sid, price_list) = price_list_permission();
    let mut operator = vec![
        statement(
            "WhoAmI",
            &Permission::new(&["sts:GetCallerIdentity"], ["*".to_string()]),
        ),
        statement(&price_list_sid, &price_list),
        statement(
            "FindTargetAccounts",
            &Permission::new(
                &[
                    "organizations:DescribeOrganization",
                    "organizations:ListAccounts",
                    "organizations:ListAccountsForParent",
                    "organizations:ListOrganizationalUnitsForParent",
                ],
                ["*".to_string()],
            ),
        ),
        statement(
            "AssumeTargetRole",
            &Permission::new(&["sts:AssumeRole"], role_arns),
        ),
    ];
    let payer = [
        ComponentId::CostAllocationTags,
        ComponentId::AnomalyDetection,
        ComponentId::CurExport,
    ];
    let home = Context::new(
        config.clone(),
        caller,
        clients.clone(),
        Arc::new(QuietProgress),
    );
    // The CUR export is the payer's: the operator reads it.
    for (name, p) in cur_report_permissions(&home) {
        operator.push(statement(&name, &p));
    }
    for step in resources::steps_for(config) {
        if payer.contains(&step.id()) {
            for (i, p) in step.permissions(&home).iter().enumerate() {
                operator.push(statement(&sid(step.id().as_str(), i), p));
            }
        }
    }
    let mut regional = clients;
    regional.region = "*".into();
    let each = Context::new(
        config.clone(),
        Account {
            id: "${aws:PrincipalAccount}".into(),
            partition,
            caller_arn: String::new(),
        },
        regional,
        Arc::new(QuietProgress),
    )
    .with_regions(targets.regions.clone());
    let billing = if with_billing {
        billing_permissions()
    } else {
        Vec::new()
    };
    let mut target = Vec::new();
    for (name, p) in command_permissions(&each).into_iter().chain(billing) {
        target.push(statement(&name, &p));
    }
    for step in resources::steps_for(config) {
        if !payer.contains(&step.id()) {
            for (i, p) in step.permissions(&each).iter().enumerate() {
                target.push(statement(&sid(step.id().as_str(), i), p));
            }
        }
    }
    json!({
        "operator": {"Version": "2012-10-17", "Statement": operator},
        "target_role": {
            "RoleName": targets.role_name,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": target},
        },
    })
}

fn wildcard_account() -> Account {
    Account {
        id: "*".into(),
        partition: "aws".into(),
        caller_arn: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::test_account;
    use crate::config::Config;

    #[test]
    fn every_component_and_command_call_has_a_statement() {
        let cx = Context::new(
            Config::default(),
            test_account(),
            offline_clients(),
            Arc::new(QuietProgress),
        );
        let doc = policy(&cx, false);
        let actions: Vec<String> = doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        for needed in [
            "sts:GetCallerIdentity",
            "iam:CreateRole",
            "iam:PassRole",
            "s3:PutBucketPolicy",
            "logs:PutRetentionPolicy",
            "bedrock:PutModelInvocationLoggingConfiguration",
            "sns:Subscribe",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:GetMetricData",
            // `prices update`
            "pricing:GetProducts",
        ] {
            assert!(
                actions.iter().any(|a| a == needed),
                "{needed} missing from {doc:#}"
            );
        }
        let pass_role = doc["Statement"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["Action"] == json!(["iam:PassRole"])))
            .expect("PassRole statement");
        assert_eq!(
            pass_role["Resource"],
            json!(["arn:aws:iam::123456789012:role/BedrockCloudWatchLoggingRole"])
        );
        assert_eq!(
            pass_role["Condition"]["StringEquals"]["iam:PassedToService"],
            "bedrock.amazonaws.com"
        );
        let price_list = doc["Statement"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["Sid"] == "ReadPriceList"))
            .expect("ReadPriceList statement");
        assert_eq!(
            price_list["Action"],
            json!(["pricing:GetProducts", "bedrock:ListFoundationModels"])
        );
        assert_eq!(price_list["Resource"], json!(["*"]));
    }
}
