// IAM service-specific credentials, which long-term Amazon Bedrock API keys are (IAM user
// guide, "API keys for Amazon Bedrock": "Long-term API keys are associated with an IAM user and
// generated using IAM service-specific credentials"; the service name is
// `bedrock.amazonaws.com`). moto's IAM does not serve these operations. Written from the IAM API
// reference (awsQuery, XML answers in the `https://iam.amazonaws.com/doc/2010-05-08/`
// namespace):
//
// - `CreateServiceSpecificCredential` (`UserName`, `ServiceName`): a new credential, `Active`;
//   at most two per user and service ("LimitExceeded", IAM quotas: "Service-specific
//   credentials per user per service: 2"). The stand-in does not check that the user exists in
//   moto (tests create the users first).
// - `ListServiceSpecificCredentials` (`UserName`, `ServiceName`, `Marker`, `MaxItems`): the
//   user's credentials (of that service when given), `IsTruncated` and `Marker` when a page is
//   full; `MaxItems` defaults to 100 (the reference's paging parameters).
// - `UpdateServiceSpecificCredential` (`UserName`, `ServiceSpecificCredentialId`, `Status`
//   `Active` | `Inactive`): `NoSuchEntity` (404) for a credential the user does not have.
// - `DeleteServiceSpecificCredential` (`UserName`, `ServiceSpecificCredentialId`).

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::common::{now_iso, uuid};
use super::{DEFAULT_ACCOUNT, Reply, StandIn, StrictRequest};

/// One service-specific credential.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCredential {
    pub id: String,
    pub user: String,
    pub service: String,
    pub status: String,
    pub created: String,
}

/// The IAM API's XML namespace.
const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// At most this many per user and service (IAM user guide, "IAM and AWS STS quotas").
const PER_USER_AND_SERVICE: usize = 2;

fn xml_reply(status: u16, body: String) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    Reply {
        status,
        headers,
        body: Bytes::from(body),
    }
}

fn iam_ok(action: &str, result: &str) -> Reply {
    xml_reply(
        200,
        format!(
            "<{action}Response xmlns=\"{IAM_XMLNS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            uuid()
        ),
    )
}

fn iam_empty(action: &str) -> Reply {
    xml_reply(
        200,
        format!(
            "<{action}Response xmlns=\"{IAM_XMLNS}\"><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            uuid()
        ),
    )
}

fn iam_error(status: u16, code: &str, message: &str) -> Reply {
    xml_reply(
        status,
        format!(
            "<ErrorResponse xmlns=\"{IAM_XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            uuid()
        ),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn metadata(c: &ServiceCredential) -> String {
    format!(
        "<UserName>{}</UserName><Status>{}</Status><ServiceUserName>{}-at-{}</ServiceUserName><CreateDate>{}</CreateDate><ServiceSpecificCredentialId>{}</ServiceSpecificCredentialId><ServiceName>{}</ServiceName>",
        escape(&c.user),
        c.status,
        escape(&c.user),
        DEFAULT_ACCOUNT,
        c.created,
        c.id,
        escape(&c.service)
    )
}

/// A credential ID as IAM shapes them (`ACCA` and 17 more upper-case letters or digits; the
/// reference's pattern is `[\w]+`, 20 to 128 characters).
fn credential_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = (0..17)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("ACCA{tail}")
}

impl StandIn {
    pub(super) fn service_credentials_op(&self, request: &StrictRequest) -> Option<Reply> {
        let action = request.form("Action")?;
        if !matches!(
            action.as_str(),
            "CreateServiceSpecificCredential"
                | "ListServiceSpecificCredentials"
                | "UpdateServiceSpecificCredential"
                | "DeleteServiceSpecificCredential"
        ) {
            return None;
        }
        let form = |key: &str| request.form(key);
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let credentials = &mut state.account(&ctx.account).service_credentials;
        let Some(user) = form("UserName") else {
            return Some(iam_error(
                400,
                "ValidationError",
                "UserName is required: the stand-in does not act as the caller's own user",
            ));
        };
        Some(match action.as_str() {
            "CreateServiceSpecificCredential" => {
                let Some(service) = form("ServiceName") else {
                    return Some(iam_error(400, "ValidationError", "ServiceName is required"));
                };
                let held = credentials
                    .iter()
                    .filter(|c| c.user == user && c.service == service)
                    .count();
                if held >= PER_USER_AND_SERVICE {
                    return Some(iam_error(
                        409,
                        "LimitExceeded",
                        "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2",
                    ));
                }
                let created = ServiceCredential {
                    id: credential_id(),
                    user,
                    service,
                    status: "Active".into(),
                    created: now_iso(),
                };
                let result = format!(
                    "<ServiceSpecificCredential>{}<ServicePassword>stand-in-secret</ServicePassword></ServiceSpecificCredential>",
                    metadata(&created)
                );
                credentials.push(created);
                iam_ok("CreateServiceSpecificCredential", &result)
            }
            "ListServiceSpecificCredentials" => {
                let service = form("ServiceName");
                let mine: Vec<&ServiceCredential> = credentials
                    .iter()
                    .filter(|c| c.user == user && service.as_ref().is_none_or(|s| &c.service == s))
                    .collect();
                let max = form("MaxItems")
                    .and_then(|m| m.parse::<usize>().ok())
                    .unwrap_or(100)
                    .clamp(1, 1000);
                let start = form("Marker")
                    .and_then(|m| m.parse::<usize>().ok())
                    .unwrap_or(0);
                let page: Vec<String> = mine
                    .iter()
                    .skip(start)
                    .take(max)
                    .map(|c| format!("<member>{}</member>", metadata(c)))
                    .collect();
                let truncated = start + max < mine.len();
                let marker = if truncated {
                    format!("<Marker>{}</Marker>", start + max)
                } else {
                    String::new()
                };
                iam_ok(
                    "ListServiceSpecificCredentials",
                    &format!(
                        "<ServiceSpecificCredentials>{}</ServiceSpecificCredentials><IsTruncated>{truncated}</IsTruncated>{marker}",
                        page.concat()
                    ),
                )
            }
            _ => {
                let id = form("ServiceSpecificCredentialId").unwrap_or_default();
                let Some(at) = credentials
                    .iter()
                    .position(|c| c.user == user && c.id == id)
                else {
                    return Some(iam_error(
                        404,
                        "NoSuchEntity",
                        &format!(
                            "No such entity found for user {} and service specific credential {}",
                            escape(&user),
                            escape(&id)
                        ),
                    ));
                };
                if action == "DeleteServiceSpecificCredential" {
                    credentials.remove(at);
                    iam_empty("DeleteServiceSpecificCredential")
                } else {
                    let status = form("Status").unwrap_or_default();
                    if !matches!(status.as_str(), "Active" | "Inactive") {
                        return Some(iam_error(
                            400,
                            "ValidationError",
                            "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
                        ));
                    }
                    credentials[at].status = status;
                    iam_empty("UpdateServiceSpecificCredential")
                }
            }
        })
    }
}
