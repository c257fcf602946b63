//! Step 1: configure the Linode (plan, region, image, label, SSH keys, the StackScript's inputs),
//! see what it costs, then go to Linode to log in. A real HTML form: it deploys without WASM, and
//! with WASM the price, summary and checks follow every change without a reload.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_query_map;

use crate::{
    error::AppError,
    live_form::{
        Chosen, DeployButton, LabelInput, LiveCatalog, LiveForm, RegionSelect, SshKeysInput, Summary, PREVIEW_BODY_ID,
        PREVIEW_CLI_ID,
    },
};
use domain::{
    prefill::{initial, Initial, RETRY_KEYS_PARAM},
    selection::{slugify, MAX_SSH_KEYS},
    DeployForm, FieldKind, FieldSpec, LinodeRequest, PlanGroup, RootLogin,
};

/// The catalog as the form shows it. Served from the server's cache: a page view never waits on
/// Linode once the cache is warm. A plain function, not a server function: only the server
/// renders this page, so nothing needs it as an endpoint.
async fn load_deploy_form() -> Result<DeployForm, AppError> {
    #[cfg(feature = "ssr")]
    return Ok(crate::server_side::context::deploy()?.deploy_form().await?);
    #[cfg(not(feature = "ssr"))]
    Err(AppError::Transport("the form is rendered on the server".into()))
}

/// The SSH keys a retry link sealed by this server carries (never keys a link just names).
fn retry_keys(token: &str) -> Option<(String, RootLogin)> {
    #[cfg(feature = "ssr")]
    return crate::server_side::start::open_retry_keys(token);
    #[cfg(not(feature = "ssr"))]
    {
        let _ = token;
        None
    }
}

/// What sets the new Linode up, in words: the StackScript, cloud-init, or both.
fn installer(form: &DeployForm) -> String {
    match (&form.stackscript_label, form.site.cloud_config.is_some()) {
        (Some(label), false) => format!("the StackScript “{label}”"),
        (Some(label), true) => format!("the StackScript “{label}” and this site's cloud-config (below)"),
        (None, _) => "cloud-init, with this site's cloud-config (below)".to_owned(),
    }
}

/// What the form says of a post that could not be read at all.
const UNREADABLE_POST: &str = "The form could not be read. Please reload the page and try again.";

/// The text of a refusal sealed by this server (a plain form post sent back here), if genuine.
fn refusal_text(token: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    return crate::server_side::start::open_refusal(token);
    #[cfg(not(feature = "ssr"))]
    {
        let _ = token;
        None
    }
}

/// The request the form's starting values would send, rendered with the page.
fn initial_preview(form: &DeployForm, initial: &Initial) -> LinodeRequest {
    #[cfg(feature = "ssr")]
    if let Ok(deploy) = crate::server_side::context::deploy() {
        return deploy.preview(form, &initial.as_request(form));
    }
    let _ = (form, initial);
    LinodeRequest::default()
}

/// The firewall the server makes for the app before the Linode, rendered with the page.
fn initial_firewall_preview() -> Option<LinodeRequest> {
    #[cfg(feature = "ssr")]
    if let Ok(deploy) = crate::server_side::context::deploy() {
        return deploy.firewall_preview();
    }
    None
}

