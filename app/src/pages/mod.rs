//! One file per page: the form, the result of a deployment, and the 404.

pub mod deploy_form;
pub mod deployment;
pub mod not_found;
