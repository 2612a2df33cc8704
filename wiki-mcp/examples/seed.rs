//! Seeds an empty acekeys data directory for the MCP client tests (TS and
//! Python): org `acme` and one key per case, including an expired one
//! (minted with a clock set two days back) that the REST API cannot make.
//! Prints the keys as JSON on stdout.
//!
//! ```text
//! cargo run -p wiki-mcp --example seed -- DATA_DIR
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

#[tokio::main]
async fn main() {
    let dir = std::env::args().nth(1).expect("usage: seed DATA_DIR");
    std::fs::create_dir_all(&dir).expect("create data dir");
    let seed = common::Seed::at(std::path::Path::new(&dir)).await;
    let unknown = authority::keys::generate(authority::Env::Live);
    println!(
        "{}",
        serde_json::json!({
            "admin": seed.admin,
            "reader": seed.reader,
            "writer": seed.writer,
            "revoked": seed.revoked,
            "expired": seed.expired,
            "test_env": seed.test_env,
            "service": seed.service,
            "unknown": unknown.raw.expose_secret(),
        })
    );
}
