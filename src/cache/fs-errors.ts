/** An operating-system error (errno code and syscall), as opposed to our own or MSAL's. */
export function isFilesystemError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === "string" && typeof e.syscall === "string";
}
