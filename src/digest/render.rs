//! The digest as people read it: the AWS Chatbot custom notification the chat channels render,
//! and plain text for email (and for the terminal).
//!
//! The notification follows "Custom notifications using Amazon Q Developer in chat
//! applications" (Amazon Q Developer in chat applications administrator guide, "Event
//! schema" and "Parameter details"): `version` must be `1.0`, `source` must be `custom`, `id`
//! is an optional unique event identifier, `content.textType` is optional and only
//! `client-markdown` is supported, `content.title` and `content.description` take markdown,
//! `content.keywords` is a list of strings, `metadata.summary` a string and
//! `metadata.additionalContext` a map of strings. The guide's parameter table names no length
//! limit for these fields; the one hard limit on the way is SNS's: a published message is at
//! most 262,144 bytes (Amazon SNS API reference, `Publish`, `Message`), checked in
//! [`super::publish`]. The lists are cut to [`super::TOP`] rows so that the message stays one
//! screen long.

use std::fmt::{self, Write as _};

use serde_json::{Value, json};

use super::{Digest, Entry};

/// `version` (guide: "Must be 1.0").
pub const NOTIFICATION_VERSION: &str = "1.0";
/// `source` (guide: "Must be custom").
pub const NOTIFICATION_SOURCE: &str = "custom";
/// `content.textType` (guide: "Only client-markdown textType is currently supported").
pub const TEXT_TYPE: &str = "client-markdown";

