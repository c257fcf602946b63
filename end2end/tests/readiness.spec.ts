import { expect, Page, test } from "@playwright/test";
import { FIELDS_URL } from "../playwright.config";
import { addFault, clearFaults, deployAndAuthorize, expectAllTokensRevoked, inspect, openForm, setAppReady, startDeploy } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";
const GENERATED = "<generated on the server>";
const HIDDEN = "<hidden>";
const FIREWALL_MADE = "<the firewall made for the app>";

test.afterEach(async ({ request }) => {
  await clearFaults(request);
  await clearFaults(request, FIELDS_URL);
  await setAppReady(request, 4000, FIELDS_URL);
});

test("the success view follows the install past running until the app answers, with its link", async ({ page, request }) => {
  const before = await inspect(request);
  await startDeploy(page);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  const status = page.getByTestId("app-status");
  await expect(status).toHaveAttribute("data-state", "installing", { timeout: 15_000 });
  await expect(status).toContainText(/Installing Demo App… \(\d+ s\)/);
  // Checking needs no token: it is gone before the first check.
  await expectAllTokensRevoked(request, before);

  await expect(status).toHaveAttribute("data-state", "ready", { timeout: 15_000 });
  const ip = (await page.getByTestId("ssh").textContent())!.replace("ssh root@", "").trim();
  await expect(page.getByTestId("app-link")).toHaveAttribute("href", `http://${ip}/`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Demo App is ready");
  const created = (await inspect(request)).instances.slice(before.instances.length);
  expect(created.map((i) => i.app_answering)).toEqual([true]);
});

test.describe("a StackScript with inputs", () => {
  test.use({ baseURL: FIELDS_URL });

  async function fill(page: Page, label: string) {
    await openForm(page, "/");
    await page.getByLabel("Plan").selectOption("g6-standard-1");
    await page.getByLabel("Region").selectOption("eu-west");
    await page.getByLabel("Image").selectOption("linode/ubuntu24.04");
    await page.getByLabel("Linode label").fill(label);
    await page.getByLabel("SSH public keys").fill(KEY);
    const settings = page.getByRole("group", { name: "Web Stack settings" });
    await settings.getByLabel("Host name for the server").fill("web01");
    await settings.getByLabel("Environment").selectOption("staging");
    await settings.getByLabel("Database password").fill("Typed-Pa55word");
    await settings.getByLabel("vim").check();
  }

  test("the preview is byte for byte what the sandbox received, masking aside", async ({ page, request }) => {
    const before = await inspect(request, FIELDS_URL);
    await fill(page, "preview-01");
    const preview = page.getByTestId("request-preview");
    await preview.locator("summary").click();
    const body = page.getByTestId("request-body");
    await expect(body).toContainText('"label": "preview-01"');
    await expect(body).toContainText('"packages": "git,curl,vim"');
    const shown = (await body.textContent())!;
    expect(shown).toContain(`"root_pass": "${GENERATED}"`);
    expect(shown).toContain(`"db_password": "${HIDDEN}"`);
    expect(shown).not.toContain("Typed-Pa55word");
    await expect(page.getByTestId("request-cli")).toContainText("linode-cli linodes create");
    await expect(page.getByTestId("request-cli")).toContainText("--label preview-01");

    await deployAndAuthorize(page);
    await expect(page.getByTestId("deployed")).toBeVisible();

    const created = (await inspect(request, FIELDS_URL)).instances.slice(before.instances.length);
    expect(created).toHaveLength(1);
    const received = JSON.parse(created[0].request_body!);
    expect(received.stackscript_data.db_password).toBe("Typed-Pa55word");
    received.root_pass = GENERATED;
    received.stackscript_data.db_password = HIDDEN;
    // The success view shows the firewall made for the app by its id; the preview, before it
    // existed, by what it stands for.
    expect(typeof received.firewall_id).toBe("number");
    expect((await page.getByTestId("sent-body").textContent())!).toBe(JSON.stringify(received, null, 2));
    received.firewall_id = FIREWALL_MADE;
    // Same keys in the same order, same values, same layout.
    expect(shown).toBe(JSON.stringify(received, null, 2));
  });

  test("an app that never answers is reported after the timeout, with what to check", async ({ page, request }) => {
    await setAppReady(request, null, FIELDS_URL);
    await fill(page, "never-01");
    await deployAndAuthorize(page);
    const status = page.getByTestId("app-status");
    await expect(status).toHaveAttribute("data-state", "installing", { timeout: 15_000 });
    await expect(status).toHaveAttribute("data-state", "not_answering", { timeout: 20_000 });
    await expect(status).toContainText(/Not answering after \d+ s/);
    await expect(status).toContainText("/var/log/stackscript.log");
    const ssh = (await page.getByTestId("ssh").textContent())!.trim();
    await expect(status).toContainText(ssh);
  });

  test("after a Linode error, try again with the same choices: everything but the password is back", async ({ page, request }) => {
    await addFault(request, { route: "POST /v4/linode/instances", kind: "status", status: 400, reason: "Region is at capacity", times: 1 }, FIELDS_URL);
    await fill(page, "retry-01");
    await deployAndAuthorize(page);
    await expect(page.getByTestId("failed")).toHaveAttribute("data-kind", "linode_error");
    await page.getByRole("link", { name: "Try again with the same choices" }).click();
    await page.waitForURL(/\/\?type=/);
    expect(page.url()).not.toContain("Pa55");
    await page.locator("form[data-live]").waitFor();
    await expect(page.getByLabel("Plan")).toHaveValue("g6-standard-1");
    await expect(page.getByLabel("Region")).toHaveValue("eu-west");
    await expect(page.getByLabel("Image")).toHaveValue("linode/ubuntu24.04");
    await expect(page.getByLabel("Linode label")).toHaveValue("retry-01");
    await expect(page.getByLabel("SSH public keys")).toHaveValue(KEY);
    const settings = page.getByRole("group", { name: "Web Stack settings" });
    await expect(settings.getByLabel("Host name for the server")).toHaveValue("web01");
    await expect(settings.getByLabel("Environment")).toHaveValue("staging");
    await expect(settings.getByLabel("vim")).toBeChecked();
    await expect(settings.getByLabel("Database password")).toHaveValue("");
    await expect(page.getByTestId("link-notice")).toHaveCount(0);
  });
});
