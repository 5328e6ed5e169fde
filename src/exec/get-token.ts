// The get-token use case (compat spec §3.1): options → exec info → the strategy's plan (checks,
// request, cache key) → cached token, or, under a per-identity lock, one identity-provider
// request → ExecCredential on stdout.
import { lockPathFor, withLock, type LockOptions } from "../cache/lock.js";
import { createStores, parseCacheBackend } from "../cache/stores.js";
import { describeOrigin } from "../options/origin.js";
import { formatTokenEntry, isFresh, readCachedToken, tokenEntryName, type CachedToken } from "../cache/token-cache.js";
import { CacheError, KubeloginError, MissingOptionError, TimeoutError } from "../errors.js";
import type { Logger } from "../log.js";
import { formatGoDuration } from "../options/duration.js";
import type { LoginMode } from "../options/table.js";
import type { ValidatedResolvedOptions } from "../options/validate.js";
import { loadStrategy } from "../login/registry.js";
import type { Interaction, LoginDeps, LoginPlan, LoginStrategy } from "../login/types.js";
import type { Runtime } from "../runtime.js";
import type { ServedEntry } from "../fast-path/hit-index.js";
import type { TokenStore } from "../cache/store.js";
import { writeExecCredential } from "./exec-credential.js";
import { parseExecInfo } from "./exec-info.js";

export interface GetTokenDeps {
  readonly rt: Runtime;
  readonly log: Logger;
  /** The strategy registry; tests may hand in their own strategies. */
  readonly strategyFor?: (mode: LoginMode) => Promise<LoginStrategy>;
  /** Told which cache entry answered, once the answer is on stdout (the fast path's index). */
  readonly remember?: (served: ServedEntry) => Promise<void>;
  /**
   * The environment a login sees, when it is not `rt.env`: the fast path's index watches what the
   * rest of the run reads, and what only a login reads (az's whole environment) is no part of a hit.
   */
  readonly loginEnv?: Runtime["env"];
}

/** Options are already resolved and validated (upstream's Validate runs before Do). */
export async function getToken(resolved: ValidatedResolvedOptions, deps: GetTokenDeps): Promise<void> {
  const { rt, log } = deps;
  const o = resolved.options;
  const execInfo = parseExecInfo(rt.env.KUBERNETES_EXEC_INFO);
  if (o.serverId === "") throw new MissingOptionError("server-id is required", "--server-id");
  const deadline = rt.clock.now() + o.timeout;

  const strategy = await (deps.strategyFor ?? loadStrategy)(o.loginMethod);
  const lock = (): LockOptions => ({
    clock: rt.clock,
    pid: rt.pid,
    isProcessAlive: rt.isProcessAlive,
    timeoutMs: Math.max(0, deadline - rt.clock.now()),
  });
  const backendOrigin = describeOrigin(resolved.provenance.cacheBackend);
  const stores = createStores({
    cacheDir: o.cacheDir,
    now: rt.clock.now,
    backend: parseCacheBackend(o.cacheBackend, backendOrigin),
    backendOrigin,
    log,
    env: rt.env,
    lock,
  });
  // Stryker disable next-line ConditionalExpression: log.v filters by level itself; the guard only spares reading the backend's state file
  if (log.level >= 1) log.v(1, await stores.describe());
  const makePlan = async (): Promise<LoginPlan> => {
    try {
      return await strategy.plan(o, { env: rt.env, homedir: rt.homedir, cacheDir: o.cacheDir, state: stores.longLived });
    } catch (err) {
      throw err instanceof KubeloginError ? err.wrap("failed to create azidentity credential") : err;
    }
  };
  const plan = await makePlan();
  for (const warning of plan.warnings) rt.stderr.write(`Warning: ${warning}\n`);
  const presented = (token: CachedToken): CachedToken =>
    plan.present ? { token: plan.present(token.token, rt.clock.now()), expiresOn: token.expiresOn } : token;

  const tokens = stores.accessTokens;
  const entry = tokenEntryName(plan.cacheKey);
  const reportCorrupt = (aside: string | undefined): void =>
    log.warn(`a cache entry was unreadable; ${aside ? `set aside as ${aside} and ` : ""}rebuilding it`);

  const readFreshToken = async (name: string): Promise<CachedToken | undefined> => {
    const found = await readCachedToken(tokens, name, reportCorrupt, rt.clock.now());
    return found && isFresh(found, rt.clock.now()) ? found : undefined;
  };
  const cached = await readCachedToken(tokens, entry, reportCorrupt, rt.clock.now()).catch((err: unknown) => {
    // Stryker disable next-line ConditionalExpression: the token store throws only CacheErrors, so no other error reaches this
    if (!(err instanceof CacheError)) throw err;
    log.v(1, `cannot read the token cache in ${tokens.location}: ${err.message}`);
    return undefined;
  });
  const answered = async (token: CachedToken, from: { entry: string; plan: LoginPlan } | undefined): Promise<void> => {
    writeExecCredential(rt.stdout, execInfo.apiVersion, presented(token));
    if (from && !plan.present) await deps.remember?.(servedEntry(tokens, o.cacheDir, execInfo.apiVersion, from, makePlan));
  };
  if (cached && isFresh(cached, rt.clock.now())) {
    log.v(5, () => `serving the cached token for ${strategy.mode} (expires ${new Date(cached.expiresOn).toISOString()})`);
    return answered(cached, { entry, plan });
  }

  const interaction = interactionFor(rt, execInfo.interactive);
  const loginRuntime: Runtime = deps.loginEnv ? { ...rt, env: deps.loginEnv } : rt;
  const loginDeps = (signal: AbortSignal): LoginDeps => ({
    rt: loginRuntime,
    log,
    state: stores.longLived,
    lock: lock(),
    provenance: resolved.provenance,
    signal,
    deadline,
    interaction,
  });
  const acquire = (): Promise<CachedToken> =>
    withinDeadline(rt, deadline, () => timeoutError(plan, o.timeout), (signal) => plan.acquire(loginDeps(signal)));
  /**
   * A token already expired when it arrives means a wrong clock here or at the issuer. Upstream
   * prints it, so it is printed (kubectl's answer then names the problem), but caching it would
   * serve it again on every call until the clock is fixed.
   */
  const expiredOnArrival = (token: CachedToken): boolean => {
    const now = rt.clock.now();
    if (token.expiresOn > now) return false;
    log.warn(
      `the token just received expired at ${new Date(token.expiresOn).toISOString()}, before this machine's time ${new Date(now).toISOString()}; ` +
        "it is printed but not cached: check the clock of this machine and of the identity endpoint",
    );
    return true;
  };

  // The login runs at most once: a failure of the cache around it (lock, read, write) means going
  // on without the cache, but an error from the login itself is reported as it is.
  let loginStarted = false;
  /** The entry the token is in now, and the plan that named it. */
  let savedIn: { entry: string; plan: LoginPlan } | undefined;
  let token: CachedToken;
  try {
    token = await withLock(lockPathFor(tokens.lockDir, entry), lock(), async () => {
      // Another kubelogin may have fetched it while this one waited for the lock: N parallel
      // kubectl calls make one identity-provider request.
      const fetched = await readFreshToken(entry);
      if (fetched) {
        savedIn = { entry, plan };
        return fetched;
      }
      // A user sign-in decides the account, and so the key: the one that waited for this lock
      // plans again and finds the token the first one saved under the account's key.
      const replanned = await makePlan();
      const other = tokenEntryName(replanned.cacheKey);
      // Stryker disable next-line ConditionalExpression: reading the same entry again finds it as stale as a moment ago
      const signedIn = other === entry ? undefined : await readFreshToken(other);
      if (signedIn) {
        savedIn = { entry: other, plan: replanned };
        return signedIn;
      }
      loginStarted = true;
      const fresh = await acquire();
      if (expiredOnArrival(fresh)) return fresh;
      const planAfter = await makePlan();
      const entryAfter = tokenEntryName(planAfter.cacheKey);
      await tokens.write(entryAfter, formatTokenEntry(planAfter.cacheKey, fresh)).then(
        () => (savedIn = { entry: entryAfter, plan: planAfter }),
        (err: unknown) => {
          // Stryker disable next-line ConditionalExpression: the token store throws only CacheErrors, so no other error reaches this
          if (!(err instanceof CacheError)) throw err;
          log.warn(`could not save the token in ${tokens.location}: ${err.message}`);
        },
      );
      return fresh;
    });
  } catch (err) {
    if (!(err instanceof CacheError) || loginStarted) throw err;
    // An unusable cache dir (read-only home, full disk) must not stop kubectl: go without cache.
    log.v(1, `the token cache in ${tokens.location} is unusable (${err.message}); continuing without it`);
    token = await acquire();
    expiredOnArrival(token);
  }
  await answered(token, savedIn);
}

