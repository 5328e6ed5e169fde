// An in-memory stand-in for keytar (the Keychain interface the keychain store is given), for unit
// tests of what kubelogin does with a keychain. The real Secret Service is exercised in
// test/e2e/keychain.test.ts. `state` switches it between unlocked, locked (reads find nothing,
// writes are refused, as libsecret behaves) and absent (every call fails, as with no D-Bus).
import type { Keychain } from "../../src/cache/keychain-store.js";

export interface FakeKeychain extends Keychain {
  state: "unlocked" | "locked" | "absent";
  readonly items: Map<string, Map<string, string>>;
  /** Every call, as `method service account`. */
  readonly calls: string[];
}

export function fakeKeychain(state: FakeKeychain["state"] = "unlocked"): FakeKeychain {
  const items = new Map<string, Map<string, string>>();
  const service = (name: string): Map<string, string> => {
    let found = items.get(name);
    if (!found) items.set(name, (found = new Map()));
    return found;
  };
  const fake: FakeKeychain = {
    state,
    items,
    calls: [],
    async getPassword(name, account) {
      enter("getPassword", name, account);
      return fake.state === "locked" ? null : (service(name).get(account) ?? null);
    },
    async setPassword(name, account, password) {
      enter("setPassword", name, account);
      if (fake.state === "locked") throw new Error("Cannot create an item in a locked collection\nat libsecret");
      service(name).set(account, password);
    },
    async deletePassword(name, account) {
      enter("deletePassword", name, account);
      return fake.state === "unlocked" && service(name).delete(account);
    },
    async findCredentials(name) {
      enter("findCredentials", name, "");
      if (fake.state === "locked") return [];
      return [...service(name)].map(([account, password]) => ({ account, password }));
    },
  };
  const enter = (method: string, name: string, account: string): void => {
    fake.calls.push(`${method} ${name} ${account}`.trimEnd());
    if (fake.state === "absent") throw new Error("The name org.freedesktop.secrets was not provided by any .service files");
  };
  return fake;
}
