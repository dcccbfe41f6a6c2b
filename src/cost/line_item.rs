//! What a line of the bill is by its type (`line_item_line_item_type`: CUR 2.0 table
//! dictionary, "Line item columns"; the values are the CUR user guide's `lineItem/LineItemType`):
//! usage, tax, or an adjustment of the bill.
//!
//! - Usage: `Usage` (on-demand rates), `DiscountedUsage` (usage a Reserved Instance covers),
//!   `SavingsPlanCoveredUsage` (usage a Savings Plan covers, at its on-demand cost, which a
//!   `SavingsPlanNegation` line takes back). Only usage carries who called and what was
//!   called (principal, tags, resource).
//! - Tax: `Tax`. Cost Explorer shows it under a service of its own ("Tax"), so Bedrock spend
//!   leaves it out.
//! - Everything else adjusts the bill: `Credit`, `Refund`, `SavingsPlanNegation`, discounts
//!   (the line item dictionary names `Discount`), fees (`Fee`, `RIFee`,
//!   `SavingsPlanUpfrontFee`, `SavingsPlanRecurringFee`). A type this module does not know is an
//!   adjustment too, so a discount type added later is never taken for usage. Cost Explorer's
//!   unblended cost, without a `RECORD_TYPE` filter, counts them all: usage plus adjustments
//!   is the bill.

/// The tax line's type.
pub const TAX: &str = "Tax";

/// The types that are usage.
pub const USAGE: [&str; 3] = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Usage,
    Tax,
    Adjustment,
}

/// The kind of a line of type `line_item_type`. A line without one (an export without the
/// column) is usage, as every line was counted before types were read.
pub fn kind(line_item_type: Option<&str>) -> Kind {
    match line_item_type.map(str::trim) {
        None | Some("") => Kind::Usage,
        Some(TAX) => Kind::Tax,
        Some(t) if USAGE.contains(&t) => Kind::Usage,
        Some(_) => Kind::Adjustment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_tax_and_adjustments() {
        for t in ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"] {
            assert_eq!(kind(Some(t)), Kind::Usage, "{t}");
        }
        assert_eq!(kind(None), Kind::Usage);
        assert_eq!(kind(Some("")), Kind::Usage);
        assert_eq!(kind(Some("Tax")), Kind::Tax);
        for t in [
            "Credit",
            "Refund",
            "SavingsPlanNegation",
            "Discount",
            "Fee",
            "RIFee",
            "SavingsPlanRecurringFee",
            "SomeFutureDiscount",
        ] {
            assert_eq!(kind(Some(t)), Kind::Adjustment, "{t}");
        }
    }
}
