//! `--by tag:KEY`: which key of a line's `tags` or `resource_tags` map is the one asked for.
//!
//! CUR 2.0 writes one tag in several forms, and a user asks for it in yet others:
//! - the `tags` map prefixes each key with its source (Data Exports user guide, CUR 2.0 table
//!   dictionary, "Tags column": `resourceTags/`, `userAttribute/`, `accountTag/`,
//!   `costCategory/`; Billing user guide, "Using IAM principal for cost allocation":
//!   `iamPrincipal/`), the key after it as the tag has it (`resourceTags/department`,
//!   `userAttribute/Department`). Exports written before the prefixes carry resource tags
//!   unprefixed, as `user:<key>` or `user_<key>` (what the README called "both spellings").
//! - the `resource_tags` map holds resource tags only, by the name Athena gives a CUR column
//!   ("Running Amazon Athena queries", Column names: an underscore before each uppercase
//!   letter, lowercase, anything not a letter or digit an underscore, runs of underscores one,
//!   none at either end): `user:cost-center` is `user_cost_center`, `aws:createdBy` is
//!   `aws_created_by`.
//! - the legacy CUR names a resource tag column `resourceTags/user:<key>` (CUR user guide,
//!   "Resource tags details"), and its Athena table `resource_tags_user_<key>`.
//!
//! So a key and a request are compared by that normalisation, after the source prefix and the
//! `user` marker are taken off both. A request that names a source (`iamPrincipal/team`,
//! `resourceTags/cost-center`, `resource_tags_user_cost_center`) only matches that source;
//! one that does not matches any, and when a line has the key from several sources (the Tags
//! column's own example: `resourceTags/department`, `accountTag/department`,
//! `costCategory/department` on one line) the value is taken in [`Source`] order, the
//! resource's own tag first, and the report says so.

use std::collections::BTreeSet;

/// Where a tag comes from, in the order a line's value is taken when it has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Resource,
    IamPrincipal,
    UserAttribute,
    Account,
    CostCategory,
}

impl Source {
    /// The `tags` column's prefix of each source.
    const PREFIXES: [(&'static str, Source); 5] = [
        ("resourceTags/", Source::Resource),
        ("iamPrincipal/", Source::IamPrincipal),
        ("userAttribute/", Source::UserAttribute),
        ("accountTag/", Source::Account),
        ("costCategory/", Source::CostCategory),
    ];

    fn prefix(self) -> &'static str {
        Self::PREFIXES
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("", |(p, _)| p)
    }

    fn describe(self) -> &'static str {
        match self {
            Source::Resource => "resource tags",
            Source::IamPrincipal => "IAM principal tags",
            Source::UserAttribute => "user attributes",
            Source::Account => "account tags",
            Source::CostCategory => "cost categories",
        }
    }
}

/// The two map columns a tag can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    Tags,
    ResourceTags,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Tags => "tags",
            Column::ResourceTags => "resource_tags",
        }
    }
}

/// A key of a line's maps: which map, which key.
pub type KeyRef<'a> = (Column, &'a str);

/// The same, kept beyond the line.
type KeyName = (Column, String);

/// (request key, the key a line's value came from, a key of another source the line also had).
pub type Overlap<'a> = (usize, KeyRef<'a>, KeyRef<'a>);

/// A map key as the report shows it: `tags['iamPrincipal/team']`.
pub fn show(column: Column, key: &str) -> String {
    format!("{}['{key}']", column.name())
}

