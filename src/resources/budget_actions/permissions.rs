//! What the operator needs for the budget actions, scoped to the configured budgets (their
//! actions' ARNs are `budget/<name>/action/<generated id>`: Service Authorization Reference,
//! AWS Budgets, resource type budgetAction), the stack's deny policy and execution role, and
//! for SCP actions the stack's SCP (found by its tag) and the configured targets. The IAM and
//! Organizations writes among them go to `permissions --bootstrap` (see
//! `commands::permissions`): whoever can rewrite the deny policy or the role's policy can
//! grant themselves anything.

use serde_json::json;

use super::BudgetActions;
use crate::config::STACK_TAG_KEY;
use crate::engine::{Context, Permission};

impl BudgetActions {
    pub(super) fn declared_permissions(cx: &Context) -> Vec<Permission> {
        let partition = cx.partition();
        let account = &cx.account.id;
        let budget = |name: &str| format!("arn:{partition}:budgets::{account}:budget/{name}");
        let budgets: Vec<String> = Self::configured(cx)
            .iter()
            .map(|(b, _)| budget(&b.name))
            .collect();
        // Actions of a budget the config dropped are found and deleted too: every budget of the
        // config is read, and dropped actions are only on budgets still named there.
        let actions: Vec<String> = cx
            .config
            .budgets
            .iter()
            .map(|b| format!("{}/action/*", budget(&b.name)))
            .collect();
        let listed: Vec<String> = cx.config.budgets.iter().map(|b| budget(&b.name)).collect();
        let mut out = vec![
            Permission::new(&["budgets:DescribeBudgetActionsForBudget"], listed),
            Permission::new(&["budgets:CreateBudgetAction"], budgets),
            Permission::new(
                &[
                    "budgets:DescribeBudgetAction",
                    "budgets:UpdateBudgetAction",
                    "budgets:DeleteBudgetAction",
                    "budgets:ExecuteBudgetAction",
                ],
                actions,
            ),
            Permission::new(
                &[
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:ListEntitiesForPolicy",
                    "iam:CreatePolicy",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:TagPolicy",
                    "iam:DeletePolicy",
                ],
                [Self::policy_arn(cx)],
            ),
            Permission::new(
                &[
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:CreateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:TagRole",
                    "iam:DeleteRolePolicy",
                    "iam:DeleteRole",
                ],
                [Self::role_arn(cx)],
            ),
            // CreateBudgetAction passes the execution role to Budgets.
            Permission {
                actions: vec!["iam:PassRole"],
                resources: vec![Self::role_arn(cx)],
                condition: Some(
                    json!({"StringEquals": {"iam:PassedToService": "budgets.amazonaws.com"}}),
                ),
            },
            // cleanup detaches the deny policy from whatever still holds it.
            Permission {
                actions: vec![
                    "iam:DetachRolePolicy",
                    "iam:DetachUserPolicy",
                    "iam:DetachGroupPolicy",
                ],
                resources: vec![format!("arn:{partition}:iam::{account}:*")],
                condition: Some(json!({"ArnEquals": {"iam:PolicyARN": Self::policy_arn(cx)}})),
            },
        ];
        if Self::wants_scp(cx) {
            out.extend(Self::scp_permissions(cx));
        }
        out
    }

    /// Organizations, for SCP actions. Its policy ARNs end in a generated ID, so the stack's
    /// SCP is named by its stack tag (`aws:ResourceTag`, supported on the policy resource type
    /// of UpdatePolicy, DeletePolicy, TagResource, DescribePolicy and the listings; CreatePolicy
    /// takes `aws:RequestTag`), and `organizations:PolicyType` keeps every call to SCPs.
    fn scp_permissions(cx: &Context) -> Vec<Permission> {
        let base = format!("arn:{}:organizations::{}:", cx.partition(), cx.account.id);
        let scps = format!("{base}policy/o-*/service_control_policy/*");
        let stack = &cx.config.stack.name;
        let scp_only =
            json!({"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}});
        let tagged = json!({"StringEquals": {
            "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
            format!("aws:ResourceTag/{STACK_TAG_KEY}"): stack,
        }});
        vec![
            // Which account this is, and whether SCPs are enabled on the root: no resource.
            Permission::new(
                &[
                    "organizations:DescribeOrganization",
                    "organizations:ListRoots",
                ],
                ["*".to_string()],
            ),
            Permission {
                actions: vec!["organizations:ListPolicies"],
                resources: vec!["*".to_string()],
                condition: Some(scp_only.clone()),
            },
            Permission {
                actions: vec![
                    "organizations:DescribePolicy",
                    "organizations:ListTagsForResource",
                    "organizations:ListTargetsForPolicy",
                    "organizations:UpdatePolicy",
                    "organizations:TagResource",
                    "organizations:DeletePolicy",
                ],
                resources: vec![scps.clone()],
                condition: Some(tagged),
            },
            Permission {
                actions: vec!["organizations:CreatePolicy"],
                resources: vec!["*".to_string()],
                condition: Some(json!({"StringEquals": {
                    "organizations:PolicyType": "SERVICE_CONTROL_POLICY",
                    format!("aws:RequestTag/{STACK_TAG_KEY}"): stack,
                }})),
            },
            // cleanup detaches the SCP from whatever holds it before deleting it. DetachPolicy
            // authorizes on the policy and on the target, so no tag condition can name the
            // policy alone; this statement is in the bootstrap policy only.
            Permission {
                actions: vec!["organizations:DetachPolicy"],
                resources: vec![
                    scps,
                    format!("{base}account/o-*/*"),
                    format!("{base}ou/o-*/ou-*"),
                    format!("{base}root/o-*/r-*"),
                ],
                condition: Some(scp_only),
            },
        ]
    }
}
