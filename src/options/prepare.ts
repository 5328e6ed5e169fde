// The option pipeline get-token and convert-kubeconfig share: parse → resolve (env beats flags)
// → register the secrets for redaction → log with provenance → validate (compat spec §1.2, §1.3).
import type { Logger } from "../log.js";
import type { Runtime } from "../runtime.js";
import { parseFlags, type ParsedFlags } from "./parse-flags.js";
import { describeOptions, resolveOptions, secretValues } from "./resolve.js";
import type { OptionSpec } from "./table.js";
import { validateOptions, type ValidatedResolvedOptions } from "./validate.js";

export interface PreparedOptions extends ValidatedResolvedOptions {
  /** The command line as parsed, for the flags that are not get-token options (--kubeconfig, --context). */
  readonly flags: ParsedFlags;
}

export function prepareOptions(args: readonly string[], specs: readonly OptionSpec[], ctx: { readonly rt: Runtime; readonly log: Logger }): PreparedOptions {
  const flags = parseFlags(args, specs);
  for (const notice of flags.deprecations) ctx.rt.stderr.write(`${notice}\n`);
  const resolved = resolveOptions(flags, ctx.rt.env, ctx.rt.homedir);
  // Before anything is logged: a secret must never reach stderr, even at -v 10.
  ctx.log.addSecrets(secretValues(resolved.options));
  // Upstream prints its summary at -v 10; provenance is useful at any -v, so it shows from 1.
  ctx.log.v(1, () => `options: ${describeOptions(resolved)}`);
  return { flags, options: validateOptions(resolved.options, resolved.provenance), provenance: resolved.provenance };
}
