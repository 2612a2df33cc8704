//! Seeds an empty acekeys data directory for the MCP client tests (TS and
//! Python): org `acme` and one key per case, including an expired one
//! (minted with a clock set two days back) that the REST API cannot make.
//! Prints the keys as JSON on stdout.
//!
//! With a second argument, also adds a webhook endpoint at that URL (before
//! the server starts, so it receives what the server's first expiry scan
//! finds) and prints its id and secret.
//!
//! ```text
//! cargo run -p wiki-mcp --example seed -- DATA_DIR [WEBHOOK_URL]
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use authority::time::Clock as _;

#[tokio::main]
async fn main() {
    let dir = std::env::args().nth(1).expect("usage: seed DATA_DIR");
    std::fs::create_dir_all(&dir).expect("create data dir");
    let seed = common::Seed::at(std::path::Path::new(&dir)).await;
    let webhook = match std::env::args().nth(2) {
        None => serde_json::Value::Null,
        Some(url) => {
            // The seed's clock stands still: step past the changes above,
            // which happened before the endpoint existed.
            seed.clock.set(authority::time::Timestamp::from_millis(
                seed.clock.now().as_millis() + 1,
            ));
            let created = seed
                .auth
                .create_webhook(
                    &seed.admin_ctx,
                    model::wire::WebhookRequest {
                        url,
                        events: Vec::new(),
                        description: Some("seeded test receiver".into()),
                    },
                )
                .await
                .expect("create the webhook");
            serde_json::json!({"id": created.webhook.id, "secret": created.secret})
        }
    };
    let unknown = authority::keys::generate(authority::Env::Live);
    println!(
        "{}",
        serde_json::json!({
            "admin": seed.admin,
            "reader": seed.reader,
            "writer": seed.writer,
            "revoked": seed.revoked,
            "expired": seed.expired,
            "expiring_id": seed.expiring_id,
            "test_env": seed.test_env,
            "service": seed.service,
            "unknown": unknown.raw.expose_secret(),
            "webhook": webhook,
        })
    );
}
