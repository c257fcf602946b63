//! Step 1: configure the Linode (plan, region, image, label, SSH keys, the StackScript's inputs),
//! see what it costs, then go to Linode to log in. A real HTML form: it deploys without WASM, and
//! with WASM the price, summary and checks follow every change without a reload.

use std::{collections::BTreeMap, sync::Arc};

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    error::AppError,
    model::{DeployForm, FieldKind, FieldSpec, PlanGroup, RegionGroup},
    selection::{check_label, check_ssh_keys, slugify, MAX_SSH_KEYS},
    share::{initial, Initial},
};

/// The catalog as the form shows it. Served from the server's cache: a page view never waits on
/// Linode once the cache is warm.
#[server(endpoint = "deploy_form")]
pub async fn load_deploy_form() -> Result<DeployForm, AppError> {
    crate::ssr::context::deploy()?.deploy_form().await
}

/// Validates the request against the catalog, remembers it with a fresh `state` in an encrypted
/// cookie and answers with Linode's authorize URL. A plain HTML form post gets a 302 to it; the
/// hydrated page gets the URL back and navigates itself, because the router would otherwise try to
/// handle a same-origin URL (the embedded sandbox) as one of its own routes. Every argument has a
/// default, so a forged post that leaves one out gets the same clear message as a wrong value.
#[server(endpoint = "start_deploy")]
pub async fn start_deploy(
    #[server(default)] plan: String,
    #[server(default)] region: String,
    #[server(default)] image: String,
    #[server(default)] label: String,
    #[server(default)] ssh_keys: String,
    #[server(default)] fields: BTreeMap<String, String>,
    #[server(default)] many: BTreeMap<String, Vec<String>>,
) -> Result<String, AppError> {
    let request = crate::selection::DeployRequest { plan, region, image, label, ssh_keys, fields, many };
    crate::ssr::start::start_deploy(request).await
}

