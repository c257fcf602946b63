//! Step 4: what came of the deployment — the new Linode, or what went wrong and how to start again.

use leptos::prelude::*;

use crate::{components::copy_button::CopyButton, error::AppError};
use domain::{DeployedLinode, Failure, FirewallUsed, InstanceStatus, Outcome, Progress, Readiness, RootLogin};

/// The outcome recorded for this browser by the OAuth callback. The root password is handed out
/// on the first call only; the server forgets it right after. A plain function, not a server
/// function: only the server renders this page, and the password must not have a second way out.
async fn deployment_outcome() -> Result<Option<Outcome>, AppError> {
    #[cfg(feature = "ssr")]
    return crate::server_side::result_page::deployment_outcome().await;
    #[cfg(not(feature = "ssr"))]
    Err(AppError::Transport("the result is rendered on the server".into()))
}

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let outcome = OnceResource::new(deployment_outcome());
    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-live="polite">"Loading your deployment…"</p> }>
            {move || Suspend::new(async move {
                match outcome.await {
                    Ok(Some(Outcome::Deployed(linode))) => view! { <Deployed linode/> }.into_any(),
                    Ok(Some(Outcome::Failed(failure))) => view! { <Failed failure/> }.into_any(),
                    Ok(None) => view! { <NothingHere/> }.into_any(),
                    Err(error) => view! {
                        <section class="card">
                            <h1>"Your deployment"</h1>
                            <p class="alert error" role="alert">{error.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Where the new Linode is, as the server last saw it. The server follows the Linode (with the
/// token it still holds); this only reads what it saw, so it costs Linode nothing.
#[server(endpoint = "deployment_progress")]
pub async fn deployment_progress() -> Result<Option<Progress>, AppError> {
    crate::server_side::result_page::deployment_progress().await
}

/// The steps a new Linode goes through, as shown to the person.
const STEPS: [(&str, &str); 3] = [("provisioning", "Provisioning"), ("booting", "Booting"), ("running", "Running")];

/// The success view. Rendered on the server; only [`FollowProgress`] and the islands in it (the
/// heading and steps, the SSH command, the copy buttons) run in the browser.
#[component]
fn Deployed(linode: DeployedLinode) -> impl IntoView {
    let progress =
        Progress { status: linode.status.clone(), ipv4: linode.ipv4.clone(), following: true, app: linode.app.clone() };
    let tags = linode.tags.join(", ");
    let app_name = app_name();
    let checks_app = linode.checks_app;
    let sent = linode.sent.clone();
    let keys = linode.ssh_keys;
    let extra_grant = (!linode.extra_grant.is_empty()).then(|| linode.extra_grant.join(" "));
    let firewall = linode.firewall.as_ref().map(|firewall| firewall.describe(&app_name));
    // What to check about the firewall when the app does not answer: the one made for it, or the
    // account's default, which may drop its port.
    let firewall_hint = linode.firewall.as_ref().map(|firewall| match firewall {
        FirewallUsed::Own { label, ports, .. } => format!(
            "This Linode's firewall, {label}, accepts {ports} only: if {app_name} listens on another port, add it in Cloud Manager → Firewalls → {label}."
        ),
        FirewallUsed::AccountDefault { .. } => format!(
            "This Linode has your account's default firewall, which may drop the port {app_name} listens on: open that port in Cloud Manager → Firewalls."
        ),
    });
    view! {
        <FollowProgress progress>
            <section class="card success" aria-labelledby="deployed-heading" data-testid="deployed">
                <ProgressStatus label=linode.label.clone() app_name=app_name.clone() checks_app firewall_hint/>
                <dl class="facts">
                    <dt>"Label"</dt><dd data-testid="label">{linode.label.clone()}</dd>
                    <dt>"Tags"</dt><dd data-testid="tags">{tags}</dd>
                    <dt>"Region"</dt><dd data-testid="region">{linode.region.clone()}</dd>
                    <dt>"Plan"</dt><dd data-testid="plan">{linode.plan.clone()}</dd>
                    <dt>"Image"</dt><dd data-testid="image">{linode.image.clone()}</dd>
                    {firewall.map(|firewall| view! { <dt>"Firewall"</dt><dd data-testid="firewall">{firewall}</dd> })}
                </dl>
                {extra_grant.map(|extra| view! {
                    <p class="alert warning" data-testid="extra-grant">
                        "Linode granted this site more access than it asked for ("<code>{extra}</code>
                        "). It used the access only to create this Linode, and has revoked it like every token it receives."
                    </p>
                })}
                <SshLogin/>
                {(keys > 0).then(|| view! {
                    <p data-testid="ssh-keys">
                        {if keys == 1 { "Your SSH key is installed for root.".to_owned() } else { format!("Your {keys} SSH keys are installed for root.") }}
                    </p>
                })}
                {(linode.root_login == RootLogin::KeysOnly).then(|| view! {
                    <h2>"Root login"</h2>
                    <p data-testid="keys-only-login">
                        "This Linode has no root password, as you chose: root logs in over SSH with your key only. "
                        "No root password was made, kept or shown by this site. Linode's web console (Lish) asks for one: "
                        "set one with " <code>"passwd"</code> " once logged in, or in Cloud Manager (Linode → Settings → Reset Root Password)."
                    </p>
                })}
                {(linode.root_login == RootLogin::Password).then(|| view! { <h2>"Root password"</h2> })}
                {match linode.root_password {
                    _ if linode.root_login == RootLogin::KeysOnly => ().into_any(),
                    Some(password) => view! {
                        <p class="alert warning">"Save this password now: it is shown only this once, and this site deleted its copy as it sent this page."</p>
                        <div class="secret-row">
                            <code id="root-password" data-testid="root-password" class="password">{password}</code>
                            <CopyButton source="root-password".to_owned() what="root password".to_owned()/>
                        </div>
                    }.into_any(),
                    None if linode.password_kept => view! {
                        <p data-testid="password-kept">
                            "The root password is kept for you, and shown once, when you open this page in your browser."
                        </p>
                    }.into_any(),
                    None => view! {
                        <p data-testid="password-gone">
                            "The root password was shown once and is no longer kept on this server. If you did not save it, "
                            "reset it in Linode Cloud Manager (Linode → Settings → Reset Root Password)."
                        </p>
                    }.into_any(),
                }}
                {sent.map(|sent| view! {
                    <details class="request" data-testid="sent-request">
                        <summary>"What this site sent to Linode"</summary>
                        <p class="hint">"The create request, with any root password and password inputs masked, and the same request as a linode-cli command (which reads a root password from ROOT_PASS)."</p>
                        <pre data-testid="sent-body"><code>{sent.body}</code></pre>
                        <pre data-testid="sent-cli"><code>{sent.cli}</code></pre>
                    </details>
                })}
                <p><a href="/">"Deploy another"</a></p>
            </section>
        </FollowProgress>
    }
}

/// Where the Linode is, shared by the islands inside [`FollowProgress`].
#[derive(Clone, Copy)]
struct Following(RwSignal<Progress>);

/// Holds the Linode's progress and, in the browser, asks the server every two seconds while the
/// server still follows it.
#[island(lazy)]
fn FollowProgress(progress: Progress, children: Children) -> impl IntoView {
    let progress = RwSignal::new(progress);
    provide_context(Following(progress));
    Effect::new(move |_| poll_later(progress));
    children()
}

/// The heading, the steps and the status sentence.
#[island(lazy)]
fn ProgressStatus(label: String, app_name: String, checks_app: bool, firewall_hint: Option<String>) -> impl IntoView {
    let Following(progress) = expect_context::<Following>();
    let running = move || progress.with(|p| p.status == InstanceStatus::Running);
    let ready = move || progress.with(|p| matches!(p.app, Readiness::Ready { .. }));
    let step_of = |status: &str| STEPS.iter().position(|(id, _)| *id == status);
    let heading_app = app_name.clone();
    let installing_app = app_name.clone();
    let status_app = app_name.clone();
    view! {
        <h1 id="deployed-heading">
            {move || if ready() {
                format!("{heading_app} is ready")
            } else if running() {
                "Your Linode is running".to_owned()
            } else {
                "Your Linode is on its way".to_owned()
            }}
        </h1>
        <ol class="steps" aria-label="Progress">
            {STEPS.iter().enumerate().map(|(index, (_, name))| {
                let state = move || match progress.with(|p| step_of(p.status.as_str())) {
                    Some(current) if index < current || (index == current && current == STEPS.len() - 1) => "done",
                    Some(current) if index == current => "current",
                    _ => "todo",
                };
                view! {
                    <li class=state aria-current=move || (state() == "current").then_some("step")>{*name}</li>
                }
            }).collect_view()}
            {checks_app.then(|| {
                let state = move || progress.with(|p| match p.app {
                    Readiness::Ready { .. } => "done",
                    Readiness::Installing { .. } => "current",
                    _ => "todo",
                });
                view! {
                    <li class=state aria-current=move || (state() == "current").then_some("step")>{format!("{app_name} ready")}</li>
                }
            })}
        </ol>
        <p class="lead" role="status" aria-live="polite">
            "Linode " <strong>{label}</strong> " is "
            <strong data-testid="status">{move || progress.with(|p| p.status.as_str().to_owned())}</strong>
            {move || {
                let (running, following) = progress.with(|p| (p.status == InstanceStatus::Running, p.following));
                if running && checks_app {
                    format!(". Its StackScript installs {installing_app} now; this page tells you when it answers.")
                } else if running {
                    ". It is ready: log in with the command below (the StackScript may still be finishing its setup for a few minutes).".to_owned()
                } else if following {
                    ". This page follows it until it runs; that usually takes a minute or two.".to_owned()
                } else {
                    ". This page has stopped following it; see its status in Linode Cloud Manager.".to_owned()
                }
            }}
        </p>
        {checks_app.then(|| app_status(progress, status_app, firewall_hint))}
    }
}

/// Whether the application answers yet, as the server's check last saw it. Part of the
/// [`ProgressStatus`] island.
fn app_status(progress: RwSignal<Progress>, app_name: String, firewall_hint: Option<String>) -> impl IntoView {
    move || {
        let (app, ipv4) = progress.with(|p| (p.app.clone(), p.ipv4.clone()));
        let ssh = format!("ssh root@{}", ipv4.unwrap_or_else(|| "<its address>".into()));
        match app {
            Readiness::NotChecked => None,
            Readiness::Installing { elapsed_secs, .. } => Some(view! {
                <p class="app-status installing" data-testid="app-status" data-state="installing" role="status">
                    {format!("Installing {app_name}… ({})", duration(elapsed_secs))}
                </p>
            }.into_any()),
            Readiness::Ready { address, link } => Some(view! {
                <p class="app-status ready" data-testid="app-status" data-state="ready" role="status">
                    "Ready: "
                    {match link {
                        Some(link) => view! { <a data-testid="app-link" href=link.clone() target="_blank" rel="noopener noreferrer">{link.clone()}</a> }.into_any(),
                        None => view! { <span>{app_name.clone()} " answers on " <code>{address}</code></span> }.into_any(),
                    }}
                </p>
            }.into_any()),
            Readiness::NotAnswering { waited_secs, address } => Some(view! {
                <div class="app-status failed alert warning" data-testid="app-status" data-state="not_answering" role="status">
                    <p><strong>{format!("Not answering after {}", duration(waited_secs))}</strong>": nothing answered on " <code>{address}</code> "."</p>
                    <p>"What to check:"</p>
                    <ul>
                        <li>"Log in with " <code>{ssh}</code> " and read " <code>"/var/log/stackscript.log"</code> " for the install's errors."</li>
                        <li data-testid="firewall-hint">{firewall_hint.clone().unwrap_or_else(|| "The Linode's firewall (Cloud Manager → Firewalls, or the one the StackScript set up) must let that port in.".to_owned())}</li>
                        <li>"A large install may simply need longer: try the address again in a few minutes."</li>
                    </ul>
                </div>
            }.into_any()),
            Readiness::Unknown { address, link } => Some(view! {
                <p class="app-status" data-testid="app-status" data-state="unknown" role="status">
                    "This site stopped checking whether " {app_name.clone()} " answers. Try it yourself: "
                    {match link {
                        Some(link) => view! { <a href=link.clone() target="_blank" rel="noopener noreferrer">{link.clone()}</a> }.into_any(),
                        None => view! { <code>{address}</code> }.into_any(),
                    }}
                </p>
            }.into_any()),
        }
    }
}

/// `40 s`, `2 min`, `15 min`.
fn duration(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min", secs / 60)
    }
}

/// The SSH command, once the Linode has an address.
#[island(lazy)]
fn SshLogin() -> impl IntoView {
    let Following(progress) = expect_context::<Following>();
    let ssh = move || progress.with(|p| p.ipv4.as_ref().map(|ip| format!("ssh root@{ip}")));
    view! {
        {move || ssh().map(|ssh| view! {
            <h2>"Log in"</h2>
            <div class="secret-row">
                <code id="ssh-command" data-testid="ssh">{ssh}</code>
                <CopyButton source="ssh-command".to_owned() what="SSH command".to_owned()/>
            </div>
        })}
    }
}

fn poll_later(progress: RwSignal<Progress>) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                let latest = fetch_progress().await;
                // The view may be gone (the person navigated away): then stop asking.
                if progress.try_get_untracked().is_none() {
                    return;
                }
                match latest {
                    Ok(Some(latest)) => {
                        let live = latest.is_live();
                        progress.set(latest);
                        if live {
                            poll_later(progress);
                        }
                    }
                    Ok(None) => progress.update(|p| {
                        p.following = false;
                        p.app = Readiness::NotChecked;
                    }),
                    // A network blip or a server error: try again on the next tick.
                    Err(_) => poll_later(progress),
                }
            });
        },
        std::time::Duration::from_secs(2),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = progress;
}

/// Calls [`deployment_progress`] over plain `fetch`. The server function's own client would bring
/// its request, response and error codecs into the WASM for this one call; its answer is JSON
/// either way.
#[cfg(feature = "hydrate")]
async fn fetch_progress() -> Result<Option<Progress>, gloo_net::Error> {
    use leptos::server_fn::ServerFn;

    let response = gloo_net::http::Request::post(DeploymentProgress::url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await?;
    if !response.ok() {
        return Err(gloo_net::Error::GlooError(format!("the server answered {}", response.status())));
    }
    response.json().await
}

#[component]
fn Failed(failure: Failure) -> impl IntoView {
    view! {
        <section class="card failure" aria-labelledby="failed-heading" data-testid="failed" data-kind=failure.kind.as_str()>
            <h1 id="failed-heading">{failure.title}</h1>
            <p class="alert error" role="alert" data-testid="failure-message">{failure.message}</p>
            <p class="actions">
                {failure.retry.map(|retry| view! {
                    <a class="button primary" data-testid="retry" href=retry>"Try again with the same choices"</a>
                })}
                <a class="button" href="/">"Start again"</a>
            </p>
        </section>
    }
}

/// The application's name, as configured (`APP_NAME`).
fn app_name() -> String {
    #[cfg(feature = "ssr")]
    if let Ok(deploy) = crate::server_side::context::deploy() {
        return deploy.settings().app_name.clone();
    }
    "The application".to_owned()
}

/// How long results are kept, as configured (`outcome_ttl`).
fn kept_for() -> String {
    #[cfg(feature = "ssr")]
    if let Ok(deploy) = crate::server_side::context::deploy() {
        return deploy::failure::minutes(deploy.settings().outcome_ttl);
    }
    "a while".to_owned()
}

#[component]
fn NothingHere() -> impl IntoView {
    let kept = kept_for();
    view! {
        <section class="card" data-testid="nothing">
            <h1>"No deployment in this browser"</h1>
            <p>"Results are kept for "{kept}", in the browser that started the deployment. "
               <a href="/">"Start a deployment"</a>"."</p>
        </section>
    }
}
