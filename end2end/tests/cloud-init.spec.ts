import { expect, test } from "@playwright/test";
import { CLOUD_CONFIG, CLOUD_INIT_URL } from "../playwright.config";
import { expectAllTokensRevoked, inspect, openForm } from "./helpers";

// The third server: USER_DATA_FILE alone installs the app (no StackScript).
test("cloud-init: the form shows the cloud-config, disables what cannot run it, and the Linode gets it", async ({
  page,
  request,
}) => {
  const before = await inspect(request, CLOUD_INIT_URL);
  await openForm(page, `${CLOUD_INIT_URL}/`);
  await expect(page.locator("p.lead")).toContainText("cloud-init, with this site's cloud-config");
  await page.getByTestId("cloud-config").locator("summary").click();
  await expect(page.getByTestId("cloud-config").locator("pre")).toHaveText(CLOUD_CONFIG.trimEnd());
  // Tokyo has no Metadata service: shown, disabled, with why.
  const tokyo = page.locator('#region option[value="ap-northeast"]');
  await expect(tokyo).toBeDisabled();
  await expect(tokyo).toContainText("no cloud-init metadata service here");
  // Only images that run cloud-init are offered.
  await expect(page.locator('#image option[value="linode/gentoo"]')).toHaveCount(0);
  await page.getByLabel("Image").selectOption("linode/ubuntu24.04");
  await expect(page.getByTestId("request-body")).toContainText("cloud-config, base64: ");
  await expect(page.getByTestId("request-cli")).toContainText("--metadata.user_data");

  await page.getByRole("button", { name: "Deploy" }).click();
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("root-password")).toHaveText(/^.{32}$/);
  const created = (await inspect(request, CLOUD_INIT_URL)).instances.slice(before.instances.length);
  expect(created.length).toBe(1);
  const sent = JSON.parse(created[0].request_body ?? "{}");
  expect(Buffer.from(sent.metadata.user_data, "base64").toString()).toBe(CLOUD_CONFIG);
  expect(sent).not.toHaveProperty("stackscript_id");
  await expectAllTokensRevoked(request, before, CLOUD_INIT_URL);
});
