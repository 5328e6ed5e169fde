// The file backend (decision 1): one file per entry in the cache dir, directory 0700, files 0600,
// written to a temp file in the same directory and renamed over the old one.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { TokenStore } from "./store.js";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export function createFileStore(dir: string, now: () => number): TokenStore {
  const pathOf = (name: string): string => join(dir, name);
  return {
    location: dir,
    lockDir: dir,
    async read(name) {
      try {
        return await readFile(pathOf(name), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
    async write(name, content) {
      await ensurePrivateDir(dir);
      const target = pathOf(name);
      const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
      const handle = await open(temp, "wx", FILE_MODE);
      try {
        await handle.writeFile(content, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temp, target);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
    },
    async setAside(name) {
      const aside = `${pathOf(name)}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`;
      try {
        await rename(pathOf(name), aside);
        return aside;
      } catch {
        return undefined;
      }
    },
    async clear() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** mkdir -p with 0700 (a umask can only remove bits). An existing directory is left as its owner set it. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}
