//! What the operator configured, as the deploy flow needs it: plain data, imported by the flow's
//! modules and importing none of them but the follower's limits.

use std::time::Duration;

use url::Url;

use super::{app_firewall::AppFirewall, follower::FollowLimits, user_data::UserData};

/// What the operator configured, as the deploy flow needs it.
#[derive(Clone, Debug)]
pub struct DeploySettings {
    pub app_name: String,
    /// The StackScript that installs the app, if one does (`LINODE_STACKSCRIPT_ID`).
    pub stackscript_id: Option<u64>,
    /// The cloud-init user data sent with every create (`USER_DATA_FILE`), if any. At least one
    /// of the two is set.
    pub user_data: Option<UserData>,
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
    /// How long the result of a deployment stays viewable.
    pub outcome_ttl: Duration,
    /// How a new Linode is followed to `running` before its token is given up.
    pub follow: FollowLimits,
    /// How long a replica's hold on a journaled token lasts without renewal; another replica
    /// takes the token over once it lapses.
    pub lease: Duration,
    /// PKCE (S256) on every authorization, alongside the client secret (`LINODE_PKCE`).
    pub pkce: bool,
    /// How long after a token was journaled its create call has surely ended (the HTTP
    /// timeout to Linode and a margin): before that, recovery does not conclude "no Linode".
    pub create_settles: Duration,
    /// The firewall made for each deployment (`APP_PORTS`); `None` keeps the account's default.
    pub firewall: Option<AppFirewall>,
}

impl DeploySettings {
    /// What every page needs to know about the site.
    pub fn site_info(&self) -> domain::SiteInfo {
        domain::SiteInfo {
            app_name: self.app_name.clone(),
            sandbox: self.sandbox,
            app_ports: self.firewall.as_ref().map(|firewall| firewall.describe()),
            cloud_config: self.user_data.as_ref().map(|user_data| user_data.text().to_owned()),
        }
    }

    /// What the login page asks the person to allow: creating Linodes, and firewalls when one
    /// is made for the app. Comma-separated, as linode_api4 sends several.
    pub fn scopes(&self) -> &'static str {
        if self.firewall.is_some() {
            "linodes:read_write,firewall:read_write"
        } else {
            "linodes:read_write"
        }
    }
}
