// Service principal login (compat spec §3.6): client credentials with a secret, or with a PEM or
// PFX certificate, through MSAL's confidential client. A certificate beats a secret when both are
// set, as upstream. --legacy sends the same credential to the ADAL v1 endpoint (adal-v1.ts);
// --pop-enabled asks for a token bound to the PoP key (pop.ts).
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { CertificateError, KubeloginError, MissingOptionError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { goPathError } from "../os-error.js";
import { checkTenantFormat, entraTarget, resourceFor, type EntraTarget } from "./authority.js";
import { popBindingFor, withPopTokenRequests, type PopBinding } from "./pop.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  clientSecret: "client secret cannot be empty",
  createSecretCredential: "failed to create client secret credential",
  createCertificateCredential: "failed to create client certificate credential",
  popFailed: (certificate: boolean) => `failed to create PoP token using client ${certificate ? "certificate" : "secret"} credential`,
  popInner: "failed to create service principal PoP token using credential",
  notRegularFile: "not a regular file",
} as const;

/** secret or certificate, then the v1 (legacy) or PoP variant: each is a different token. */
export type SpnVariant = "bearer" | "legacy" | { readonly popClaimU: string };

/** Everything that makes a service principal's token distinct; pure, so tests can compare keys. */
export function spnCacheKey(target: EntraTarget, clientId: string, variant: SpnVariant, credential: readonly string[]): string[] {
  const shape = typeof variant === "string" ? variant : `pop u=${variant.popClaimU}`;
  return ["spn", shape, target.authorityHost, target.tenantId, clientId, target.scope, ...credential];
}

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  if (o.clientCertificate === "" && o.clientSecret === "") {
    const names = [...envNamesFor("clientSecret", o), ...envNamesFor("clientCertificate", o)];
    throw new MissingOptionError(messages.clientSecret, "--client-secret or --client-certificate", names);
  }
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * A certificate is identified by its file (device, inode, size, times) and its password, so a
 * replaced file or a changed password misses the cache, without reading the file on the cached
 * path. Anything but a regular file is refused here, before it is opened: reading a FIFO or a
 * device would block past --timeout.
 */
async function certificateFingerprint(path: string, password: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw certificateReadError(path, goPathError(err, "open", path), err);
  }
  if (!info.isFile()) throw certificateReadError(path, `open ${path}: ${messages.notRegularFile}`);
  return ["certificate", path, String(info.dev), String(info.ino), String(info.size), String(info.mtimeMs), String(info.ctimeMs), sha256(password)];
}

function certificateReadError(path: string, reason: string, cause?: unknown): CertificateError {
  return new CertificateError(`failed to read certificate: failed to read the certificate file (${path}): ${reason}`, {
    hint: "check --client-certificate (or AZURE_CLIENT_CERTIFICATE_PATH / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE)",
    cause,
  });
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  checkOptions(o);
  // Legacy beats PoP, as upstream's dispatch does.
  const pop = !o.legacy && o.isPopTokenEnabled ? await popBindingFor(o.popClaims, context.state) : undefined;
  const target = entraTarget(o);
  const usesCertificate = o.clientCertificate !== "";
  if (o.legacy) return legacyPlan(o, target, usesCertificate);
  const credential = usesCertificate ? await certificateFingerprint(o.clientCertificate, o.clientCertificatePassword) : ["secret", sha256(o.clientSecret)];
  // After the certificate is read, as upstream's constructors do; adal has no such check.
  checkTenantFormat(o.tenantId, pop ? undefined : usesCertificate ? messages.createCertificateCredential : messages.createSecretCredential);
  if (pop) {
    return {
      cacheKey: spnCacheKey(target, o.clientId, { popClaimU: pop.u }, [...credential, ...pop.cacheKeyPart]),
      inputs: usesCertificate ? [o.clientCertificate] : [],
      warnings: [...target.warnings, ...pop.warnings],
      acquire: (deps) => acquireToken(o, target, deps, pop),
      present: pop.present,
    };
  }
  return {
    cacheKey: spnCacheKey(target, o.clientId, "bearer", credential),
    inputs: usesCertificate ? [o.clientCertificate] : [],
    warnings: target.warnings,
    acquire: (deps) => acquireToken(o, target, deps),
  };
}

/**
 * adal reads the certificate when the token is requested, so a certificate that cannot be read
 * fails there ("failed to get token: failed to read certificate: …"), not while planning: such a
 * plan gets a key of its own, and its acquire reads the file and fails as upstream's does.
 */
