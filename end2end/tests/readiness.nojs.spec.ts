import { expect, Page, test } from "@playwright/test";
import { FIELDS_URL } from "../playwright.config";
import { addFault, clearFaults, deployAndAuthorize, expectAllTokensRevoked, inspect, setAppReady } from "./helpers";

// The "no-javascript" project: the success view is rendered by the server from what its check
// saw, so a reload shows where the install is; the form's preview is server-rendered.
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";
/** A shared link with every choice but the password and the SSH keys, which no link can set
 *  (labels are unique per account). */
const link = (label: string) => `/?type=g6-standard-1&region=eu-west&image=linode%2Fubuntu24.04&label=${label}`
  + "&hostname=web01&environment=staging&packages=git%2Cvim";

test.afterEach(async ({ request }) => {
  await clearFaults(request, FIELDS_URL);
  await setAppReady(request, 4000, FIELDS_URL);
});

/** Reloads the result page until the app's state is `state`. */
async function reloadUntil(page: Page, state: string, timeout = 25_000) {
  await expect
    .poll(async () => {
      await page.reload();
      return page.getByTestId("app-status").getAttribute("data-state", { timeout: 1_000 }).catch(() => null);
    }, { timeout, intervals: [1_000] })
    .toBe(state);
}

async function deployFrom(page: Page, link: string, key?: string) {
  await page.goto(link);
  await page.getByLabel("Database password").fill("Typed-Pa55word");
  if (key) await page.getByLabel("SSH public keys").fill(key);
  await deployAndAuthorize(page);
}

test.describe("without JavaScript", () => {
  test.use({ baseURL: FIELDS_URL });

  test("a reload shows the app installing, then ready with its link; the preview is what was received", async ({ page, request }) => {
    const before = await inspect(request, FIELDS_URL);
    await page.goto(link("nojs-01"));
    const shown = (await page.getByTestId("request-body").textContent())!;
    expect(shown).toContain('"label": "nojs-01"');
    expect(shown).toContain('"db_password": "<hidden>"');
    await deployFrom(page, link("nojs-01"));
    await expect(page.getByTestId("deployed")).toBeVisible();
    await expectAllTokensRevoked(request, before, FIELDS_URL);
    await reloadUntil(page, "ready");
    const ip = (await page.getByTestId("ssh").textContent())!.replace("ssh root@", "").trim();
    await expect(page.getByTestId("app-link")).toHaveAttribute("href", `http://${ip}/`);

    const created = (await inspect(request, FIELDS_URL)).instances.slice(before.instances.length);
    const received = JSON.parse(created[0].request_body!);
    received.root_pass = "<generated on the server>";
    received.stackscript_data.db_password = "<hidden>";
    expect(typeof received.firewall_id).toBe("number");
    expect((await page.getByTestId("sent-body").textContent())!).toBe(JSON.stringify(received, null, 2));
    received.firewall_id = "<the firewall made for the app>";
    expect(shown).toBe(JSON.stringify(received, null, 2));
  });

  test("an app that never answers is reported after the timeout", async ({ page, request }) => {
    await setAppReady(request, null, FIELDS_URL);
    await deployFrom(page, link("nojs-02"));
    await reloadUntil(page, "not_answering");
    await expect(page.getByTestId("app-status")).toContainText("Not answering after");
    await expect(page.getByTestId("app-status")).toContainText("/var/log/stackscript.log");
  });

  test("after a Linode error, the retry link brings the same choices back", async ({ page, request }) => {
    await addFault(request, { route: "POST /v4/linode/instances", kind: "status", status: 400, reason: "Region is at capacity", times: 1 }, FIELDS_URL);
    await deployFrom(page, link("nojs-03"), KEY);
    await expect(page.getByTestId("failed")).toHaveAttribute("data-kind", "linode_error");
    await page.getByRole("link", { name: "Try again with the same choices" }).click();
    await page.waitForURL(/\/\?type=/);
    expect(page.url()).not.toContain("Pa55");
    expect(page.url(), "the keys travel sealed").not.toContain("AAAAC3NzaC1lZDI1");
    await expect(page.getByLabel("Plan")).toHaveValue("g6-standard-1");
    await expect(page.getByLabel("Region")).toHaveValue("eu-west");
    await expect(page.getByLabel("Linode label")).toHaveValue("nojs-03");
    await expect(page.getByLabel("SSH public keys")).toHaveValue(KEY);
    await expect(page.getByLabel("Host name for the server")).toHaveValue("web01");
    await expect(page.getByLabel("vim")).toBeChecked();
    await expect(page.getByLabel("Database password")).toHaveValue("");
  });
});
