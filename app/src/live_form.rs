//! The parts of the deploy form that run in the browser. They are Leptos islands: each hydrates
//! on its own while the rest of the page stays the server's HTML, so the option lists, the
//! StackScript's inputs and every text cost the WASM nothing. What is left here follows the
//! person's choices, checks what they type and prices the summary, with every price and text
//! already written by the server (no number formatting in the browser).
//!
//! [`LiveForm`] wraps the whole `<form>`: it follows `change` and `input` events as they bubble up
//! from the server-rendered controls and shares the choices with the islands nested in it.
//! Without WASM the same form posts to the server function and works as before.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use domain::{
    selection::{check_label, check_ssh_keys},
    RegionChoice, RegionGroup,
};

/// What the browser needs to follow the person's choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveCatalog {
    pub plans: Vec<LivePlan>,
    pub regions: Vec<RegionGroup>,
    pub images: Vec<LiveImage>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LivePlan {
    pub id: String,
    pub label: String,
    pub class: String,
    /// `1 vCPU, 1 GB RAM, 25 GB storage, 1 TB transfer`
    pub specs: String,
    /// The base price, described: `$5/mo ($0.0075/hr)`; for a plan priced only region by
    /// region, its lowest (`from $1680/mo …`).
    pub price: String,
    /// Priced only region by region: a region's price is then the price, not a difference.
    pub per_region: bool,
    /// Regions with their own price: (region id, price described).
    pub region_prices: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveImage {
    pub id: String,
    pub label: String,
}

impl LiveCatalog {
    pub fn new(form: &domain::DeployForm) -> Self {
        let plans = form
            .plans
            .iter()
            .flat_map(|group| &group.plans)
            .map(|plan| LivePlan {
                id: plan.id.clone(),
                label: plan.label.clone(),
                // What a region must offer to host it: for a plan priced only region by region,
                // the plan itself, so the browser needs no rule of its own for those.
                class: plan.offered_as(),
                specs: plan.specs(),
                price: plan.price_text(),
                per_region: plan.priced_per_region_only(),
                region_prices: plan
                    .region_prices
                    .iter()
                    .filter(|regional| regional.price != plan.price)
                    .map(|regional| (regional.region.clone(), regional.price.describe()))
                    .collect(),
            })
            .collect();
        let images = form
            .images
            .iter()
            .flat_map(|group| &group.images)
            .map(|image| LiveImage { id: image.id.clone(), label: image.label.clone() })
            .collect();
        Self { plans, regions: form.regions.clone(), images }
    }

    fn plan(&self, id: &str) -> Option<&LivePlan> {
        self.plans.iter().find(|plan| plan.id == id)
    }

    fn region(&self, id: &str) -> Option<&RegionChoice> {
        self.regions.iter().flat_map(|group| &group.regions).find(|region| region.id == id)
    }

    fn image(&self, id: &str) -> Option<&LiveImage> {
        self.images.iter().find(|image| image.id == id)
    }
}

/// The values the form starts with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chosen {
    pub plan: String,
    pub region: String,
    pub image: String,
    pub label: String,
    pub ssh_keys: String,
}

/// The person's choices so far, shared by the form's islands through context.
#[derive(Clone, Copy)]
struct Choices {
    catalog: StoredValue<LiveCatalog>,
    plan: RwSignal<String>,
    region: RwSignal<String>,
    image: RwSignal<String>,
    label: RwSignal<String>,
    ssh_keys: RwSignal<String>,
    /// The chosen plan's class, which decides the regions that can host it.
    plan_class: Memo<String>,
    /// Set once the form is on its way to the server (and from there to Linode).
    leaving: RwSignal<bool>,
    /// The server's refusal of the last post.
    refused: RwSignal<Option<String>>,
    /// Counts the person's changes to any control: only the preview of the latest is shown.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    edits: StoredValue<u32>,
    /// The form, for the preview to post (in the browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    form: NodeRef<leptos::html::Form>,
    label_error: Memo<Option<String>>,
    keys_error: Memo<Option<String>>,
    region_error: Memo<Option<String>>,
}

