// The keychain store's own logic against an in-memory keychain (fake-keychain.ts): item layout
// (head plus chunks, deflated and base64'd), generations, a read racing a write, the plain-file
// copy folded in and removed, set-aside, clear, the probe and its error texts. The real Secret
// Service runs in test/e2e/keychain.test.ts.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createKeychainStore,
  DEFAULT_CHUNK_CHARS,
  describeKeychainFailure,
  isKeychainEntry,
  keychainService,
  probeKeychain,
  type KeychainStoreSettings,
} from "../../src/cache/keychain-store.js";
import { CacheError } from "../../src/errors.js";
import { fakeKeychain, type FakeKeychain } from "./fake-keychain.js";

const MSAL = "msal-abc.json";

let dir: string;
let keychain: FakeKeychain;
let exclusive: number;
let service: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubelogin-keychain-store-"));
  keychain = fakeKeychain();
  exclusive = 0;
  service = `kubelogin ${dir}`;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const store = (settings: Partial<KeychainStoreSettings> = {}) =>
  createKeychainStore({
    cacheDir: dir,
    keychain: async () => keychain,
    exclusive: async (work) => {
      exclusive++;
      return work();
    },
    ...settings,
  });
const items = (): Map<string, string> => keychain.items.get(service) ?? new Map();
/** Random, so deflate cannot shrink it much; the same length gives the same text within a test. */
const randomText = new Map<number, string>();
const incompressible = (length: number): string => {
  let text = randomText.get(length);
  if (text === undefined) randomText.set(length, (text = randomBytes(length).toString("latin1")));
  return text;
};

describe("isKeychainEntry", () => {
  it("is MSAL's blobs and the PoP key, nothing else", () => {
    for (const name of [MSAL, "msal-x.json", "pop_rsa_key.cache"]) expect(isKeychainEntry(name)).toBe(true);
    for (const name of ["auth.json", "pop_tokens.cache", "msal-.json", "msal-a#1.json", "msal-a/b.json", "msal-a\\b.json", "xmsal-a.json", "msal-a.jsonx", "token-a.json"]) {
      expect(isKeychainEntry(name)).toBe(false);
    }
  });
});

describe("keychainService", () => {
  it("names the cache dir's real path, or its absolute path while it does not exist", async () => {
    await symlink(dir, join(dir, "..", `${dir.split("/").pop()}-link`));
    try {
      expect(await keychainService(`${dir}-link`)).toBe(`kubelogin ${dir}`);
    } finally {
      await rm(`${dir}-link`);
    }
    expect(await keychainService(join(dir, "missing", "..", "not-yet"))).toBe(`kubelogin ${join(dir, "not-yet")}`);
  });
});

describe("describeKeychainFailure", () => {
  it("keeps the first line of an error, and stringifies anything else", () => {
    expect(describeKeychainFailure(new Error("locked\nat libsecret\nat dbus"))).toBe("locked");
    expect(describeKeychainFailure("plain\ntext")).toBe("plain");
    expect(describeKeychainFailure(42)).toBe("42");
  });
});

