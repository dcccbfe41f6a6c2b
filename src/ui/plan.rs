//! A plan as text: one line per component, then what changes, as Terraform shows it.

use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

use crate::engine::FieldChange;
use crate::engine::diff::show_value;
use crate::engine::plan::{PlanAction, PlanReport};

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Plan for stack {:?} in account {} ({}):\n",
            self.stack, self.account, self.region
        )?;
        for r in &self.resources {
            let (sign, style) = match r.action {
                PlanAction::Create => ("+", console::Style::new().green()),
                PlanAction::Update => ("~", console::Style::new().yellow()),
                PlanAction::Replace => ("±", console::Style::new().red()),
                PlanAction::Unchanged => ("=", console::Style::new().dim()),
                _ => ("!", console::Style::new().red()),
            };
            let action = match r.action {
                PlanAction::NotManaged => "exists, not managed",
                other => other.as_str(),
            };
            writeln!(
                f,
                "{} {:<10} {:<40} {}",
                style.apply_to(sign),
                r.id.as_str(),
                r.name,
                style.apply_to(action)
            )?;
            let mut details = String::new();
            if r.action == PlanAction::Create {
                let fields: Vec<&str> = r.changes.iter().map(|c| c.field.as_str()).collect();
                if !fields.is_empty() {
                    details.push_str(&format!("      sets {}\n", fields.join(", ")));
                }
            } else {
                for c in &r.changes {
                    render_change(&mut details, c, "      ");
                }
            }
            for n in &r.notes {
                details.push_str(&format!("      note: {n}\n"));
            }
            if let Some(e) = &r.error {
                details.push_str(&format!("      error: {e}\n"));
            }
            f.write_str(&details)?;
        }
        writeln!(f)?;
        if !self.has_changes() {
            writeln!(f, "No changes: the account matches the config.")
        } else {
            writeln!(
                f,
                "Plan: {} to create, {} to update, {}{}{} unchanged{}.",
                self.count(PlanAction::Create),
                self.count(PlanAction::Update),
                match self.count(PlanAction::Replace) {
                    0 => String::new(),
                    n =>
                        format!("{n} to replace (new ARNs: callers of the old ones must switch), "),
                },
                match self.count(PlanAction::NotManaged) {
                    0 => String::new(),
                    n => format!("{n} existing but not managed (see the notes: --adopt), "),
                },
                self.count(PlanAction::Unchanged),
                match self.count(PlanAction::Unknown) {
                    0 => String::new(),
                    n => format!(", {n} could not be read"),
                }
            )
        }
    }
}

/// A field change for text output: short values on one line, documents as a line diff.
pub fn render_change(out: &mut String, change: &FieldChange, indent: &str) {
    let old = show_value(&change.old);
    let new = show_value(&change.new);
    // Two objects differing only in short members (an alarm's threshold, its OK actions): one
    // line each.
    if let (Value::Object(a), Value::Object(b)) = (&change.old, &change.new) {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let differing: Vec<&String> = keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        let scalar = |v: Option<&Value>| match v {
            Some(Value::Object(_)) | Some(Value::Array(_)) => {
                v.is_some_and(|v| v.to_string().len() <= 120)
            }
            _ => true,
        };
        if differing
            .iter()
            .all(|k| scalar(a.get(*k)) && scalar(b.get(*k)))
        {
            for k in differing {
                let show = |v: Option<&Value>| show_value(v.unwrap_or(&Value::Null));
                let _ = writeln!(
                    out,
                    "{indent}{}.{k}: {} → {}",
                    change.field,
                    show(a.get(k)),
                    show(b.get(k))
                );
            }
            return;
        }
    }
    if change.old.is_object() && change.new.is_null() {
        let _ = writeln!(out, "{indent}{}: delete", change.field);
        return;
    }
    if change.old.is_null() && change.new.is_object() && change.new.to_string().len() > 100 {
        let _ = writeln!(out, "{indent}{}: create", change.field);
        return;
    }
    let is_document = change.old.is_object() || change.new.is_object();
    if !is_document || (old.len() + new.len() < 100) {
        let _ = writeln!(out, "{indent}{}: {old} → {new}", change.field);
        return;
    }
    let _ = writeln!(out, "{indent}{}:", change.field);
    let pretty = |v: &Value| match v {
        Value::Null => String::new(),
        v => serde_json::to_string_pretty(v).unwrap_or_default(),
    };
    let (a, b) = (pretty(&change.old), pretty(&change.new));
    let diff = similar::TextDiff::from_lines(&a, &b);
    for op in diff.iter_all_changes() {
        let sign = match op.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        let _ = write!(out, "{indent}  {sign} {}", op.value());
        if op.missing_newline() {
            out.push('\n');
        }
    }
}
