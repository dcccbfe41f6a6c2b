//! Credentials in each target account: the configured role assumed once per account, shared
//! by the account's regions, refreshed by the SDK before it expires.

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::region::Region;

use crate::aws::{Account, AwsError, AwsResultExt, Clients};
use crate::config::targets::TargetsConfig;

/// An account's SDK configuration and identity: the caller's own in its own account;
/// otherwise the configured role assumed there, once, by an explicit `sts:AssumeRole` (so a
/// denied role fails here, named, and the assumed identity is known without a
/// GetCallerIdentity per target). Every region of the account is built from this
/// configuration, so they share its credentials; the SDK's identity cache asks the
/// [`AssumedRole`] provider again before they expire on a long run.
pub async fn assume_account(
    base: &aws_types::SdkConfig,
    sts: &aws_sdk_sts::Client,
    caller: &Account,
    config: &TargetsConfig,
    account: &str,
) -> Result<(aws_types::SdkConfig, Account), AwsError> {
    if account == caller.id {
        return Ok((base.clone(), caller.clone()));
    }
    let role_arn = format!(
        "arn:{}:iam::{account}:role/{}",
        caller.partition, config.role_name
    );
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(&config.session_name)
        .set_external_id(config.external_id.clone())
        .send()
        .await
        .aws("sts:AssumeRole")?;
    let (Some(credentials), Some(user)) = (assumed.credentials(), assumed.assumed_role_user())
    else {
        return Err(AwsError::setup(
            format!("sts:AssumeRole of {role_arn} returned no credentials"),
            "check the role's trust policy and the STS endpoint in use",
        ));
    };
    let first = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        std::time::SystemTime::try_from(*credentials.expiration()).ok(),
        "AssumeRole",
    );
    let mut refresh = AssumeRoleProvider::builder(role_arn)
        .session_name(&config.session_name)
        .configure(base);
    if let Some(id) = &config.external_id {
        refresh = refresh.external_id(id);
    }
    let provider = AssumedRole::new(first, SharedCredentialsProvider::new(refresh.build().await));
    let identity = Account {
        id: account.to_string(),
        partition: caller.partition.clone(),
        caller_arn: user.arn().to_string(),
    };
    let sdk = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok((sdk, identity))
}

/// Credentials of a role already assumed: the first answer is the credentials that
/// `sts:AssumeRole` returned; later ones (the identity cache asks when those near their
/// expiry) come from the SDK's own assume-role provider.
#[derive(Debug)]
struct AssumedRole {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    refresh: SharedCredentialsProvider,
}

impl AssumedRole {
    fn new(first: aws_credential_types::Credentials, refresh: SharedCredentialsProvider) -> Self {
        AssumedRole {
            first: std::sync::Mutex::new(Some(first)),
            refresh,
        }
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().ok().and_then(|mut f| f.take());
        match first {
            Some(credentials) => {
                aws_credential_types::provider::future::ProvideCredentials::ready(Ok(credentials))
            }
            None => self.refresh.provide_credentials(),
        }
    }
}

/// Clients for `region` from an account's configuration ([`account_config`]).
pub fn clients_in(account: &aws_types::SdkConfig, region: &str) -> Result<Clients, AwsError> {
    Clients::from_sdk_config(
        &account
            .to_builder()
            .region(Region::new(region.to_string()))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn assumed_credentials_are_used_once_then_refreshed() {
        let first = aws_credential_types::Credentials::new("FIRST", "s", None, None, "test");
        let later = aws_credential_types::Credentials::new("LATER", "s", None, None, "test");
        let provider = AssumedRole::new(first, SharedCredentialsProvider::new(later));
        let key = |c: aws_credential_types::Credentials| c.access_key_id().to_string();
        let got = provider.provide_credentials().await.map(key).ok();
        assert_eq!(got.as_deref(), Some("FIRST"));
        // The identity cache asks again when those near expiry: the role is assumed anew.
        for _ in 0..2 {
            let got = provider.provide_credentials().await.map(key).ok();
            assert_eq!(got.as_deref(), Some("LATER"));
        }
    }
}