#[component]
pub fn DeployPage() -> impl IntoView {
    let form = OnceResource::new(load_deploy_form());
    let start = ServerAction::<StartDeploy>::new();
    let query = use_query_map();

    Effect::new(move |_| {
        if let Some(Ok(url)) = start.value().get() {
            leave_for(&url);
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-live="polite">"Loading plans, regions and images…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => {
                        let initial = query.with_untracked(|query| initial(&form, |key| query.get(key)));
                        view! { <FormView form initial start/> }.into_any()
                    }
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
fn FormView(form: DeployForm, initial: Initial, start: ServerAction<StartDeploy>) -> impl IntoView {
    let app_name = form.site.app_name.clone();
    let stale = form.stale;
    let stackscript = form.stackscript_label.clone();
    let fields = form.fields.clone();
    let form = Arc::new(form);

    let plan = RwSignal::new(initial.plan);
    let region = RwSignal::new(initial.region);
    let image = RwSignal::new(initial.image);
    let label = RwSignal::new(initial.label);
    let ssh_keys = RwSignal::new(String::new());

    let label_error = move || label.with(|label| check_label(label).err());
    let keys_error = move || ssh_keys.with(|keys| check_ssh_keys(keys).err());
    let region_error = {
        let form = form.clone();
        move || {
            let plan = form.plan(&plan.get())?;
            let region = form.region(&region.get())?;
            region.unavailable_for(&plan.class).map(|why| format!("{} {why} for {}: choose another region.", region.label, plan.label))
        }
    };
    let region_error = Signal::derive(region_error);

    let pending = start.pending();
    let server_error = move || match start.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    let navigating = move || matches!(start.value().get(), Some(Ok(_)));
    let blocked = move || {
        pending.get() || navigating() || label_error().is_some() || keys_error().is_some() || region_error.get().is_some()
    };

    view! {
        <section class="card" aria-labelledby="deploy-heading">
            <h1 id="deploy-heading">"Deploy " {app_name.clone()} " to your Linode account"</h1>
            <p class="lead">
                "Choose a plan, a region and an image. When you click Deploy you log in at Linode and allow this site "
                "to create one Linode for you. It is set up by the StackScript “" {stackscript} "”, and this site "
                "gives up its access as soon as the Linode is running."
            </p>
            <Show when=move || stale>
                <p class="alert warning" role="status">
                    "Linode could not be reached just now; the choices below may be slightly out of date."
                </p>
            </Show>
            {(!initial.notices.is_empty()).then(|| view! {
                <ul class="alert warning" role="status" data-testid="link-notice">
                    {initial.notices.iter().map(|notice| view! { <li>{notice.clone()}</li> }).collect_view()}
                </ul>
            })}
            <ActionForm action=start>
                <fieldset>
                    <legend>"Server"</legend>
                    <div class="field">
                        <label for="plan">"Plan"</label>
                        <select id="plan" name="plan" required on:change=move |ev| plan.set(event_target_value(&ev))>
                            {form.plans.iter().map(|group| plan_group(group, plan)).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="region">"Region"</label>
                        <select
                            id="region"
                            name="region"
                            required
                            aria-describedby="region-error"
                            aria-invalid=move || region_error.get().is_some().to_string()
                            on:change=move |ev| region.set(event_target_value(&ev))
                        >
                            {form.regions.iter().map(|group| region_group(group, form.clone(), plan, region)).collect_view()}
                        </select>
                        <p id="region-error" class="field-error" role="alert">{move || region_error.get()}</p>
                    </div>
                    <div class="field">
                        <label for="image">"Image"</label>
                        <select id="image" name="image" required on:change=move |ev| image.set(event_target_value(&ev))>
                            {form.images.iter().map(|group| view! {
                                <optgroup label=group.vendor.clone()>
                                    {group.images.iter().map(|choice| {
                                        let id = choice.id.clone();
                                        view! {
                                            <option value=choice.id.clone() selected=move || image.with(|image| *image == id)>
                                                {choice.label.clone()}
                                            </option>
                                        }
                                    }).collect_view()}
                                </optgroup>
                            }).collect_view()}
                        </select>
                    </div>
                </fieldset>

                {(!fields.is_empty()).then(|| view! {
                    <fieldset data-testid="stackscript-fields">
                        <legend>{app_name.clone()} " settings"</legend>
                        {fields.iter().map(|field| field_input(field, initial.fields.get(&field.name).cloned())).collect_view()}
                    </fieldset>
                })}

                <fieldset>
                    <legend>"Access"</legend>
                    <div class="field">
                        <label for="label">"Linode label " <span class="muted">"(optional)"</span></label>
                        <input
                            id="label"
                            name="label"
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            maxlength="64"
                            value=move || label.get()
                            on:input=move |ev| label.set(event_target_value(&ev))
                            aria-describedby="label-hint label-error"
                            aria-invalid=move || label_error().is_some().to_string()
                        />
                        <p id="label-hint" class="hint">"Leave empty for a generated one, such as “" {slugify(&app_name)} "-us-east-1a2b3c4d”."</p>
                        <p id="label-error" class="field-error" role="alert">{label_error}</p>
                    </div>
                    <div class="field">
                        <label for="ssh_keys">"SSH public keys " <span class="muted">"(optional)"</span></label>
                        <textarea
                            id="ssh_keys"
                            name="ssh_keys"
                            rows="3"
                            spellcheck="false"
                            placeholder="ssh-ed25519 AAAAC3Nza… you@laptop"
                            on:input=move |ev| ssh_keys.set(event_target_value(&ev))
                            aria-describedby="keys-hint keys-error"
                            aria-invalid=move || keys_error().is_some().to_string()
                        ></textarea>
                        <p id="keys-hint" class="hint">
                            "One per line, up to " {MAX_SSH_KEYS} ". They are installed for root, alongside a strong root password generated for you."
                        </p>
                        <p id="keys-error" class="field-error" role="alert">{keys_error}</p>
                    </div>
                </fieldset>

                <Summary form=form.clone() plan region image/>

                <p class="alert error" role="alert" data-testid="form-error" hidden=move || server_error().is_none()>
                    {server_error}
                </p>
                <button type="submit" class="primary" disabled=blocked>
                    {move || if pending.get() || navigating() { "Going to Linode…" } else { "Deploy" }}
                </button>
                <p class="hint">"You will be asked to allow “linodes:read_write”: permission to create Linodes."</p>
            </ActionForm>
        </section>
    }
}

fn plan_group(group: &PlanGroup, plan: RwSignal<String>) -> impl IntoView {
    view! {
        <optgroup label=group.label.clone()>
            {group.plans.iter().map(|choice| {
                let id = choice.id.clone();
                view! {
                    <option value=choice.id.clone() selected=move || plan.with(|plan| *plan == id)>
                        {choice.option_text()}
                    </option>
                }
            }).collect_view()}
        </optgroup>
    }
}

fn region_group(group: &RegionGroup, form: Arc<DeployForm>, plan: RwSignal<String>, region: RwSignal<String>) -> impl IntoView {
    view! {
        <optgroup label=group.label.clone()>
            {group.regions.iter().map(|choice| {
                let form = form.clone();
                let why = {
                    let choice = choice.clone();
                    move || {
                        let class = form.plan(&plan.get()).map(|plan| plan.class.clone()).unwrap_or_default();
                        choice.unavailable_for(&class)
                    }
                };
                let why = Signal::derive(why);
                let description = choice.description();
                let id = choice.id.clone();
                view! {
                    <option
                        value=choice.id.clone()
                        selected=move || region.with(|region| *region == id)
                        disabled=move || why.get().is_some()
                    >
                        {move || match why.get() {
                            Some(why) => format!("{description} ({why})"),
                            None => description.clone(),
                        }}
                    </option>
                }
            }).collect_view()}
        </optgroup>
    }
}

/// One StackScript input, as Cloud Manager renders it: text, masked password, a select for
/// one-of, checkboxes for many-of; required when it has no default.
fn field_input(field: &FieldSpec, value: Option<String>) -> impl IntoView {
    let id = format!("field-{}", field.name);
    let hint = field.example.as_ref().map(|example| format!("Example: {example}"));
    let hint_id = format!("{id}-hint");
    let described = hint.as_ref().map(|_| hint_id.clone());
    let required = field.required;
    let value = value.unwrap_or_default();
    let name = format!("fields[{}]", field.name);
    match &field.kind {
        FieldKind::ManyOf(choices) => {
            let ticked: Vec<String> = value.split(',').map(str::to_owned).collect();
            view! {
                <fieldset class="field choices" aria-describedby=described>
                    <legend>{field.label.clone()} {(!required).then(|| view! { <span class="muted">" (optional)"</span> })}</legend>
                    {choices.iter().map(|choice| view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                name=format!("many[{}][]", field.name)
                                value=choice.clone()
                                checked=ticked.contains(choice)
                            />
                            {choice.clone()}
                        </label>
                    }).collect_view()}
                    {hint.map(|hint| view! { <p id=hint_id class="hint">{hint}</p> })}
                </fieldset>
            }
            .into_any()
        }
        FieldKind::OneOf(choices) => view! {
            <div class="field">
                <label for=id.clone()>{field.label.clone()}</label>
                <select id=id name=name required=required aria-describedby=described>
                    {(value.is_empty()).then(|| view! { <option value="" selected>"Choose…"</option> })}
                    {choices.iter().map(|choice| view! {
                        <option value=choice.clone() selected=*choice == value>{choice.clone()}</option>
                    }).collect_view()}
                </select>
                {hint.map(|hint| view! { <p id=hint_id class="hint">{hint}</p> })}
            </div>
        }
        .into_any(),
        kind => {
            let password = *kind == FieldKind::Password;
            view! {
                <div class="field">
                    <label for=id.clone()>
                        {field.label.clone()}
                        {(!required).then(|| view! { <span class="muted">" (optional)"</span> })}
                    </label>
                    <input
                        id=id
                        name=name
                        type=if password { "password" } else { "text" }
                        autocomplete=if password { "new-password" } else { "off" }
                        spellcheck="false"
                        required=required
                        maxlength="1000"
                        value=value
                        placeholder=field.example.clone()
                        aria-describedby=described
                    />
                    {hint.map(|hint| view! { <p id=hint_id class="hint">{hint}</p> })}
                </div>
            }
            .into_any()
        }
    }
}

/// What will be created and what it costs, before the Deploy button.
#[component]
fn Summary(form: Arc<DeployForm>, plan: RwSignal<String>, region: RwSignal<String>, image: RwSignal<String>) -> impl IntoView {
    let chosen = move || {
        let plan = form.plan(&plan.get())?.clone();
        let region = form.region(&region.get())?.clone();
        let image = form.image(&image.get())?.clone();
        Some((plan, region, image))
    };
    view! {
        <section class="summary" aria-labelledby="summary-heading" data-testid="summary">
            <h2 id="summary-heading">"Summary"</h2>
            {move || chosen().map(|(plan, region, image)| {
                let price = plan.price_in(&region.id);
                let regional = (price != plan.price).then(|| format!("Prices in {} differ from the base price ({}).", region.label, plan.price.describe()));
                view! {
                    <p>
                        "One Linode: " <strong>{plan.label.clone()}</strong> " (" {plan.specs()} ") in "
                        <strong>{region.description()}</strong> ", running " <strong>{image.label.clone()}</strong> "."
                    </p>
                    <p class="price" aria-live="polite">
                        "Cost: " <strong data-testid="price">{price.describe()}</strong>
                        ", billed by Linode to your account until you delete it."
                    </p>
                    {regional.map(|note| view! { <p class="hint" data-testid="regional-price">{note}</p> })}
                }
            })}
        </section>
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
