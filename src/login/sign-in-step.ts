// Which of upstream's two breadcrumbs a user sign-in's failure carries. Light on purpose: plans
// (which run on the cached path) need it to word a timeout, and user-sign-in.ts loads MSAL.
import type { SignInStep } from "./user-sign-in.js";

/**
 * With a saved record, or for a credential with no separate sign-in step (upstream's PoP
 * credentials sign in inside GetToken), a failure is GetToken's; otherwise Authenticate's.
 */
export function signInStepOf(hasRecord: boolean, authenticates = true): SignInStep {
  return hasRecord || !authenticates ? "failed to get token" : "failed to authenticate";
}