/// A name as Athena makes a CUR column name of it (see the module comment).
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let push_underscore = |out: &mut String| {
        if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    };
    for c in name.chars() {
        if c.is_uppercase() {
            push_underscore(&mut out);
            out.extend(c.to_lowercase());
        } else if c.is_alphanumeric() {
            out.push(c);
        } else {
            push_underscore(&mut out);
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A normalised key without the user-defined tag marker (`user_`), once.
fn bare(normalised: &str) -> &str {
    normalised.strip_prefix("user_").unwrap_or(normalised)
}

/// The lowercase letters and digits of a name: what every form of the name ends with, so an
/// engine can narrow a map to the keys that may match before [`TagKey::rank`] decides.
pub fn letters_and_digits(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How well a key matches, lower is better: its [`Source`] first, then the key exactly as asked
/// before a normalised form of it.
pub type Rank = u8;

/// The source of a key that ranked `rank`.
fn source_of(rank: Rank) -> u8 {
    rank / 2
}

/// One `--by tag:KEY`, ready to rank the keys of a line.
#[derive(Debug, Clone)]
pub struct TagKey {
    asked: String,
    /// The source the request names, if any.
    source: Option<Source>,
    /// The key asked for, normalised, without its source and `user` marker.
    bare: String,
}

impl TagKey {
    pub fn new(asked: &str) -> TagKey {
        let (source, rest) = match split_prefix(asked, true) {
            Some((source, rest)) => (Some(source), normalise(rest)),
            None => {
                let all = normalise(asked);
                // The legacy Athena table's column name (`resource_tags_user_cost_center`) and
                // the other sources spelled the same way.
                match Source::PREFIXES.iter().find_map(|(p, s)| {
                    let p = format!("{}_", normalise(p));
                    all.strip_prefix(&p).map(|rest| (*s, rest.to_string()))
                }) {
                    Some((source, rest)) => (Some(source), rest),
                    None => (None, all),
                }
            }
        };
        TagKey {
            asked: asked.to_string(),
            source,
            bare: bare(&rest).to_string(),
        }
    }

    /// What is left of the key once its source is taken off: `--by tag:iamPrincipal/` names no
    /// key.
    pub fn names_a_key(&self) -> bool {
        !self.bare.is_empty()
    }

    /// What every matching key's [`letters_and_digits`] ends with.
    pub fn suffix(&self) -> String {
        letters_and_digits(&self.bare)
    }

    /// Whether `key` of `column` is the key asked for, and how well (lower is better).
    pub fn rank(&self, column: Column, key: &str) -> Option<Rank> {
        let (source, rest) = source(column, key);
        if self.source.is_some_and(|s| s != source) {
            return None;
        }
        let at = 2 * source as Rank;
        if key == self.asked {
            return Some(at);
        }
        let normalised = normalise(rest);
        (bare(&normalised) == self.bare).then_some(at + 1)
    }
}

/// A map key's source and the key after its prefix. An unprefixed key of `tags` is a resource
/// tag as earlier exports wrote it.
fn source(column: Column, key: &str) -> (Source, &str) {
    match column {
        Column::ResourceTags => (Source::Resource, key),
        Column::Tags => split_prefix(key, false).unwrap_or((Source::Resource, key)),
    }
}

/// A key's source prefix and the rest; `any_case` for what a user typed.
fn split_prefix(key: &str, any_case: bool) -> Option<(Source, &str)> {
    Source::PREFIXES.iter().find_map(|(p, s)| {
        let head = key.get(..p.len())?;
        let same = if any_case {
            head.eq_ignore_ascii_case(p)
        } else {
            head == *p
        };
        same.then(|| (*s, &key[p.len()..]))
    })
}

/// The request's tag keys and what the lines showed of them: every key seen, which keys
/// matched each request, and which matched together on a line from different sources. One per
/// engine task, merged like the sums.
#[derive(Debug, Clone, Default)]
pub struct TagLookup {
    pub keys: Vec<TagKey>,
    seen: BTreeSet<KeyName>,
    /// Per request key: the keys that matched, with their source.
    matched: Vec<BTreeSet<(Column, String, Source)>>,
    /// Per request key: (the key a line's value was taken from, a key of another source the
    /// same line had).
    overlaps: Vec<BTreeSet<(KeyName, KeyName)>>,
}

impl TagLookup {
    pub fn new(keys: Vec<TagKey>) -> TagLookup {
        let n = keys.len();
        TagLookup {
            keys,
            seen: BTreeSet::new(),
            matched: vec![BTreeSet::new(); n],
            overlaps: vec![BTreeSet::new(); n],
        }
    }

    /// Ranks one key of a line against every request key, noting it as seen (and matched).
    pub fn observe(&mut self, column: Column, key: &str) -> Vec<Option<Rank>> {
        self.see(column, key);
        let ranks: Vec<Option<Rank>> = self.keys.iter().map(|k| k.rank(column, key)).collect();
        for (matched, rank) in self.matched.iter_mut().zip(&ranks) {
            if rank.is_some() {
                matched.insert((column, key.to_string(), source(column, key).0));
            }
        }
        ranks
    }

    /// Notes a key as seen without ranking it (a key the engine narrowed away).
    pub fn see(&mut self, column: Column, key: &str) {
        self.seen.insert((column, key.to_string()));
    }

    /// Notes that a line took request key `i`'s value from `taken` and also had `other`.
    pub fn overlap(&mut self, i: usize, taken: KeyRef<'_>, other: KeyRef<'_>) {
        if let Some(set) = self.overlaps.get_mut(i) {
            set.insert((
                (taken.0, taken.1.to_string()),
                (other.0, other.1.to_string()),
            ));
        }
    }

    /// The value of each request key among a line's entries, ranked on the spot (for engines
    /// that hand over few entries; the embedded engine caches [`TagLookup::observe`] and
    /// drives a [`LineTags`] itself).
    pub fn pick<'a>(
        &mut self,
        entries: impl IntoIterator<Item = (Column, &'a str, Option<&'a str>)>,
    ) -> Vec<Option<&'a str>> {
        let mut line = LineTags::new(self.keys.len());
        for (column, key, value) in entries {
            let ranks = self.observe(column, key);
            line.offer(&ranks, column, key, value);
        }
        for (i, taken, other) in line.overlaps() {
            self.overlap(i, taken, other);
        }
        line.values().collect()
    }

    pub fn merge(&mut self, other: TagLookup) {
        self.seen.extend(other.seen);
        for (mine, theirs) in self.matched.iter_mut().zip(other.matched) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.overlaps.iter_mut().zip(other.overlaps) {
            mine.extend(theirs);
        }
    }

    /// Whether request key `i` matched any key of any line.
    pub fn found(&self, i: usize) -> bool {
        self.matched.get(i).is_some_and(|m| !m.is_empty())
    }

    /// What the report says of request key `i` (`dimension` is its `--by` name).
    pub fn report(&self, i: usize, dimension: String) -> TagKeyReport {
        let matched: Vec<String> = self
            .matched
            .get(i)
            .map(|m| m.iter().map(|(c, k, _)| show(*c, k)).collect())
            .unwrap_or_default();
        let found = !matched.is_empty();
        TagKeyReport {
            dimension,
            found,
            matched,
            seen: if found {
                Vec::new()
            } else {
                self.seen.iter().map(|(c, k)| show(*c, k)).collect()
            },
        }
    }

    /// Request key `i`'s notes: it matched nothing (and which keys there are), or it matched
    /// keys of more than one source (and which one a line's value was taken from).
    pub fn notes(&self, i: usize, dimension: &str) -> Vec<String> {
        let Some(key) = self.keys.get(i) else {
            return Vec::new();
        };
        let Some(matched) = self.matched.get(i) else {
            return Vec::new();
        };
        if matched.is_empty() {
            let seen: Vec<String> = self.seen.iter().map(|(c, k)| show(*c, k)).collect();
            let seen = if seen.is_empty() {
                "none: the export has no tags on these lines (select the tags column; activate \
                 cost allocation tags in the Billing console)"
                    .to_string()
            } else {
                seen.join(", ")
            };
            return vec![format!(
                "{dimension}: no Bedrock line carries the tag key \"{}\" in any form CUR 2.0 \
                 writes (tags with any source prefix, resource_tags as {}, any case or \
                 punctuation); its rows are shown without a value, not as unattributed spend. \
                 The keys seen: {seen}. Check the key's spelling and that it is an active cost \
                 allocation tag ([cost_allocation] activate in the config, then apply)",
                key.asked,
                show(Column::ResourceTags, &format!("user_{}", key.bare)),
            )];
        }
        let Some(overlaps) = self.overlaps.get(i).filter(|o| !o.is_empty()) else {
            return Vec::new();
        };
        let pairs: Vec<String> = overlaps
            .iter()
            .map(|((tc, tk), (oc, ok))| format!("{} over {}", show(*tc, tk), show(*oc, ok)))
            .collect();
        let order: Vec<&str> = Source::PREFIXES.iter().map(|(_, s)| s.describe()).collect();
        let example = overlaps
            .iter()
            .next()
            .map(|(_, (c, k))| format!("tag:{}{}", source(*c, k).0.prefix(), key.asked))
            .unwrap_or_default();
        vec![format!(
            "{dimension}: some lines have the key from more than one source; the value was \
             taken from the first of {} ({}). Name the source to choose another (for example \
             {example})",
            order.join(", "),
            pairs.join("; "),
        )]
    }
}

/// The best key so far of one request key on one line.
#[derive(Debug, Clone, Copy)]
struct Best<'a> {
    rank: Rank,
    value: Option<&'a str>,
    key: KeyRef<'a>,
    /// A key of another source the line also had.
    other: Option<KeyRef<'a>>,
}

