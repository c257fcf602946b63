import { expect, test } from "@playwright/test";
import { FIELDS_URL } from "../playwright.config";
import { deployAndAuthorize, expectAllTokensRevoked, inspect, openForm } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

test.describe("a StackScript with inputs of every kind", () => {
  test.use({ baseURL: FIELDS_URL });

  test("inputs are rendered, checked in the browser, and sent to Linode", async ({ page, request }) => {
    const before = await inspect(request, FIELDS_URL);
    await openForm(page, "/");
    const settings = page.getByRole("group", { name: "Web Stack settings" });
    // Text with its example, a masked password, one-of selects, many-of checkboxes with defaults.
    await expect(settings.getByLabel("Host name for the server")).toHaveAttribute("placeholder", "web01");
    await expect(settings.getByLabel("Database password")).toHaveAttribute("type", "password");
    await expect(settings.getByLabel("Web server")).toHaveValue("nginx");
    await expect(settings.getByLabel("Environment")).toHaveValue("");
    await expect(settings.getByLabel("git")).toBeChecked();
    await expect(settings.getByLabel("curl")).toBeChecked();
    await expect(settings.getByLabel("vim")).not.toBeChecked();
    await expect(settings.getByLabel("Time zone")).toHaveValue("UTC");

    // Required fields are enforced before anything leaves the browser.
    await page.getByRole("button", { name: "Deploy" }).click();
    await expect(page).toHaveURL(`${FIELDS_URL}/`);
    expect(await settings.getByLabel("Host name for the server").evaluate((el: HTMLInputElement) => el.validity.valueMissing)).toBe(true);

    await settings.getByLabel("Host name for the server").fill("web01");
    await settings.getByLabel("Environment").selectOption("staging");
    await settings.getByLabel("Web server").selectOption("caddy");
    await settings.getByLabel("Database password").fill("s3cret pass");
    await settings.getByLabel("vim").check();
    await settings.getByLabel("curl").uncheck();
    await deployAndAuthorize(page);
    await expect(page.getByTestId("deployed")).toBeVisible();

    const created = (await inspect(request, FIELDS_URL)).instances.slice(before.instances.length);
    expect(created).toHaveLength(1);
    expect(created[0].stackscript_data).toEqual({
      hostname: "web01",
      environment: "staging",
      webserver: "caddy",
      db_password: "s3cret pass",
      packages: "git,vim",
      timezone: "UTC",
    });
    await expect(page.locator("body")).not.toContainText("s3cret pass");
  });

  test("a shared link pre-selects the form, fields included", async ({ page }) => {
    await openForm(page, "/?type=g6-standard-2&region=eu-west&image=linode/ubuntu24.04&label=shared-1&hostname=box1&packages=htop&environment=production");
    await expect(page.getByLabel("Plan")).toHaveValue("g6-standard-2");
    await expect(page.getByLabel("Region")).toHaveValue("eu-west");
    await expect(page.getByLabel("Image")).toHaveValue("linode/ubuntu24.04");
    await expect(page.getByLabel(/Linode label/)).toHaveValue("shared-1");
    await expect(page.getByLabel("Host name for the server")).toHaveValue("box1");
    await expect(page.getByLabel("Environment")).toHaveValue("production");
    await expect(page.getByLabel("htop")).toBeChecked();
    await expect(page.getByLabel("git")).not.toBeChecked();
    await expect(page.getByTestId("link-notice")).toHaveCount(0);

    await openForm(page, "/?type=g6-nanode-1&region=mars-1");
    await expect(page.getByTestId("link-notice")).toContainText("mars-1");
    await expect(page.getByLabel("Region")).toHaveValue("us-east");
  });
});

