import { expect, test } from "@playwright/test";
import { CLOUD_CONFIG, CLOUD_INIT_URL } from "../playwright.config";
import { deployAndAuthorize, expectAllTokensRevoked, inspect } from "./helpers";

// Runs in the "no-javascript" project against the cloud-init-only server.
test("cloud-init deploys with JavaScript disabled", async ({ page, request }) => {
  const before = await inspect(request, CLOUD_INIT_URL);
  await page.goto(`${CLOUD_INIT_URL}/`);
  await expect(page.locator('#region option[value="ap-northeast"]')).toBeDisabled();
  await page.getByLabel("Region").selectOption("eu-west");
  await deployAndAuthorize(page);
  await expect(page.getByTestId("region")).toContainText("London");
  const created = (await inspect(request, CLOUD_INIT_URL)).instances.slice(before.instances.length);
  expect(created.length).toBe(1);
  const sent = JSON.parse(created[0].request_body ?? "{}");
  expect(Buffer.from(sent.metadata.user_data, "base64").toString()).toBe(CLOUD_CONFIG);
  await expectAllTokensRevoked(request, before, CLOUD_INIT_URL);
});
