import { getToken } from "../exec/get-token.js";
import { describeOptions, resolveOptions } from "../options/resolve.js";
import { parseFlags } from "../options/parse-flags.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../options/table.js";
import { validateOptions } from "../options/validate.js";
import type { Command } from "./command.js";

const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];

export const getTokenCommand: Command = {
  name: "get-token",
  summary: "get AAD token",
  options,
  async run(args, { rt, log }) {
    const parsed = parseFlags(args, options);
    for (const notice of parsed.deprecations) rt.stderr.write(`${notice}\n`);
    const resolved = resolveOptions(parsed, rt.env, rt.homedir);
    const o = resolved.options;
    log.addSecrets([o.clientSecret, o.clientCertificatePassword, o.password]);
    // Upstream prints its summary at -v 10; provenance is useful at any -v, so it shows from 1.
    log.v(1, () => `options: ${describeOptions(resolved)}`);
    validateOptions(o, resolved.provenance);
    await getToken(resolved, { rt, log });
  },
};
