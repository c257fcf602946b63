//! Public catalog routes: types, regions, images and StackScripts. No token needed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::{public_caller, with_scope_headers, Scope};
use crate::errors::ApiError;
use crate::pagination::list;
use crate::state::AppState;

/// Filterable fields per collection (the spec's `x-linode-filterable` where it has them).
const TYPE_FIELDS: &[&str] = &["class", "disk", "gpus", "label", "memory", "network_out", "transfer", "vcpus"];
const REGION_FIELDS: &[&str] = &["id", "label", "country", "status", "site_type", "capabilities"];
const IMAGE_FIELDS: &[&str] =
    &["id", "label", "vendor", "deprecated", "is_public", "size", "status", "type", "created", "created_by", "eol"];
const STACKSCRIPT_FIELDS: &[&str] = &[
    "id",
    "label",
    "description",
    "username",
    "is_public",
    "mine",
    "images",
    "deployments_total",
    "deployments_active",
    "created",
    "updated",
    "rev_note",
];

const IMAGES_READ: Scope = Scope { resource: "images", write: false, header: "images:read_only" };
const STACKSCRIPTS_READ: Scope = Scope { resource: "stackscripts", write: false, header: "stackscripts:read_only" };

type Listing = Query<HashMap<String, String>>;

/// Serves a public JSON reply with the scope headers filled in.
fn public(
    app: &AppState,
    headers: &HeaderMap,
    accepted: Option<Scope>,
    body: impl FnOnce() -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let caller = public_caller(app, headers)?;
    Ok(with_scope_headers(Json(body()?).into_response(), caller.as_ref(), accepted))
}

pub(crate) async fn list_types(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Listing,
) -> Result<Response, ApiError> {
    public(&app, &headers, None, || {
        let items = app.catalog.types.iter().map(|t| t.json.clone()).collect();
        list(items, TYPE_FIELDS, &headers, &query)
    })
}

pub(crate) async fn get_type(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    public(&app, &headers, None, || app.catalog.plan_type(&id).map(|t| t.json.clone()).ok_or(ApiError::NotFound))
}

pub(crate) async fn list_regions(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Listing,
) -> Result<Response, ApiError> {
    public(&app, &headers, None, || {
        let items = app.catalog.regions.iter().map(|r| r.json.clone()).collect();
        list(items, REGION_FIELDS, &headers, &query)
    })
}

pub(crate) async fn get_region(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    public(&app, &headers, None, || app.catalog.region(&id).map(|r| r.json.clone()).ok_or(ApiError::NotFound))
}

pub(crate) async fn list_images(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Listing,
) -> Result<Response, ApiError> {
    public(&app, &headers, Some(IMAGES_READ), || {
        let items = app.catalog.images.iter().map(|i| i.json.clone()).collect();
        list(items, IMAGE_FIELDS, &headers, &query)
    })
}

fn image(app: &AppState, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    public(app, headers, Some(IMAGES_READ), || app.catalog.image(id).map(|i| i.json.clone()).ok_or(ApiError::NotFound))
}

/// `GET /images/linode%2Fdebian12` (the id percent-encoded into one segment).
pub(crate) async fn get_image(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    image(&app, &headers, &id)
}

/// `GET /images/linode/debian12` (the id's slash left as is, as linode_api4 sends it).
pub(crate) async fn get_image_by_parts(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    image(&app, &headers, &format!("{namespace}/{name}"))
}

/// Only public StackScripts exist in the sandbox, so the list is the same for everyone.
pub(crate) async fn list_stackscripts(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Listing,
) -> Result<Response, ApiError> {
    public(&app, &headers, Some(STACKSCRIPTS_READ), || {
        let items = app
            .catalog
            .stackscripts
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::NotFound)?;
        list(items, STACKSCRIPT_FIELDS, &headers, &query)
    })
}

/// Public StackScripts are readable without a token, or with any live token whatever its
/// scopes: the example app reads one with a `linodes:read_write` token (docs/LINODE.md, API v4).
pub(crate) async fn get_stackscript(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    public(&app, &headers, Some(STACKSCRIPTS_READ), || {
        id.parse()
            .ok()
            .and_then(|id| app.catalog.stackscript(id))
            .filter(|s| s.is_public)
            .ok_or(ApiError::NotFound)
            .and_then(|s| serde_json::to_value(s).map_err(|_| ApiError::NotFound))
    })
}