impl Choices {
    fn new(catalog: LiveCatalog, chosen: Chosen, refused: Option<String>, form: NodeRef<leptos::html::Form>) -> Self {
        let catalog = StoredValue::new(catalog);
        let plan = RwSignal::new(chosen.plan);
        let region = RwSignal::new(chosen.region);
        let label = RwSignal::new(chosen.label);
        let ssh_keys = RwSignal::new(chosen.ssh_keys);
        let region_error = Memo::new(move |_| {
            catalog.with_value(|catalog| {
                let plan = catalog.plan(&plan.get())?;
                let region = catalog.region(&region.get())?;
                region
                    .unavailable_for(&plan.class)
                    .map(|why| format!("{} {why} for {}: choose another region.", region.label, plan.label))
            })
        });
        Self {
            catalog,
            plan,
            region,
            image: RwSignal::new(chosen.image),
            label,
            ssh_keys,
            plan_class: Memo::new(move |_| {
                catalog
                    .with_value(|catalog| catalog.plan(&plan.get()).map(|plan| plan.class.clone()).unwrap_or_default())
            }),
            leaving: RwSignal::new(false),
            refused: RwSignal::new(refused),
            edits: StoredValue::new(0),
            form,
            label_error: Memo::new(move |_| label.with(|label| check_label(label).err())),
            keys_error: Memo::new(move |_| ssh_keys.with(|keys| check_ssh_keys(keys).err())),
            region_error,
        }
    }

    fn blocked(&self) -> bool {
        self.leaving.get()
            || self.label_error.get().is_some()
            || self.keys_error.get().is_some()
            || self.region_error.get().is_some()
    }

    /// Follows a control of the form by its `name`.
    fn follow(&self, name: &str, value: String) {
        let signal = match name {
            "plan" => self.plan,
            "region" => self.region,
            "image" => self.image,
            "label" => self.label,
            "ssh_keys" => self.ssh_keys,
            _ => return,
        };
        signal.set(value);
    }
}

impl Choices {
    /// Brings the request preview (rendered by the server, outside the islands: see
    /// `pages::deploy_form`) up to date: asks the server what the form as it stands would send
    /// (`preview_request`) after every change, ignoring the answers to older ones, and writes it
    /// into the preview's two `<code>` elements. The server builds it, so the browser carries no
    /// copy of the request's rules; writing the text straight into the DOM keeps a view and its
    /// hydration out of the first page's WASM, whose budget is tight.
    fn refresh_preview(self) {
        #[cfg(feature = "hydrate")]
        if let Some(form) = self.form.get_untracked() {
            self.edits.update_value(|edits| *edits += 1);
            let edit = self.edits.get_value();
            leptos::task::spawn_local(async move {
                use leptos::server_fn::ServerFn;
                let action = crate::server_fns::PreviewRequest::url();
                let Ok(wire) = post::<String>(action, &form).await else { return };
                if self.edits.get_value() != edit {
                    return;
                }
                let latest = domain::LinodeRequest::from_wire(&wire);
                for (id, text) in [(PREVIEW_BODY_ID, latest.body), (PREVIEW_CLI_ID, latest.cli)] {
                    if let Some(code) = document().get_element_by_id(id) {
                        code.set_text_content(Some(&text));
                    }
                }
            });
        }
    }
}

/// The ids of the preview's `<code>` elements.
pub const PREVIEW_BODY_ID: &str = "request-body";
pub const PREVIEW_CLI_ID: &str = "request-cli";

fn choices() -> Choices {
    expect_context::<Choices>()
}

/// The names of the controls the islands follow.
const FOLLOWED: [&str; 5] = ["plan", "region", "image", "label", "ssh_keys"];

