//! The CUR 2.0 columns the report reads, by their names in the CUR 2.0 data dictionary (Data
//! Exports user guide), which both engines name: the embedded one in the export's files, the
//! Athena one in the table over them. Which of them a report cannot do without, and what a
//! missing optional one costs, are said once here so that both engines say the same.

pub const USAGE_START: &str = "line_item_usage_start_date";
pub const PRODUCT_CODE: &str = "line_item_product_code";
pub const USAGE_TYPE: &str = "line_item_usage_type";
pub const COST: &str = "line_item_unblended_cost";
pub const USAGE_AMOUNT: &str = "line_item_usage_amount";
pub const LINE_ITEM_TYPE: &str = "line_item_line_item_type";
pub const PRODUCT: &str = "product";
pub const PRINCIPAL: &str = "line_item_iam_principal";
pub const TAGS: &str = "tags";
pub const RESOURCE_TAGS: &str = "resource_tags";
pub const RESOURCE_ID: &str = "line_item_resource_id";
pub const ACCOUNT: &str = "line_item_usage_account_id";
pub const REGION: &str = "product_region_code";

/// Without these no line can be placed in the window, recognised as Bedrock, mapped to a
/// model or priced: the report refuses a source that lacks one. Every other column is optional
/// (a missing one leaves its dimension unattributed, or is counted as zero).
pub const REQUIRED: [&str; 4] = [USAGE_START, PRODUCT_CODE, USAGE_TYPE, COST];

/// The Data Exports console's "Additional export content" option that fills
/// `line_item_iam_principal`, and its name in the export's table configuration (what
/// `cur-export` sets, src/resources/cur_export.rs).
pub const PRINCIPAL_OPTION: &str =
    "\"Include caller identity (IAM principal) allocation data\" (INCLUDE_IAM_PRINCIPAL_DATA)";

/// Why the principals are missing when `source` (the export, or a table over it) has no
/// `line_item_iam_principal` column: `cause` says how that came about, `remedy` what to do.
pub fn principals_missing(source: &str, cause: &str, remedy: &str) -> String {
    format!(
        "principals are missing: {source} has no line_item_iam_principal column, {cause}; \
         every row is unattributed by principal, while tags, profiles, models and accounts are \
         whole (--by tag:KEY, profile, model, account); {remedy}"
    )
}
