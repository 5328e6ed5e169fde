// The process's standard streams as the Runtime's Outputs. Its own module, so the fast path
// (fast-path/entry.ts) writes its answer exactly as the full CLI does without loading the rest of
// runtime.ts.
import { fstatSync, readFileSync, writeSync } from "node:fs";
import type { Output } from "./runtime.js";

/**
 * Writes to a file descriptor synchronously, so a failure (stdout closed, /dev/full) is thrown to
 * the caller instead of surfacing later as an unhandled stream error, and so a cached get-token
 * never builds process.stdout's stream stack.
 */
export function fdOutput(fd: number): Output {
  return {
    write(text) {
      if (wasClosedAtStart(fd)) throw Object.assign(new Error("EBADF: bad file descriptor, write"), { code: "EBADF", errno: -9, syscall: "write" });
      let rest = Buffer.from(text, "utf8");
      while (rest.length > 0) {
        try {
          rest = rest.subarray(writeSync(fd, rest));
        } catch (err) {
          // A non-blocking pipe that is momentarily full: wait for the reader, as a stream would.
          if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
      }
    },
  };
}

/**
 * Node reopens a standard descriptor that was closed when it started on /dev/null, read-write
 * (node.cc PlatformInit), so writes to it succeed and the ExecCredential would vanish. A shell's
 * `>/dev/null` opens it write-only: the access mode in /proc tells the two apart on Linux.
 */
function wasClosedAtStart(fd: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    const info = fstatSync(fd);
    if (!info.isCharacterDevice() || info.rdev !== DEV_NULL_RDEV) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 3) === 2;
  } catch {
    return false;
  }
}

/** makedev(1, 3): /dev/null on Linux. */
const DEV_NULL_RDEV = 259;