/// The form itself. Without WASM (or before it has loaded) it posts the plain way and the server
/// answers with a redirect to Linode's login, or back here with its refusal. Once hydrated, it
/// keeps a post with a known problem from being sent, and posts the form with `fetch`: the server
/// answers with Linode's login URL, which the page then opens, or with its refusal, which is shown
/// next to the button while everything typed stays in place.
#[island]
pub fn LiveForm(
    action: String,
    catalog: LiveCatalog,
    chosen: Chosen,
    refused: Option<String>,
    children: Children,
) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    let choices = Choices::new(catalog, chosen, refused, form);
    provide_context(choices);

    let follow = move |ev: leptos::ev::Event| {
        if let Some(name) = event_target::<leptos::web_sys::Element>(&ev).get_attribute("name") {
            choices.follow(&name, event_target_value(&ev));
        }
        choices.refresh_preview();
    };
    // The server rendered its own starting values; the browser may show others (a control changed
    // before the WASM loaded, values restored on reload or on Back). The form's own values win.
    let read_form = move || {
        if let Some(form) = form.get_untracked() {
            for name in FOLLOWED {
                if let Some(value) = control_value(&form, name) {
                    choices.follow(name, value);
                }
            }
        }
    };
    Effect::new(move |_| read_form());
    let target = action.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if choices.blocked() {
            return;
        }
        choices.leaving.set(true);
        choices.refused.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(form) = form.get_untracked() {
            let target = target.clone();
            leptos::task::spawn_local(async move {
                match post::<String>(&target, &form).await {
                    Ok(login) => {
                        if window().location().assign(&login).is_err() {
                            choices
                                .refused
                                .set(Some("Your browser did not open Linode's login page; please try again.".into()));
                            choices.leaving.set(false);
                        }
                    }
                    Err(refusal) => {
                        choices.refused.set(Some(refusal));
                        choices.leaving.set(false);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &target;
    };
    // Coming back from Linode with the browser's Back button may restore this page as it was
    // left, "Going to Linode…" included.
    #[cfg(feature = "hydrate")]
    {
        let listening = window_event_listener(leptos::ev::pageshow, move |_| {
            choices.leaving.set(false);
            read_form();
            choices.refresh_preview();
        });
        on_cleanup(move || listening.remove());
    }

    // Marks the form once the islands run, for whoever must know the checks are live (the
    // end-to-end tests wait for it before typing).
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));

    view! {
        <form
            node_ref=form
            method="post"
            action=action
            on:change=follow
            on:input=follow
            on:submit=submit
            data-live=move || live.get().then_some("true")
        >
            {children()}
        </form>
    }
}

/// The current value of the form's control `name`, whatever kind of control it is.
fn control_value(form: &leptos::web_sys::HtmlFormElement, name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let control = form.query_selector(&format!("[name=\"{name}\"]")).ok().flatten()?;
        js_sys::Reflect::get(&control, &leptos::wasm_bindgen::JsValue::from_str("value")).ok()?.as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (form, name);
        None
    }
}

/// Posts the form to a server function (`start_deploy`, `preview_request`) as a script does: its
/// answer is JSON, the value (Linode's login URL, the request preview) or the refusal (an
/// [`AppError`]), rather than a redirect.
#[cfg(feature = "hydrate")]
async fn post<T: serde::de::DeserializeOwned>(
    action: &str,
    form: &leptos::web_sys::HtmlFormElement,
) -> Result<T, String> {
    let unsent = || "The form could not be sent; please try again.".to_owned();
    let fields = leptos::web_sys::FormData::new_with_form(form).map_err(|_| unsent())?;
    let body = leptos::web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields).map_err(|_| unsent())?;
    let response = gloo_net::http::Request::post(action)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .map_err(|_| unsent())?
        .send()
        .await
        .map_err(|_| "The server could not be reached; check your connection and try again.".to_owned())?;
    if response.ok() {
        response.json::<T>().await.map_err(|_| unsent())
    } else {
        Err(match response.json::<crate::error::AppError>().await {
            Ok(refusal) => refusal.to_string(),
            Err(_) => format!("The server answered {}; please try again.", response.status()),
        })
    }
}

/// The region select: regions that cannot host the chosen plan are shown, disabled, with why.
#[island]
pub fn RegionSelect() -> impl IntoView {
    let choices = choices();
    let initial = choices.region.get_untracked();
    let groups = choices.catalog.with_value(|catalog| catalog.regions.clone());
    view! {
        <select
            id="region"
            name="region"
            required
            aria-describedby="region-error"
            aria-invalid=move || choices.region_error.get().is_some().to_string()
        >
            {groups.into_iter().map(|group| view! {
                <optgroup label=group.label>
                    {group.regions.into_iter().map(|region| {
                        let why = Memo::new({
                            let region = region.clone();
                            move |_| choices.plan_class.with(|class| region.unavailable_for(class))
                        });
                        let description = region.description();
                        view! {
                            <option value=region.id.clone() selected=region.id == initial disabled=move || why.get().is_some()>
                                {move || match why.get() {
                                    Some(why) => format!("{description} ({why})"),
                                    None => description.clone(),
                                }}
                            </option>
                        }
                    }).collect_view()}
                </optgroup>
            }).collect_view()}
        </select>
        <p id="region-error" class="field-error" role="alert">{move || choices.region_error.get()}</p>
    }
}

/// The label input and its inline check; `children` is the hint between them.
#[island]
pub fn LabelInput(children: Children) -> impl IntoView {
    let choices = choices();
    view! {
        <input
            id="label"
            name="label"
            type="text"
            autocomplete="off"
            spellcheck="false"
            maxlength="64"
            value=choices.label.get_untracked()
            aria-describedby="label-hint label-error"
            aria-invalid=move || choices.label_error.get().is_some().to_string()
        />
        {children()}
        <p id="label-error" class="field-error" role="alert">{move || choices.label_error.get()}</p>
    }
}