/// One line's tag values, offered key by key: each request key takes the best-ranked.
#[derive(Debug, Clone)]
pub struct LineTags<'a> {
    best: Vec<Option<Best<'a>>>,
}

impl<'a> LineTags<'a> {
    pub fn new(keys: usize) -> LineTags<'a> {
        LineTags {
            best: vec![None; keys],
        }
    }

    /// Starts the next line.
    pub fn clear(&mut self) {
        self.best.iter_mut().for_each(|b| *b = None);
    }

    /// One entry of the line, with its rank against each request key.
    pub fn offer(
        &mut self,
        ranks: &[Option<Rank>],
        column: Column,
        key: &'a str,
        value: Option<&'a str>,
    ) {
        for (best, rank) in self.best.iter_mut().zip(ranks) {
            let Some(rank) = *rank else { continue };
            let mut other = None;
            if let Some(b) = best {
                if source_of(b.rank) != source_of(rank) {
                    other = Some(if rank < b.rank { b.key } else { (column, key) });
                }
                if rank >= b.rank {
                    b.other = b.other.or(other);
                    continue;
                }
                other = other.or(b.other);
            }
            *best = Some(Best {
                rank,
                value,
                key: (column, key),
                other,
            });
        }
    }

    pub fn values(&self) -> impl Iterator<Item = Option<&'a str>> + '_ {
        self.best.iter().map(|b| b.and_then(|b| b.value))
    }

    pub fn overlaps(&self) -> impl Iterator<Item = Overlap<'a>> + '_ {
        self.best
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.and_then(|b| Some((i, b.key, b.other?))))
    }
}

