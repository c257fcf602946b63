import { expect, test } from "@playwright/test";
import { deployAndAuthorize, expectAllTokensRevoked, inspect } from "./helpers";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

// Runs in the "no-javascript" project: the box is a plain checkbox of the HTML form.
test("SSH keys only deploys with JavaScript disabled, and is refused without a key", async ({ page, request }) => {
  const before = await inspect(request);
  await page.goto("/");
  await page.getByLabel("SSH keys only, no root password").check();
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByTestId("form-error")).toContainText("needs at least one SSH key");
  expect((await inspect(request)).codes.length).toBe(before.codes.length);

  await page.getByLabel(/SSH public keys/).fill(KEY);
  await page.getByLabel("SSH keys only, no root password").check();
  await deployAndAuthorize(page);
  await expect(page.getByTestId("keys-only-login")).toContainText("no root password");
  await expect(page.getByTestId("root-password")).toHaveCount(0);
  const created = (await inspect(request)).instances.slice(before.instances.length);
  expect(created.length).toBe(1);
  expect(JSON.parse(created[0].request_body ?? "{}")).not.toHaveProperty("root_pass");
  await expectAllTokensRevoked(request, before);
});
