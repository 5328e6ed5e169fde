// A real Secret Service for the keychain tests: a private D-Bus session bus with gnome-keyring on
// it (shared/toolchain.md (c)), its keyring under a temp HOME. Processes reach it through
// `env` (DBUS_SESSION_BUS_ADDRESS); `secret-tool` inspects what kubelogin left in it.
import { execFile, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";

/** The Debian package that provides each command the tests need. */
const COMMANDS: ReadonlyArray<readonly [command: string, pkg: string]> = [
  ["dbus-daemon", "dbus"],
  ["gnome-keyring-daemon", "gnome-keyring"],
  ["secret-tool", "libsecret-tools"],
];

function keytarLoads(): boolean {
  try {
    createRequire(import.meta.url)("keytar");
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the keychain tests can run: under CI=true anything missing is a failure (startSecretService
 * names it), elsewhere the tests are skipped with the missing packages named.
 */
export function secretServiceAvailability(env: NodeJS.ProcessEnv = process.env): { run: boolean; skipReason: string } {
  const missing = missingPieces();
  if (missing.length === 0 || env.CI === "true") return { run: true, skipReason: "" };
  return { run: false, skipReason: `needs ${missing.join(", ")} (scripts/install-test-deps.sh installs them)` };
}

function missingPieces(): string[] {
  const missing = COMMANDS.filter(([command]) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status !== 0).map(
    ([, pkg]) => `the Debian package ${pkg}`,
  );
  if (!keytarLoads()) missing.push("the keytar addon (npm's optional dependency; it builds against the Debian package libsecret-1-dev: `npm rebuild keytar`)");
  return missing;
}

export interface SecretService {
  /** What a process needs to reach this Secret Service. */
  readonly env: Record<string, string>;
  /** The accounts of a service's items (secret-tool search). */
  accounts(service: string): Promise<string[]>;
  /** The text of a kubelogin entry (head item plus chunk items, deflated), or null. */
  entry(service: string, name: string): Promise<string | null>;
  /** Stops the bus, and with it gnome-keyring; the keyring file stays in `home`. */
  stop(): Promise<void>;
}

function run(file: string, args: readonly string[], env: Record<string, string>, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, [...args], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    // A daemon that forks and exits may close its stdin before reading it.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
}

/** A keyring home: the first unlocked session creates `login.keyring` in it, later ones find it. */
export async function keyringHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), "kubelogin-keyring-"));
}

/**
 * Starts a session bus and gnome-keyring. `unlocked`: the login keyring is created or unlocked with a
 * password, as a desktop login does. Otherwise the daemon starts with the existing keyring locked,
 * and with no display its unlock prompt fails, as on a headless server after a reboot.
 */
export async function startSecretService(home: string, options: { unlocked: boolean }): Promise<SecretService> {
  const missing = missingPieces();
  if (missing.length > 0) throw new Error(`the keychain tests need ${missing.join(", ")}: run scripts/install-test-deps.sh`);
  // A runtime dir per session: a daemon of an earlier session must not be found through its control socket.
  await mkdir(join(home, "run"), { recursive: true, mode: 0o700 });
  const runtimeDir = await mkdtemp(join(home, "run", "session-"));
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: runtimeDir };
  const bus = await run("dbus-daemon", ["--session", "--fork", "--print-address=1", "--print-pid=1"], base);
  const [address, pid] = bus.stdout.trim().split("\n");
  if (bus.code !== 0 || !address || !pid) throw new Error(`dbus-daemon did not start: ${bus.stderr}`);
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address };
  const keyring = options.unlocked
    ? await run("gnome-keyring-daemon", ["--unlock", "--components=secrets"], env, "pass")
    : await run("gnome-keyring-daemon", ["--start", "--components=secrets"], env);
  if (keyring.code !== 0) throw new Error(`gnome-keyring-daemon did not start: ${keyring.stderr}`);

  const lookup = async (service: string, account: string): Promise<string | null> => {
    const found = await run("secret-tool", ["lookup", "service", service, "account", account], env);
    return found.code === 0 ? found.stdout : null;
  };
  return {
    env: { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtimeDir },
    async accounts(service) {
      const found = await run("secret-tool", ["search", "--all", "service", service], env);
      return [...`${found.stdout}\n${found.stderr}`.matchAll(/^attribute\.account = (.*)$/gm)].map((match) => match[1]!);
    },
    async entry(service, name) {
      const head = await lookup(service, name);
      if (head === null) return null;
      const match = /^kubelogin-v1:([0-9a-f]{8}):(\d+):(.*)$/s.exec(head);
      if (!match) throw new Error(`keychain item ${name} is not in kubelogin's format`);
      let data = match[3]!;
      for (let i = 1; i < Number(match[2]); i++) data += (await lookup(service, `${name}#${match[1]}#${i}`)) ?? "";
      return inflateRawSync(Buffer.from(data, "base64")).toString("utf8");
    },
    async stop() {
      process.kill(Number(pid), "SIGTERM");
      // An unlocked gnome-keyring-daemon outlives its bus: end the ones of this session, known by
      // the session's own runtime dir in their environment.
      for (const daemon of await processesWithEnv(`XDG_RUNTIME_DIR=${runtimeDir}`)) process.kill(daemon, "SIGTERM");
    },
  };
}

/** Pids of this user's processes whose environment holds `entry` exactly (Linux /proc). */
async function processesWithEnv(entry: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const environ = await readFile(`/proc/${name}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(entry)) pids.push(Number(name));
  }
  return pids;
}

export async function removeKeyringHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
}
