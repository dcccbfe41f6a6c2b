//! "Every page": a test-proxy mode that answers list calls one item a page, as AWS may, so a
//! tool that reads only the first page is caught with two items instead of a hundred and one.
//!
//! AWS pages these answers at the page size the request asks for, or at its default (IAM: 100,
//! "IAM might return fewer results, even when there are more results available", IAM API
//! reference, `MaxItems`; S3 ListObjectsV2 and ListObjectVersions: 1,000, `max-keys`). moto
//! answers IAM's lists in one page whatever is asked, so here the proxy cuts moto's whole answer
//! into pages of one `member` and keeps the rest behind a `Marker` of its own. S3's lists
//! are paged by moto itself, and the stand-in's JSON lists by `MaxResults`: the proxy only
//! asks them for one item a page. Install it first (`Proxy::add_rule_first`), so that the
//! stand-in sees the page size it sets.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use regex::Regex;

use super::proxy::{Reply, StrictRequest, StrictRule, Verdict};

/// IAM list operations and the elements that hold their `member`s.
const IAM_LISTS: &[(&str, &[&str])] = &[
    (
        "ListEntitiesForPolicy",
        &["PolicyGroups", "PolicyUsers", "PolicyRoles"],
    ),
    ("ListRolePolicies", &["PolicyNames"]),
    ("ListAttachedRolePolicies", &["AttachedPolicies"]),
    ("ListPolicyVersions", &["Versions"]),
    ("ListRoles", &["Roles"]),
];

const MARKER_PREFIX: &str = "proxy-page-";

/// The mode, installed with `proxy.add_rule(Arc::new(EveryPage::default()))`.
#[derive(Default)]
pub struct EveryPage {
    /// The pages still to give, by marker: each a whole answer body.
    pending: Mutex<BTreeMap<String, Bytes>>,
    next_id: Mutex<u64>,
    /// How many pages beyond the first this mode answered, by operation.
    pub later_pages: Mutex<BTreeMap<String, usize>>,
}

impl EveryPage {
    pub fn later_pages(&self, operation: &str) -> usize {
        self.later_pages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn iam_containers(request: &StrictRequest) -> Option<&'static [&'static str]> {
        if request.service != "iam" {
            return None;
        }
        IAM_LISTS
            .iter()
            .find(|(op, _)| *op == request.operation)
            .map(|(_, containers)| *containers)
    }
}

/// `path` with its `max-keys` query parameter set to 1.
fn one_key_a_page(path: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("max-keys="))
        .map(str::to_string)
        .collect();
    params.push("max-keys=1".into());
    format!("{base}?{}", params.join("&"))
}

/// awsJson list operations of the stand-in (written from their API references, which page by
/// `MaxResults`): asked for one item a page.
const JSON_LISTS: &[(&str, &str)] = &[
    ("bcm-data-exports", "ListTagsForResource"),
    ("bcm-data-exports", "ListExports"),
    ("budgets", "DescribeBudgetActionsForBudget"),
];

impl StrictRule for EveryPage {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.service == "s3"
            && request.method == "GET"
            && ["?list-type=2", "&list-type=2", "?versions", "&versions"]
                .iter()
                .any(|q| request.path.contains(q))
        {
            let mut paged = request.clone();
            paged.path = one_key_a_page(&request.path);
            return Verdict::ForwardAs(paged);
        }
        if JSON_LISTS
            .iter()
            .any(|(service, op)| request.service == *service && request.operation == *op)
            && let Some(mut body) = request.json()
            && let Some(object) = body.as_object_mut()
        {
            object.insert("MaxResults".into(), serde_json::json!(1));
            let mut paged = request.clone();
            paged.body = Bytes::from(body.to_string());
            return Verdict::ForwardAs(paged);
        }
        if Self::iam_containers(request).is_some()
            && let Some(marker) = request.form("Marker")
            && marker.starts_with(MARKER_PREFIX)
        {
            let page = self
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&marker);
            *self
                .later_pages
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(request.operation.clone())
                .or_default() += 1;
            return match page {
                Some(body) => Verdict::Answer(Reply {
                    status: 200,
                    headers: xml_headers(),
                    body,
                }),
                None => Verdict::Answer(Reply::error(
                    super::proxy::Protocol::Query,
                    400,
                    "InvalidInput",
                    "Invalid Marker.",
                )),
            };
        }
        Verdict::Forward
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        let containers = Self::iam_containers(request)?;
        if reply.status != 200 || request.form("Marker").is_some() {
            return None;
        }
        let text = std::str::from_utf8(&reply.body).ok()?;
        let items = members(text, containers);
        if items.len() < 2 {
            return None;
        }
        let bodies: Vec<String> = (0..items.len())
            .map(|i| page_body(text, containers, &items, i))
            .collect();
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        let marker = |i: usize| format!("{MARKER_PREFIX}{id}-{i}");
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (i, body) in bodies.iter().enumerate().skip(1) {
            let next = (i + 1 < bodies.len()).then(|| marker(i + 1));
            pending.insert(marker(i), Bytes::from(with_marker(body, next.as_deref())));
        }
        Some(Reply {
            status: 200,
            headers: reply.headers.clone(),
            body: Bytes::from(with_marker(&bodies[0], Some(&marker(1)))),
        })
    }
}

