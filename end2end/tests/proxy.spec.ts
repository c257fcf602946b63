import { expect, test } from "@playwright/test";
import { PROXY_BASE_URL } from "../playwright.config";
import { expectAllTokensRevoked, inspect, openForm } from "./helpers";

// Run only by scripts/proxy-check/run.sh, which puts Debian's nginx (ops/nginx/) with a
// throwaway certificate in front of the release server and sets PROXY_BASE_URL to it; Chromium
// trusts that certificate's key and nothing else (playwright.config.ts).
test.skip(!PROXY_BASE_URL, "needs the proxy started by scripts/proxy-check/run.sh");

test("through nginx over https: form, consent, one Linode with its password, followed until ready, token revoked", async ({
  page,
  context,
  request,
}) => {
  const base = PROXY_BASE_URL!;
  // Every request the page makes stays on the https origin; no CSP violation on the way.
  const elsewhere: string[] = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(`${base}/`) && !r.url().startsWith("data:")) elsewhere.push(r.url());
  });
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  const before = await inspect(request, base);

  const form = page.waitForResponse((r) => new URL(r.url()).pathname === "/" && r.request().resourceType() === "document");
  await openForm(page);
  const formHeaders = (await form).headers();
  expect(formHeaders["strict-transport-security"]).toBe("max-age=31536000");
  expect(formHeaders["content-security-policy"]).toContain("frame-ancestors 'none'");
  await expect(page.getByTestId("sandbox-banner")).toContainText("nothing is created on Linode");
  await page.getByLabel("Plan").selectOption("g6-nanode-1");
  await page.getByLabel("Region").selectOption("us-east");
  await page.getByLabel("Image").selectOption("linode/debian12");
  await page.getByRole("button", { name: "Deploy" }).click();

  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
  const authorize = new URL(page.url());
  expect(authorize.origin).toBe(base);
  expect(authorize.searchParams.get("redirect_uri")).toBe(`${base}/auth/callback`);

  const result = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/deployment" && r.request().resourceType() === "document",
  );
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(`${base}/deployment`);
  const resultHeaders = (await result).headers();
  expect(resultHeaders["cache-control"]).toBe("no-store");
  // Chromium asks for gzip and br; the page holding the password comes back uncompressed.
  expect(resultHeaders["content-encoding"]).toBeUndefined();

  await expect(page.getByTestId("deployed")).toBeVisible();
  const password = (await page.getByTestId("root-password").textContent())!.trim();
  expect(password).toHaveLength(32);
  // The hydrated view follows the Linode through the proxy until its application answers.
  await expect(page.getByTestId("app-status")).toHaveAttribute("data-state", "ready", { timeout: 30_000 });

  const cookies = await context.cookies(base);
  expect(cookies.length).toBeGreaterThan(0);
  for (const cookie of cookies) {
    expect(cookie.name, JSON.stringify(cookie)).toMatch(/^__Host-/);
    expect(cookie.secure, cookie.name).toBe(true);
    expect(cookie.httpOnly, cookie.name).toBe(true);
    expect(cookie.path, cookie.name).toBe("/");
  }

  const after = await inspect(request, base);
  const created = after.instances.filter((i) => !before.instances.some((b) => b.id === i.id));
  expect(created).toHaveLength(1);
  const tokens = await expectAllTokensRevoked(request, before, base);
  expect(tokens.map((t) => t.token_id)).toContain(created[0].token_id);

  await page.reload();
  await expect(page.getByTestId("password-gone")).toBeVisible();
  await expect(page.locator("body")).not.toContainText(password);

  expect(elsewhere).toEqual([]);
  expect(violations).toEqual([]);
});
