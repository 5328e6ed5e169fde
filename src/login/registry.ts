// Mode → strategy, loaded lazily so a run loads only its own mode (and a cached token loads only
// the mode's light top-level module; MSAL is imported inside acquireToken).
import { NotImplementedError } from "../errors.js";
import type { LoginMode } from "../options/table.js";
import type { LoginStrategy } from "./types.js";

const notImplementedYet = (mode: LoginMode) => async (): Promise<LoginStrategy> => {
  throw new NotImplementedError(`login method "${mode}" is not implemented yet in this kubelogin`, {
    hint: "use --login spn, or the Go kubelogin for this login method until it lands",
  });
};

export const strategies = {
  devicecode: notImplementedYet("devicecode"),
  interactive: () => import("./interactive.js").then((m) => m.interactive),
  spn: () => import("./spn.js").then((m) => m.spn),
  ropc: notImplementedYet("ropc"),
  msi: () => import("./msi.js").then((m) => m.msi),
  azurecli: () => import("./azurecli.js").then((m) => m.azurecli),
  azd: () => import("./azd.js").then((m) => m.azd),
  workloadidentity: () => import("./workloadidentity.js").then((m) => m.workloadidentity),
  azurepipelines: () => import("./azurepipelines.js").then((m) => m.azurepipelines),
} satisfies Record<LoginMode, () => Promise<LoginStrategy>>;

export function loadStrategy(mode: LoginMode): Promise<LoginStrategy> {
  return strategies[mode]();
}
