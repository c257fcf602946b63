//! Step 4: what came of the deployment — the new Linode, or what went wrong and how to start again.

use leptos::prelude::*;

use crate::{
    components::copy_button::CopyButton,
    error::AppError,
    model::{DeployedLinode, Failure, Outcome},
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

#[component]
fn Deployed(linode: DeployedLinode) -> impl IntoView {
    let ssh = linode.ipv4.as_ref().map(|ip| format!("ssh root@{ip}"));
    let tags = linode.tags.join(", ");
    view! {
        <section class="card success" aria-labelledby="deployed-heading" data-testid="deployed">
            <h1 id="deployed-heading">"Your Linode is on its way"</h1>
            <p class="lead">
                "Linode " <strong>{linode.label.clone()}</strong> " was created and is "
                <span data-testid="status">{linode.status.clone()}</span>
                ". It is usually ready to log in to within a few minutes."
            </p>
            <dl class="facts">
                <dt>"Label"</dt><dd data-testid="label">{linode.label.clone()}</dd>
                <dt>"Tags"</dt><dd data-testid="tags">{tags}</dd>
                <dt>"Region"</dt><dd data-testid="region">{linode.region.clone()}</dd>
                <dt>"Plan"</dt><dd data-testid="plan">{linode.plan.clone()}</dd>
                <dt>"Image"</dt><dd data-testid="image">{linode.image.clone()}</dd>
            </dl>
            {ssh.map(|ssh| view! {
                <h2>"Log in"</h2>
                <div class="secret-row">
                    <code data-testid="ssh">{ssh.clone()}</code>
                    <CopyButton text=ssh what="SSH command"/>
                </div>
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
