//! `acekeys`: one process that serves the dashboard (server-side rendered
//! Leptos), the REST API and the key authority.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    init_tracing();
    let cli = server::cli::Cli::parse();
    match cli.run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("acekeys: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Structured logs on stderr; `RUST_LOG` overrides the default level and
/// `ACEKEYS_LOG_FORMAT=json` switches to one JSON object per line.
fn init_tracing() {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("ACEKEYS_LOG_FORMAT").is_ok_and(|format| format == "json");
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