function servedEntry(
  store: TokenStore,
  cacheDir: string,
  apiVersion: ServedEntry["apiVersion"],
  from: { entry: string; plan: LoginPlan },
  replan: () => Promise<LoginPlan>,
): ServedEntry {
  return { entry: from.entry, apiVersion, store, cacheDir, inputs: from.plan.inputs, replan, entryFor: (p) => tokenEntryName(p.cacheKey) };
}

/** Device-code messages go to stderr at once (kubectl passes it through); the browser comes from the runtime. */
function interactionFor(rt: Runtime, interactive: boolean): Interaction {
  return {
    interactive,
    showMessage: (text) => rt.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    openBrowser: (url) => rt.openBrowser(url),
  };
}

/**
 * Upstream has one context deadline, and its error ends in Go's "context deadline exceeded" behind
 * the credential's own breadcrumbs: scripts match that first line, so the plain words go to the hint.
 */
function timeoutError(plan: LoginPlan, timeout: number): TimeoutError {
  const wording = plan.timeoutWording?.();
  return new TimeoutError(`${wording?.prefix ?? "failed to get token"}: context deadline exceeded`, {
    hint:
      wording?.hint ??
      `kubelogin stopped waiting after ${formatGoDuration(timeout)} (--timeout): raise --timeout (or AZURE_CLI_TIMEOUT), and check that the identity provider is reachable`,
  });
}

/**
 * Runs the login with the time --timeout has left. The signal cancels what can be cancelled
 * (requests, sleeps, child processes); the race ends the wait for what cannot (a blocked read),
 * and main.ts then exits.
 */
async function withinDeadline<T>(rt: Runtime, deadline: number, expiredError: () => TimeoutError, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  // setTimeout fires at once for delays past 2^31-1 ms (about 24.8 days); "--timeout 720h" means "no hurry".
  const remaining = Math.min(Math.max(0, deadline - rt.clock.now()), 2 ** 31 - 1);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = expiredError();
      controller.abort(error);
      reject(error);
    }, remaining);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
