//! Cost knowledge shared by the resources that filter cost (budgets now; anomaly detection and
//! the billed report later) and by `report`: what counts as Bedrock spend.

pub mod ce_expression;
pub mod spend;
pub mod usage;
