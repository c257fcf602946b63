//! The engine on its own: a `DeployService` against a real sandbox (over loopback) and a real
//! SQLite file, with no web server of ours and no Leptos. Each branch of the callback that the
//! server's tests reach only through a browser is driven here directly.

use std::{sync::Arc, time::Duration};

use deploy::{
    follower::FollowLimits,
    pending_flow::PendingFlow,
    store::{Store, StoreSettings},
    CallbackParams, CallbackReply, DeployService, DeploySettings, ResultRef, SessionKeys,
};
use domain::{selection::DeployRequest, FailureKind, Outcome};
use linode::{ApiClient, LoginClient, OAuthClientCredentials};
use reqwest::{redirect::Policy, Client, Url};
use sandbox::RunningSandbox;
use secrecy::SecretString;

const SESSION_KEY: &[u8] = b"engine-tests-session-key-0123456789abcdef0123456789";

struct Engine {
    deploy: Arc<DeployService>,
    sandbox: RunningSandbox,
    http: Client,
    _dir: tempfile::TempDir,
}

async fn engine() -> Engine {
    let mut config = sandbox::Config { account: sandbox::AccountPreset::Legacy2024, ..sandbox::Config::default() };
    config.timings.provisioning = Duration::from_millis(200);
    config.timings.booting = Duration::from_millis(200);
    let sandbox = sandbox::spawn(config).await.expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("deploy.db").display());
    let store_settings =
        StoreSettings { url: SecretString::from(url), max_connections: 4, op_timeout: Duration::from_secs(5) };
    let store = Store::open(&store_settings, SESSION_KEY).await.expect("store opens");
    let settings = DeploySettings {
        app_name: "Engine Test".into(),
        stackscript_id: Some(sandbox::STACKSCRIPT_NO_INPUT),
        user_data: None,
        redirect_uri: Url::parse(sandbox::DEFAULT_REDIRECT_URI).expect("redirect URI"),
        secure_cookies: false,
        sandbox: true,
        flow_ttl: Duration::from_secs(600),
        catalog_ttl: Duration::from_secs(600),
        outcome_ttl: Duration::from_secs(600),
        follow: FollowLimits { poll: Duration::from_millis(100), ..FollowLimits::default() },
        lease: Duration::from_secs(30),
        pkce: true,
        create_settles: Duration::from_secs(5),
        firewall: None,
    };
    let http = Client::builder().redirect(Policy::none()).build().expect("client");
    let credentials = OAuthClientCredentials {
        client_id: sandbox::DEFAULT_CLIENT_ID.into(),
        client_secret: SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
    };
    let login = LoginClient::new(Url::parse(&sandbox.login_base()).expect("login"), credentials, http.clone());
    let api = ApiClient::new(Url::parse(&sandbox.api_base()).expect("api"), http.clone());
    let deploy = Arc::new(DeployService::new(
        settings,
        login,
        api,
        SessionKeys { current: SESSION_KEY, previous: &[] },
        store,
        None,
    ));
    deploy.start_background();
    Engine { deploy, sandbox, http, _dir: dir }
}

impl Engine {
    /// A flow for the sandbox's nanode in us-east, as the form would start it.
    async fn begin(&self) -> (Url, PendingFlow) {
        let form = self.deploy.deploy_form().await.expect("the catalog loads");
        let request = DeployRequest {
            plan: "g6-nanode-1".into(),
            region: "us-east".into(),
            image: "linode/debian12".into(),
            ..DeployRequest::default()
        };
        let selection = domain::selection::Selection::parse(&form, &request).expect("a valid selection");
        self.deploy.begin(selection)
    }

    /// The person's answer on Linode's consent page: the callback's parameters.
    async fn consent(&self, authorize: &Url, decision: &str, scopes: &[&str]) -> CallbackParams {
        let html = self.http.get(authorize.clone()).send().await.expect("consent page").text().await.expect("html");
        let mut form = testkit::hidden_inputs(&html);
        form.push(("decision".into(), decision.into()));
        form.extend(scopes.iter().map(|scope| ("scope".to_owned(), (*scope).to_owned())));
        let answer = self.http.post(authorize.clone()).form(&form).send().await.expect("consent");
        let location = answer.headers().get("location").expect("a redirect").to_str().expect("text");
        let callback = Url::parse(location).expect("callback URL");
        let param =
            |name: &str| callback.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
        CallbackParams { code: param("code"), state: param("state"), error: param("error") }
    }