async function legacyPlan(o: Readonly<GetTokenOptions>, target: EntraTarget, usesCertificate: boolean): Promise<LoginPlan> {
  const credential = usesCertificate
    ? await certificateFingerprint(o.clientCertificate, o.clientCertificatePassword).catch((err: unknown) => {
        if (!(err instanceof CertificateError)) throw err;
        return ["certificate", o.clientCertificate, "unreadable"];
      })
    : ["secret", sha256(o.clientSecret)];
  return {
    cacheKey: spnCacheKey(target, o.clientId, "legacy", credential),
    inputs: usesCertificate ? [o.clientCertificate] : [],
    warnings: target.warnings,
    acquire: (deps) => acquireLegacyToken(o, target, deps),
  };
}

/** Opened without blocking and checked again once open: the file may have been swapped since plan(). */
async function readCertificateFile(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw certificateReadError(path, goPathError(err, "open", path), err);
  }
  try {
    if (!(await handle.stat()).isFile()) throw certificateReadError(path, `read ${path}: ${messages.notRegularFile}`);
    return await handle.readFile();
  } catch (err) {
    throw err instanceof CertificateError ? err : certificateReadError(path, goPathError(err, "read", path), err);
  } finally {
    await handle.close();
  }
}

async function loadCertificate(path: string, password: string) {
  const data = await readCertificateFile(path);
  // Loaded only here: node-forge (for PFX) has no place on the cached path.
  const { parseClientCertificate } = await import("./certificate.js");
  return parseClientCertificate(data, path, password);
}

async function acquireToken(o: Readonly<GetTokenOptions>, target: EntraTarget, runDeps: LoginDeps, pop?: PopBinding): Promise<AccessToken> {
  const deps = pop ? withPopTokenRequests(runDeps, pop.key) : runDeps;
  const usesCertificate = o.clientCertificate !== "";
  let credential;
  try {
    credential = usesCertificate
      ? { clientCertificate: toMsalCertificate(await loadCertificate(o.clientCertificate, o.clientCertificatePassword)) }
      : { clientSecret: o.clientSecret };
  } catch (err) {
    throw err instanceof KubeloginError ? err.wrap("failed to create azidentity credential") : err;
  }
  deps.log.v(5, `using credential: ${usesCertificate ? "ClientCertificateCredential" : "ClientSecretCredential"}${pop ? "WithPoP" : ""}`);

  const [{ createConfidentialClient }, { fromMsalError, msalErrorContext }] = await Promise.all([import("./msal/client.js"), import("./msal/errors.js")]);
  deps.log.v(5, `getting token with scopes: [${target.scope}]`);
  try {
    const app = createConfidentialClient({ authorityHost: target.authorityHost, tenantId: target.tenantId, clientId: o.clientId }, credential, deps);
    const result = await app.acquireTokenByClientCredential({ scopes: [target.scope], ...(pop ? { popKid: pop.key.thumbprint } : {}) });
    if (!result?.accessToken || !result.expiresOn) throw new KubeloginError("the identity provider returned no access token");
    return { token: result.accessToken, expiresOn: result.expiresOn.getTime() };
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    const translated = await fromMsalError(err, msalErrorContext(target, o.clientId, deps, usesCertificate ? "clientCertificate" : "clientSecret"));
    throw (pop ? translated.wrap(messages.popInner).wrap(messages.popFailed(usesCertificate)) : translated).wrap("failed to get token");
  }
}

/** ADAL v1 client credentials (compat spec §3.6, decision 9): the v1 token endpoint with `resource=`. */
async function acquireLegacyToken(o: Readonly<GetTokenOptions>, target: EntraTarget, deps: LoginDeps): Promise<AccessToken> {
  const usesCertificate = o.clientCertificate !== "";
  deps.log.v(5, `using credential: ${usesCertificate ? "ADALClientCertCredential" : "ADALClientSecretCredential"}`);
  const { acquireServicePrincipalToken } = await import("./adal-v1.js");
  const v1 = { authorityHost: target.authorityHost, tenantId: target.tenantId, resource: resourceFor(o.serverId) };
  try {
    // Read at token time, as upstream, so its errors read "failed to get token: failed to read certificate: …".
    const credential = usesCertificate
      ? { certificate: await loadCertificate(o.clientCertificate, o.clientCertificatePassword) }
      : { clientSecret: o.clientSecret };
    return await acquireServicePrincipalToken(v1, o.clientId, credential, deps);
  } catch (err) {
    // --timeout's own error is already worded in full ("failed to get token: context deadline exceeded").
    if (deps.signal.aborted) throw deps.signal.reason;
    throw err instanceof KubeloginError ? err.wrap("failed to get token") : err;
  }
}

function toMsalCertificate(cert: { privateKeyPem: string; certificatePem: string; thumbprintSha256: string }) {
  return { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem, x5c: cert.certificatePem };
}

export const spn: LoginStrategy = { mode: "spn", plan };
