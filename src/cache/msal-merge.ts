// MSAL's cache blob is shared by every kubelogin process of a user; writing back only this
// process's view would drop what another process saved meanwhile (another account's refresh token,
// another tenant's sign-in). So the write is a three-way merge, entry by entry: what this process
// changed since it read the blob wins, everything else stays as the store has it now.

type Entries = Record<string, unknown>;
type Blob = Record<string, unknown>;

/**
 * @param base the blob this process read before MSAL used it (null: there was none)
 * @param mine what MSAL serialized after its change
 * @param current what the store holds now, read under the entry's lock (null: none)
 * @returns the blob to write
 */
export function mergeMsalCache(base: string | null, mine: string, current: string | null): string {
  const before = parseBlob(base);
  const after = parseBlob(mine) ?? {};
  const now = parseBlob(current);
  // Nothing usable to merge with: this process's view is the whole truth.
  if (now === undefined) return mine;
  const merged: Blob = { ...now };
  for (const [name, value] of Object.entries(after)) {
    const ours = asEntries(value);
    const theirs = asEntries(now[name]);
    if (ours === undefined || theirs === undefined) {
      if (!sameJson(value, before?.[name])) merged[name] = value;
      continue;
    }
    merged[name] = mergeSection(asEntries(before?.[name]) ?? {}, ours, theirs);
  }
  return JSON.stringify(merged);
}

function mergeSection(before: Entries, ours: Entries, theirs: Entries): Entries {
  const result: Entries = { ...theirs };
  for (const key of new Set([...Object.keys(before), ...Object.keys(ours)])) {
    const was = before[key];
    const is = ours[key];
    // Untouched here: the store's version (possibly newer, possibly removed by another process) stays.
    if (sameJson(was, is)) continue;
    if (is !== undefined) {
      result[key] = is;
    } else if (sameJson(theirs[key], was)) {
      // Removed here (a revoked refresh token, an expired access token), and nobody replaced it since.
      delete result[key];
    }
  }
  return result;
}

function parseBlob(text: string | null): Blob | undefined {
  try {
    // None (null) and "" fail to parse like any other text that is not JSON: no blob.
    // Stryker disable next-line StringLiteral: any text that is not JSON stands in for none
    const parsed: unknown = JSON.parse(text ?? "");
    if (isObject(parsed)) return parsed;
  } catch {
    // Not JSON: no blob.
  }
  return undefined;
}

/** A section such as "RefreshToken": an object whose values are all objects. */
function asEntries(value: unknown): Entries | undefined {
  return isObject(value) && Object.values(value).every(isObject) ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
