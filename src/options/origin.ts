// Where a resolved option value came from. Kept as data so hints and error messages can ask
// "did the environment set this?" without parsing the -v text back.

export type Origin =
  | { readonly kind: "default" }
  | { readonly kind: "flag"; readonly flag: string }
  /** `overrode`: the flag that was on the command line and lost to the variable. */
  | { readonly kind: "env"; readonly name: string; readonly overrode?: string };

export const DEFAULT_ORIGIN: Origin = { kind: "default" };

/** "default", "flag --client-id", "env AZURE_CLIENT_ID (overrode --client-id)", "env KUBECACHEDIR". */
export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case "default":
      return "default";
    case "flag":
      return `flag ${origin.flag}`;
    case "env":
      return `env ${origin.name}${origin.overrode ? ` (overrode ${origin.overrode})` : ""}`;
  }
}
