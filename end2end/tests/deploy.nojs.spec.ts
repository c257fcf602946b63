import { expect, test } from "@playwright/test";
import { deployAndAuthorize, expectAllTokensRevoked, inspect } from "./helpers";

// Runs in the "no-javascript" project: the form is a real HTML form, so deploying needs no WASM.
test("deploys with JavaScript disabled", async ({ page, request }) => {
  const before = await inspect(request);
  await page.goto("/");
  await page.getByLabel("Plan").selectOption("g6-standard-1");
  await page.getByLabel("Region").selectOption("eu-west");
  await page.getByLabel("Image").selectOption("linode/ubuntu24.04");
  await deployAndAuthorize(page);
  await expect(page.getByTestId("region")).toContainText("London");
  await expect(page.getByTestId("root-password")).toHaveText(/^.{32}$/);
  expect((await inspect(request)).instances.length).toBe(before.instances.length + 1);
  await expectAllTokensRevoked(request, before);
});

test("a forged value is rejected with JavaScript disabled", async ({ page }) => {
  await page.goto("/");
  // Without script, forge the post directly, as a hostile page would.
  const response = await page.request.post("/api/start_deploy", {
    form: { plan: "g6-nanode-1", region: "mars-1", image: "linode/debian12" },
    headers: { Accept: "text/html", Referer: new URL("/", page.url()).toString() },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(302);
  const location = response.headers()["location"];
  expect(location).not.toContain("oauth/authorize");
  await page.goto(location);
  await expect(page.getByTestId("form-error")).toContainText("That region is not available");
});
