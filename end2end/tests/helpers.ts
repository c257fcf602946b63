import { expect, Page, APIRequestContext } from "@playwright/test";
import { BASE_URL, SANDBOX_ADMIN } from "../playwright.config";

/** What the embedded sandbox recorded (GET /sandbox/__sandbox/inspect). */
export type Inspection = {
  instances: {
    id: number;
    label: string;
    token_id: string;
    status: string;
    region: string;
    stackscript_data: Record<string, string>;
    authorized_keys: string[];
    /** The create request's body as received, root_pass redacted. */
    request_body: string | null;
    app_answering: boolean;
  }[];
  tokens: { token_id: string; revoked: boolean; scopes: string }[];
  codes: { used: boolean }[];
};

/** The embedded sandbox's admin endpoints: loopback only, on the port playwright.config.ts gives
 * each server (never on the site's own address). */
export function adminOf(base: string): string {
  return SANDBOX_ADMIN[base] ?? SANDBOX_ADMIN[BASE_URL];
}

export async function inspect(request: APIRequestContext, base: string = BASE_URL): Promise<Inspection> {
  const response = await request.get(`${adminOf(base)}/__sandbox/inspect`);
  expect(response.ok()).toBeTruthy();
  return response.json();
}

export async function addFault(request: APIRequestContext, fault: object, base: string = BASE_URL) {
  const response = await request.post(`${adminOf(base)}/__sandbox/faults`, { data: fault });
  expect(response.ok(), await response.text()).toBeTruthy();
}

export async function clearFaults(request: APIRequestContext, base: string = BASE_URL) {
  const response = await request.delete(`${adminOf(base)}/__sandbox/faults`);
  expect(response.ok()).toBeTruthy();
}

/** Picks a plan, region and image on the form and clicks Deploy; ends on Linode's consent page. */
export async function startDeploy(page: Page, choice = { plan: "g6-nanode-1", region: "us-east", image: "linode/debian12" }) {
  await page.goto("/");
  await expect(page.getByTestId("sandbox-banner")).toContainText("nothing is created on Linode");
  await page.getByLabel("Plan").selectOption(choice.plan);
  await page.getByLabel("Region").selectOption(choice.region);
  await page.getByLabel("Image").selectOption(choice.image);
  await page.getByRole("button", { name: "Deploy" }).click();
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
}

/** Clicks Deploy, approves on the sandbox's consent page as asked, and waits for the result page. */
export async function deployAndAuthorize(page: Page) {
  await page.getByRole("button", { name: "Deploy" }).click();
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
}

/** Every token the sandbox issued since `before` is revoked (revocation runs after the response). */
export async function expectAllTokensRevoked(request: APIRequestContext, before: Inspection, base: string = BASE_URL) {
  const known = new Set(before.tokens.map((t) => t.token_id));
  await expect
    .poll(async () => (await inspect(request, base)).tokens.filter((t) => !known.has(t.token_id) && !t.revoked).length, {
      timeout: 10_000,
    })
    .toBe(0);
  const issued = (await inspect(request, base)).tokens.filter((t) => !known.has(t.token_id));
  return issued;
}

/** Opens the deploy form and waits until its islands run: what is typed before that is not
 *  followed by the live checks (see the README). */
export async function openForm(page: Page, url = "/") {
  await page.goto(url);
  await page.locator("form[data-live]").waitFor();
}

/** Sets how long after `running` the sandbox's emulated apps answer (`null`: never). */
export async function setAppReady(request: APIRequestContext, readyAfterMs: number | null, base: string = BASE_URL) {
  const response = await request.put(`${adminOf(base)}/__sandbox/app`, { data: { ready_after_ms: readyAfterMs } });
  expect(response.ok(), await response.text()).toBeTruthy();
}
