//! Everything about money, in one domain module that knows nothing of AWS calls, resources or
//! reports: what counts as Bedrock spend ([`spend`]), what a billing line is ([`usage`]) and
//! whether it is usage, tax or an adjustment of the bill ([`line_item`]), what a
//! token costs ([`prices`]), and the same prices as the expressions the dashboard
//! ([`metric_math`]) and the saved queries ([`insights`]) embed, and the IAM actions that spend
//! it ([`spending_actions`], what a spend stop denies). Budgets, budget actions, anomaly
//! detection, the dashboard, the saved queries and `report` all call it; it calls none of them.

pub mod catalogue;
pub mod expression;
pub mod insights;
pub mod line_item;
pub mod metric_math;
pub mod pricelist;
pub mod prices;
pub mod spend;
pub mod spending_actions;
pub mod usage;
