//! Step 1: pick a plan, a region and an image, then go to Linode to log in.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{DeployForm, PlanGroup},
};

/// The catalog as the form shows it. Served from the server's cache: a page view never waits on
/// Linode once the cache is warm.
#[server(endpoint = "deploy_form")]
pub async fn load_deploy_form() -> Result<DeployForm, AppError> {
    crate::ssr::context::deploy()?.deploy_form().await
}

/// Validates the selection against the catalog, remembers it with a fresh `state` in an encrypted
/// cookie and answers with Linode's authorize URL. A plain HTML form post gets a 302 to it; the
/// hydrated page gets the URL back and navigates itself, because the router would otherwise try to
/// handle a same-origin URL (the embedded sandbox) as one of its own routes.
#[server(endpoint = "start_deploy")]
pub async fn start_deploy(plan: String, region: String, image: String) -> Result<String, AppError> {
    crate::ssr::start::start_deploy(plan, region, image).await
}

#[component]
pub fn DeployPage() -> impl IntoView {
    let form = OnceResource::new(load_deploy_form());
    let start = ServerAction::<StartDeploy>::new();

    Effect::new(move |_| {
        if let Some(Ok(url)) = start.value().get() {
            leave_for(&url);
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-live="polite">"Loading plans, regions and images…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => view! { <FormView form start/> }.into_any(),
                    Err(error) => view! {
                        <section class="card">
                            <h1>"Deploy"</h1>
                            <p class="alert error" role="alert">{error.to_string()}</p>
                            <p><a href="/">"Try again"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FormView(form: DeployForm, start: ServerAction<StartDeploy>) -> impl IntoView {
    let app_name = form.site.app_name.clone();
    let pending = start.pending();
    let error = move || match start.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    let navigating = move || matches!(start.value().get(), Some(Ok(_)));

    view! {
        <section class="card" aria-labelledby="deploy-heading">
            <h1 id="deploy-heading">"Deploy " {app_name.clone()} " to your Linode account"</h1>
            <p class="lead">
                "Choose a plan, a region and an image. When you click Deploy you log in at Linode and allow this site "
                "to create one Linode for you. It is set up by the StackScript “" {form.stackscript_label.clone()}
                "”, and this site gives up its access as soon as the Linode exists."
            </p>
            <Show when=move || form.stale>
                <p class="alert warning" role="status">
                    "Linode could not be reached just now; the choices below may be slightly out of date."
                </p>
            </Show>
            <ActionForm action=start>
                <div class="field">
                    <label for="plan">"Plan"</label>
                    <select id="plan" name="plan" required>
                        {form.plans.into_iter().map(plan_group).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="region">"Region"</label>
                    <select id="region" name="region" required>
                        {form.regions.into_iter().map(|region| view! {
                            <option value=region.id>{region.description}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="image">"Image"</label>
                    <select id="image" name="image" required>
                        {form.images.into_iter().map(|image| view! {
                            <option value=image.id>{image.label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <p class="alert error" role="alert" data-testid="form-error" hidden=move || error().is_none()>
                    {error}
                </p>
                <button type="submit" class="primary" disabled=move || pending.get() || navigating()>
                    {move || if pending.get() || navigating() { "Going to Linode…" } else { "Deploy" }}
                </button>
                <p class="hint">"You will be asked to allow “linodes:read_write”: permission to create Linodes."</p>
            </ActionForm>
        </section>
    }
}

fn plan_group(group: PlanGroup) -> impl IntoView {
    view! {
        <optgroup label=group.label>
            {group.plans.into_iter().map(|plan| view! {
                <option value=plan.id>{plan.description}</option>
            }).collect_view()}
        </optgroup>
    }
}

/// Leaves the single-page app for Linode's login page (a full navigation, not a route change).
fn leave_for(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Err(error) = window().location().set_href(url) {
        leptos::logging::error!("could not open the Linode login page: {error:?}");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}