/// The SSH keys box and its inline check; `children` is the hint between them.
#[island]
pub fn SshKeysInput(children: Children) -> impl IntoView {
    let choices = choices();
    view! {
        <textarea
            id="ssh_keys"
            name="ssh_keys"
            rows="3"
            spellcheck="false"
            placeholder="ssh-ed25519 AAAAC3Nza… you@laptop"
            aria-describedby="keys-hint keys-error"
            aria-invalid=move || choices.keys_error.get().is_some().to_string()
        >{choices.ssh_keys.get_untracked()}</textarea>
        {children()}
        <p id="keys-error" class="field-error" role="alert">{move || choices.keys_error.get()}</p>
    }
}

/// What will be created and what it costs, following the choices.
#[island]
pub fn Summary() -> impl IntoView {
    let choices = choices();
    let chosen = move || {
        choices.catalog.with_value(|catalog| {
            let plan = catalog.plan(&choices.plan.get())?.clone();
            let region = catalog.region(&choices.region.get())?.clone();
            let image = catalog.image(&choices.image.get())?.label.clone();
            Some((plan, region, image))
        })
    };
    view! {
        <section class="summary" aria-labelledby="summary-heading" data-testid="summary">
            <h2 id="summary-heading">"Summary"</h2>
            {move || chosen().map(|(plan, region, image)| {
                let regional = plan.region_prices.iter().find(|(id, _)| *id == region.id).map(|(_, price)| price.clone());
                let note = regional.as_ref().filter(|_| !plan.per_region).map(|_| format!("Prices in {} differ from the base price ({}).", region.label, plan.price));
                view! {
                    <p>
                        "One Linode: " <strong>{plan.label}</strong> " (" {plan.specs} ") in "
                        <strong>{region.description()}</strong> ", running " <strong>{image}</strong> "."
                    </p>
                    <p class="price" aria-live="polite">
                        "Cost: " <strong data-testid="price">{regional.unwrap_or(plan.price)}</strong>
                        ", billed by Linode to your account until you delete it."
                    </p>
                    {note.map(|note| view! { <p class="hint" data-testid="regional-price">{note}</p> })}
                }
            })}
        </section>
    }
}

/// The server's refusal, if any, and the Deploy button: disabled while a check fails, and once
/// the form is on its way.
#[island]
pub fn DeployButton() -> impl IntoView {
    let choices = choices();
    view! {
        <p class="alert error" role="alert" data-testid="form-error" hidden=move || choices.refused.with(Option::is_none)>
            {move || choices.refused.get()}
        </p>
        <button type="submit" class="primary" disabled=move || choices.blocked()>
            {move || if choices.leaving.get() { "Going to Linode…" } else { "Deploy" }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{
        test_fixtures::{form as fixture, plan, region},
        DeployForm, PlanChoice, Price, RegionPrice,
    };

    fn form() -> DeployForm {
        let nanode = PlanChoice {
            label: "Nanode 1 GB".into(),
            price: Price { hourly: 0.0075, monthly: 5.0 },
            region_prices: vec![RegionPrice { region: "id-cgk".into(), price: Price { hourly: 0.009, monthly: 6.0 } }],
            ..plan("g6-nanode-1", "nanode")
        };
        let down = RegionChoice { outage: true, ..region("down", &["nanode"]) };
        fixture(vec![nanode], vec![region("us-east", &["nanode"]), region("gpu-only", &["gpu"]), down], vec![])
    }

    #[test]
    fn the_browser_gets_prices_and_specs_already_written() {
        let catalog = LiveCatalog::new(&form());
        let plan = catalog.plan("g6-nanode-1").expect("the plan");
        assert_eq!(plan.price, "$5/mo ($0.0075/hr)");
        assert_eq!(plan.region_prices, vec![("id-cgk".to_owned(), "$6/mo ($0.009/hr)".to_owned())]);
        assert_eq!(plan.specs, "1 vCPU, 1 GB RAM, 25 GB storage, 1 TB transfer");
        assert_eq!(catalog.image("linode/debian12").map(|image| image.label.as_str()), Some("Debian 12"));
    }

    #[test]
    fn regions_that_cannot_host_the_plan_say_why() {
        let catalog = LiveCatalog::new(&form());
        let class = &catalog.plan("g6-nanode-1").expect("the plan").class;
        let region = |id| catalog.region(id).expect("the region");
        assert_eq!(region("us-east").unavailable_for(class), None);
        assert_eq!(region("gpu-only").unavailable_for(class), Some("does not offer this plan"));
        assert_eq!(region("down").unavailable_for(class), Some("unavailable: outage"));
    }
}
