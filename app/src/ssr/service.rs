use std::time::Duration;

use linode::{ApiClient, LoginClient};
use url::Url;

use super::{
    catalog::CatalogCache,
    outcome::Outcomes,
    progress::{FollowLimits, ProgressBoard},
    revoke::Revoker,
    session::Sealer,
};
use crate::{error::AppError, model::{DeployForm, SiteInfo}};

/// What the operator configured, as the deploy flow needs it.
#[derive(Clone, Debug)]
pub struct DeploySettings {
    pub app_name: String,
    pub stackscript_id: u64,
    /// Where Linode sends the browser back: `<public base URL>/auth/callback`.
    pub redirect_uri: Url,
    /// Cookies get `Secure` when the site is served over https.
    pub secure_cookies: bool,
    /// True when talking to the embedded sandbox rather than Linode.
    pub sandbox: bool,
    /// How long a person may take between clicking Deploy and coming back from Linode.
    pub flow_ttl: Duration,
    /// How long the catalog is served before it is refreshed in the background.
    pub catalog_ttl: Duration,
    /// How long the result of a deployment stays viewable in the browser that started it.
    pub outcome_ttl: Duration,
    /// How a new Linode is followed to `running` before its token is given up.
    pub follow: FollowLimits,
}

/// The deploy flow's collaborators, built once at start-up and shared by every request.
pub struct DeployService {
    pub settings: DeploySettings,
    pub login: LoginClient,
    pub api: ApiClient,
    pub catalog: CatalogCache,
    pub sealer: Sealer,
    pub outcomes: Outcomes,
    pub revoker: Revoker,
    pub progress: ProgressBoard,
}

impl DeployService {
    pub fn new(
        settings: DeploySettings,
        login: LoginClient,
        api: ApiClient,
        session_key: &[u8],
    ) -> Self {
        let catalog = CatalogCache::new(api.clone(), settings.clone());
        let sealer = Sealer::new(session_key, settings.secure_cookies);
        let outcomes = Outcomes::new(settings.outcome_ttl);
        let revoker = Revoker::new(login.clone());
        let progress = ProgressBoard::new(api.clone(), settings.follow, settings.outcome_ttl);
        Self { settings, login, api, catalog, sealer, outcomes, revoker, progress }
    }

    pub fn site_info(&self) -> SiteInfo {
        SiteInfo { app_name: self.settings.app_name.clone(), sandbox: self.settings.sandbox }
    }

    pub async fn deploy_form(&self) -> Result<DeployForm, AppError> {
        let catalog = self.catalog.get().await?;
        let mut form = catalog.form.clone();
        form.stale = catalog.stale;
        Ok(form)
    }
}
