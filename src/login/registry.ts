// Mode → strategy, loaded lazily so a run loads only its own mode (and a cached token loads only
// the mode's light top-level module; MSAL is imported inside the plan's acquire).
import type { LoginMode } from "../options/table.js";
import type { LoginStrategy } from "./types.js";

export const strategies = {
  devicecode: () => import("./devicecode.js").then((m) => m.devicecode),
  interactive: () => import("./interactive.js").then((m) => m.interactive),
  spn: () => import("./spn.js").then((m) => m.spn),
  ropc: () => import("./ropc.js").then((m) => m.ropc),
  msi: () => import("./msi.js").then((m) => m.msi),
  azurecli: () => import("./azurecli.js").then((m) => m.azurecli),
  azd: () => import("./azd.js").then((m) => m.azd),
  workloadidentity: () => import("./workloadidentity.js").then((m) => m.workloadidentity),
  azurepipelines: () => import("./azurepipelines.js").then((m) => m.azurepipelines),
} satisfies Record<LoginMode, () => Promise<LoginStrategy>>;

export function loadStrategy(mode: LoginMode): Promise<LoginStrategy> {
  return strategies[mode]();
}
