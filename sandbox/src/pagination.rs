//! Linode's list envelope `{data, page, pages, results}` with `page` (≥ 1) and `page_size`
//! (25–500, default 100), combined with the `X-Filter` header.

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::filter::Filter;

pub(crate) const DEFAULT_PAGE_SIZE: u64 = 100;
pub(crate) const MIN_PAGE_SIZE: u64 = 25;
pub(crate) const MAX_PAGE_SIZE: u64 = 500;

/// Filters, orders and paginates `items` as the request asks.
///
/// A page past the end returns the last page, as the spec narrative states for very large
/// page numbers; out-of-range parameters are a 400 whose wording is [undocumented].
pub(crate) fn list(
    items: Vec<Value>,
    filterable: &[&str],
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let page = number(query, "page", 1)?;
    if page < 1 {
        return Err(ApiError::field("page", "page must be 1 or more"));
    }
    let page_size = number(query, "page_size", DEFAULT_PAGE_SIZE)?;
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::field(
            "page_size",
            format!("page_size must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}"),
        ));
    }
    let items = match headers.get("x-filter") {
        Some(raw) => {
            let text = raw.to_str().map_err(|_| ApiError::field("X-Filter", "Filter must be a valid JSON object"))?;
            Filter::parse(text, filterable)?.apply(items)
        }
        None => items,
    };
    let results = items.len() as u64;
    let pages = results.div_ceil(page_size).max(1);
    let page = page.min(pages);
    let data: Vec<Value> = items.into_iter().skip(((page - 1) * page_size) as usize).take(page_size as usize).collect();
    Ok(json!({ "data": data, "page": page, "pages": pages, "results": results }))
}

fn number(query: &HashMap<String, String>, name: &str, default: u64) -> Result<u64, ApiError> {
    query.get(name).map_or(Ok(default), |raw| {
        raw.trim().parse().map_err(|_| ApiError::field(name, format!("{name} must be a positive integer")))
    })
}