/// The page. Only the islands in [`crate::live_form`] run in the browser; everything here is
/// rendered on the server.
#[component]
pub fn DeployPage() -> impl IntoView {
    let form = OnceResource::new(load_deploy_form());
    let query = use_query_map();

    view! {
        <Suspense fallback=|| view! { <p class="loading" aria-live="polite">"Loading plans, regions and images…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => {
                        let mut initial = query.with_untracked(|query| initial(&form, |key| query.get(key)));
                        if let Some((keys, root_login)) = query.with_untracked(|query| query.get(RETRY_KEYS_PARAM)).and_then(|token| retry_keys(&token)) {
                            initial.ssh_keys = keys;
                            initial.root_login = root_login;
                        }
                        // Only a refusal this server sealed into the URL is shown (see
                        // `start_deploy`), never text a link makes up.
                        // A post the server function machinery could not even decode comes back
                        // with server_fn's unsealed `__err`: answered with a fixed text, since
                        // anyone can write that parameter.
                        let refused = query
                            .with_untracked(|query| query.get("refused"))
                            .and_then(|token| refusal_text(&token))
                            .or_else(|| query.with_untracked(|query| query.get("__err")).map(|_| UNREADABLE_POST.to_owned()));
                        view! { <FormView form initial refused/> }.into_any()
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
fn FormView(form: DeployForm, initial: Initial, refused: Option<String>) -> impl IntoView {
    let app_name = form.site.app_name.clone();
    let catalog = LiveCatalog::new(&form);
    let chosen = Chosen {
        plan: initial.plan.clone(),
        region: initial.region.clone(),
        image: initial.image.clone(),
        label: initial.label.clone(),
        ssh_keys: initial.ssh_keys.clone(),
    };
    let stale = form.stale;
    let preview = initial_preview(&form, &initial);
    let firewall_preview = initial_firewall_preview();
    let app_ports = form.site.app_ports.clone();
    let firewall_app = app_name.clone();

    view! {
        <section class="card" aria-labelledby="deploy-heading">
            <h1 id="deploy-heading">"Deploy " {app_name.clone()} " to your Linode account"</h1>
            <p class="lead">
                "Choose a plan, a region and an image. When you click Deploy you log in at Linode and allow this site "
                "to create one Linode for you. It is set up by " {installer(&form)} ", and this site "
                "gives up its access as soon as the Linode is running."
            </p>
            {stale.then(|| view! {
                <p class="alert warning" role="status">
                    "Linode could not be reached just now; the choices below may be slightly out of date."
                </p>
            })}
            {(!initial.notices.is_empty()).then(|| view! {
                <ul class="alert warning" role="status" data-testid="link-notice">
                    {initial.notices.iter().map(|notice| view! { <li>{notice.clone()}</li> }).collect_view()}
                </ul>
            })}
            <LiveForm action=crate::server_fns::StartDeploy::url().to_owned() catalog chosen refused>
                <fieldset>
                    <legend>"Server"</legend>
                    <div class="field">
                        <label for="plan">"Plan"</label>
                        <select id="plan" name="plan" required>
                            {form.plans.iter().map(|group| plan_group(group, &initial.plan)).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="region">"Region"</label>
                        <RegionSelect/>
                    </div>
                    <div class="field">
                        <label for="image">"Image"</label>
                        <select id="image" name="image" required>
                            {form.images.iter().map(|group| view! {
                                <optgroup label=group.vendor.clone()>
                                    {group.images.iter().map(|choice| view! {
                                        <option value=choice.id.clone() selected=choice.id == initial.image disabled=choice.no_cloud_init>{choice.label.clone()}</option>
                                    }).collect_view()}
                                </optgroup>
                            }).collect_view()}
                        </select>
                    </div>
                </fieldset>

                {(!form.fields.is_empty()).then(|| view! {
                    <fieldset data-testid="stackscript-fields">
                        <legend>{app_name.clone()} " settings"</legend>
                        {form.fields.iter().map(|field| field_input(field, initial.fields.get(&field.name).cloned())).collect_view()}
                    </fieldset>
                })}

                <fieldset>
                    <legend>"Access"</legend>
                    <div class="field">
                        <label for="label">"Linode label " <span class="muted">"(optional)"</span></label>
                        <LabelInput>
                            <p id="label-hint" class="hint">"Leave empty for a generated one, such as “" {slugify(&app_name)} "-us-east-1a2b3c4d”."</p>
                        </LabelInput>
                    </div>
                    <div class="field">
                        <label for="ssh_keys">"SSH public keys " <span class="muted">"(optional)"</span></label>
                        <SshKeysInput>
                            <p id="keys-hint" class="hint">
                                "One per line, up to " {MAX_SSH_KEYS} ". They are installed for root, alongside a strong root password generated for you."
                            </p>
                        </SshKeysInput>
                    </div>
                    <div class="field">
                        <label class="check">
                            <input type="checkbox" name="keys_only" value="on" data-testid="keys-only" aria-describedby="keys-only-hint" checked=initial.root_login == RootLogin::KeysOnly/>
                            "SSH keys only, no root password"
                        </label>
                        <p id="keys-only-hint" class="hint">
                            "With at least one key above: root logs in with your key alone, and no password is made, sent or shown. "
                            "Linode's web console (Lish) then needs a password you set later, with passwd or in Cloud Manager."
                        </p>
                    </div>
                </fieldset>

                {form.site.cloud_config.clone().map(|cloud_config| view! {
                    <details class="request" data-testid="cloud-config">
                        <summary>"The cloud-config every Linode of this site gets"</summary>
                        <p class="hint">
                            "cloud-init runs it on the Linode's first boot (Linode's Metadata service hands it over). "
                            "To run the linode-cli command below, save it as cloud-config.yaml."
                        </p>
                        <pre><code>{cloud_config}</code></pre>
                    </details>
                })}
                <Summary/>
                <details class="request" data-testid="request-preview">
                    <summary>"What this site will send to Linode"</summary>
                    <p class="hint">
                        "The request that creates your Linode, for the choices above, and the same request as a linode-cli "
                        "command (if it has a root password, set ROOT_PASS to a strong one of your own before running it). "
                        "The root password, unless you chose SSH keys only, is generated on the server as you deploy; "
                        "password inputs are masked."
                    </p>
                    <pre data-testid="request-body"><code id=PREVIEW_BODY_ID>{preview.body}</code></pre>
                    <pre data-testid="request-cli"><code id=PREVIEW_CLI_ID>{preview.cli}</code></pre>
                </details>
                {firewall_preview.map(|firewall| view! {
                    <details class="request" data-testid="firewall-preview">
                        <summary>"The firewall this site makes first"</summary>
                        <p class="hint">
                            "Made just before the Linode, which is created behind it: it lets in only what "
                            {firewall_app.clone()} " needs and drops every other inbound connection. Its label is the Linode's."
                        </p>
                        <pre data-testid="firewall-body"><code>{firewall.body}</code></pre>
                        <pre data-testid="firewall-cli"><code>{firewall.cli}</code></pre>
                    </details>
                })}

                <DeployButton/>
                {match app_ports {
                    Some(ports) => view! {
                        <p class="hint" data-testid="scopes-hint">
                            "You will be asked to allow “linodes:read_write”, to create the Linode, and “firewall:read_write”, to make "
                            "the firewall that lets in only " {ports} ". Untick the second to keep your account's default firewall instead."
                        </p>
                    }.into_any(),
                    None => view! {
                        <p class="hint" data-testid="scopes-hint">"You will be asked to allow “linodes:read_write”: permission to create Linodes."</p>
                    }.into_any(),
                }}
            </LiveForm>
        </section>
    }
}

fn plan_group(group: &PlanGroup, chosen: &str) -> impl IntoView {
    view! {
        <optgroup label=group.label.clone()>
            {group.plans.iter().map(|choice| view! {
                <option value=choice.id.clone() selected=choice.id == chosen>{choice.option_text()}</option>
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
