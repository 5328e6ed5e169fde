// The cache's stores, created in one place and split by lifetime (decision 10): the short-lived
// access-token entries the fast path serves, and the long-lived state (MSAL's cache blob with
// refresh tokens and accounts, auth records, PoP keys). Both are files in the cache dir today;
// the keychain backend will replace `longLived` here and nowhere else.
import { createFileStore } from "./file-store.js";
import type { TokenStore } from "./store.js";

export interface CacheStores {
  readonly accessTokens: TokenStore;
  readonly longLived: TokenStore;
  /** Removes everything each store owns (remove-cache-dir). */
  clearAll(): Promise<void>;
}

export interface CacheSettings {
  readonly cacheDir: string;
  readonly now: () => number;
}

/** token-<hash>.json (cache/token-cache.ts). */
const isAccessTokenEntry = (name: string): boolean => /^token-[^/\\]+\.json$/.test(name);

/** Upstream's files (compat spec §4.1, §4.3), which kubelogin reads and writes under the same names. */
const UPSTREAM_FILES: ReadonlySet<string> = new Set(["auth.json", "pop_tokens.cache", "pop_rsa_key.cache"]);

/**
 * msal-<name>.json (MSAL cache blobs), auth-<hash>.json (a sign-in's auth record per authority,
 * tenant and client: login/auth-record.ts), and upstream's auth record and PoP files.
 */
const isLongLivedEntry = (name: string): boolean =>
  /^msal-[^/\\]+\.json$/.test(name) || /^auth-[0-9a-f]{40}\.json$/.test(name) || UPSTREAM_FILES.has(name);

export function createStores(settings: CacheSettings): CacheStores {
  const accessTokens = createFileStore({ dir: settings.cacheDir, now: settings.now, owns: isAccessTokenEntry });
  const longLived = createFileStore({ dir: settings.cacheDir, now: settings.now, owns: isLongLivedEntry });
  return {
    accessTokens,
    longLived,
    async clearAll() {
      // A failure in one store must not leave the other's credentials behind: clear both, then report.
      const results = await Promise.allSettled([accessTokens.clear(), longLived.clear()]);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}
