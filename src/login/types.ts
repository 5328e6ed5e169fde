import type { LockOptions } from "../cache/lock.js";
import type { TokenStore } from "../cache/store.js";
import type { Logger } from "../log.js";
import type { Env, GetTokenOptions, Provenance } from "../options/resolve.js";
import type { LoginMode } from "../options/table.js";
import type { Runtime } from "../runtime.js";

export interface AccessToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOn: number;
}

/** How a strategy reaches the person at the keyboard; it never prints itself (stdout is the protocol). */
export interface Interaction {
  /** kubectl's spec.interactive. false does not mean nobody is there (GUI clients say false): keep signing in, on stderr. */
  readonly interactive: boolean;
  /** Shows a message as is, on its own line, at once (the device-code instructions). */
  showMessage(text: string): void;
  /** Opens the system browser on `url` ($BROWSER first); rejects when no browser can be started. */
  openBrowser(url: string): Promise<void>;
}

export interface LoginDeps {
  readonly rt: Runtime;
  readonly log: Logger;
  /** Long-lived state (decision 10): MSAL's cache blob with refresh tokens and accounts, PoP keys. */
  readonly state: TokenStore;
  /** How strategies take cache locks on `state` entries, with the run's clock. */
  readonly lock: LockOptions;
  readonly provenance: Provenance;
  /** Aborted when --timeout runs out: pass it to every request, sleep and child process. */
  readonly signal: AbortSignal;
  /** When --timeout runs out, in the clock's milliseconds (what a lock wait has left). */
  readonly deadline: number;
  readonly interaction: Interaction;
}

/** What a strategy may look at while planning: cheap, local, and never the network. */
export interface PlanContext {
  readonly env: Env;
  readonly homedir: string;
  /** Where the auth record (auth.json) and the other long-lived files live. */
  readonly cacheDir: string;
  /** The long-lived store (LoginDeps.state): a PoP plan reads its key here, cache hits included. */
  readonly state: TokenStore;
}

/**
 * A strategy's answer to "which token is this?": its complete cache identity, and how to get it.
 * Everything that makes a token distinct (mode, variant, authority, tenant, client, scope or
 * resource, credential fingerprint, PoP binding, signed-in account) is in `cacheKey`, so one
 * variant is never served another's token.
 */
export interface LoginPlan {
  /**
   * For a user sign-in this includes the account from the auth record; the use case plans again
   * after the login, so the token is saved under the key of the account that signed in.
   */
  readonly cacheKey: readonly string[];
  /**
   * Every file whose content or presence went into `cacheKey` (a certificate, az's profile, an
   * auth record), as the plan named them. The fast path answers a call from its index only while
   * each is unchanged (fast-path/hit-index.ts), so a file missing here is a change it cannot see.
   */
  readonly inputs: readonly string[];
  /** Printed as `Warning: <text>` on stderr before anything else happens (unknown --environment). */
  readonly warnings: readonly string[];
  acquire(deps: LoginDeps): Promise<AccessToken>;
  /**
   * How upstream words --timeout running out during `acquire` (its credential's text ends in Go's
   * "context deadline exceeded"), asked at that moment. Absent: "failed to get token".
   */
  timeoutWording?(): TimeoutWording;
  /**
   * What kubectl gets for the token, made on every call from the cached or fresh token (PoP: a
   * signed envelope with the time of the call); absent, the token as it is. Cheap and synchronous.
   */
  present?(token: string, now: number): string;
}

export interface TimeoutWording {
  /** Upstream's breadcrumbs before "context deadline exceeded". */
  readonly prefix: string;
  /** What was not done in time and what to do about it, instead of the general advice. */
  readonly hint?: string;
}

export interface LoginStrategy {
  readonly mode: LoginMode;
  /**
   * Upstream's credential-construction checks ("client ID cannot be empty") and the plan. Runs on
   * the cached path too, so it loads nothing heavy and makes no request.
   */
  plan(options: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan>;
}
