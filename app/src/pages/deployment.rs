//! Step 4: what came of the deployment — the new Linode, or what went wrong and how to start again.

use leptos::prelude::*;

use crate::{
    components::copy_button::CopyButton,
    error::AppError,
    model::{DeployedLinode, Failure, Outcome, Progress},
};

/// The outcome recorded for this browser by the OAuth callback. The root password is handed out
/// on the first call only; the server forgets it right after.
#[server(endpoint = "deployment_outcome")]
pub async fn deployment_outcome() -> Result<Option<Outcome>, AppError> {
    crate::ssr::outcome::deployment_outcome().await
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
    crate::ssr::progress::deployment_progress().await
}

/// The steps a new Linode goes through, as shown to the person.
const STEPS: [(&str, &str); 3] = [("provisioning", "Provisioning"), ("booting", "Booting"), ("running", "Running")];

#[component]
fn Deployed(linode: DeployedLinode) -> impl IntoView {
    let progress = RwSignal::new(Progress { status: linode.status.clone(), ipv4: linode.ipv4.clone(), following: true });
    follow(progress);

    let running = move || progress.with(|p| p.status == "running");
    let ssh = move || progress.with(|p| p.ipv4.as_ref().map(|ip| format!("ssh root@{ip}")));
    let tags = linode.tags.join(", ");
    let keys = linode.ssh_keys;
    let step_of = |status: &str| STEPS.iter().position(|(id, _)| *id == status);
    view! {
        <section class="card success" aria-labelledby="deployed-heading" data-testid="deployed">
            <h1 id="deployed-heading">
                {move || if running() { "Your Linode is running" } else { "Your Linode is on its way" }}
            </h1>
            <ol class="steps" aria-label="Progress">
                {STEPS.iter().enumerate().map(|(index, (_, name))| {
                    let state = move || match progress.with(|p| step_of(&p.status)) {
                        Some(current) if index < current || (index == current && current == STEPS.len() - 1) => "done",
                        Some(current) if index == current => "current",
                        _ => "todo",
                    };
                    view! {
                        <li class=state aria-current=move || (state() == "current").then_some("step")>{*name}</li>
                    }
                }).collect_view()}
            </ol>
            <p class="lead" role="status" aria-live="polite">
                "Linode " <strong>{linode.label.clone()}</strong> " is "
                <strong data-testid="status">{move || progress.with(|p| p.status.clone())}</strong>
                {move || {
                    let Progress { status, following, .. } = progress.get();
                    if status == "running" {
                        ". It is ready: log in with the command below (the StackScript may still be finishing its setup for a few minutes)."
                    } else if following {
                        ". This page follows it until it runs; that usually takes a minute or two."
                    } else {
                        ". This page has stopped following it; see its status in Linode Cloud Manager."
                    }
                }}
            </p>
            <dl class="facts">
                <dt>"Label"</dt><dd data-testid="label">{linode.label.clone()}</dd>
                <dt>"Tags"</dt><dd data-testid="tags">{tags}</dd>
                <dt>"Region"</dt><dd data-testid="region">{linode.region.clone()}</dd>
                <dt>"Plan"</dt><dd data-testid="plan">{linode.plan.clone()}</dd>
                <dt>"Image"</dt><dd data-testid="image">{linode.image.clone()}</dd>
            </dl>
            {move || ssh().map(|ssh| view! {
                <h2>"Log in"</h2>
                <div class="secret-row">
                    <code data-testid="ssh">{ssh.clone()}</code>
                    <CopyButton text=ssh what="SSH command"/>
                </div>
            })}
            {(keys > 0).then(|| view! {
                <p data-testid="ssh-keys">
                    {if keys == 1 { "Your SSH key is installed for root.".to_owned() } else { format!("Your {keys} SSH keys are installed for root.") }}
                </p>
            })}
            <h2>"Root password"</h2>
            {match linode.root_password {
                Some(password) => view! {
                    <p class="alert warning">"Save this password now: it is shown only this once and is not stored anywhere."</p>
                    <div class="secret-row">
                        <code data-testid="root-password" class="password">{password.clone()}</code>
                        <CopyButton text=password what="root password"/>
                    </div>
                }.into_any(),
                None => view! {
                    <p data-testid="password-gone">
                        "The root password was shown once and is no longer kept on this server. If you did not save it, "
                        "reset it in Linode Cloud Manager (Linode → Settings → Reset Root Password)."
                    </p>
                }.into_any(),
            }}
            <p><a href="/">"Deploy another"</a></p>
        </section>
    }
}

/// Asks the server every two seconds while it still follows the Linode. Only in the browser:
/// without WASM the page shows the status at the time it was loaded.
fn follow(progress: RwSignal<Progress>) {
    Effect::new(move |_| poll_later(progress));
}

fn poll_later(progress: RwSignal<Progress>) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                let latest = deployment_progress().await;
                // The view may be gone (the person navigated away): then stop asking.
                if progress.try_get_untracked().is_none() {
                    return;
                }
                match latest {
                    Ok(Some(latest)) => {
                        let following = latest.following;
                        progress.set(latest);
                        if following {
                            poll_later(progress);
                        }
                    }
                    Ok(None) => progress.update(|p| p.following = false),
                    // A network blip: try again on the next tick.
                    Err(_) => poll_later(progress),
                }
            });
        },
        std::time::Duration::from_secs(2),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = progress;
}

#[component]
fn Failed(failure: Failure) -> impl IntoView {
    view! {
        <section class="card failure" aria-labelledby="failed-heading" data-testid="failed" data-kind=failure.kind>
            <h1 id="failed-heading">{failure.title}</h1>
            <p class="alert error" role="alert" data-testid="failure-message">{failure.message}</p>
            <p><a class="button primary" href="/">"Start again"</a></p>
        </section>
    }
}

#[component]
fn NothingHere() -> impl IntoView {
    view! {
        <section class="card" data-testid="nothing">
            <h1>"No deployment in this browser"</h1>
            <p>"Results are kept for one hour, in the browser that started the deployment. "
               <a href="/">"Start a deployment"</a>"."</p>
        </section>
    }
}
