// Node's fs errors read "ENOENT: no such file or directory, stat '/x'"; upstream prints Go's
// *PathError, "stat /x: no such file or directory". Messages that scripts may match keep Go's shape.

export function isErrno(err: unknown, code?: string): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && (code === undefined || (err as NodeJS.ErrnoException).code === code);
}

// libuv words a few errors differently from the C library Go uses.
const GO_STRERROR: Readonly<Record<string, string>> = { EISDIR: "is a directory" };

/** `<op> <path>: <description>`, like Go's PathError.Error(); `op` and `path` default to the error's own. */
export function goPathError(err: unknown, op?: string, path?: string): string {
  if (!isErrno(err)) return err instanceof Error ? err.message : String(err);
  const description = GO_STRERROR[err.code!] ?? /^[A-Z0-9_]+: (.*?)(?:, \w+(?: '.*')*)?$/s.exec(err.message)?.[1] ?? err.message;
  const shownOp = op ?? err.syscall;
  const shownPath = path ?? err.path;
  if (!shownOp || shownPath === undefined) return description;
  return `${shownOp} ${shownPath}: ${description}`;
}
