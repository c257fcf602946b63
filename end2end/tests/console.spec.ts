import { expect, Page, test } from "@playwright/test";
import { BASE_URL } from "../playwright.config";
import { clearFaults, startDeploy } from "./helpers";

// Every page of a visitor's journey, watched for what a browser reports as broken: a console
// error, an uncaught exception, a Content-Security-Policy violation, or a sub-resource (script,
// style, WASM, icon, fetch) answered with 4xx or 5xx. The page itself may be a 4xx on purpose
// (the 404 page, a refused callback); what it loads may not.

type Problem = { page: string; what: string };

function watch(page: Page): Problem[] {
  const problems: Problem[] = [];
  const where = () => new URL(page.url() || BASE_URL).pathname;
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // Chromium logs a page's own 4xx status as "Failed to load resource"; that status is the
    // page's answer (404, a refused callback's 400), and what it loads is checked below.
    const own = message.text().startsWith("Failed to load resource") && message.location().url === page.url();
    if (!own) problems.push({ page: where(), what: `console error: ${message.text()}` });
  });
  page.on("pageerror", (error) => problems.push({ page: where(), what: `uncaught: ${error.message}` }));
  page.on("response", (response) => {
    const request = response.request();
    if (request.resourceType() !== "document" && response.status() >= 400) {
      problems.push({ page: where(), what: `${response.status()} for ${request.resourceType()} ${response.url()}` });
    }
  });
  page.on("requestfailed", (request) => {
    // A navigation away cancels what the last page still loads; anything else failing is a fault.
    if (request.failure()?.errorText !== "net::ERR_ABORTED") {
      problems.push({ page: where(), what: `failed: ${request.url()} (${request.failure()?.errorText})` });
    }
  });
  return problems;
}

/** CSP violations as the page itself sees them (reported before any console message). */
async function recordViolations(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (event) =>
      seen.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`),
    );
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []);
}

/** The page declares an icon that loads (so the browser does not ask for a missing /favicon.ico). */
async function expectIcon(page: Page) {
  const href = await page.locator('link[rel="icon"]').first().getAttribute("href");
  expect(href, `an icon on ${page.url()}`).toBeTruthy();
  if (!href!.startsWith("data:")) {
    const response = await page.request.get(new URL(href!, page.url()).toString());
    expect(response.status(), href!).toBe(200);
  }
}

test.afterEach(async ({ request }) => {
  await clearFaults(request);
});

test("a whole deployment, form to ready app, with no console error, CSP violation or failed load", async ({ page }) => {
  await recordViolations(page);
  const problems = watch(page);

  await page.goto("/");
  await page.locator("form[data-live]").waitFor();
  await expectIcon(page);
  expect(await violations(page)).toEqual([]);

  await startDeploy(page);
  await expectIcon(page);
  expect(await violations(page)).toEqual([]);

  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("deployed")).toBeVisible();
  await expectIcon(page);
  // While the view follows the Linode and checks its app, then once the app answers.
  await expect(page.getByTestId("app-status")).toHaveAttribute("data-state", "ready", { timeout: 20_000 });
  expect(await violations(page)).toEqual([]);

  expect(problems).toEqual([]);
});

test("the failure pages and the 404 page load cleanly", async ({ page }) => {
  await recordViolations(page);
  const problems = watch(page);

  // A denied login: the result page with its failure.
  await startDeploy(page);
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("failed")).toHaveAttribute("data-kind", "access_denied");
  await expectIcon(page);
  expect(await violations(page)).toEqual([]);

  // A callback that is not this browser's: the server's own plain page (400).
  const refused = await page.goto("/auth/callback?state=not-yours&code=forged");
  expect(refused?.status()).toBe(400);
  await expect(page.getByTestId("failed")).toBeVisible();
  await expectIcon(page);
  expect(await violations(page)).toEqual([]);

  // Nothing there.
  const missing = await page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await expectIcon(page);
  expect(await violations(page)).toEqual([]);

  expect(problems).toEqual([]);
});
