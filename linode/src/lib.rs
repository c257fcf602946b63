//! A typed client for the two Linode services the deploy flow talks to:
//!
//! * the login server (`login.linode.com`): [`LoginClient`] builds the authorize URL, exchanges a
//!   code for a token and revokes tokens — the Rust counterpart of `linode_api4`'s
//!   `LinodeLoginClient`;
//! * API v4 (`api.linode.com/v4`): [`ApiClient`] reads the public catalog without a token and
//!   creates and reads Linodes with one — the counterpart of `LinodeClient`.
//!
//! Secrets (client secret, access and refresh tokens, root passwords) are `secrecy` types whose
//! `Debug` is redacted, and no error message ever includes one.

mod api;
mod error;
mod http;
mod login;
mod models;
mod scopes;
mod secrets;

pub use api::ApiClient;
pub use error::{ApiError, FieldError, LoginError};
pub use http::{http_client, http_client_with_timeouts, Timeouts};
pub use login::{LoginClient, OAuthClientCredentials, PkceVerifier, TokenGrant};
pub use models::{
    CreateFirewall, CreateInstance, Firewall, FirewallAddresses, FirewallRule, FirewallRules, GlobalGrants, Grants,
    Image, Instance, InstanceMetadata, InterfaceGeneration, LinodeType, NewInterface, Page, PlanClass, Price, Profile,
    Region, RegionPrice, RegionStatus, Specs, StackScript, UserDefinedField,
};
pub use scopes::{ScopeLevel, Scopes};
pub use secrets::{AccessToken, RefreshToken};