/// `--by tag:KEY` in the report: whether the key was found, as which keys, and, when it was
/// not, the keys the lines had instead.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TagKeyReport {
    pub dimension: String,
    pub found: bool,
    pub matched: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_athena_names_cur_columns() {
        assert_eq!(normalise("user:cost-center"), "user_cost_center");
        assert_eq!(normalise("aws:createdBy"), "aws_created_by");
        assert_eq!(normalise("Cost Center"), "cost_center");
        assert_eq!(normalise("CostCenter"), "cost_center");
        assert_eq!(normalise("user_Project"), "user_project");
        assert_eq!(normalise("__a..b__"), "a_b");
        assert_eq!(
            normalise("ExampleColumnName : Example Column Name Continued"),
            "example_column_name_example_column_name_continued"
        );
    }

    fn rank(asked: &str, column: Column, key: &str) -> Option<Rank> {
        TagKey::new(asked).rank(column, key)
    }

    #[test]
    fn every_form_of_a_key_matches_and_a_named_source_narrows() {
        use Column::{ResourceTags as R, Tags as T};
        for asked in [
            "cost-center",
            "user:cost-center",
            "user_cost_center",
            "CostCenter",
        ] {
            for (column, key) in [
                (T, "resourceTags/cost-center"),
                (T, "resourceTags/user:cost-center"),
                (T, "userAttribute/Cost Center"),
                (T, "accountTag/CostCenter"),
                (T, "costCategory/cost_center"),
                (T, "iamPrincipal/cost-center"),
                (T, "user:cost-center"),
                (T, "user_cost_center"),
                (R, "user_cost_center"),
            ] {
                assert!(rank(asked, column, key).is_some(), "{asked} vs {key}");
            }
            assert_eq!(rank(asked, T, "iamPrincipal/team"), None);
            assert_eq!(rank(asked, T, "resourceTags/cost-centre"), None);
        }
        // The key exactly as asked before another spelling of it.
        assert!(
            rank("iamPrincipal/team", T, "iamPrincipal/team")
                < rank("iamPrincipal/team", T, "iamPrincipal/Team")
        );
        assert!(rank("iamPrincipal/team", T, "iamPrincipal/Team").is_some());
        assert_eq!(rank("iamPrincipal/team", T, "resourceTags/team"), None);
        assert_eq!(rank("iamPrincipal/team", R, "user_team"), None);
        for asked in [
            "resourceTags/cost-center",
            "resource_tags_user_cost_center",
            "ResourceTags/user:cost-center",
        ] {
            assert!(rank(asked, R, "user_cost_center").is_some(), "{asked}");
            assert!(
                rank(asked, T, "resourceTags/cost-center").is_some(),
                "{asked}"
            );
            assert_eq!(rank(asked, T, "accountTag/cost-center"), None, "{asked}");
        }
        // The resource's own tag outranks the account's.
        assert!(
            rank("cost-center", T, "resourceTags/cost-center")
                < rank("cost-center", T, "accountTag/cost-center")
        );
        assert!(!TagKey::new("iamPrincipal/").names_a_key());
        assert_eq!(TagKey::new("Cost Center").suffix(), "costcenter");
    }

    #[test]
    fn a_line_takes_the_best_ranked_key_and_the_lookup_remembers_what_it_saw() {
        let mut lookup = TagLookup::new(vec![TagKey::new("department"), TagKey::new("owner")]);
        let values = lookup.pick([
            (Column::Tags, "accountTag/department", Some("teamC")),
            (Column::Tags, "resourceTags/department", Some("teamA")),
            (Column::Tags, "costCategory/department", Some("teamD")),
        ]);
        assert_eq!(values, [Some("teamA"), None]);
        assert!(lookup.found(0));
        assert!(!lookup.found(1));
        let owner = lookup.report(1, "tag:owner".into());
        assert_eq!(
            owner.seen,
            [
                "tags['accountTag/department']",
                "tags['costCategory/department']",
                "tags['resourceTags/department']"
            ]
        );
        let notes = lookup.notes(0, "tag:department");
        assert!(notes[0].contains("tag:accountTag/department"), "{notes:?}");
        assert!(lookup.notes(1, "tag:owner")[0].contains("\"owner\""));
    }
}
