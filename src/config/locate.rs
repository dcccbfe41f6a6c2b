//! Turning config paths and byte offsets into `line:column`, using toml's spanned parse tree.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::PathPart;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Location {
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn from_offset(text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before
            .get(line_start..)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Location {
            line: Some(line),
            column: Some(column),
        }
    }
}

/// Finds where a path's value stands in the config text.
pub struct Locator<'a> {
    text: &'a str,
    root: Option<toml::Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Locator {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// The value's position, or the nearest enclosing table's when the value is a default
    /// (absent from the file).
    pub fn find(&self, path: &[PathPart], at_key: bool) -> Location {
        let Some(root) = &self.root else {
            return Location::default();
        };
        let mut best: Option<Range<usize>> = None;
        let mut table = root.get_ref();
        let mut value: Option<&toml::Spanned<DeValue<'a>>> = None;
        for part in path {
            let next = match (part, value) {
                (PathPart::Key(k), None) => table.get(k.as_str()),
                (PathPart::Key(k), Some(v)) => match v.get_ref().as_table() {
                    Some(t) => {
                        table = t;
                        t.get(k.as_str())
                    }
                    None => None,
                },
                (PathPart::Index(i), Some(v)) => v.get_ref().as_array().and_then(|a| a.get(*i)),
                (PathPart::Index(_), None) => None,
            };
            match next {
                Some(v) => {
                    best = Some(key_or_value_span(table, part, v, at_key));
                    value = Some(v);
                }
                None => break,
            }
        }
        match best {
            Some(span) => Location::from_offset(self.text, span.start),
            None => Location::default(),
        }
    }
}

/// A scalar points at its value; a table points at its key (the `[header]` line).
fn key_or_value_span(
    table: &DeTable<'_>,
    part: &PathPart,
    v: &toml::Spanned<DeValue<'_>>,
    at_key: bool,
) -> Range<usize> {
    if (at_key || v.get_ref().is_table())
        && let PathPart::Key(k) = part
        && let Some((key, _)) = table.get_key_value(k.as_str())
    {
        return key.span();
    }
    v.span()
}

/// The dotted path of the key or value that contains `offset` (for serde errors, which carry a
/// span but not a field name). Header tables' spans do not cover their entries, so the search
/// visits every entry instead of pruning by span.
pub fn field_at(text: &str, offset: Option<usize>) -> String {
    let Some(offset) = offset else {
        return String::new();
    };
    let Ok(root) = DeTable::parse(text) else {
        return String::new();
    };
    search_table(root.get_ref(), offset).unwrap_or_default()
}

fn contains(span: Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn search_table(table: &DeTable<'_>, offset: usize) -> Option<String> {
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        if let Some(inner) = search_value(value.get_ref(), offset) {
            return Some(join(&name, &inner));
        }
        if contains(key.span(), offset)
            || (!is_container(value.get_ref()) && contains(value.span(), offset))
        {
            return Some(name);
        }
    }
    None
}

fn search_value(value: &DeValue<'_>, offset: usize) -> Option<String> {
    if let Some(t) = value.as_table() {
        return search_table(t, offset);
    }
    if let Some(a) = value.as_array() {
        for (i, item) in a.iter().enumerate() {
            if let Some(inner) = search_value(item.get_ref(), offset) {
                return Some(join(&format!("[{i}]"), &inner));
            }
            if contains(item.span(), offset) {
                return Some(format!("[{i}]"));
            }
        }
    }
    None
}

fn is_container(value: &DeValue<'_>) -> bool {
    value.is_table() || value.is_array()
}

fn join(outer: &str, inner: &str) -> String {
    if inner.starts_with('[') {
        format!("{outer}{inner}")
    } else {
        format!("{outer}.{inner}")
    }
}
