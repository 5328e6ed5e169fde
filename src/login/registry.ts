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
  devicecode: () => import("./devicecode.js").then((m) => m.devicecode),
  interactive: notImplementedYet("interactive"),
  spn: () => import("./spn.js").then((m) => m.spn),
  ropc: () => import("./ropc.js").then((m) => m.ropc),
  msi: notImplementedYet("msi"),
  azurecli: notImplementedYet("azurecli"),
  azd: notImplementedYet("azd"),
  workloadidentity: notImplementedYet("workloadidentity"),
  azurepipelines: notImplementedYet("azurepipelines"),
} satisfies Record<LoginMode, () => Promise<LoginStrategy>>;

export function loadStrategy(mode: LoginMode): Promise<LoginStrategy> {
  return strategies[mode]();
}
