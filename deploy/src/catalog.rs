//! The plans, regions and images the form offers, read from Linode's public API (no token) and
//! cached, so that a page view never waits on Linode once the cache is warm.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use linode::{ApiClient, Image, LinodeType, PlanClass, Region, StackScript, UserDefinedField};

use super::settings::DeploySettings;
use domain::{
    DeployForm, FieldKind, FieldSpec, ImageChoice, ImageGroup, PlanChoice, PlanGroup, Price, RegionChoice, RegionGroup,
    RegionPrice, SiteInfo,
};

/// After a failed refresh, try again this soon rather than after a whole TTL.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// One consistent snapshot of what Linode offers for this StackScript.
#[derive(Debug)]
pub struct Catalog {
    /// The form, prepared once per snapshot rather than once per page view; submitted forms are
    /// checked against it.
    pub form: DeployForm,
    /// True when the last refresh failed and this snapshot is older than it should be.
    pub stale: bool,
    /// Different for every snapshot this process stores (a stale copy included), so a page
    /// rendered from one can be cached under it.
    pub version: u64,
    refresh_after: Instant,
}

/// The next snapshot's [`Catalog::version`].
fn next_version() -> u64 {
    static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Catalog {
    fn build(
        site: SiteInfo,
        ttl: Duration,
        types: Vec<LinodeType>,
        regions: Vec<Region>,
        images: Vec<Image>,
        stackscript: Option<StackScript>,
    ) -> Self {
        // With user data, Linodes must read it: regions without the Metadata service and images
        // without cloud-init are shown disabled, with why.
        let cloud_init = site.cloud_config.is_some();
        let images = match &stackscript {
            Some(stackscript) => allowed_images(stackscript, images),
            // No StackScript to say which images: every public image that runs cloud-init.
            None => every_public_image(images).into_iter().filter(Image::runs_cloud_init).collect(),
        };
        let mut regions = region_groups(&regions, cloud_init);
        let plans = plan_groups(&types, &mut regions);
        let form = DeployForm {
            site,
            stackscript_label: stackscript.as_ref().map(|stackscript| stackscript.label.clone()),
            plans,
            regions,
            images: image_groups(images, time::OffsetDateTime::now_utc().date(), cloud_init),
            fields: stackscript
                .iter()
                .flat_map(|stackscript| &stackscript.user_defined_fields)
                .map(field_spec)
                .collect(),
            stale: false,
        };
        if !form.images.iter().flat_map(|group| &group.images).any(|image| image.unavailable().is_none()) {
            tracing::warn!(
                "no image on offer can be deployed: Linode lists none for the StackScript, or none of them runs cloud-init, which USER_DATA_FILE needs"
            );
        }
        Self { form, stale: false, version: next_version(), refresh_after: Instant::now() + ttl }
    }

    /// The same data, marked as out of date after a failed refresh.
    fn as_stale(&self) -> Self {
        Self {
            form: self.form.clone(),
            stale: true,
            version: next_version(),
            refresh_after: Instant::now() + RETRY_AFTER_FAILURE,
        }
    }
}

/// The StackScript's images that are public Linode images, in the StackScript's order;
/// `any/all` means every public image that is not deprecated.
fn allowed_images(stackscript: &StackScript, public: Vec<Image>) -> Vec<Image> {
    if stackscript.images.iter().any(|id| id == "any/all") {
        return every_public_image(public);
    }
    let mut by_id: HashMap<String, Image> = public.into_iter().map(|image| (image.id.clone(), image)).collect();
    stackscript.images.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// Every public image that is not deprecated, by label.
fn every_public_image(public: Vec<Image>) -> Vec<Image> {
    let mut all: Vec<Image> = public.into_iter().filter(|image| !image.deprecated).collect();
    all.sort_by(|a, b| a.label.cmp(&b.label));
    all
}

/// Images under their vendor, vendors in order of first appearance.
/// Images this long past their end of life are not offered (Cloud Manager's rule: six months).
const EOL_HIDDEN_AFTER: time::Duration = time::Duration::days(183);

/// `2026-11-01T04:00:00` → its date.
fn eol_date(eol: &str) -> Option<time::Date> {
    let mut parts = eol.get(..10)?.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    time::Date::from_calendar_date(year, month, day).ok()
}

/// The images by vendor, as of `today`: those more than six months past their end of life are
/// left out, and the others say when they are deprecated or near or past their end of life.
fn image_groups(images: Vec<Image>, today: time::Date, cloud_init: bool) -> Vec<ImageGroup> {
    let mut groups: Vec<ImageGroup> = Vec::new();
    for image in images {
        let eol = image.eol.as_deref().and_then(eol_date);
        if eol.is_some_and(|eol| today - eol > EOL_HIDDEN_AFTER) {
            continue;
        }
        let no_cloud_init = cloud_init && !image.runs_cloud_init();
        let label = match eol {
            Some(eol) if eol <= today => format!("{} (end of life since {eol})", image.label),
            _ if image.deprecated => format!("{} (deprecated)", image.label),
            Some(eol) if eol - today <= EOL_HIDDEN_AFTER => format!("{} (end of life on {eol})", image.label),
            _ => image.label,
        };
        let vendor = image.vendor.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "Other".to_owned());
        let mut choice = ImageChoice { id: image.id, label, no_cloud_init };
        // Shown, disabled, with the same words the server refuses it with.
        if let Some(why) = choice.unavailable() {
            choice.label = format!("{} ({why})", choice.label);
        }
        match groups.iter_mut().find(|group| group.vendor == vendor) {
            Some(group) => group.images.push(choice),
            None => groups.push(ImageGroup { vendor, images: vec![choice] }),
        }
    }
    groups
}

/// Plan classes in the order people compare them, with the names Linode's own pages use.
const CLASSES: [(PlanClass, &str); 7] = [
    (PlanClass::Nanode, "Shared CPU"),
    (PlanClass::Standard, "Shared CPU"),
    (PlanClass::Dedicated, "Dedicated CPU"),
    (PlanClass::Premium, "Premium CPU"),
    (PlanClass::HighMem, "High Memory"),
    (PlanClass::Gpu, "GPU"),
    (PlanClass::Accelerated, "Accelerated"),
];

/// The plans on offer, grouped by class, cheapest first, with the regions that sell each plan
/// priced only region by region marked (see [`offer_regional_plans`]).
fn plan_groups(types: &[LinodeType], regions: &mut [RegionGroup]) -> Vec<PlanGroup> {
    let mut choices: Vec<(usize, PlanChoice)> = types
        .iter()
        .map(|plan| {
            let rank = CLASSES.iter().position(|(class, _)| *class == plan.class).unwrap_or(CLASSES.len());
            (rank, plan_choice(plan))
        })
        .collect();
    offer_regional_plans(&mut choices, regions);
    choices.sort_by(|(a_rank, a), (b_rank, b)| {
        let monthly = |plan: &PlanChoice| plan.from_price().monthly;
        a_rank.cmp(b_rank).then(monthly(a).total_cmp(&monthly(b))).then(a.memory_mb.cmp(&b.memory_mb))
    });
    let mut groups: Vec<PlanGroup> = Vec::new();
    for (rank, choice) in choices {
        let label = CLASSES.get(rank).map_or("Other", |(_, label)| label);
        match groups.last_mut() {
            Some(group) if group.label == label => group.plans.push(choice),
            _ => groups.push(PlanGroup { label: label.to_owned(), plans: vec![choice] }),
        }
    }
    groups
}

fn plan_choice(plan: &LinodeType) -> PlanChoice {
    let price = |hourly: f64, monthly: f64| Price { hourly, monthly };
    PlanChoice {
        id: plan.id.clone(),
        label: plan.label.clone(),
        class: plan.class.as_str().to_owned(),
        vcpus: plan.vcpus,
        memory_mb: plan.memory,
        disk_mb: plan.disk,
        // The spec says MB, but the real values are GB: the Nanode's 1 TB is `1000` (fixture
        // `linode_types.json`).
        transfer_gb: plan.transfer,
        gpus: plan.gpus,
        price: price(plan.price.hourly, plan.price.monthly),
        region_prices: plan
            .region_prices
            .iter()
            .map(|p| RegionPrice { region: p.id.clone(), price: price(p.hourly, p.monthly) })
            .collect(),
    }
}

/// Linode lists some plans (GPU plans of 2026) with a base price of 0 and their real price only
/// per region. Such a plan is sold in the regions on offer that price it and host its class:
/// those offer the plan itself, its prices are kept for those regions alone (so "from $X" is a
/// price someone can pay), and a plan left with none is not offered rather than shown at "$0/mo".
fn offer_regional_plans(plans: &mut Vec<(usize, PlanChoice)>, regions: &mut [RegionGroup]) {
    plans.retain_mut(|(_, plan)| {
        if !plan.priced_per_region_only() {
            return true;
        }
        let offered_as = plan.offered_as();
        let mut sold_in = Vec::new();
        for region in regions.iter_mut().flat_map(|group| &mut group.regions) {
            let priced = plan.region_prices.iter().any(|price| price.region == region.id);
            if priced && region.classes.contains(&plan.class) {
                region.classes.push(offered_as.clone());
                sold_in.push(region.id.clone());
            }
        }
        plan.region_prices.retain(|price| sold_in.contains(&price.region));
        !plan.region_prices.is_empty()
    });
}

/// The plan classes a region can host: every class needs `Linodes`; GPU and Premium plans need
/// their own capability.
fn hosted_classes(region: &Region) -> Vec<String> {
    if !region.can_host_linodes() {
        return Vec::new();
    }
    let has = |capability: &str| region.capabilities.iter().any(|c| c == capability);
    CLASSES
        .iter()
        .map(|(class, _)| class)
        .filter(|class| match class {
            PlanClass::Gpu => has("GPU Linodes"),
            PlanClass::Premium => has("Premium Plans"),
            _ => true,
        })
        .map(|class| class.as_str().to_owned())
        .collect()
}

/// Parts of the world, in the order Linode's region picker lists them.
const AREAS: [(&str, &[&str]); 4] = [
    ("Americas", &["us", "ca", "br", "mx", "cl", "co"]),
    ("Europe", &["gb", "de", "fr", "nl", "se", "it", "es", "ie", "pl"]),
    ("Asia", &["in", "jp", "sg", "id", "kr", "hk"]),
    ("Oceania", &["au", "nz"]),
];

const COUNTRIES: [(&str, &str); 20] = [
    ("us", "United States"),
    ("ca", "Canada"),
    ("br", "Brazil"),
    ("mx", "Mexico"),
    ("gb", "United Kingdom"),
    ("de", "Germany"),
    ("fr", "France"),
    ("nl", "Netherlands"),
    ("se", "Sweden"),
    ("it", "Italy"),
    ("es", "Spain"),
    ("ie", "Ireland"),
    ("pl", "Poland"),
    ("in", "India"),
    ("jp", "Japan"),
    ("sg", "Singapore"),
    ("id", "Indonesia"),
    ("kr", "South Korea"),
    ("au", "Australia"),
    ("nz", "New Zealand"),
];

fn country_name(code: &str) -> String {
    let code = code.to_ascii_lowercase();
    COUNTRIES.iter().find(|(c, _)| *c == code).map_or_else(|| code.to_uppercase(), |(_, name)| (*name).to_owned())
}

/// Regions that can host Linodes, by part of the world and then by name. Regions in an outage
/// are kept, to be shown disabled with the reason. Distributed sites are left out: Linode runs
/// no StackScript there.
fn region_groups(regions: &[Region], cloud_init: bool) -> Vec<RegionGroup> {
    let area_of = |country: &str| {
        let country = country.to_ascii_lowercase();
        AREAS.iter().position(|(_, countries)| countries.contains(&country.as_str())).unwrap_or(AREAS.len())
    };
    let mut choices: Vec<(usize, RegionChoice)> = regions
        .iter()
        .filter(|region| region.can_host_linodes() && region.site_type.as_deref() != Some("distributed"))
        .map(|region| {
            let choice = RegionChoice {
                id: region.id.clone(),
                label: region.label.clone(),
                country: country_name(&region.country),
                classes: hosted_classes(region),
                outage: !region.status.is_ok(),
                no_metadata: cloud_init && !region.has_metadata(),
            };
            (area_of(&region.country), choice)
        })
        .collect();
    choices.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.description().cmp(&y.description())));
    let mut groups: Vec<RegionGroup> = Vec::new();
    for (area, choice) in choices {
        let label = AREAS.get(area).map_or("Other", |(label, _)| label);
        match groups.last_mut() {
            Some(group) if group.label == label => group.regions.push(choice),
            _ => groups.push(RegionGroup { label: label.to_owned(), regions: vec![choice] }),
        }
    }
    groups
}

