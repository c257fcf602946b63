import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// The server under test: the release build, on its embedded Linode sandbox, on its own port.
const PORT = Number(process.env.E2E_PORT ?? 3100);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
// A second server whose StackScript has inputs of every kind (the sandbox's 320827).
const FIELDS_PORT = PORT + 1;
export const FIELDS_URL = `http://127.0.0.1:${FIELDS_PORT}`;
// A third whose app cloud-init installs alone (USER_DATA_FILE, no StackScript).
const CLOUD_INIT_PORT = PORT + 2;
export const CLOUD_INIT_URL = `http://127.0.0.1:${CLOUD_INIT_PORT}`;
export const CLOUD_CONFIG = "#cloud-config\npackages: [nginx]\nruncmd:\n  - systemctl enable --now nginx\n";
// Each server's embedded sandbox serves its admin endpoints on a loopback port of its own.
const adminPort = (port: number) => port + 100;
export const SANDBOX_ADMIN: Record<string, string> = {
  [BASE_URL]: `http://127.0.0.1:${adminPort(PORT)}`,
  [FIELDS_URL]: `http://127.0.0.1:${adminPort(FIELDS_PORT)}`,
  [CLOUD_INIT_URL]: `http://127.0.0.1:${adminPort(CLOUD_INIT_PORT)}`,
};
// Set only by scripts/proxy-check/run.sh: the release server behind Debian's nginx over https
// (its own server and sandbox, started by that script). Then only tests/proxy.spec.ts runs, and
// it runs nowhere else.
export const PROXY_BASE_URL = process.env.PROXY_BASE_URL;
if (PROXY_BASE_URL && process.env.PROXY_SANDBOX_ADMIN) SANDBOX_ADMIN[PROXY_BASE_URL] = process.env.PROXY_SANDBOX_ADMIN;
// The release server is copied alone into an empty directory and run from there: the binary
// carries the whole site (issue 12). Made once per run; the workers inherit the variable.
if (!PROXY_BASE_URL) process.env.E2E_BINARY_DIR ??= aloneBinary();
export const BINARY_DIR = process.env.E2E_BINARY_DIR;
// Where the same build left the site on disk, to compare what the binary serves with.
export const SITE_DIR = path.resolve(__dirname, "../target/site");

function aloneBinary(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iol-e2e-binary-"));
  fs.copyFileSync(path.resolve(__dirname, "../target/release/server"), path.join(dir, "server"));
  fs.chmodSync(path.join(dir, "server"), 0o755);
  return dir;
}

// Known only to this test run, so a test can prove it never reaches the browser.
export const CLIENT_SECRET = "e2e-client-secret-" + "9f1c".repeat(12);

const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--disable-gpu",
      "--disable-quic",
      "--disable-sync",
      "--disable-background-networking",
      // The proxy check's throwaway certificate, trusted by its public key (nothing else is).
      ...(process.env.PROXY_CERT_SPKI ? [`--ignore-certificate-errors-spki-list=${process.env.PROXY_CERT_SPKI}`] : []),
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  // The tests share one server and its sandbox, and assert on what the sandbox recorded.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"], ["./summary-reporter.ts", { label: process.env.PLAYWRIGHT_SUMMARY_LABEL ?? "playwright" }]],
  use: { baseURL: PROXY_BASE_URL ?? BASE_URL, trace: "retain-on-failure" },
  projects: PROXY_BASE_URL
    ? [{ name: "proxy", use: { ...chromium }, testMatch: /proxy\.spec\.ts/ }]
    : [
        { name: "hydrated", use: { ...chromium }, testIgnore: [/.*\.nojs\.spec\.ts/, /proxy\.spec\.ts/] },
        {
          name: "no-javascript",
          use: { ...chromium, javaScriptEnabled: false },
          testMatch: /.*\.nojs\.spec\.ts/,
        },
      ],
  webServer: PROXY_BASE_URL
    ? []
    : [
        server(PORT, {}),
        server(FIELDS_PORT, { LINODE_STACKSCRIPT_ID: "320827", APP_NAME: "Web Stack" }),
        server(CLOUD_INIT_PORT, { USER_DATA_FILE: cloudConfigFile(), APP_NAME: "Nginx by cloud-init" }),
      ],
});

/** The cloud-config the third server sends, in a file of its own, as an operator keeps one. */
function cloudConfigFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "iol-e2e-cloud-init-")), "cloud-config.yaml");
  fs.writeFileSync(file, CLOUD_CONFIG);
  return file;
}

/** The release server, alone in its directory, on its embedded sandbox; `extra` overrides its
 * environment. Nothing tells it where a site is: it serves the one compiled into it. */
function server(port: number, extra: Record<string, string>) {
  return {
    // Without the LEPTOS_* variables scripts/env.sh exports for builds.
    command: "env -u LEPTOS_OUTPUT_NAME -u LEPTOS_SITE_ROOT -u LEPTOS_SITE_PKG_DIR ./server",
    cwd: BINARY_DIR,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      SANDBOX_ADMIN_ADDR: `127.0.0.1:${adminPort(port)}`,
      // A fresh store per run (the default would be end2end/data).
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `iol-e2e-${port}-`)),
      LEPTOS_ENV: "PROD",
      APP_NAME: "Demo App",
      SANDBOX_CLIENT_SECRET: CLIENT_SECRET,
      SANDBOX_PROVISIONING_SECS: "2",
      SANDBOX_BOOTING_SECS: "2",
      RUST_LOG: "info",
      // Every test deploys from 127.0.0.1; the per-address limits are tested in server/tests.
      RATE_LIMIT_DEPLOYS_PER_MINUTE: "0",
      RATE_LIMIT_CALLBACKS_PER_MINUTE: "0",
      // The demo app answers 4 s after `running`; a check gives up after 8 s, so the
      // never-ready path ends within a test.
      SANDBOX_APP_READY_SECS: "4",
      READY_TIMEOUT_SECS: "8",
      ...extra,
    },
  };
}
