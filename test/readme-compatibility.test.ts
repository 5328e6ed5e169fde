// README's compatibility section is the one place a user learns where we differ from the Go
// kubelogin on purpose: each deliberate difference must be listed there, with its reason.
import { readFile } from "node:fs/promises";
import { expect, test } from "vitest";

async function compatibilitySection(): Promise<string> {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("\n## Compatibility: where we deliberately differ\n");
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

test.each([
  ["ropc never signs in from a saved sign-in", /\*\*`ropc` never signs in silently from a saved sign-in\.\*\* \S/],
  ["--login-hint picks that user's record", /\*\*`--login-hint` picks the auth record of that user only\.\*\* \S/],
  ["a failed record write is a warning", /\*\*A failed auth-record write is a warning, not an error\.\*\* \S/],
  ["PoP sign-ins write the record", /\*\*PoP sign-ins also write the auth record\.\*\* \S/],
  ["the federated token file is trimmed", /\*\*The federated token file is trimmed\.\*\* \S/],
  ["ID-token requests are retried", /\*\*The GitHub Actions and Azure Pipelines ID-token requests are retried\*\* \S/],
  ["extra stderr lines", /\*\*Extra lines on stderr\*\*: .*browser should open[\s\S]*saved sign-in can no longer\s+be used/],
  ["a token expired on arrival is not cached", /\*\*A token that has already expired when it arrives is printed but not cached\*\*, \S/],
  ["the cache's trust rules", /\*\*Whom kubelogin trusts\*\* \(\[Trust rules\]\(#trust-rules-what-the-cache-refuses\)\)/],
  ["the system's CAs", /\*\*Which CAs a request trusts\*\* \(\[Trusted certificate authorities\]\(#trusted-certificate-authorities\)\)/],
  ["claims challenges are passed on", /\*\*A Conditional Access `claims` challenge met on refresh is passed to the new sign-in\.\*\* \S/],
])("README lists the deliberate difference: %s, with its reason", async (_name, entry) => {
  expect(await compatibilitySection()).toMatch(entry);
});