fn field_spec(field: &UserDefinedField) -> FieldSpec {
    let kind = match (field.choices(), field.is_multiple_choice()) {
        (Some(choices), true) => FieldKind::ManyOf(choices),
        (Some(choices), false) => FieldKind::OneOf(choices),
        (None, _) if field.is_password() => FieldKind::Password,
        (None, _) => FieldKind::Text,
    };
    FieldSpec {
        name: field.name.clone(),
        label: if field.label.is_empty() { field.name.clone() } else { field.label.clone() },
        example: field.example.clone().filter(|e| !e.is_empty()),
        default: field.default.clone(),
        required: field.is_required(),
        kind,
    }
}

/// A read-through cache of the catalog with single-flight refreshes; an expired snapshot is still
/// served while a background task refreshes it, and kept (marked stale) when Linode is down.
#[derive(Clone)]
pub struct CatalogCache {
    inner: Arc<Inner>,
}

struct Inner {
    api: ApiClient,
    settings: DeploySettings,
    current: RwLock<Option<Arc<Catalog>>>,
    refreshing: tokio::sync::Mutex<()>,
}

/// Why there is no catalog to show: Linode could not be read and nothing was cached yet. The
/// adapters turn it into the page's message (`AppError::CatalogUnavailable`) and a 503.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogError {
    #[error("Linode's catalog could not be loaded ({reason})")]
    Unavailable { reason: String },
}