describe("createKeychainStore", () => {
  it("names the keychain as location and the cache dir as lock dir", () => {
    expect(store().location).toBe("the OS keychain");
    expect(store().lockDir).toBe(dir);
  });

  it("stores a small entry as one head item, deflated and base64'd, and reads it back", async () => {
    const s = store();
    expect(await s.read(MSAL)).toBeNull();
    await s.write(MSAL, '{"Account":{}}');
    expect([...items().keys()]).toEqual([MSAL]);
    const head = items().get(MSAL)!;
    const match = /^kubelogin-v1:([0-9a-f]{8}):1:(.+)$/.exec(head);
    expect(match).not.toBeNull();
    expect(inflateRawSync(Buffer.from(match![2]!, "base64")).toString("utf8")).toBe('{"Account":{}}');
    expect(await s.read(MSAL)).toBe('{"Account":{}}');
    expect(exclusive).toBe(3);
  });

  it("stores an empty entry as a head with one empty chunk", async () => {
    const s = store();
    await s.write(MSAL, "");
    expect(items().get(MSAL)).toMatch(/^kubelogin-v1:[0-9a-f]{8}:1:/);
    expect(await s.read(MSAL)).toBe("");
  });

  it("splits a large entry into items of at most chunkChars, by default 2000", async () => {
    expect(DEFAULT_CHUNK_CHARS).toBe(2000);
    const content = incompressible(4000);
    const s = store();
    await s.write(MSAL, content);
    const heads = [...items()].filter(([account]) => account === MSAL);
    const chunks = [...items()].filter(([account]) => account !== MSAL);
    const [, generation, count, first] = /^kubelogin-v1:([0-9a-f]{8}):(\d+):(.*)$/s.exec(heads[0]![1])!;
    expect(first).toHaveLength(2000);
    expect(Number(count)).toBe(chunks.length + 1);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    chunks.forEach(([account, value], i) => {
      expect(account).toBe(`${MSAL}#${generation}#${i + 1}`);
      expect(value.length).toBeLessThanOrEqual(2000);
    });
    expect(await s.read(MSAL)).toBe(content);
  });

  it("fills chunks exactly: data of twice chunkChars is two items", async () => {
    const s = store({ chunkChars: 8 });
    // 12 bytes of deflated data are 16 base64 characters; find a content whose data is that long.
    let content = "";
    for (let n = 1; ; n++) {
      content = incompressible(n);
      const head = (await (async () => {
        await s.write(MSAL, content);
        return items().get(MSAL)!;
      })());
      const [, , count, first] = /^kubelogin-v1:([0-9a-f]{8}):(\d+):(.*)$/s.exec(head)!;
      const data = first + [...items()].filter(([a]) => a !== MSAL).map(([, v]) => v).join("");
      if (data.length % 8 === 0) {
        expect(Number(count)).toBe(data.length / 8);
        break;
      }
    }
    expect(await s.read(MSAL)).toBe(content);
  });

  it("replaces the previous generation's chunks, and no other entry's", async () => {
    const s = store({ chunkChars: 10 });
    // Its name starts with the entry's: only `<entry>#` marks the entry's chunks.
    await s.write("msal-abc.jsonx.json", incompressible(61));
    const other = [...items().keys()].sort();
    expect(other.length).toBeGreaterThan(1);
    await s.write(MSAL, incompressible(60));
    const firstGeneration = /:([0-9a-f]{8}):/.exec(items().get(MSAL)!)![1];
    await s.write(MSAL, incompressible(30));
    const generation = /:([0-9a-f]{8}):/.exec(items().get(MSAL)!)![1];
    expect(generation).not.toBe(firstGeneration);
    const mine = [...items().keys()].filter((account) => account.startsWith(`${MSAL}#`));
    expect(mine.length).toBeGreaterThan(0);
    for (const account of mine) expect(account.startsWith(`${MSAL}#${generation}#`)).toBe(true);
    expect([...items().keys()].filter((account) => account.startsWith("msal-abc.jsonx.json")).sort()).toEqual(other);
    expect(await s.read("msal-abc.jsonx.json")).toBe(incompressible(61));
    expect(await s.read(MSAL)).toBe(incompressible(30));
  });

  it("hands on a head it did not write as it is, and reads unreadable data as empty", async () => {
    const s = store();
    keychain.items.set(service, new Map([[MSAL, "hand-written"]]));
    expect(await s.read(MSAL)).toBe("hand-written");
    for (const head of ["kubelogin-v1:0123456z:1:x", "kubelogin-v1:01234567:0:x", "kubelogin-v1:01234567:01:x", "Xkubelogin-v1:01234567:1:x"]) {
      items().set(MSAL, head);
      expect(await s.read(MSAL)).toBe(head);
    }
    items().set(MSAL, "kubelogin-v1:01234567:1:!!not base64 deflate!!");
    expect(await s.read(MSAL)).toBe("");
  });

  it("reads a head whose first chunk spans lines", async () => {
    const s = store();
    const head = "kubelogin-v1:01234567:1:a\nb";
    keychain.items.set(service, new Map([[MSAL, head]]));
    // Not base64 of a deflated blob: decoded as unreadable, but recognised as our head (not handed on as is).
    expect(await s.read(MSAL)).toBe("");
  });

  it("reads the head again when a chunk went missing under it, and gives up after four tries", async () => {
    const s = store({ chunkChars: 10 });
    await s.write(MSAL, incompressible(40));
    const [missing] = [...items().keys()].filter((account) => account !== MSAL);
    items().delete(missing!);
    const failure = s.read(MSAL);
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toThrow(`could not read the OS keychain (service "${service}"): the items of ${MSAL} kept changing while read`);
    expect(keychain.calls.filter((call) => call === `getPassword ${service} ${MSAL}`)).toHaveLength(4);
  });

  it("reads the new generation when a writer switched it between the head and a chunk", async () => {
    const s = store({ chunkChars: 10 });
    await s.write(MSAL, incompressible(40));
    const oldHead = items().get(MSAL)!;
    const oldChunk = [...items().keys()].find((account) => account !== MSAL)!;
    await s.write(MSAL, incompressible(50));
    // A reader that saw the old head finds its chunks gone, then reads the new head.
    let served = false;
    const get = keychain.getPassword.bind(keychain);
    keychain.getPassword = async (name, account) => {
      if (account === MSAL && !served) {
        served = true;
        return oldHead;
      }
      return get(name, account);
    };
    expect(items().has(oldChunk)).toBe(false);
    expect(await s.read(MSAL)).toBe(incompressible(50));
  });

  it("wraps a keychain failure in a CacheError naming the action and service, first line only", async () => {
    keychain.state = "locked";
    const failure = store().write(MSAL, "{}");
    await expect(failure).rejects.toBeInstanceOf(CacheError);
    await expect(failure).rejects.toThrow(new RegExp(`^could not write to the OS keychain \\(service "${service}"\\): Cannot create an item in a locked collection$`));
    await expect(failure).rejects.toMatchObject({ hint: "unlock the keychain (on Linux: the Secret Service, e.g. gnome-keyring), or use --cache-backend file" });
  });

  it("takes a library's undefined for a missing item as none", async () => {
    keychain.getPassword = async () => undefined as unknown as null;
    expect(await store().read(MSAL)).toBeNull();
    expect(await store().setAside(MSAL)).toBeUndefined();
    expect(items().size).toBe(0);
  });

  it("refuses an entry it does not own", async () => {
    await expect(store().read("auth.json")).rejects.toThrow("the keychain store does not own the entry auth.json");
    await expect(store().write("auth.json", "x")).rejects.toThrow(CacheError);
    expect(items().size).toBe(0);
  });

  describe("with a plain-file copy of the entry (file backend, or a fallback)", () => {
    it("reads the file when the keychain has none, and the keychain's when there is no file", async () => {
      const s = store();
      await writeFile(join(dir, MSAL), '{"Account":{"a":{}}}');
      expect(await s.read(MSAL)).toBe('{"Account":{"a":{}}}');
      await rm(join(dir, MSAL));
      await s.write(MSAL, '{"Account":{"b":{}}}');
      expect(await s.read(MSAL)).toBe('{"Account":{"b":{}}}');
    });

    it("merges both MSAL blobs, but of two PoP keys keeps the keychain's", async () => {
      const s = store();
      await s.write(MSAL, '{"Account":{"b":{}}}');
      await s.write("pop_rsa_key.cache", "keychain key");
      await writeFile(join(dir, MSAL), '{"Account":{"a":{}}}');
      await writeFile(join(dir, "pop_rsa_key.cache"), "file key");
      expect(JSON.parse((await s.read(MSAL))!)).toEqual({ Account: { a: {}, b: {} } });
      expect(await s.read("pop_rsa_key.cache")).toBe("keychain key");
    });

    it("removes the file once the keychain holds the entry", async () => {
      await writeFile(join(dir, MSAL), "{}");
      await store().write(MSAL, "{}");
      expect(existsSync(join(dir, MSAL))).toBe(false);
    });

    it("reads a PoP key from its file when the keychain has none", async () => {
      await writeFile(join(dir, "pop_rsa_key.cache"), "file key");
      expect(await store().read("pop_rsa_key.cache")).toBe("file key");
    });

    it("takes no blob from a copy that is no regular file, and says which file it could not remove, with the OS error as cause", async () => {
      await mkdir(join(dir, MSAL, "inside"), { recursive: true });
      expect(await store().read(MSAL)).toBeNull();
      const failure = store().write(MSAL, "{}");
      await expect(failure).rejects.toBeInstanceOf(CacheError);
      await expect(failure).rejects.toMatchObject({
        message: expect.stringMatching(new RegExp(`^could not remove ${join(dir, MSAL)}: `)),
        cause: expect.objectContaining({ code: expect.stringMatching(/^E/) }),
      });
    });
  });

  it("sets an entry aside as its own item, and answers undefined when there is none or it fails", async () => {
    const s = store();
    expect(await s.setAside(MSAL)).toBeUndefined();
    await s.write(MSAL, "{}");
    const head = items().get(MSAL);
    const aside = await s.setAside(MSAL);
    const [, name] = /^keychain item "(msal-abc\.json\.corrupt-\d+)" of service "(.*)"$/.exec(aside!)!;
    expect(aside).toBe(`keychain item "${name}" of service "${service}"`);
    expect(items().get(name!)).toBe(head);
    expect(items().has(MSAL)).toBe(false);
    keychain.state = "absent";
    await s.write(MSAL, "{}").catch(() => undefined);
    expect(await s.setAside(MSAL)).toBeUndefined();
  });

  it("clears every item of its service and says how many", async () => {
    const cleared: Array<[number, string]> = [];
    const s = store({ chunkChars: 10, cleared: (count, name) => cleared.push([count, name]) });
    await s.write(MSAL, incompressible(40));
    const count = items().size;
    keychain.items.set("another service", new Map([["x", "y"]]));
    await s.clear();
    expect(items().size).toBe(0);
    expect(keychain.items.get("another service")?.size).toBe(1);
    expect(cleared).toEqual([[count, service]]);
    await store().clear();
  });
});

describe("probeKeychain", () => {
  it("says has-items without writing when the service has items", async () => {
    keychain.items.set(service, new Map([[MSAL, "x"]]));
    expect(await probeKeychain(keychain, dir)).toBe("has-items");
    expect(keychain.calls).toEqual([`findCredentials ${service}`]);
  });

  it("else writes and removes a throwaway item", async () => {
    expect(await probeKeychain(keychain, dir)).toBe("writable");
    expect(keychain.calls).toEqual([
      `findCredentials ${service}`,
      expect.stringMatching(new RegExp(`^setPassword ${service} kubelogin-probe-[0-9a-f]{8}$`)),
      expect.stringMatching(new RegExp(`^deletePassword ${service} kubelogin-probe-[0-9a-f]{8}$`)),
    ]);
    expect(items().size).toBe(0);
  });

  it("fails on a locked keychain, which lists nothing and refuses writes", async () => {
    keychain.state = "locked";
    await expect(probeKeychain(keychain, dir)).rejects.toThrow("locked collection");
  });
});
