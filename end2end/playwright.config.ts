// Playwright drives Debian's Chromium (/usr/bin/chromium): `npx playwright
// install` downloads a browser and cannot work on machines without internet.
// The server under test is the release build, started by Playwright on the
// port and with the throwaway data dir that scripts/test chose.
import { defineConfig } from "@playwright/test";

const port = process.env.ACEKEYS_E2E_PORT ?? "3000";
const baseURL = `http://127.0.0.1:${port}`;
const binary = process.env.ACEKEYS_BIN;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: binary
    ? {
        // Bootstraps the test orgs (keys written to the data dir) before
        // the server starts: Playwright starts webServer before globalSetup.
        command: `sh ${__dirname}/tests/support/serve.sh`,
        url: `${baseURL}/healthz`,
        timeout: 60_000,
        reuseExistingServer: false,
        stdout: "pipe",
        stderr: "pipe",
        env: {
          LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
          LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? "target/site",
          LEPTOS_OUTPUT_NAME: "acekeys",
          LEPTOS_SITE_PKG_DIR: "pkg",
          LEPTOS_ENV: "PROD",
          ACEKEYS_DATA_DIR: process.env.ACEKEYS_DATA_DIR ?? "",
          ACEKEYS_BIN: binary,
        },
      }
    : undefined,
});