impl CatalogCache {
    pub fn new(api: ApiClient, settings: DeploySettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                api,
                settings,
                current: RwLock::new(None),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The current catalog. Waits on Linode only when nothing has ever been loaded.
    pub async fn get(&self) -> Result<Arc<Catalog>, CatalogError> {
        match self.cached() {
            Some(catalog) => {
                if Instant::now() >= catalog.refresh_after {
                    self.refresh_in_background();
                }
                Ok(catalog)
            }
            None => self.refresh().await,
        }
    }

    /// Loads the catalog ahead of the first page view.
    pub fn warm(&self) {
        self.refresh_in_background();
    }

    fn cached(&self) -> Option<Arc<Catalog>> {
        self.inner.current.read().ok().and_then(|current| current.clone())
    }

    fn refresh_in_background(&self) {
        let cache = self.clone();
        tokio::spawn(async move {
            // One refresh at a time; others keep serving the snapshot they have.
            if let Ok(_guard) = cache.inner.refreshing.try_lock() {
                let _ = cache.load_and_store().await;
            }
        });
    }

    async fn refresh(&self) -> Result<Arc<Catalog>, CatalogError> {
        let _guard = self.inner.refreshing.lock().await;
        // Whoever held the lock before may have just loaded it.
        if let Some(catalog) = self.cached() {
            return Ok(catalog);
        }
        self.load_and_store().await
    }

    async fn load_and_store(&self) -> Result<Arc<Catalog>, CatalogError> {
        let inner = &self.inner;
        let api = &inner.api;
        let started = Instant::now();
        let stackscript = async {
            match inner.settings.stackscript_id {
                Some(id) => api.stackscript(id).await.map(Some),
                None => Ok(None),
            }
        };
        let loaded = tokio::try_join!(api.types(), api.regions(), api.images(), stackscript);
        let catalog = match loaded {
            Ok((types, regions, images, stackscript)) => {
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "catalog loaded");
                super::metrics::catalog_loaded(true);
                let site = inner.settings.site_info();
                Arc::new(Catalog::build(site, inner.settings.catalog_ttl, types, regions, images, stackscript))
            }
            Err(error) => {
                tracing::warn!(%error, "catalog refresh failed");
                super::metrics::catalog_loaded(false);
                match self.cached() {
                    Some(previous) => Arc::new(previous.as_stale()),
                    None => return Err(CatalogError::Unavailable { reason: error.to_string() }),
                }
            }
        };
        if let Ok(mut current) = inner.current.write() {
            *current = Some(catalog.clone());
        }
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: &str, class: &str, monthly: f64) -> serde_json::Value {
        serde_json::json!({
            "id": id, "label": id, "class": class, "disk": 25600, "memory": 1024, "vcpus": 1, "gpus": 0,
            "transfer": 1000, "network_out": 1000, "price": { "hourly": monthly / 730.0, "monthly": monthly },
            "region_prices": [{ "id": "us-ord", "hourly": 2.5, "monthly": 1680.0 }], "addons": null, "successor": null
        })
    }

