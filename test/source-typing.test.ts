// A double cast (`as unknown as T`) tells the compiler to stop checking: a type that does not fit
// (a typed array taken for a tuple, one library's Response for another's) would go unseen.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

test("no `as unknown as` casts in src/", async () => {
  const files = (await readdir(SRC, { recursive: true })).filter((name) => name.endsWith(".ts"));
  expect(files.length).toBeGreaterThan(50);
  const casts: string[] = [];
  for (const name of files) {
    const lines = (await readFile(join(SRC, name), "utf8")).split("\n");
    lines.forEach((line, i) => {
      if (/\bas\s+unknown\s+as\b/.test(line)) casts.push(`src/${name}:${i + 1}: ${line.trim()}`);
    });
  }
  expect(casts).toEqual([]);
});
