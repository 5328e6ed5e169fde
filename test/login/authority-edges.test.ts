// The tenant check, the v1 resource and the whole Entra target (src/login/authority.ts), at the
// edges the flows rely on: a tenant can never change a request path, and the resource is the
// scope without its first /.default.
import { expect, test } from "vitest";
import { entraTarget, INVALID_TENANT_MESSAGE, isValidTenantId, isWellKnownCloud, PUBLIC_CLOUD, resourceFor, scopeFor } from "../../src/login/authority.js";

test.each([
  ["72f988bf-86f1-41af-91ab-2d7cd011db47", true],
  ["contoso.onmicrosoft.com", true],
  ["Z9", true],
  ["", false],
  ["a/b", false],
  ["/a", false],
  ["a/", false],
  ["a_b", false],
  ["a b", false],
  ["a\n", false],
])("tenant %j valid: %s", (tenant, valid) => {
  expect(isValidTenantId(tenant)).toBe(valid);
});

test("a refused tenant is told in azidentity's words", () => {
  expect(INVALID_TENANT_MESSAGE).toBe(
    "invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
  );
});

test.each([
  ["https://x/", "https://x"],
  ["abc/.default", "abc"],
  ["a/.default/x", "a/x/.default"],
  ["6dae42f8-4368-4678-94ff-3960e28e3630", "6dae42f8-4368-4678-94ff-3960e28e3630"],
])("resource for %j is %j", (serverId, resource) => {
  expect(resourceFor(serverId)).toBe(resource);
});

test("only trailing slashes are stripped from a server id", () => {
  expect(scopeFor("a/b/")).toBe("a/b/.default");
  expect(scopeFor("/a")).toBe("/a/.default");
});

test("the target: host, tenant, scope, and the unknown cloud's warning", () => {
  expect(entraTarget({ authorityHost: "", environment: "AzureChinaCloud", tenantId: "t", serverId: "s" })).toEqual({
    authorityHost: "https://login.chinacloudapi.cn/",
    tenantId: "t",
    scope: "s/.default",
    warnings: [],
  });
  const unknown = entraTarget({ authorityHost: "", environment: "Mars", tenantId: "t", serverId: "s" });
  expect(unknown.authorityHost).toBe(PUBLIC_CLOUD);
  expect(unknown.warnings).toEqual(['unknown --environment "Mars"; using the public cloud. Known names: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud']);
});

test("every known cloud's host is well known", () => {
  for (const host of [PUBLIC_CLOUD, "https://login.microsoftonline.us/", "https://login.chinacloudapi.cn/"]) expect(isWellKnownCloud(host)).toBe(true);
  expect(isWellKnownCloud("https://login.microsoftonline.com")).toBe(false);
});
