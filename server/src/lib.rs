//! The acekeys server: the dashboard (Leptos SSR), the REST API and the key
//! authority in one process. `main.rs` only parses the command line; the
//! pieces live here so integration tests and benchmarks can reach them.

pub mod api;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod export;
mod html;
pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod routes;
pub mod security;
pub mod startup;
