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
    // The run is watched for the fast path's index: which variables it reads, whether it prints.
    const recorded = recordingEnv(ctx.rt.env);
    let printed = ctx.log.level > 0;
    const stderr: Output = {
      write(text) {
        printed = true;
        ctx.rt.stderr.write(text);
      },
    };
    const rt: Runtime = { ...ctx.rt, env: recorded.env, stderr };
    // The run's logger itself (run.ts redacts errors with its secrets), noting a warning.
    const log: Logger = {
      level: ctx.log.level,
      v: (level, message) => ctx.log.v(level, message),
      warn(message) {
        printed = true;
        ctx.log.warn(message);
      },
      addSecrets: (values) => ctx.log.addSecrets(values),
      secrets: ctx.log.secrets,
    };
    const { options: validated, provenance } = prepareOptions(args, options, { rt, log });
    const call = { argv: ctx.argv, env: ctx.rt.env, cwd: rt.cwd, uid: rt.uid };
    const trace = () => ({ envNames: recorded.names, printed });
    await getToken({ options: validated, provenance }, { rt, log, remember: (served) => rememberServedEntry(call, trace, served) });
  },
};
