// Adapts a TokenStore entry to MSAL's cache-plugin hooks, so MSAL's own cache (accounts, refresh
// tokens) persists in the same backend, written atomically under the same kind of lock.
import type { ICachePlugin, TokenCacheContext } from "@azure/msal-node";
import { CacheError } from "../errors.js";
import { lockPathFor, withLock, type LockOptions } from "./lock.js";
import { mergeMsalCache } from "./msal-merge.js";
import type { TokenStore } from "./store.js";

export interface MsalCacheEvents {
  corrupt(setAsidePath: string | undefined): void;
  /** The backend cannot be read (a file where the dir should be, unreadable, a keychain gone): MSAL goes on in memory. */
  unusable(error: CacheError): void;
  /** What MSAL changed (a new sign-in, a refreshed token) could not be saved: the token is still used, but the next call may have to sign in again. */
  notSaved(error: CacheError): void;
}

export function createMsalCachePlugin(store: TokenStore, entryName: string, lock: LockOptions, events: MsalCacheEvents): ICachePlugin {
  // What MSAL started from, so that afterCacheAccess writes back only what this process changed.
  let loaded: string | null = null;
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      let blob: string | null;
      loaded = null;
      try {
        blob = await store.read(entryName);
      } catch (err) {
        if (!(err instanceof CacheError)) throw err;
        events.unusable(err);
        return;
      }
      if (blob === null) return;
      try {
        if (isSerializedCache(blob)) {
          context.tokenCache.deserialize(blob);
          loaded = blob;
          return;
        }
      } catch {
        // Not JSON (isSerializedCache throws), or refused by MSAL: unreadable, as below.
      }
      // MSAL keeps the blob it failed on and re-parses it in serialize(), which would then throw
      // in afterCacheAccess: forget it, so this run starts empty and writes a good entry.
      context.tokenCache.deserialize("");
      events.corrupt(await store.setAside(entryName));
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (!context.cacheHasChanged) return;
      try {
        const mine = context.tokenCache.serialize();
        await withLock(lockPathFor(store.lockDir, entryName), lock, async () => {
          // Another process may have saved a sign-in since beforeCacheAccess: merge, never overwrite.
          const current = await store.read(entryName);
          await store.write(entryName, mergeMsalCache(loaded, mine, current));
        });
      } catch (err) {
        if (!(err instanceof CacheError)) throw err;
        events.notSaved(err);
      }
    },
  };
}


/** The sections MSAL's TokenCache reads (overlayDefaults); other top-level keys it passes through. */
const SECTIONS = ["Account", "IdToken", "AccessToken", "RefreshToken", "AppMetadata"] as const;

/**
 * MSAL's deserialize() accepts any JSON and fails later, in serialize(), on entries that are not
 * objects ({"Account":{"x":1}}). So: a JSON object whose known sections map keys to objects.
 * Throws on text that is not JSON.
 */
function isSerializedCache(blob: string): boolean {
  const parsed: unknown = JSON.parse(blob);
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(parsed)) return false;
  return SECTIONS.every((name) => {
    const section = parsed[name];
    return section === undefined || (isObject(section) && Object.values(section).every(isObject));
  });
}
