import { expect, test } from "@playwright/test";
import { FIELDS_URL } from "../playwright.config";
import { deployAndAuthorize, inspect } from "./helpers";

test.use({ baseURL: FIELDS_URL });

test("StackScript inputs deploy with JavaScript disabled", async ({ page, request }) => {
  const before = await inspect(request, FIELDS_URL);
  await page.goto("/?region=eu-west&hostname=nojs01");
  await page.getByLabel("Environment").selectOption("production");
  await page.getByLabel("Database password").fill("no-js-pass");
  await deployAndAuthorize(page);
  await expect(page.getByTestId("deployed")).toBeVisible();
  const created = (await inspect(request, FIELDS_URL)).instances.slice(before.instances.length);
  expect(created).toHaveLength(1);
  expect(created[0].region).toBe("eu-west");
  expect(created[0].stackscript_data).toMatchObject({ hostname: "nojs01", environment: "production", packages: "git,curl" });
});

test("a bad label is refused with JavaScript disabled, and the form keeps the link's choices", async ({ page }) => {
  await page.goto("/?region=eu-west&hostname=nojs02&environment=staging");
  await page.getByLabel(/Linode label/).fill("no");
  await page.getByLabel("Database password").fill("x");
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByTestId("form-error")).toContainText("Labels are 3 to 64 characters");
  await expect(page.getByLabel("Region")).toHaveValue("eu-west");
});
