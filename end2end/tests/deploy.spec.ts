import { expect, test } from "@playwright/test";
import { CLIENT_SECRET } from "../playwright.config";
import { addFault, clearFaults, expectAllTokensRevoked, inspect, openForm, startDeploy } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

test.afterEach(async ({ request }) => {
  await clearFaults(request);
});

test("happy path: form, consent, one Linode with its password, token revoked", async ({ page, request }) => {
  const before = await inspect(request);
  await startDeploy(page);
  await expect(page.locator("body")).toContainText("Demo App");
  await page.getByRole("button", { name: "Authorize" }).click();

  await page.waitForURL(/\/deployment$/);
  const deployed = page.getByTestId("deployed");
  await expect(deployed).toBeVisible();
  const label = (await page.getByTestId("label").textContent())!.trim();
  expect(label).toMatch(/^demo-app-us-east-[0-9a-f]{8}$/);
  await expect(page.getByTestId("tags")).toHaveText("Demo App");
  await expect(page.getByTestId("region")).toContainText("Newark");
  await expect(page.getByTestId("plan")).toContainText("Nanode");
  await expect(page.getByTestId("ssh")).toHaveText(/^ssh root@(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/);
  const password = (await page.getByTestId("root-password").textContent())!.trim();
  expect(password).toHaveLength(32);

  const after = await inspect(request);
  const created = after.instances.filter((i) => !before.instances.some((b) => b.id === i.id));
  expect(created).toHaveLength(1);
  expect(created[0].label).toBe(label);
  const tokens = await expectAllTokensRevoked(request, before);
  expect(tokens.map((t) => t.token_id)).toContain(created[0].token_id);

  // The password is shown once: a reload no longer has it.
  await page.reload();
  await expect(page.getByTestId("password-gone")).toBeVisible();
  await expect(page.locator("body")).not.toContainText(password);
});

test("denied login: a clear message and nothing created", async ({ page, request }) => {
  const before = await inspect(request);
  await startDeploy(page);
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("failed")).toHaveAttribute("data-kind", "access_denied");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Login was cancelled");
  await expect(page.getByRole("link", { name: "Start again" })).toBeVisible();
  const after = await inspect(request);
  expect(after.instances.length).toBe(before.instances.length);
  expect(after.tokens.length).toBe(before.tokens.length);
});

test("insufficient scope: unticked on the consent page, nothing created, token revoked", async ({ page, request }) => {
  const before = await inspect(request);
  await startDeploy(page);
  await page.locator('input[name="scope"][value="linodes:read_write"]').uncheck();
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Insufficient scopes granted to deploy Demo App");
  expect((await inspect(request)).instances.length).toBe(before.instances.length);
  const tokens = await expectAllTokensRevoked(request, before);
  expect(tokens).toHaveLength(1);
});

test("a Linode error on create is shown, nothing created, token revoked", async ({ page, request }) => {
  const before = await inspect(request);
  await addFault(request, { route: "POST /v4/linode/instances", kind: "status", status: 500, reason: "Internal server error", times: 1 });
  await startDeploy(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("failed")).toHaveAttribute("data-kind", "linode_error");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Linode could not create the Linode");
  await expect(page.getByTestId("failure-message")).toContainText("Nothing was created");
  expect((await inspect(request)).instances.length).toBe(before.instances.length);
  const tokens = await expectAllTokensRevoked(request, before);
  expect(tokens).toHaveLength(1);
});

test("a replayed callback shows the same result and creates nothing more", async ({ page, request }) => {
  const before = await inspect(request);
  let callbackUrl = "";
  page.on("request", (r) => {
    if (r.url().includes("/auth/callback?")) callbackUrl = r.url();
  });
  await startDeploy(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  const label = (await page.getByTestId("label").textContent())!.trim();
  expect(callbackUrl).toContain("code=");

  await page.goto(callbackUrl);
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("label")).toHaveText(label);
  await expect(page.getByTestId("password-gone")).toBeVisible();

  const after = await inspect(request);
  expect(after.instances.length).toBe(before.instances.length + 1);
  await expectAllTokensRevoked(request, before);
});

test("a forged form value is refused on the form, with no reload: what was typed stays", async ({ page, request }) => {
  const before = await inspect(request);
  await openForm(page);
  await page.getByLabel(/Linode label/).fill("kept-label");
  await page.getByLabel(/SSH public keys/).fill(KEY);
  await page.getByLabel("Plan").evaluate((select: HTMLSelectElement) => {
    select.options[0].value = "g6-forged-99";
    select.selectedIndex = 0;
  });
  let reloaded = false;
  page.on("framenavigated", () => (reloaded = true));
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("That plan is not offered. Please choose a plan from the list.");
  expect(new URL(page.url()).pathname).toBe("/");
  expect(reloaded).toBe(false);
  await expect(page.getByLabel(/Linode label/)).toHaveValue("kept-label");
  await expect(page.getByLabel(/SSH public keys/)).toHaveValue(KEY);
  await expect(page.getByRole("button", { name: "Deploy" })).toBeEnabled();
  expect((await inspect(request)).codes.length).toBe(before.codes.length);
});

test("the client secret never reaches the browser", async ({ page }) => {
  const bodies: string[] = [];
  page.on("response", async (response) => {
    try {
      bodies.push(`${response.url()}\n${JSON.stringify(await response.allHeaders())}\n${await response.text()}`);
    } catch {
      // Redirects have no body to read.
      bodies.push(`${response.url()}\n${JSON.stringify(await response.allHeaders())}`);
    }
  });
  await startDeploy(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("deployed")).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(bodies.length).toBeGreaterThan(5);
  for (const body of bodies) {
    expect(body).not.toContain(CLIENT_SECRET);
    expect(body).not.toContain("access_token");
    expect(body).not.toContain("refresh_token");
  }
  const cookies = await page.context().cookies();
  for (const cookie of cookies) {
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.value).not.toContain("linodes");
  }
});
