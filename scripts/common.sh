# Shared settings for scripts/run, scripts/test and scripts/setup.
# Sourced, not executed.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

# Pinned tool versions. wasm-bindgen-cli must equal the workspace's
# `wasm-bindgen = "=X"`; cargo-leptos 0.3.11+ does not build on rustc 1.95.
CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$REPO_ROOT/Cargo.toml")"

# Build output lives outside the clone so fresh clones (CI) reuse it.
ACEKEYS_CACHE="${ACEKEYS_CACHE:-$HOME/.cache/acekeys}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ACEKEYS_CACHE/target}"
# Incremental state for the workspace crates grew past 40 GB on the shared
# target dir and filled the disk; the scripts build each crate once anyway.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export PATH="$HOME/.cargo/bin:$REPO_ROOT/node_modules/.bin:$PATH"
# cargo-leptos writes the site (WASM, JS, CSS, assets) here; the server reads it.
export LEPTOS_SITE_ROOT="$REPO_ROOT/target/site"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
