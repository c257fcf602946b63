import { test, expect } from "@playwright/test";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { BASE_URL, BINARY_DIR, SITE_DIR } from "../playwright.config";
import { openForm } from "./helpers";

// Issue 12: the release binary, copied alone into an empty directory, serves the whole site from
// memory: every file the build wrote, in each stored form, byte for byte, with its length, ETag
// and caching. The other specs run against this same binary.

type Raw = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

/** A GET that decodes nothing, so the test sees the bytes that were sent. */
function get(url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

const sha256 = (bytes: Buffer) => crypto.createHash("sha256").update(bytes).digest("hex");

/** Every file under `dir`, relative to it. */
function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

test("the server runs from a directory that holds nothing but the binary", async () => {
  expect(fs.readdirSync(BINARY_DIR!)).toEqual(["server"]);
  const page = await get(`${BASE_URL}/`);
  expect(page.status).toBe(200);
  expect(page.body.toString()).toContain("deploy-heading");
});

test("every file of the build is served from the binary in each stored form, with length, ETag and caching", async () => {
  const built = files(SITE_DIR);
  const originals = built.filter((file) => !file.endsWith(".br") && !file.endsWith(".gz"));
  expect(originals.length).toBeGreaterThan(4);
  for (const file of originals) {
    const url = `${BASE_URL}/${file}`;
    const hashed = /\.[A-Za-z0-9_-]{22}\./.test(path.basename(file));
    const forms: [string, string | undefined, string][] = [["identity", undefined, file]];
    if (built.includes(`${file}.br`)) forms.push(["br", "br", `${file}.br`]);
    if (built.includes(`${file}.gz`)) forms.push(["gzip", "gzip", `${file}.gz`]);
    const etags = new Set<string>();
    for (const [accept, encoding, stored] of forms) {
      const response = await get(url, { "accept-encoding": accept });
      expect(response.status, url).toBe(200);
      expect(response.headers["content-encoding"], `${url} ${accept}`).toBe(encoding);
      expect(sha256(response.body), `${url} ${accept}`).toBe(sha256(fs.readFileSync(path.join(SITE_DIR, stored))));
      expect(Number(response.headers["content-length"]), url).toBe(response.body.length);
      expect(response.headers["cache-control"], url).toBe(hashed ? "public, max-age=31536000, immutable" : "no-cache");
      const etag = response.headers["etag"]!;
      expect(etag, url).toMatch(/^"[A-Za-z0-9_-]+"$/);
      etags.add(etag);
      const again = await get(url, { "accept-encoding": accept, "if-none-match": etag });
      expect(again.status, `${url} revalidated`).toBe(304);
      expect(again.body.length).toBe(0);
    }
    expect(etags.size, `${url}: one ETag per stored form`).toBe(forms.length);
  }
});

test("the cached form page hydrates under its hash-based CSP with no violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  const response = await page.goto("/?plan=g6-standard-2");
  const csp = (await response!.allHeaders())["content-security-policy"];
  expect(csp).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+ 'wasm-unsafe-eval'/);
  expect(csp).not.toContain("'nonce-");
  await openForm(page, "/?plan=g6-standard-2");
  // Interactive: only the hydrated label island answers a bad label.
  await page.getByLabel(/Linode label/).fill("1x");
  await expect(page.locator("#label-error")).toContainText("Labels are 3 to 64 characters");
  expect(violations).toEqual([]);
});
