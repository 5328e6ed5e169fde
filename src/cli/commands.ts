import type { Command } from "./command.js";

/** Lazy, so a cached get-token loads neither convert-kubeconfig's YAML code nor yargs. */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  "get-token": () => import("./get-token.js").then((m) => m.getTokenCommand),
  "convert-kubeconfig": () => import("./convert-kubeconfig.js").then((m) => m.convertKubeconfigCommand),
  "remove-cache-dir": () => import("./remove-cache-dir.js").then((m) => m.removeCacheDirCommand),
  "remove-tokens": () => import("./remove-cache-dir.js").then((m) => m.removeTokensCommand),
  doctor: () => import("./doctor.js").then((m) => m.doctorCommand),
  completion: () => import("./completion.js").then((m) => m.completionCommand),
  __complete: () => import("./completion.js").then((m) => m.completeWithDescriptionsCommand),
  __completeNoDesc: () => import("./completion.js").then((m) => m.completeNoDescriptionsCommand),
};
