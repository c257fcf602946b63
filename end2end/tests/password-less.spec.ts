import { expect, test } from "@playwright/test";
import { expectAllTokensRevoked, inspect, openForm } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

// Linode creates a Linode without a root password when SSH keys are sent (June 2026).
test("SSH keys only: no root password sent or shown, and the page says how to log in", async ({ page, request }) => {
  const before = await inspect(request);
  await openForm(page, "/");
  const keysOnly = page.getByLabel("SSH keys only, no root password");
  await keysOnly.check();
  // Without a key the server refuses, on the form, before Linode is asked anything.
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByTestId("form-error")).toContainText("needs at least one SSH key");
  expect((await inspect(request)).codes.length).toBe(before.codes.length);

  await page.getByLabel(/SSH public keys/).fill(KEY);
  // The preview follows: no root_pass in the request or the command.
  await expect(page.getByTestId("request-body")).not.toContainText("root_pass");
  await expect(page.getByTestId("request-cli")).not.toContainText("ROOT_PASS");
  await page.getByRole("button", { name: "Deploy" }).click();
  await page.waitForURL(/\/sandbox\/login\/oauth\/authorize/);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL(/\/deployment$/);
  await expect(page.getByTestId("keys-only-login")).toContainText("no root password");
  await expect(page.getByTestId("root-password")).toHaveCount(0);
  await expect(page.getByTestId("ssh")).toHaveText(/^ssh root@\d+\.\d+\.\d+\.\d+$/, { timeout: 20_000 });

  const created = (await inspect(request)).instances.slice(before.instances.length);
  expect(created.length).toBe(1);
  expect(created[0].authorized_keys).toEqual([KEY]);
  expect(JSON.parse(created[0].request_body ?? "{}")).not.toHaveProperty("root_pass");
  await expectAllTokensRevoked(request, before);
});