    #[test]
    fn plans_priced_only_per_region_are_offered_where_they_are_priced() {
        let mut unpriced = plan("g3-gpu-y", "gpu", 0.0);
        unpriced["region_prices"] = serde_json::json!([]);
        // Priced in us-ord (GPU), in ca-central (no GPU) and in a region not on offer.
        let mut gpu = plan("g3-gpu-x", "gpu", 0.0);
        gpu["region_prices"] = serde_json::json!([
            { "id": "us-ord", "hourly": 2.5, "monthly": 1680.0 },
            { "id": "ca-central", "hourly": 1.0, "monthly": 700.0 },
            { "id": "xx-gone", "hourly": 0.5, "monthly": 300.0 }
        ]);
        // Priced only where no region hosts GPU plans: sold nowhere.
        let mut stranded = plan("g3-gpu-z", "gpu", 0.0);
        stranded["region_prices"] = serde_json::json!([{ "id": "ca-central", "hourly": 1.0, "monthly": 700.0 }]);
        let types: Vec<LinodeType> =
            serde_json::from_value(serde_json::json!([plan("g6-nanode-1", "nanode", 5.0), gpu, unpriced, stranded]))
                .expect("types");
        let region = |id: &str, capabilities: &[&str]| serde_json::json!({ "id": id, "label": id, "country": "us", "capabilities": capabilities, "status": "ok" });
        let regions: Vec<Region> = serde_json::from_value(serde_json::json!([
            region("us-ord", &["Linodes", "GPU Linodes"]),
            region("us-east", &["Linodes", "GPU Linodes"]),
            region("ca-central", &["Linodes"])
        ]))
        .expect("regions");
        let mut regions = region_groups(&regions, false);
        let plans = plan_groups(&types, &mut regions);

        let offered: Vec<&str> = plans.iter().flat_map(|g| &g.plans).map(|p| p.id.as_str()).collect();
        assert_eq!(offered, ["g6-nanode-1", "g3-gpu-x"], "never at $0, nor where no region on offer sells it");
        let gpu = &plans[1].plans[0];
        assert_eq!(gpu.price_text(), "from $1680/mo ($2.50/hr), by region", "the lowest price someone can pay");
        let why = |id: &str| {
            regions
                .iter()
                .flat_map(|g| &g.regions)
                .find(|r| r.id == id)
                .and_then(|r| r.unavailable_for(&gpu.offered_as()))
        };
        assert_eq!(why("us-ord"), None, "priced there");
        assert_eq!(why("us-east"), Some("does not offer this plan"), "hosts GPUs, but does not price this plan");
        assert_eq!(why("ca-central"), Some("does not offer this plan"), "prices it, but hosts no GPU plan");
        let nanode = &plans[0].plans[0].offered_as();
        assert!(regions.iter().flat_map(|g| &g.regions).all(|r| r.unavailable_for(nanode).is_none()));
    }

