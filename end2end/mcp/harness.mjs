// Starts the real processes for one MCP client test: a seeded data dir
// (the `seed` example), the `acekeys` server on it, and `wiki-mcp` in local
// or remote mode. Paths come from the environment (scripts/test-mcp sets them).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run scripts/test-mcp`);
  return v;
};

function start(bin, args, env, prefix, log) {
  const out = openSync(log, "a");
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", out] });
  const lines = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin}: no "${prefix}" line (see ${log})`)), 60_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      if (line.startsWith(prefix)) {
        clearTimeout(timer);
        resolve({ child, url: line.slice(prefix.length).trim(), lines });
      }
    });
    child.on("exit", (code) => reject(new Error(`${bin} exited with ${code} (see ${log})`)));
  });
}

/// `authorityEnv`: extra environment for the acekeys server.
export async function setup(mode, authorityEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), `acekeys-mcp-${mode}-`));
  const keys = JSON.parse(execFileSync(need("SEED_BIN"), [dir], { encoding: "utf8" }));
  const env = { ACEKEYS_DATA_DIR: dir, LEPTOS_SITE_ADDR: "127.0.0.1:0", RUST_LOG: "info", ...authorityEnv };
  const acekeys = await start(need("ACEKEYS_BIN"), ["serve"], env, "acekeys listening on ", join(dir, "acekeys.log"));
  // The seed's org; /status on its own (loopback) listener, announced before "listening".
  const args = (mode === "local"
    ? ["--addr", "127.0.0.1:0", "--data-dir", dir, "--org", "acme"]
    : ["--addr", "127.0.0.1:0", "--authority", acekeys.url, "--spool-dir", join(dir, "spool")])
    .concat(["--status-addr", "127.0.0.1:0"]);
  const wiki = await start(need("WIKI_MCP_BIN"), args,
    { RUST_LOG: "info", WIKI_MCP_SERVICE_KEY: keys.service }, "wiki-mcp listening on ", join(dir, "wiki.log"));
  const base = acekeys.url;
  const statusPrefix = "wiki-mcp status on ";
  const statusLine = wiki.lines.find((l) => l.startsWith(statusPrefix));
  if (!statusLine) throw new Error(`wiki-mcp printed no "${statusPrefix}" line`);
  const statusUrl = statusLine.slice(statusPrefix.length).trim();
  const status = async () => (await fetch(statusUrl)).json();
  if (mode === "remote") {
    await until(async () => (await status()).guard.stream_connected === true, "revocation stream");
  }
  const api = async (path, init = {}) => {
    const r = await fetch(base + path, {
      ...init,
      headers: { authorization: `Bearer ${keys.admin}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });
    return { status: r.status, body: await r.json() };
  };
  const others = [];
  return {
    keys, mcpUrl: wiki.url, authorityUrl: base, dir, status, api,
    /// Another wiki-mcp (remote mode) on the same authority: another resource.
    async otherWiki() {
      const other = await start(need("WIKI_MCP_BIN"),
        ["--addr", "127.0.0.1:0", "--authority", acekeys.url, "--spool-dir", join(dir, `spool-${others.length}`)],
        { RUST_LOG: "info", WIKI_MCP_SERVICE_KEY: keys.service }, "wiki-mcp listening on ", join(dir, `wiki-${others.length}.log`));
      others.push(other.child);
      return other.url;
    },
    /// Every tool-call event of org acme, after the spool drained (remote).
    async toolEvents() {
      if (mode === "remote") await until(async () => (await status()).guard.spool_pending === 0, "spool drained");
      const { body } = await api("/api/v1/audit?kind=tool_call&limit=1000");
      return body.events;
    },
    async stop() {
      others.forEach((c) => c.kill());
      wiki.child.kill();
      acekeys.child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(check, what, ms = 15_000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
