use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use deploy::DeployService;

/// The router state: Leptos' options plus the deploy service. `leptos_routes` provides it as
/// context to every page render and server function.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub deploy: Arc<DeployService>,
}
