// The get-token use case (compat spec §3.1): options → exec info → strategy checks → cached token
// or, under a per-identity lock, one identity-provider request → ExecCredential on stdout.
import { createStores } from "../cache/stores.js";
import { withLock, type LockOptions } from "../cache/lock.js";
import type { TokenStore } from "../cache/store.js";
import { formatTokenEntry, isFresh, readCachedToken, tokenEntryName, type CachedToken, type TokenIdentity } from "../cache/token-cache.js";
import { CacheError, KubeloginError, MissingOptionError, TimeoutError } from "../errors.js";
import type { Logger } from "../log.js";
import { formatGoDuration } from "../options/duration.js";
import type { ResolvedOptions } from "../options/resolve.js";
import type { LoginMode } from "../options/table.js";
import { chooseAuthorityHost, scopeFor } from "../login/authority.js";
import { loadStrategy } from "../login/registry.js";
import type { LoginStrategy, TokenRequest } from "../login/types.js";
import type { Runtime } from "../runtime.js";
import { writeExecCredential } from "./exec-credential.js";
import { parseExecInfo } from "./exec-info.js";

export interface GetTokenDeps {
  readonly rt: Runtime;
  readonly log: Logger;
}

/** Options are already resolved and validated (upstream's Validate runs before Do). */
export async function getToken(resolved: ResolvedOptions, deps: GetTokenDeps): Promise<void> {
  const { rt, log } = deps;
  const o = resolved.options;
  const execInfo = parseExecInfo(rt.env.KUBERNETES_EXEC_INFO);
  if (o.serverId === "") throw new MissingOptionError("server-id is required", "--server-id");

  const strategy = await loadStrategy(o.loginMethod as LoginMode);
  try {
    strategy.checkOptions(o);
  } catch (err) {
    throw err instanceof KubeloginError ? err.wrap("failed to create azidentity credential") : err;
  }
  const authority = chooseAuthorityHost(o.authorityHost, o.environment);
  if (authority.warning) rt.stderr.write(`Warning: ${authority.warning}\n`);
  const request: TokenRequest = { options: o, authorityHost: authority.host, scope: scopeFor(o.serverId) };
  const identity: TokenIdentity = {
    mode: strategy.mode,
    authority: authority.host,
    tenantId: o.tenantId,
    clientId: o.clientId,
    scope: request.scope,
    credential: strategy.credentialIdentity(o),
  };

  const deadline = rt.clock.now() + o.timeout;
  const stores = createStores({ cacheDir: o.cacheDir, now: rt.clock.now });
  const store = stores.accessTokens;
  const entry = tokenEntryName(identity);
  const lock: LockOptions = { clock: rt.clock, pid: rt.pid, isProcessAlive: rt.isProcessAlive, timeoutMs: o.timeout };
  const reportCorrupt = (aside: string | undefined): void =>
    log.warn(`cache entry ${entry} was unreadable; ${aside ? `set aside as ${aside} and ` : ""}rebuilding it`);

  const cached = await readCachedToken(store, entry, reportCorrupt, rt.clock.now()).catch((err: unknown) => {
    log.v(1, `cannot read the token cache in ${store.location}: ${(err as Error).message}`);
    return undefined;
  });
  if (cached && isFresh(cached, rt.clock.now())) {
    log.v(5, () => `serving the cached token for ${strategy.mode} (expires ${new Date(cached.expiresOn).toISOString()})`);
    writeExecCredential(rt.stdout, execInfo.apiVersion, cached);
    return;
  }

  const acquire = (): Promise<CachedToken> => acquireWithin(strategy, request, { rt, log, store: stores.longLived, lock, provenance: resolved.provenance }, deadline);
  let token: CachedToken;
  try {
    token = await withLock(`${store.lockDir}/${entry}.lock`, lock, async () => {
      // Another kubelogin may have fetched it while this one waited for the lock: N parallel
      // kubectl calls make one identity-provider request.
      const fetched = await readCachedToken(store, entry, reportCorrupt, rt.clock.now());
      if (fetched && isFresh(fetched, rt.clock.now())) return fetched;
      const fresh = await acquire();
      await store.write(entry, formatTokenEntry(identity, fresh)).catch((err: unknown) => {
        log.warn(`could not save the token in ${store.location}: ${(err as Error).message}`);
      });
      return fresh;
    });
  } catch (err) {
    if (!(err instanceof CacheError)) throw err;
    // An unusable cache dir (read-only home, full disk) must not stop kubectl: go without cache.
    log.v(1, `the token cache in ${store.location} is unusable (${(err as Error).message}); continuing without it`);
    token = await acquire();
  }
  writeExecCredential(rt.stdout, execInfo.apiVersion, token);
}

async function acquireWithin(
  strategy: LoginStrategy,
  request: TokenRequest,
  base: { rt: Runtime; log: Logger; store: TokenStore; lock: LockOptions; provenance: ResolvedOptions["provenance"] },
  deadline: number,
): Promise<CachedToken> {
  // setTimeout fires at once for delays past 2^31-1 ms (about 24.8 days); "--timeout 720h" means "no hurry".
  const remaining = Math.min(Math.max(0, deadline - base.rt.clock.now()), 2 ** 31 - 1);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new TimeoutError(`failed to get token: timed out after ${formatGoDuration(request.options.timeout)}`, {
          hint: "raise --timeout (or AZURE_CLI_TIMEOUT), and check that the identity provider is reachable",
        }),
      );
    }, remaining);
  });
  try {
    return await Promise.race([strategy.acquireToken(request, { ...base, signal: controller.signal }), expired]);
  } finally {
    clearTimeout(timer);
  }
}
