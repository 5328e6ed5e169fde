// One interface for every cache backend (file now; the OS keychain later). Entries are opaque
// strings addressed by name; callers decide the format. Storage failures are CacheErrors.

export interface TokenStore {
  /** Human-readable location for messages and -v logs. */
  readonly location: string;
  /** Where lock files live: every backend locks through the filesystem (cache/lock.ts). */
  readonly lockDir: string;
  /**
   * The entry, or null when there is none or another user could have written it (cache/trust.ts);
   * "" for a file that can hold no entry (a FIFO, a device, a symlink, too large), read as corrupt.
   */
  read(name: string): Promise<string | null>;
  /**
   * Replaces the entry atomically: a reader sees the old or the new content, never a mix. Writes
   * nothing where another user could write the directory.
   */
  write(name: string, content: string): Promise<void>;
  /** Moves an unreadable entry out of the way (kept for inspection) so it can be rebuilt. */
  setAside(name: string): Promise<string | undefined>;
  /** Removes every entry this store owns, with its lock, set-aside and temp files, and nothing else. */
  clear(): Promise<void>;
  /**
   * Settles which backend serves the entries, and rejects when the one the user asked for cannot
   * (an explicitly chosen keychain that is locked or absent). A sign-in calls it before prompting,
   * so that a store it could never save to does not cost the user a sign-in first.
   */
  verify?(): Promise<void>;
}
