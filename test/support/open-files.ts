// Which files this process still holds open: a write that leaks a descriptor shows up here (Linux;
// elsewhere /proc is absent and the list is empty).
import { readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

/** Paths under `prefix` this process has a file descriptor open on. */
export async function openDescriptorsUnder(prefix: string): Promise<string[]> {
  const open: string[] = [];
  for (const fd of await readdir("/proc/self/fd").catch(() => [])) {
    const target = await readlink(join("/proc/self/fd", fd)).catch(() => "");
    if (target.startsWith(prefix)) open.push(target);
  }
  return open;
}