/// Dollars: cents, or four decimals below a cent so that small spend does not read as $0.00.
pub fn usd(amount: f64) -> String {
    if amount != 0.0 && amount.abs() < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

fn signed_usd(amount: f64) -> String {
    if amount < 0.0 {
        format!("-{}", usd(-amount))
    } else {
        format!("+{}", usd(amount))
    }
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl Digest {
    /// The period's name in a sentence: "weekly", "daily".
    fn period_words(&self) -> (&'static str, String) {
        let days = (self.window.end - self.window.start).num_days();
        match days {
            1 => ("daily", "the last 24 hours".to_string()),
            7 => ("weekly", "the last 7 days".to_string()),
            n => ("", format!("the last {n} days")),
        }
    }

    /// The title: the same line heads the chat message and is the email's subject.
    pub fn title(&self) -> String {
        let (adjective, _) = self.period_words();
        let adjective = if adjective.is_empty() {
            String::new()
        } else {
            let mut c = adjective.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str() + " ")
                .unwrap_or_default()
        };
        format!(
            "{adjective}Bedrock spend: {} ({} {})",
            usd(self.spend.estimated_usd),
            self.stack,
            self.region
        )
    }

    /// The lines both renderings share, without markup.
    fn lines(&self) -> Vec<String> {
        let (_, span) = self.period_words();
        let mut out = Vec::new();
        let s = &self.spend;
        out.push(format!(
            "Account {} {}, {} ({} to {}).",
            self.account,
            self.region,
            span,
            day(self.window.start),
            day(self.window.end)
        ));
        let change = s.estimated_usd - s.previous_estimated_usd;
        let percent = if s.previous_estimated_usd > 0.0 {
            format!(", {:+.0}%", change / s.previous_estimated_usd * 100.0)
        } else {
            String::new()
        };
        out.push(format!(
            "Spend: {} estimated over {} invocations (the period before: {}, {}{percent}).",
            usd(s.estimated_usd),
            s.invocations,
            usd(s.previous_estimated_usd),
            signed_usd(change),
        ));
        match (s.billed_usd, s.billed_complete) {
            (Some(billed), Some(false)) => out.push(format!(
                "Billed so far: {} (Cost Explorer settles the last 24-48 hours late).",
                usd(billed)
            )),
            (Some(billed), _) => out.push(format!("Billed: {}.", usd(billed))),
            (None, _) => {}
        }
        out.push(format!(
            "Projected for 30 days at this rate: {}.",
            usd(s.projected_30_days_usd)
        ));
        if s.unpriced_models > 0 {
            out.push(format!(
                "{} model(s) have no price and are not in the estimate.",
                s.unpriced_models
            ));
        }
        out
    }

    fn entry_line(e: &Entry) -> String {
        let cost = e.cost_usd.map_or_else(|| "no price".to_string(), usd);
        format!("{} {cost} ({} invocations)", e.name, e.invocations)
    }

    /// The sections after the summary lines: (heading, rows).
    fn sections(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        out.push((
            "Top models".to_string(),
            if self.top_models.is_empty() {
                vec!["no Bedrock use in this period".to_string()]
            } else {
                self.top_models.iter().map(Self::entry_line).collect()
            },
        ));
        out.push((
            "Top principals".to_string(),
            match &self.top_principals {
                Some(rows) if rows.is_empty() => vec!["no invocation logged".to_string()],
                Some(rows) => rows.iter().map(Self::entry_line).collect(),
                None => vec!["not available from the invocation logs (see the notes)".to_string()],
            },
        ));
        out.push((
            "Moved most since the period before".to_string(),
            if self.moved.is_empty() {
                vec!["no change in cost".to_string()]
            } else {
                self.moved
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {}: {} to {} ({})",
                            m.kind,
                            m.name,
                            usd(m.previous_usd),
                            usd(m.current_usd),
                            signed_usd(m.change_usd)
                        )
                    })
                    .collect()
            },
        ));
        if !self.budgets.is_empty() {
            out.push((
                "Budgets".to_string(),
                self.budgets
                    .iter()
                    .map(|b| {
                        if let Some(why) = &b.unreadable {
                            return format!("{}: {why}", b.name);
                        }
                        let money = |a: &Option<super::Amount>| {
                            a.as_ref().map_or_else(
                                || "unknown".to_string(),
                                |a| {
                                    if a.unit == "USD" {
                                        usd(a.amount)
                                    } else {
                                        format!("{:.2} {}", a.amount, a.unit)
                                    }
                                },
                            )
                        };
                        let share = match (&b.actual, &b.limit) {
                            (Some(a), Some(l)) if l.amount > 0.0 => {
                                format!(" ({:.0}%)", a.amount / l.amount * 100.0)
                            }
                            _ => String::new(),
                        };
                        let forecast = b
                            .forecast
                            .as_ref()
                            .map(|_| format!(", forecast {}", money(&b.forecast)))
                            .unwrap_or_default();
                        format!(
                            "{}: {} of {}{share} this {}{forecast}",
                            b.name,
                            money(&b.actual),
                            money(&b.limit),
                            match b.time_unit.as_deref() {
                                Some("DAILY") => "day",
                                Some("QUARTERLY") => "quarter",
                                Some("ANNUALLY") => "year",
                                _ => "month",
                            }
                        )
                    })
                    .collect(),
            ));
        }
        out.push((
            "Blocked by the limits".to_string(),
            if self.blocked.is_empty() {
                vec!["no one".to_string()]
            } else {
                self.blocked
                    .iter()
                    .map(|b| {
                        let since = b.since.map(|s| format!(" since {}", day(s)));
                        format!(
                            "{} (limit {}){}",
                            b.subject,
                            b.limit,
                            since.unwrap_or_default()
                        )
                    })
                    .collect()
            },
        ));
        out
    }

    /// Plain text for email and the terminal: no markup, no JSON.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title());
        let _ = writeln!(out);
        for line in self.lines() {
            let _ = writeln!(out, "{line}");
        }
        for (heading, rows) in self.sections() {
            let _ = writeln!(out);
            let _ = writeln!(out, "{heading}:");
            for row in rows {
                let _ = writeln!(out, "  - {row}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "Notes:");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "From bedrock-monitor (stack {}); `bedrock-monitor report` shows the full figures.",
            self.stack
        );
        out
    }

    /// The chat message's body in markdown: the same lines, headings emphasised (`*…*`: bold
    /// in Slack, italic in Teams), rows as a list.
    fn description(&self) -> String {
        let mut out = String::new();
        for line in self.lines() {
            let _ = writeln!(out, "{line}");
        }
        for (heading, rows) in self.sections() {
            let _ = writeln!(out, "\n*{heading}*");
            for row in rows {
                let _ = writeln!(out, "• {row}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(
                out,
                "\n{} note(s): `bedrock-monitor digest` shows them.",
                self.notes.len()
            );
        }
        out.trim_end().to_string()
    }

    /// The AWS Chatbot custom notification (see the module's comment for the format).
    pub fn notification(&self) -> Value {
        json!({
            "version": NOTIFICATION_VERSION,
            "source": NOTIFICATION_SOURCE,
            "id": self.event_id(),
            "content": {
                "textType": TEXT_TYPE,
                "title": self.title(),
                "description": self.description(),
                "keywords": ["bedrock-monitor", self.stack, self.frequency],
            },
            "metadata": {
                "summary": self.title(),
                "additionalContext": {
                    "account": self.account,
                    "region": self.region,
                    "windowStart": self.window.start.to_rfc3339(),
                    "windowEnd": self.window.end.to_rfc3339(),
                    "estimatedUsd": format!("{:.6}", self.spend.estimated_usd),
                }
            }
        })
    }

    /// One digest, one ID: the stack, account, region and the window's end.
    pub fn event_id(&self) -> String {
        format!(
            "bedrock-monitor-digest/{}/{}/{}/{}",
            self.stack,
            self.account,
            self.region,
            self.window.end.format("%Y-%m-%dT%H:%MZ")
        )
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
