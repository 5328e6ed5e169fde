// Adapts a TokenStore entry to MSAL's cache-plugin hooks, so MSAL's own cache (accounts, refresh
// tokens) persists in the same backend, written atomically under the same kind of lock.
import type { ICachePlugin, TokenCacheContext } from "@azure/msal-node";
import { withLock, type LockOptions } from "./lock.js";
import type { TokenStore } from "./store.js";

export function createMsalCachePlugin(
  store: TokenStore,
  entryName: string,
  lock: LockOptions,
  onCorrupt: (setAsidePath: string | undefined) => void,
): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      const blob = await store.read(entryName);
      if (blob === null) return;
      try {
        context.tokenCache.deserialize(blob);
      } catch {
        onCorrupt(await store.setAside(entryName));
      }
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (!context.cacheHasChanged) return;
      await withLock(`${store.lockDir}/${entryName}.lock`, lock, () => store.write(entryName, context.tokenCache.serialize()));
    },
  };
}
