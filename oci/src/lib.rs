//! `pwoci`: deterministic OCI images for proxy-wasm plug-ins, the layout gate gateways' rules imply, a blocking
//! registry client (push, pull-verify) and WasmPlugin manifest rendering. See README.md.

pub mod auth;
mod canonical;
mod client;
mod digest;
mod error;
pub mod gate;
mod image;
mod layout;
mod reference;
pub mod schema;
pub mod testing;
pub mod wasm;
pub mod wasmplugin;

pub use auth::{CredentialSource, Credentials, Secret};
pub use canonical::{canonical_value, parse_rfc3339, rfc3339, to_canonical_json};
pub use client::{Client, ClientOptions, Verified};
pub use digest::Digest;
pub use error::{Error, Result};
pub use gate::{gate, GateError, GateOptions, GateReport};
pub use image::{
    is_stable_semver, media, package, Annotations, Descriptor, Format, Image, Manifest,
    PackageInput,
};
pub use layout::{
    layout_tar, read_layout, validate_tag, write_layout, write_layout_tar, LayoutOptions,
    OCI_LAYOUT,
};
pub use reference::{is_loopback_host, Reference};
pub use schema::{parse_spec_yaml, PluginMeta};
pub use wasmplugin::{render as render_wasm_plugin, validate_config, Gateway, WasmPluginInput};
