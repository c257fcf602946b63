import { test, expect } from "@playwright/test";
import { BASE_URL } from "../playwright.config";
import { inspect } from "./helpers";

// A page on another website that auto-submits this site's deploy form, with its own SSH key.
const EVIL_ORIGIN = "http://evil.test";
const evilPage = `<!DOCTYPE html><html><body>
<form id="f" method="post" action="${BASE_URL}/api/start_deploy">
  <input name="plan" value="g6-nanode-1"><input name="region" value="us-east">
  <input name="image" value="linode/debian12">
  <input name="ssh_keys" value="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGattackerkeyattackerkeyattackerkeyattack attacker">
</form>
<script>document.getElementById("f").submit();</script>
</body></html>`;

test("a form auto-submitted by another website is refused by this site", async ({ page, request }) => {
  const before = await inspect(request);
  await page.route(`${EVIL_ORIGIN}/**`, (route) => route.fulfill({ contentType: "text/html", body: evilPage }));
  const refused = page.waitForResponse(`${BASE_URL}/api/start_deploy`);
  await page.goto(`${EVIL_ORIGIN}/free-server`);
  const response = await refused;
  expect(response.status()).toBe(403);
  expect(response.request().headers()["origin"]).toBe(EVIL_ORIGIN);
  await expect(page.getByTestId("cross-site")).toContainText("another website");
  await expect(page.getByRole("link", { name: "Back to the form" })).toHaveAttribute("href", "/");
  const after = await inspect(request);
  expect(after.codes.length).toBe(before.codes.length);
  expect(after.instances.length).toBe(before.instances.length);
});

test("the sandbox's admin endpoints are not reachable on the site's address", async ({ request }) => {
  for (const path of ["/sandbox/__sandbox/inspect", "/sandbox/__sandbox/faults"]) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(404);
  }
});
