// `kubelogin convert-kubeconfig` (compat spec §1.4, §5): the same option pipeline as get-token
// (prepareOptions), then load → convert → write. Prints nothing on success.
import { convertKubeconfig } from "../kubeconfig/convert.js";
import { kubeconfigPaths, loadKubeconfig } from "../kubeconfig/load.js";
import { planWrites, writeKubeconfigChanges } from "../kubeconfig/write.js";
import { prepareOptions } from "../options/prepare.js";
import { CONVERT_ONLY_OPTIONS, GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../options/table.js";
import type { Command } from "./command.js";

const OPTIONS = [...GET_TOKEN_OPTIONS, ...CONVERT_ONLY_OPTIONS, ...GLOBAL_OPTIONS];

export const convertKubeconfigCommand: Command = {
  name: "convert-kubeconfig",
  summary: "convert kubeconfig to use exec auth module",
  options: OPTIONS,

  async run(args, ctx) {
    const { rt, log } = ctx;
    const { flags: parsed, options, provenance } = prepareOptions(args, OPTIONS, ctx);

    // Not env-overridable: these three are read from the command line only.
    const explicitPath = String(parsed.values.kubeconfig ?? "");
    const context = String(parsed.values.context ?? "");
    const azureConfigDir = String(parsed.values.azureConfigDir ?? "");

    const loadRequest = { explicitPath, env: rt.env, homedir: rt.homedir, warn: (message: string) => log.warn(message) };
    log.v(5, `kubeconfig files: ${kubeconfigPaths(loadRequest).join(", ")}`);
    const loaded = await loadKubeconfig(loadRequest);
    const { changedUsers, unchangedUsers } = convertKubeconfig(loaded.merged, {
      options,
      changed: parsed.changed,
      context,
      azureConfigDir,
      origins: loaded.origins,
      provenance,
    });
    for (const name of unchangedUsers) log.v(5, `user ${JSON.stringify(name)} already uses this exec stanza`);
    if (changedUsers.length === 0) {
      log.v(5, "nothing to convert");
      return;
    }
    for (const user of changedUsers) log.v(5, `converting user ${JSON.stringify(user.name)} from ${loaded.origins.get(user.name)}: ${user.exec.args.join(" ")}`);
    const written = await writeKubeconfigChanges(planWrites(changedUsers, loaded.origins, kubeconfigPaths(loadRequest)[0] ?? ""));
    for (const path of written) log.v(5, `saved ${path}`);
  },
};