test("the price and summary follow the choices, with the region's own price", async ({ page }) => {
  await openForm(page, "/");
  const price = page.getByTestId("price");
  await page.getByLabel("Plan").selectOption("g6-nanode-1");
  await page.getByLabel("Region").selectOption("us-east");
  await expect(price).toHaveText("$5/mo ($0.0075/hr)");
  await expect(page.getByTestId("summary")).toContainText("Newark, NJ — United States");
  await page.getByLabel("Region").selectOption("id-cgk");
  await expect(price).toHaveText("$6/mo ($0.009/hr)");
  await expect(page.getByTestId("regional-price")).toContainText("Jakarta");
  await page.getByLabel("Plan").selectOption("g6-dedicated-2");
  await expect(page.getByTestId("summary")).toContainText("Dedicated 4 GB");
});

test("a GPU plan priced only per region: its lowest price, its regions, and each region's price", async ({ page }) => {
  await openForm(page, "/");
  await expect(page.locator('#plan option[value="g3-gpu-rtxpro6000-1"]')).toContainText("from $1680/mo");
  await page.getByLabel("Region").selectOption("us-east");
  await page.getByLabel("Plan").selectOption("g3-gpu-rtxpro6000-1");
  // us-east hosts GPU plans, but Linode does not price (so sell) this one there.
  await expect(page.locator('#region option[value="us-east"]')).toBeDisabled();
  await expect(page.locator("#region-error")).toContainText("does not offer this plan");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await page.getByLabel("Region").selectOption("fr-par");
  await expect(page.getByTestId("price")).toHaveText("$1814.40/mo ($2.70/hr)");
  await expect(page.getByTestId("regional-price")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Deploy" })).toBeEnabled();
});

test("regions that cannot host the plan are disabled, with why", async ({ page }) => {
  await openForm(page, "/");
  await expect(page.locator('#region option[value="es-mad"]')).toBeDisabled();
  await expect(page.locator('#region option[value="es-mad"]')).toContainText("outage");
  await page.getByLabel("Region").selectOption("eu-west");
  await page.getByLabel("Plan").selectOption("g1-gpu-rtx6000-1");
  await expect(page.locator('#region option[value="eu-west"]')).toBeDisabled();
  await expect(page.locator("#region-error")).toContainText("London, UK does not offer this plan");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeDisabled();
  await page.getByLabel("Region").selectOption("us-east");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeEnabled();
});

test("label and SSH keys are checked as they are typed, then installed", async ({ page, request }) => {
  const before = await inspect(request);
  await openForm(page, "/");
  const deploy = page.getByRole("button", { name: "Deploy" });
  await page.getByLabel(/Linode label/).fill("9lives");
  await expect(page.locator("#label-error")).toContainText("a letter first");
  await expect(deploy).toBeDisabled();
  await page.getByLabel(/Linode label/).fill("my-web.01");
  await expect(page.locator("#label-error")).toBeEmpty();
  await page.getByLabel(/SSH public keys/).fill(KEY.slice(0, 50));
  await expect(page.locator("#keys-error")).toContainText("SSH key 1");
  await expect(deploy).toBeDisabled();
  await page.getByLabel(/SSH public keys/).fill(KEY);
  await expect(deploy).toBeEnabled();
  await deploy.click();
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("ssh-keys")).toContainText("Your SSH key is installed for root");
  const created = (await inspect(request)).instances.slice(before.instances.length);
  expect(created.map((i) => [i.label, i.authorized_keys])).toEqual([["my-web.01", [KEY]]]);
});

test("the success view follows the Linode to running, then the token is revoked", async ({ page, request }) => {
  const before = await inspect(request);
  await openForm(page, "/");
  await deployAndAuthorize(page);
  await expect(page.getByTestId("status")).toHaveText("provisioning");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your Linode is on its way");
  // The sandbox boots in 2 + 2 seconds; the page follows without a reload.
  await expect(page.getByTestId("status")).toHaveText("booting", { timeout: 10_000 });
  await expect(page.getByTestId("status")).toHaveText("running", { timeout: 10_000 });
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your Linode is running");
  await expect(page.getByTestId("root-password")).toHaveText(/^.{32}$/);
  await expectAllTokensRevoked(request, before);
});
