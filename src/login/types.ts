import type { LockOptions } from "../cache/lock.js";
import type { TokenStore } from "../cache/store.js";
import type { Logger } from "../log.js";
import type { GetTokenOptions, Provenance } from "../options/resolve.js";
import type { LoginMode } from "../options/table.js";
import type { Runtime } from "../runtime.js";

export interface AccessToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresOn: number;
}

export interface LoginDeps {
  readonly rt: Runtime;
  readonly log: Logger;
  readonly store: TokenStore;
  /** How strategies take cache locks (MSAL's cache entry), with the run's clock and deadline. */
  readonly lock: LockOptions;
  readonly provenance: Provenance;
  /** Aborted when --timeout runs out. */
  readonly signal: AbortSignal;
}

/** What a strategy needs to know about the request, already derived from the options. */
export interface TokenRequest {
  readonly options: Readonly<GetTokenOptions>;
  /** Authority host with trailing slash, e.g. https://login.microsoftonline.com/ */
  readonly authorityHost: string;
  /** `<server-id>/.default` (compat spec §3.1). */
  readonly scope: string;
}

export interface LoginStrategy {
  readonly mode: LoginMode;
  /** Upstream's credential-construction checks ("client ID cannot be empty"); pure, loads nothing heavy. */
  checkOptions(options: Readonly<GetTokenOptions>): void;
  /** What, besides mode/authority/tenant/client/scope, makes a token this one and not another. */
  credentialIdentity(options: Readonly<GetTokenOptions>): readonly string[];
  acquireToken(request: TokenRequest, deps: LoginDeps): Promise<AccessToken>;
}
