//! The stand-in's cost-allocation tags (`cost_allocation_tags.rs` in `tests/support/standin/`),
//! through the real SDK clients as in `tests/it/standin.rs`.

use crate::support::env::{ACCOUNT, TestEnv};

use super::{code, error, through_proxy};

#[test]
fn standin_cost_allocation_tags() {
    use aws_sdk_costexplorer::types::{CostAllocationTagStatus, CostAllocationTagStatusEntry};

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let ce = &aws.costexplorer;
    let entry = |key: &str, status: CostAllocationTagStatus| {
        CostAllocationTagStatusEntry::builder()
            .tag_key(key)
            .status(status)
            .build()
            .expect("entry")
    };

    env.standin
        .tag_keys_seen_in_billing(&["Project", "Team", "CostCenter", "App", "Env"]);
    let listed = env
        .block_on(ce.list_cost_allocation_tags().send())
        .expect("ListCostAllocationTags");
    assert_eq!(listed.cost_allocation_tags().len(), 5);
    assert!(
        listed
            .cost_allocation_tags()
            .iter()
            .all(|t| t.status() == &CostAllocationTagStatus::Inactive
                && t.r#type().as_str() == "UserDefined")
    );

    // A known key is activated; a key billing has not seen gets an Errors entry, with 200.
    let updated = env
        .block_on(
            ce.update_cost_allocation_tags_status()
                .cost_allocation_tags_status(entry("Project", CostAllocationTagStatus::Active))
                .cost_allocation_tags_status(entry("Unbilled", CostAllocationTagStatus::Active))
                .send(),
        )
        .expect("UpdateCostAllocationTagsStatus answers 200 with Errors");
    let errors = updated.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].tag_key(), Some("Unbilled"));
    assert_eq!(errors[0].code(), Some("TagKeysNotFoundException"));
    assert_eq!(
        errors[0].message(),
        Some("Failed to update Cost Allocation Tag: Unbilled")
    );
    let calls = env.proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "UpdateCostAllocationTagsStatus" && c.status == Some(200))
    );
    assert_eq!(env.standin.active_cost_allocation_tags(), ["Project"]);

    // Filters: Status, TagKeys; the unbilled key stays unlisted.
    let active = env
        .block_on(
            ce.list_cost_allocation_tags()
                .status(CostAllocationTagStatus::Active)
                .send(),
        )
        .expect("active");
    let keys: Vec<&str> = active
        .cost_allocation_tags()
        .iter()
        .map(|t| t.tag_key())
        .collect();
    assert_eq!(keys, ["Project"]);
    assert!(
        active.cost_allocation_tags()[0]
            .last_updated_date()
            .is_some()
    );
    let by_key = env
        .block_on(
            ce.list_cost_allocation_tags()
                .tag_keys("Unbilled")
                .tag_keys("Team")
                .send(),
        )
        .expect("by key");
    let keys: Vec<&str> = by_key
        .cost_allocation_tags()
        .iter()
        .map(|t| t.tag_key())
        .collect();
    assert_eq!(keys, ["Team"]);

    // Paging.
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let page = env
            .block_on(
                ce.list_cost_allocation_tags()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send(),
            )
            .expect("page");
        assert!(page.cost_allocation_tags().len() <= 2);
        seen.extend(
            page.cost_allocation_tags()
                .iter()
                .map(|t| t.tag_key().to_string()),
        );
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(
        code(env.block_on(ce.list_cost_allocation_tags().next_token("bogus").send())),
        "InvalidNextTokenException"
    );

    // More than 20 entries: refused as a whole.
    let mut big = ce.update_cost_allocation_tags_status();
    for i in 0..21 {
        big = big
            .cost_allocation_tags_status(entry(&format!("k{i}"), CostAllocationTagStatus::Active));
    }
    assert_eq!(code(env.block_on(big.send())), "ValidationException");

    // A member account of an organization: no access to cost-allocation tags.
    env.standin.set_member_account(true);
    let (code_list, message) = error(env.block_on(ce.list_cost_allocation_tags().send()));
    assert_eq!(code_list, "AccessDeniedException");
    assert!(message.contains("Linked account"), "{message}");
    assert_eq!(
        code(
            env.block_on(
                ce.update_cost_allocation_tags_status()
                    .cost_allocation_tags_status(entry("Team", CostAllocationTagStatus::Active))
                    .send()
            )
        ),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);

    let snapshot = env.standin.snapshot();
    assert_eq!(
        snapshot[ACCOUNT]["cost_allocation_tags"]["Project"]["status"],
        "Active"
    );
}
