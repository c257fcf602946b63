use std::sync::Arc;

use leptos::prelude::use_context;

use deploy::DeployService;

use super::AppState;
use crate::error::AppError;

/// The deploy service of the running server, as provided by `leptos_routes`.
pub fn deploy() -> Result<Arc<DeployService>, AppError> {
    use_context::<AppState>()
        .map(|state| state.deploy)
        .ok_or_else(|| AppError::Transport("the server's state is not available here".into()))
}