fn xml_headers() -> hyper::header::HeaderMap {
    let mut headers = hyper::header::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/xml"),
    );
    headers
}

/// Every `(container, member)` of the answer, in order.
fn members(text: &str, containers: &[&str]) -> Vec<(String, String)> {
    let member = Regex::new(r"(?s)<member>.*?</member>").expect("member pattern");
    let mut items = Vec::new();
    for container in containers {
        if let Some(inner) = container_inner(text, container) {
            for m in member.find_iter(inner) {
                items.push((container.to_string(), m.as_str().to_string()));
            }
        }
    }
    items
}

/// The text between `<container>` and `</container>`.
fn container_inner<'a>(text: &'a str, container: &str) -> Option<&'a str> {
    let open = format!("<{container}>");
    let close = format!("</{container}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(&text[start..end])
}

/// The answer with only item `index` left in its container (every other container empty).
fn page_body(text: &str, containers: &[&str], items: &[(String, String)], index: usize) -> String {
    let mut body = text.to_string();
    for container in containers {
        let kept: String = items
            .iter()
            .enumerate()
            .filter(|(i, (c, _))| *i == index && c == container)
            .map(|(_, (_, m))| m.as_str())
            .collect();
        let self_closed = format!("<{container}/>");
        if let Some(inner) = container_inner(&body, container) {
            let open = format!("<{container}>");
            let start = body.find(&open).map(|s| s + open.len()).unwrap_or(0);
            let end = start + inner.len();
            body.replace_range(start..end, &kept);
        } else if body.contains(&self_closed) {
            body = body.replace(&self_closed, &format!("<{container}>{kept}</{container}>"));
        }
    }
    body
}

/// The page with `IsTruncated` and `Marker` saying whether another follows.
fn with_marker(body: &str, next: Option<&str>) -> String {
    let truncated = Regex::new(r"(?s)<IsTruncated>.*?</IsTruncated>").expect("pattern");
    let old_marker = Regex::new(r"(?s)<Marker>.*?</Marker>|<Marker/>").expect("pattern");
    let body = old_marker.replace_all(body, "").to_string();
    let flag = format!(
        "<IsTruncated>{}</IsTruncated>{}",
        next.is_some(),
        next.map(|m| format!("<Marker>{m}</Marker>"))
            .unwrap_or_default()
    );
    if truncated.is_match(&body) {
        truncated.replace(&body, flag.as_str()).to_string()
    } else {
        // No IsTruncated in the answer: put it at the end of the `…Result` element.
        let result_end = Regex::new(r"</[A-Za-z]+Result>").expect("pattern");
        match result_end.find(&body) {
            Some(m) => format!("{}{flag}{}", &body[..m.start()], &body[m.start()..]),
            None => body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iam_answer_is_cut_into_pages_of_one_member() {
        let text = "<ListEntitiesForPolicyResponse><ListEntitiesForPolicyResult>\
            <PolicyGroups/><PolicyUsers><member><UserName>u</UserName></member></PolicyUsers>\
            <PolicyRoles><member><RoleName>a</RoleName></member><member><RoleName>b</RoleName></member></PolicyRoles>\
            <IsTruncated>false</IsTruncated></ListEntitiesForPolicyResult></ListEntitiesForPolicyResponse>";
        let containers = &["PolicyGroups", "PolicyUsers", "PolicyRoles"];
        let items = members(text, containers);
        assert_eq!(items.len(), 3);
        let second = with_marker(&page_body(text, containers, &items, 1), Some("m2"));
        assert!(second.contains("<PolicyUsers></PolicyUsers>"), "{second}");
        assert!(
            second.contains("<PolicyRoles><member><RoleName>a</RoleName></member></PolicyRoles>")
        );
        assert!(second.contains("<IsTruncated>true</IsTruncated><Marker>m2</Marker>"));
        let last = with_marker(&page_body(text, containers, &items, 2), None);
        assert!(last.contains("<RoleName>b</RoleName>") && !last.contains("<RoleName>a<"));
        assert!(last.contains("<IsTruncated>false</IsTruncated>") && !last.contains("<Marker>"));
    }

    #[test]
    fn s3_lists_ask_for_one_key() {
        assert_eq!(
            one_key_a_page("/b?list-type=2&max-keys=1000&prefix=x"),
            "/b?list-type=2&prefix=x&max-keys=1"
        );
        assert_eq!(one_key_a_page("/b?versions"), "/b?versions&max-keys=1");
    }
}
