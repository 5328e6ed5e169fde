// The cached get-token (decision 2), as the published entry runs it before anything else: the
// same steps the full CLI takes up to a cache hit (cli/run.ts finds the command, the option
// pipeline resolves and validates, exec/get-token.ts plans and reads the entry), composed from
// the same modules, in a bundle that holds nothing else (scripts/build.mjs). It answers a fresh
// hit and nothing more: help, -v, anything printed on stderr (a deprecation, a warning), an error,
// a miss or a stale entry returns false before a byte is written, and the full CLI then runs from
// the start and does whatever it does.
import { createStores } from "../cache/stores.js";
import { isFresh, parseTokenEntry, tokenEntryName } from "../cache/token-cache.js";
import { scanGlobalFlags } from "../cli/run.js";
import { writeExecCredential } from "../exec/exec-credential.js";
import { parseExecInfo } from "../exec/exec-info.js";
import { createLogger } from "../log.js";
import { azd } from "../login/azd.js";
import { azurecli } from "../login/azurecli.js";
import { azurepipelines } from "../login/azurepipelines.js";
import { devicecode } from "../login/devicecode.js";
import { interactive } from "../login/interactive.js";
import { msi } from "../login/msi.js";
import { ropc } from "../login/ropc.js";
import { spn } from "../login/spn.js";
import type { LoginStrategy } from "../login/types.js";
import { workloadidentity } from "../login/workloadidentity.js";
import { prepareOptions } from "../options/prepare.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS, type LoginMode } from "../options/table.js";
import type { Output, Runtime } from "../runtime.js";

/** Statically, unlike login/registry.ts: the bundle must hold every plan, and nothing a plan's acquire imports. */
const STRATEGIES = { devicecode, interactive, spn, ropc, msi, azurecli, azd, workloadidentity, azurepipelines } satisfies Record<LoginMode, LoginStrategy>;

/** get-token's flags, as cli/get-token.ts declares them. */
const OPTIONS = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];

/** Thrown by the fast path's stderr: whatever wants to say something there is the full CLI's business. */
class NotAHit extends Error {}

const refuseOutput: Output = {
  write() {
    throw new NotAHit("stderr");
  },
};

/** Serves a fresh cached token and returns true, or returns false having written nothing. */
export async function serveCachedToken(argv: readonly string[], rt: Runtime): Promise<boolean> {
  try {
    const scan = scanGlobalFlags(argv);
    if (scan.command !== "get-token" || scan.verbosity !== 0) return false;
    const args = [...argv.slice(0, scan.commandIndex), ...argv.slice(scan.commandIndex + 1)];
    const quiet: Runtime = { ...rt, stderr: refuseOutput };
    const log = createLogger(refuseOutput, 0, rt.clock, rt.pid);
    const { flags, options: o } = prepareOptions(args, OPTIONS, { rt: quiet, log });
    if (flags.help) return false;
    const execInfo = parseExecInfo(rt.env.KUBERNETES_EXEC_INFO);
    if (o.serverId === "") return false;
    // The file backend: a plan reads nothing else from the long-lived store but a PoP key, and a
    // PoP token (a fresh envelope every call) is the full CLI's to present.
    const stores = createStores({ cacheDir: o.cacheDir, now: rt.clock.now });
    const plan = await STRATEGIES[o.loginMethod].plan(o, { env: rt.env, homedir: rt.homedir, cacheDir: o.cacheDir, state: stores.longLived });
    if (plan.warnings.length > 0 || plan.present) return false;
    const now = rt.clock.now();
    const read = parseTokenEntry(await stores.accessTokens.read(tokenEntryName(plan.cacheKey)), now);
    if (read.kind !== "hit" || !isFresh(read.token, now)) return false;
    // A failed write (stdout closed or full) wrote nothing kubectl can use: the full CLI writes
    // again and reports the failure in its words.
    writeExecCredential(rt.stdout, execInfo.apiVersion, read.token);
    return true;
  } catch {
    return false;
  }
}