    async fn until_tokens_revoked(&self) {
        for _ in 0..100 {
            if self.sandbox.sandbox.inspect().tokens.iter().all(|token| token.revoked) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tokens left alive: {:?}", self.sandbox.sandbox.inspect().tokens);
    }
}

fn failure_kind(reply: &CallbackReply) -> Option<FailureKind> {
    match reply {
        CallbackReply::Result { result: ResultRef::Shown(failure), .. } | CallbackReply::Refused(failure) => {
            Some(failure.kind)
        }
        CallbackReply::Result { result: ResultRef::Stored(_), .. } => None,
    }
}

#[tokio::test]
async fn a_callback_creates_one_linode_shows_its_password_once_and_the_token_is_revoked() {
    let engine = engine().await;
    let (authorize, flow) = engine.begin().await;
    let params = engine.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let replay = CallbackParams { code: params.code.clone(), state: params.state.clone(), error: None };

    let reply = engine.deploy.complete_callback(Some(flow.clone()), None, params).await;
    let CallbackReply::Result { result: result @ ResultRef::Stored(_), spends_flow: true } = reply else {
        panic!("expected a stored outcome: {reply:?}");
    };
    assert_eq!(engine.sandbox.sandbox.inspect().instances.len(), 1);

    // The same callback again (a reload, a second tab): the same outcome, nothing created.
    let again = engine.deploy.complete_callback(Some(flow), Some(result.clone()), replay).await;
    assert!(matches!(&again, CallbackReply::Result { result: same, .. } if *same == result), "{again:?}");
    assert_eq!(engine.sandbox.sandbox.inspect().instances.len(), 1);

    // A HEAD or a prefetch does not take the password; the person's page view does, once.
    let peek = engine.deploy.take_outcome(Some(result.clone()), None, false).await.expect("store");
    let Some(Outcome::Deployed(linode)) = peek else { panic!("expected a deployed Linode: {peek:?}") };
    assert!(linode.root_password.is_none() && linode.password_kept);
    let first = engine.deploy.take_outcome(Some(result.clone()), None, true).await.expect("store");
    let Some(Outcome::Deployed(linode)) = first else { panic!("expected a deployed Linode: {first:?}") };
    assert!(linode.root_password.as_deref().is_some_and(|password| password.len() >= 20));
    let second = engine.deploy.take_outcome(Some(result.clone()), None, true).await.expect("store");
    let Some(Outcome::Deployed(linode)) = second else { panic!("expected a deployed Linode: {second:?}") };
    assert!(linode.root_password.is_none() && !linode.password_kept);

    engine.until_tokens_revoked().await;
    // The follower writes its last word just after it gives the token up.
    for _ in 0..50 {
        let progress = engine.deploy.progress(Some(result.clone()), None).await.expect("store").expect("progress");
        if !progress.following {
            assert_eq!(progress.status, domain::InstanceStatus::Running);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the follower never stopped following");
}

#[tokio::test]
async fn callbacks_that_are_not_this_browsers_flow_are_refused_and_store_nothing() {
    let engine = engine().await;
    let (authorize, flow) = engine.begin().await;
    let params = engine.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let copy = || CallbackParams { code: params.code.clone(), state: params.state.clone(), error: None };

    // No flow in this browser (another browser, or cookies blocked).
    let reply = engine.deploy.complete_callback(None, None, copy()).await;
    assert!(matches!(reply, CallbackReply::Refused(_)));
    assert_eq!(failure_kind(&reply), Some(FailureKind::NoPendingDeployment));
    // This browser's flow is another one.
    let (_, other) = engine.begin().await;
    let reply = engine.deploy.complete_callback(Some(other), None, copy()).await;
    assert_eq!(failure_kind(&reply), Some(FailureKind::StateMismatch));
    // No state at all.
    let reply = engine.deploy.complete_callback(Some(flow.clone()), None, CallbackParams::default()).await;
    assert_eq!(failure_kind(&reply), Some(FailureKind::MissingState));
    assert!(engine.sandbox.sandbox.inspect().instances.is_empty());
    assert!(engine.sandbox.sandbox.inspect().tokens.is_empty(), "the code was never exchanged");

    // The flow's own browser still completes it afterwards.
    let reply = engine.deploy.complete_callback(Some(flow), None, copy()).await;
    assert!(matches!(reply, CallbackReply::Result { result: ResultRef::Stored(_), .. }), "{reply:?}");
    engine.until_tokens_revoked().await;
}

#[tokio::test]
async fn a_denied_login_creates_nothing_and_offers_the_same_choices_again() {
    let engine = engine().await;
    let (authorize, flow) = engine.begin().await;
    let params = engine.consent(&authorize, "deny", &[]).await;
    assert_eq!(params.error.as_deref(), Some("access_denied"));
    let reply = engine.deploy.complete_callback(Some(flow), None, params).await;
    let CallbackReply::Result { result: ResultRef::Shown(failure), spends_flow: true } = reply else {
        panic!("expected a failure shown without the store: {reply:?}");
    };
    assert_eq!(failure.kind, FailureKind::AccessDenied);
    let retry = failure.retry.expect("a retry link");
    assert!(retry.contains("type=g6-nanode-1") && retry.contains("region=us-east"), "{retry}");
    assert!(engine.sandbox.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn an_expired_flow_is_refused_before_its_code_is_used() {
    let engine = engine().await;
    let (authorize, mut flow) = engine.begin().await;
    let params = engine.consent(&authorize, "approve", &["linodes:read_write"]).await;
    flow.started_at -= 601;
    let reply = engine.deploy.complete_callback(Some(flow), None, params).await;
    assert_eq!(failure_kind(&reply), Some(FailureKind::Expired));
    assert!(engine.sandbox.sandbox.inspect().tokens.is_empty(), "the code was never exchanged");
}

#[tokio::test]
async fn a_grant_without_linodes_read_write_creates_nothing_and_its_token_is_revoked() {
    let engine = engine().await;
    let (authorize, flow) = engine.begin().await;
    let params = engine.consent(&authorize, "approve", &["linodes:read_only"]).await;
    let reply = engine.deploy.complete_callback(Some(flow), None, params).await;
    let CallbackReply::Result { result: result @ ResultRef::Stored(_), .. } = reply else {
        panic!("a failure stored for replays: {reply:?}");
    };
    let outcome = engine.deploy.take_outcome(Some(result), None, true).await.expect("store");
    let Some(Outcome::Failed(failure)) = outcome else { panic!("expected a failure: {outcome:?}") };
    assert_eq!(failure.kind, FailureKind::InsufficientScope);
    assert!(engine.sandbox.sandbox.inspect().instances.is_empty());
    engine.until_tokens_revoked().await;
}
