//! Plans: per resource an action and the fields that change, old → new.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    /// Delete and create again: the only way to change a setting AWS fixes at creation. The
    /// resource gets a new identity (ARN), so callers of the old one break; a note says why.
    Replace,
    Unchanged,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
        }
    }
}

/// A value for text output: strings bare, the rest as compact JSON.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// One setting that differs. `old` is `null` where the setting (or the resource) is absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// What a step would do to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub action: Action,
    pub changes: Vec<FieldChange>,
    /// Facts the user should see with the plan (e.g. "adopting an existing bucket").
    pub notes: Vec<String>,
    /// The changes replace a configuration someone else made that the account has only one
    /// of (invocation logging): `apply` asks before it, or needs `--adopt-logging`.
    pub replaces_foreign: bool,
}

impl Diff {
    pub fn unchanged() -> Diff {
        Diff {
            action: Action::Unchanged,
            changes: Vec::new(),
            notes: Vec::new(),
            replaces_foreign: false,
        }
    }

    /// The diff of a resource from its field changes: unchanged without any, a creation when
    /// nothing of it exists yet, an update otherwise.
    pub fn of(changes: Vec<FieldChange>, exists: bool) -> Diff {
        let action = match (changes.is_empty(), exists) {
            (true, _) => Action::Unchanged,
            (false, false) => Action::Create,
            (false, true) => Action::Update,
        };
        Diff {
            action,
            changes,
            ..Diff::unchanged()
        }
    }

    /// The diff of a component the config switched off: what of it is removed, if anything.
    pub fn removing(changes: Vec<FieldChange>) -> Diff {
        Diff {
            action: if changes.is_empty() {
                Action::Unchanged
            } else {
                Action::Delete
            },
            changes,
            ..Diff::unchanged()
        }
    }

    /// The same diff with `notes` added.
    pub fn with_notes(mut self, notes: impl IntoIterator<Item = String>) -> Diff {
        self.notes.extend(notes);
        self
    }

    /// A resource that does not exist yet: every desired setting is a change from nothing.
    pub fn create(settings: Vec<(String, Value)>) -> Diff {
        Diff {
            action: Action::Create,
            changes: settings
                .into_iter()
                .map(|(field, new)| FieldChange {
                    field,
                    old: Value::Null,
                    new,
                })
                .collect(),
            ..Diff::unchanged()
        }
    }

    /// Compare desired settings with observed ones; equal values (as JSON) are no change.
    pub fn compare(desired: Vec<(String, Value)>, observed: impl Fn(&str) -> Value) -> Diff {
        let changes: Vec<FieldChange> = desired
            .into_iter()
            .filter_map(|(field, new)| {
                let old = observed(&field);
                (old != new).then_some(FieldChange { field, old, new })
            })
            .collect();
        Diff::of(changes, true)
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diff {
        self.notes.push(note.into());
        self
    }

    /// Whether `field` (or any field under it, like `tags.Project` under `tags`) changes.
    pub fn touches(&self, field: &str) -> bool {
        self.action == Action::Create
            || self.changes.iter().any(|c| {
                c.field == field
                    || c.field
                        .strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
    }

    pub fn is_change(&self) -> bool {
        self.action != Action::Unchanged
    }
}
