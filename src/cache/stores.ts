// The cache's stores, split by lifetime and created in one place from the options.
import { createFileStore } from "./file-store.js";
import type { TokenStore } from "./store.js";

export interface CacheStores {
  /** Access-token entries, served by the fast path: always 0600 files. */
  readonly accessTokens: TokenStore;
  /** MSAL's cache blob (refresh tokens, accounts), auth records, PoP keys. */
  readonly longLived: TokenStore;
  clearAll(): Promise<void>;
}

export function createStores(settings: { cacheDir: string; now: () => number }): CacheStores {
  const files = createFileStore(settings.cacheDir, settings.now);
  return { accessTokens: files, longLived: files, clearAll: () => files.clear() };
}
