//! REST API integration tests: each test starts the real `acekeys` binary
//! on port 0 with a fresh data directory and talks to it over a real
//! socket. One module per endpoint group.

mod harness;

mod attacks;
mod audit;
mod cli;
mod cluster;
mod fuzz;
mod guarantees;
mod introspect;
mod keys;
mod leaks;
mod limits;
mod meta;
mod oauth;
mod oauth_documents;
mod org_settings;
mod revocations;
mod webhooks;
