import { expect, test } from "vitest";
import { chooseAuthorityHost, isWellKnownCloud, PUBLIC_CLOUD, scopeFor } from "../../src/login/authority.js";

test.each([
  ["AzurePublicCloud", PUBLIC_CLOUD],
  ["AZURECLOUD", PUBLIC_CLOUD],
  ["azurepublic", PUBLIC_CLOUD],
  ["AzureUSGovernmentCloud", "https://login.microsoftonline.us/"],
  ["AzureUSGovernment", "https://login.microsoftonline.us/"],
  ["AzureChinaCloud", "https://login.chinacloudapi.cn/"],
])("--environment %s → %s, no warning", (environment, host) => {
  expect(chooseAuthorityHost("", environment)).toEqual({ host });
});

test.each(["AzureStackCloud", "AzureGermanCloud", "AzureChina", "typo"])("unknown --environment %s → public cloud with a warning naming the known clouds", (environment) => {
  const choice = chooseAuthorityHost("", environment);
  expect(choice.host).toBe(PUBLIC_CLOUD);
  expect(choice.warning).toBe(`unknown --environment "${environment}"; using the public cloud. Known names: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud`);
});

test("--authority-host wins over --environment, verbatim", () => {
  expect(chooseAuthorityHost("https://login.example.com/", "AzureChinaCloud")).toEqual({ host: "https://login.example.com/" });
});

test.each([
  ["6dae42f8-4368-4678-94ff-3960e28e3630", "6dae42f8-4368-4678-94ff-3960e28e3630/.default"],
  ["https://x/", "https://x/.default"],
  ["https://x///", "https://x/.default"],
  ["abc/.default", "abc/.default"],
  ["abc/.default/", "abc/.default"],
  ["spn:6dae42f8", "spn:6dae42f8/.default"],
])("GetScope(%s) = %s", (serverId, scope) => {
  expect(scopeFor(serverId)).toBe(scope);
});

test("hosts outside the known clouds are not sent to instance discovery", () => {
  expect(isWellKnownCloud(PUBLIC_CLOUD)).toBe(true);
  expect(isWellKnownCloud("https://127.0.0.1:8443/")).toBe(false);
});
