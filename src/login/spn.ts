// Service principal login (compat spec §3.6): client credentials with a secret, or with a PEM or
// PFX certificate, through MSAL's confidential client. A certificate beats a secret when both are
// set, as upstream. Legacy (ADAL v1) and PoP variants land in this file when they are built.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { CertificateError, KubeloginError, MissingOptionError, NotImplementedError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { goPathError } from "../os-error.js";
import type { AccessToken, LoginDeps, LoginStrategy, TokenRequest } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  clientSecret: "client secret cannot be empty",
  legacy: "--legacy (ADAL v1) service principal login is not implemented yet in this kubelogin",
  pop: "--pop-enabled service principal login is not implemented yet in this kubelogin",
} as const;

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  if (o.clientCertificate === "" && o.clientSecret === "") {
    const names = [...envNamesFor("clientSecret", o), ...envNamesFor("clientCertificate", o)];
    throw new MissingOptionError(messages.clientSecret, "--client-secret or --client-certificate", names);
  }
  if (o.legacy) throw new NotImplementedError(messages.legacy, { hint: "drop --legacy to use the Entra ID v2 endpoint" });
  if (o.isPopTokenEnabled) throw new NotImplementedError(messages.pop, { hint: "drop --pop-enabled/--pop-claims to get a bearer token" });
}

function credentialIdentity(o: Readonly<GetTokenOptions>): readonly string[] {
  if (o.clientCertificate !== "") return ["certificate", o.clientCertificate];
  return ["secret", createHash("sha256").update(o.clientSecret).digest("hex")];
}

async function loadCertificate(path: string, password: string) {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CertificateError(`failed to read certificate: failed to read the certificate file (${path}): ${goPathError(err, undefined, path)}`, {
      hint: "check --client-certificate (or AZURE_CLIENT_CERTIFICATE_PATH / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE)",
      cause: err,
    });
  }
  // Loaded only here: node-forge (for PFX) has no place on the cached path.
  const { parseClientCertificate } = await import("./certificate.js");
  return parseClientCertificate(data, path, password);
}

async function acquireToken(request: TokenRequest, deps: LoginDeps): Promise<AccessToken> {
  const o = request.options;
  const usesCertificate = o.clientCertificate !== "";
  let credential;
  try {
    credential = usesCertificate
      ? { clientCertificate: toMsalCertificate(await loadCertificate(o.clientCertificate, o.clientCertificatePassword)) }
      : { clientSecret: o.clientSecret };
  } catch (err) {
    throw err instanceof KubeloginError ? err.wrap("failed to create azidentity credential") : err;
  }
  deps.log.v(5, `using credential: ${usesCertificate ? "ClientCertificateCredential" : "ClientSecretCredential"}`);

  const [{ ConfidentialClientApplication }, { msalConfiguration, authorityFor }, { fromMsalError }, { createMsalCachePlugin }] = await Promise.all([
    import("@azure/msal-node"),
    import("./msal/app.js"),
    import("./msal/errors.js"),
    import("../cache/msal-plugin.js"),
  ]);
  const appEntry = `msal-${createHash("sha256").update(JSON.stringify([request.authorityHost, o.tenantId, o.clientId, credentialIdentity(o)])).digest("hex").slice(0, 40)}.json`;
  const cachePlugin = createMsalCachePlugin(deps.store, appEntry, deps.lock, {
    corrupt: (aside) => deps.log.warn(`the MSAL cache entry was unreadable and has been set aside${aside ? ` as ${aside}` : ""}`),
    unusable: (err) => deps.log.v(1, `the MSAL cache in ${deps.store.location} is unusable (${err.message}); continuing without it`),
  });
  const app = new ConfidentialClientApplication(
    msalConfiguration(
      { authorityHost: request.authorityHost, tenantId: o.tenantId, clientId: o.clientId, disableInstanceDiscovery: o.disableInstanceDiscovery, cachePlugin, log: deps.log },
      credential,
    ),
  );
  deps.log.v(5, `getting token with scopes: [${request.scope}]`);
  try {
    const result = await app.acquireTokenByClientCredential({ scopes: [request.scope] });
    if (!result?.accessToken || !result.expiresOn) throw new KubeloginError("the identity provider returned no access token");
    return { token: result.accessToken, expiresOn: result.expiresOn.getTime() };
  } catch (err) {
    const translated = await fromMsalError(err, {
      authority: authorityFor(request.authorityHost, o.tenantId),
      clientId: o.clientId,
      tenantId: o.tenantId,
      provenance: deps.provenance,
      credentialKind: usesCertificate ? "client certificate" : "client secret",
      fetchImpl: fetch,
    });
    throw translated.wrap("failed to get token");
  }
}

function toMsalCertificate(cert: { privateKeyPem: string; certificatePem: string; thumbprintSha256: string }) {
  return { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem, x5c: cert.certificatePem };
}

export const spn: LoginStrategy = { mode: "spn", checkOptions, credentialIdentity, acquireToken };
