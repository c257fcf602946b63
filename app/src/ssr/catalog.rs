//! The plans, regions and images the form offers, read from Linode's public API (no token) and
//! cached, so that a page view never waits on Linode once the cache is warm.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use linode::{ApiClient, Image, LinodeType, Region, StackScript};

use super::DeploySettings;
use crate::{
    error::AppError,
    model::{DeployForm, ImageChoice, PlanChoice, PlanGroup, RegionChoice, SiteInfo},
};

/// After a failed refresh, try again this soon rather than after a whole TTL.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// One consistent snapshot of what Linode offers for this StackScript.
#[derive(Debug)]
pub struct Catalog {
    /// The form, prepared once per snapshot rather than once per page view.
    pub form: DeployForm,
    /// True when the last refresh failed and this snapshot is older than it should be.
    pub stale: bool,
    pub stackscript: StackScript,
    types: HashMap<String, LinodeType>,
    regions: HashMap<String, Region>,
    images: HashMap<String, Image>,
    refresh_after: Instant,
}

impl Catalog {
    pub fn plan(&self, id: &str) -> Option<&LinodeType> {
        self.types.get(id)
    }

    /// A region the form offers: it exists, hosts Linodes and is not in an outage.
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.get(id)
    }

    /// An image the StackScript accepts and Linode publishes.
    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.get(id)
    }

    fn build(
        site: SiteInfo,
        ttl: Duration,
        types: Vec<LinodeType>,
        regions: Vec<Region>,
        images: Vec<Image>,
        stackscript: StackScript,
    ) -> Self {
        let regions: Vec<Region> = regions.into_iter().filter(offers_linodes).collect();
        let images = allowed_images(&stackscript, images);
        let form = DeployForm {
            site,
            stackscript_label: stackscript.label.clone(),
            plans: plan_groups(&types),
            regions: region_choices(&regions),
            images: images
                .iter()
                .map(|image| ImageChoice { id: image.id.clone(), label: image.label.clone() })
                .collect(),
            stale: false,
        };
        Self {
            form,
            stale: false,
            types: types.into_iter().map(|t| (t.id.clone(), t)).collect(),
            regions: regions.into_iter().map(|r| (r.id.clone(), r)).collect(),
            images: images.into_iter().map(|i| (i.id.clone(), i)).collect(),
            stackscript,
            refresh_after: Instant::now() + ttl,
        }
    }

    /// The same data, marked as out of date after a failed refresh.
    fn as_stale(&self) -> Self {
        Self {
            form: self.form.clone(),
            stale: true,
            stackscript: self.stackscript.clone(),
            types: self.types.clone(),
            regions: self.regions.clone(),
            images: self.images.clone(),
            refresh_after: Instant::now() + RETRY_AFTER_FAILURE,
        }
    }
}

fn offers_linodes(region: &Region) -> bool {
    region.status == "ok" && region.can_host_linodes()
}

/// The StackScript's images that are public Linode images, in the StackScript's order;
/// `any/all` means every public image that is not deprecated.
fn allowed_images(stackscript: &StackScript, public: Vec<Image>) -> Vec<Image> {
    if stackscript.images.iter().any(|id| id == "any/all") {
        let mut all: Vec<Image> = public.into_iter().filter(|image| !image.deprecated).collect();
        all.sort_by(|a, b| a.label.cmp(&b.label));
        return all;
    }
    let mut by_id: HashMap<String, Image> =
        public.into_iter().map(|image| (image.id.clone(), image)).collect();
    stackscript.images.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// Plan classes in the order people compare them, with the names Linode's own pages use.
const CLASSES: [(&str, &str); 7] = [
    ("nanode", "Shared CPU"),
    ("standard", "Shared CPU"),
    ("dedicated", "Dedicated CPU"),
    ("premium", "Premium CPU"),
    ("highmem", "High Memory"),
    ("gpu", "GPU"),
    ("accelerated", "Accelerated"),
];

fn class_label(class: &str) -> &'static str {
    CLASSES.iter().find(|(id, _)| *id == class).map_or("Other", |(_, label)| label)
}

fn plan_groups(types: &[LinodeType]) -> Vec<PlanGroup> {
    let mut sorted: Vec<&LinodeType> = types.iter().collect();
    let rank = |t: &LinodeType| CLASSES.iter().position(|(id, _)| *id == t.class).unwrap_or(CLASSES.len());
    sorted.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.price.monthly.total_cmp(&b.price.monthly))
            .then(a.memory.cmp(&b.memory))
    });
    let mut groups: Vec<PlanGroup> = Vec::new();
    for plan in sorted {
        let label = class_label(&plan.class);
        let choice = PlanChoice { id: plan.id.clone(), description: describe_plan(plan) };
        match groups.last_mut() {
            Some(group) if group.label == label => group.plans.push(choice),
            _ => groups.push(PlanGroup { label: label.to_string(), plans: vec![choice] }),
        }
    }
    groups
}

pub fn describe_plan(plan: &LinodeType) -> String {
    let gpus = if plan.gpus > 0 { format!(", {} GPU", plan.gpus) } else { String::new() };
    format!(
        "{} — {} vCPU, {} RAM, {} storage{gpus} — {}/mo",
        plan.label,
        plan.vcpus,
        gigabytes(plan.memory),
        gigabytes(plan.disk),
        dollars(plan.price.monthly),
    )
}

fn gigabytes(megabytes: u64) -> String {
    if megabytes % 1024 == 0 {
        format!("{} GB", megabytes / 1024)
    } else {
        format!("{:.1} GB", megabytes as f64 / 1024.0)
    }
}

fn dollars(amount: f64) -> String {
    if amount.fract() == 0.0 { format!("${amount:.0}") } else { format!("${amount:.2}") }
}

fn region_choices(regions: &[Region]) -> Vec<RegionChoice> {
    let mut choices: Vec<RegionChoice> = regions
        .iter()
        .map(|region| RegionChoice {
            id: region.id.clone(),
            description: format!("{} ({})", region.label, region.country.to_uppercase()),
        })
        .collect();
    choices.sort_by(|a, b| a.description.cmp(&b.description));
    choices
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
    pub async fn get(&self) -> Result<Arc<Catalog>, AppError> {
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

    async fn refresh(&self) -> Result<Arc<Catalog>, AppError> {
        let _guard = self.inner.refreshing.lock().await;
        // Whoever held the lock before may have just loaded it.
        if let Some(catalog) = self.cached() {
            return Ok(catalog);
        }
        self.load_and_store().await
    }

    async fn load_and_store(&self) -> Result<Arc<Catalog>, AppError> {
        let inner = &self.inner;
        let api = &inner.api;
        let started = Instant::now();
        let loaded = tokio::try_join!(
            api.types(),
            api.regions(),
            api.images(),
            api.stackscript(inner.settings.stackscript_id),
        );
        let catalog = match loaded {
            Ok((types, regions, images, stackscript)) => {
                tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "catalog loaded");
                let site = SiteInfo { app_name: inner.settings.app_name.clone(), sandbox: inner.settings.sandbox };
                Arc::new(Catalog::build(site, inner.settings.catalog_ttl, types, regions, images, stackscript))
            }
            Err(error) => {
                tracing::warn!(%error, "catalog refresh failed");
                match self.cached() {
                    Some(previous) => Arc::new(previous.as_stale()),
                    None => return Err(AppError::CatalogUnavailable { reason: error.to_string() }),
                }
            }
        };
        if let Ok(mut current) = inner.current.write() {
            *current = Some(catalog.clone());
        }
        Ok(catalog)
    }
}