    #[test]
    fn images_long_past_their_end_of_life_are_hidden_and_the_others_say_so() {
        let image = |id: &str, eol: Option<&str>, deprecated: bool| serde_json::json!({ "id": id, "label": id, "vendor": "V", "deprecated": deprecated, "eol": eol });
        let images: Vec<Image> = serde_json::from_value(serde_json::json!([
            image("fresh", Some("2030-06-30T04:00:00"), false),
            image("soon", Some("2027-03-01T04:00:00"), false),
            image("just-past", Some("2026-11-01T04:00:00"), false),
            image("long-past", Some("2025-11-19T05:00:00"), false),
            image("old-but-listed", None, true),
        ]))
        .expect("images");
        let today = time::Date::from_calendar_date(2026, time::Month::December, 4).expect("date");
        let labels: Vec<String> =
            image_groups(images, today, false).into_iter().flat_map(|g| g.images).map(|i| i.label).collect();
        assert_eq!(
            labels,
            [
                "fresh",
                "soon (end of life on 2027-03-01)",
                "just-past (end of life since 2026-11-01)",
                "old-but-listed (deprecated)"
            ]
        );
    }

    #[test]
    fn with_user_data_only_cloud_init_images_and_metadata_regions_are_offered() {
        let regions: Vec<Region> = serde_json::from_value(serde_json::json!([
            { "id": "us-east", "label": "Newark", "country": "us", "capabilities": ["Linodes", "Metadata"], "status": "ok" },
            { "id": "ap-northeast", "label": "Tokyo", "country": "jp", "capabilities": ["Linodes"], "status": "ok" }
        ]))
        .expect("regions");
        let image = |id: &str, capabilities: &[&str]| serde_json::json!({ "id": id, "label": id, "vendor": "V", "is_public": true, "capabilities": capabilities });
        let images: Vec<Image> = serde_json::from_value(serde_json::json!([
            image("linode/debian12", &["cloud-init"]),
            image("linode/gentoo", &[])
        ]))
        .expect("images");
        let stackscript: StackScript = serde_json::from_value(serde_json::json!({
            "id": 1, "label": "App", "images": ["linode/debian12", "linode/gentoo"], "user_defined_fields": []
        }))
        .expect("stackscript");
        let site = |cloud_config: Option<&str>| SiteInfo {
            app_name: "App".into(),
            sandbox: true,
            app_ports: None,
            cloud_config: cloud_config.map(str::to_owned),
        };
        let ttl = Duration::from_secs(60);
        let build = |cloud_config, stackscript: Option<StackScript>| {
            Catalog::build(site(cloud_config), ttl, vec![], regions.clone(), images.clone(), stackscript).form
        };

        // A StackScript alone: everything offered, as before.
        let form = build(None, Some(stackscript.clone()));
        assert!(form.image("linode/gentoo").is_some_and(|image| image.unavailable().is_none()));
        assert_eq!(form.region("ap-northeast").and_then(|region| region.unavailable_for("nanode")), None);
        // With user data: shown, disabled, with why.
        let form = build(Some("#cloud-config\n"), Some(stackscript));
        let gentoo = form.image("linode/gentoo").expect("still listed");
        assert_eq!(
            (gentoo.unavailable(), gentoo.label.as_str()),
            (Some("does not run cloud-init"), "linode/gentoo (does not run cloud-init)")
        );
        assert!(form.region("ap-northeast").is_some_and(|region| region.no_metadata));
        assert!(form.region("us-east").is_some_and(|region| !region.no_metadata));
        // User data alone: the public images that run cloud-init, no StackScript inputs.
        let form = build(Some("#cloud-config\n"), None);
        let offered: Vec<&str> = form.images.iter().flat_map(|g| &g.images).map(|i| i.id.as_str()).collect();
        assert_eq!((offered, form.stackscript_label, form.fields.len()), (vec!["linode/debian12"], None, 0));
    }

    #[test]
    fn distributed_sites_are_not_offered() {
        let region = |id: &str, site: &str| serde_json::json!({ "id": id, "label": id, "country": "us", "capabilities": ["Linodes"], "status": "ok", "site_type": site });
        let regions: Vec<Region> = serde_json::from_value(serde_json::json!([
            region("us-east", "core"),
            region("us-den-edge-1", "distributed")
        ]))
        .expect("regions");
        let offered: Vec<String> =
            region_groups(&regions, false).into_iter().flat_map(|g| g.regions).map(|r| r.id).collect();
        assert_eq!(offered, ["us-east"]);
    }
}
