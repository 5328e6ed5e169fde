import { getToken } from "../exec/get-token.js";
import { recordingEnv, rememberServedEntry } from "../fast-path/hit-index.js";
import type { Logger } from "../log.js";
import { prepareOptions } from "../options/prepare.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../options/table.js";
import type { Output, Runtime } from "../runtime.js";
import type { Command } from "./command.js";

const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];

export const getTokenCommand: Command = {
  name: "get-token",
  summary: "get AAD token",
  options,
  async run(args, ctx) {
    // Watched for the fast path's index: which variables the run reads, and whether the same call
    // answered from the cache would print anything (the index answers silently). A cache hit
    // prints only at -v, for a deprecated flag while options are prepared, or for the plan's
    // warnings (the index writer checks those); what a sign-in prints is not said again on a hit.
    const recorded = recordingEnv(ctx.rt.env);
    let printsOnHit = ctx.log.level > 0;
    let preparing = true;
    const stderr: Output = {
      write(text) {
        if (preparing) printsOnHit = true;
        ctx.rt.stderr.write(text);
      },
    };
    const rt: Runtime = { ...ctx.rt, env: recorded.env, stderr };
    // The run's logger itself (run.ts redacts errors with its secrets), watched the same way.
    const log: Logger = {
      level: ctx.log.level,
      v: (level, message) => ctx.log.v(level, message),
      warn(message) {
        if (preparing) printsOnHit = true;
        ctx.log.warn(message);
      },
      addSecrets: (values) => ctx.log.addSecrets(values),
      secrets: ctx.log.secrets,
    };
    const { options: validated, provenance } = prepareOptions(args, options, { rt, log });
    preparing = false;
    const call = { argv: ctx.argv, env: ctx.rt.env, cwd: rt.cwd, uid: rt.uid };
    const trace = () => ({ envNames: recorded.names, printed: printsOnHit });
    await getToken({ options: validated, provenance }, { rt, log, loginEnv: ctx.rt.env, remember: (served) => rememberServedEntry(call, trace, served) });
  },
};
