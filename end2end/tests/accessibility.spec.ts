import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { FIELDS_URL } from "../playwright.config";
import { deployAndAuthorize } from "./helpers";

/** WCAG 2.1 A and AA rules, as axe-core checks them. */
async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(found).toEqual([]);
}

async function deployToSuccess(page: Page) {
  await deployAndAuthorize(page);
  await expect(page.getByTestId("deployed")).toBeVisible();
}

for (const scheme of ["light", "dark"] as const) {
  test(`form, success and failure views pass an axe audit (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${FIELDS_URL}/`);
    await expectNoViolations(page);
    await page.goto("/");
    await expectNoViolations(page);
    await deployToSuccess(page);
    await expectNoViolations(page);
    await page.goto("/auth/callback?state=forged&code=x");
    await expect(page.getByTestId("failed")).toBeVisible();
    await expectNoViolations(page);
  });
}

test("the form can be used with the keyboard alone, in reading order", async ({ page }) => {
  await page.goto("/");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Plan")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Region")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Image")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel(/Linode label/)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel(/SSH public keys/)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("SSH keys only, no root password")).toBeFocused();
  await page.keyboard.press("Tab");
  // The request preview, folded: its summary opens it.
  await expect(page.getByText("What this site will send to Linode")).toBeFocused();
  await page.keyboard.press("Tab");
  // Then the firewall made for the app, folded too.
  await expect(page.getByText("The firewall this site makes first")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Deploy" })).toBeFocused();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
});

// Committed under end2end/screenshots and linked from the README.
const sizes = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } };
for (const [name, viewport] of Object.entries(sizes)) {
  test(`screenshots of the form and the success view (${name})`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.goto(`${FIELDS_URL}/?region=eu-west&hostname=web01&environment=production`);
    await expect(page.getByTestId("summary")).toContainText("London");
    await page.screenshot({ path: `screenshots/form-${name}.png`, fullPage: true });
    await page.getByLabel("Database password").fill("correct-horse");
    await deployToSuccess(page);
    await expect(page.getByTestId("status")).toHaveText("running", { timeout: 15_000 });
    await page.screenshot({ path: `screenshots/success-${name}.png`, fullPage: true });
  });
}
