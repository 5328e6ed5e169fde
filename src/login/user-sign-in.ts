// What every user sign-in (devicecode, interactive, ropc) does around its prompt (compat spec §3.1
// steps 4-8, §4.1): find the account from the authentication record, try MSAL's silent flow (its
// cached access token, else the refresh token), prompt only when that cannot work, then write the
// record; failures wrapped as upstream's. Loaded on the cold path only: it imports MSAL.
import { AuthError, InteractionRequiredAuthError, type AccountInfo, type AuthenticationResult, type PublicClientApplication } from "@azure/msal-node";
import { AuthenticationError, type KubeloginError } from "../errors.js";
import { refusalReporter } from "../cache/trust.js";
import { findRecord, recordFor, recordStore, saveRecord, USER_SIGN_IN_CACHE_ENTRY, type AuthenticationRecord, type RecordFiles, type RecordTarget } from "./auth-record.js";
import type { EntraTarget } from "./authority.js";
import { createPublicClient } from "./msal/client.js";
import { extractAadsts, fromMsalError, msalErrorContext, type CredentialOption } from "./msal/errors.js";
import { signInStepOf } from "./sign-in-step.js";
import type { AccessToken, LoginDeps } from "./types.js";

const messages = {
  noToken: "the identity provider returned no access token",
  savedSignInUnusable: (who: string, why: string) => `The saved sign-in${who} can no longer be used (${why}); signing in again.`,
  claimsChallenge: (who: string, why: string) =>
    `A Conditional Access policy asks for more than the saved sign-in${who} gave (${why}); signing in again to satisfy it.`,
  recordNotStored: (why: string) => `failed to store record: ${why}`,
} as const;

/**
 * Upstream's wrapping of a sign-in failure (compat spec §1.3 item 8, §3.1 steps 7-8): with no
 * record, azidentity's Authenticate prompts ("failed to authenticate"); with one, GetToken signs
 * in silently and prompts itself when it must ("failed to get token").
 */
export type SignInStep = "failed to authenticate" | "failed to get token";

export interface UserSignIn {
  readonly target: EntraTarget;
  readonly clientId: string;
  readonly files: RecordFiles;
  /** Narrows which record may pick the account (interactive: the --login-hint user). */
  readonly acceptRecord?: (record: AuthenticationRecord) => boolean;
  /**
   * With no usable record, the account MSAL knows by this user name is signed in silently first
   * (interactive's --login-hint); its record is then written, as after a prompt.
   */
  readonly accountHint?: string;
  /** false: never sign in silently (ropc: a wrong password must not get a token through a saved sign-in). */
  readonly silent?: boolean;
  /**
   * false: upstream's credential for this variant has no separate sign-in step (the PoP ones sign
   * in inside GetToken), so every failure reads "failed to get token".
   */
  readonly authenticates?: boolean;
  /** Upstream's breadcrumbs for this variant, innermost first (PoP: compat spec §3.13). */
  readonly errorPrefixes?: readonly string[];
  /** Added to the silent request (PoP: the key's kid, and never MSAL's cached bearer token). */
  readonly silentRequest?: { readonly popKid?: string; readonly forceRefresh?: boolean };
  /** The credential option for error hints (ropc: password). */
  readonly credential?: CredentialOption;
  /** upstream's credential name, logged at -v 5. */
  readonly credentialName: string;
  /**
   * The sign-in itself, when there is no usable saved one; `step` is how its failure is reported.
   * `claims` is the Conditional Access challenge the refresh met: the new sign-in must carry it,
   * or Entra issues a token the policy still refuses.
   */
  prompt(app: PublicClientApplication, scopes: string[], step: SignInStep, claims: string | undefined): Promise<AuthenticationResult | null>;
}

export async function signInUser(flow: UserSignIn, deps: LoginDeps): Promise<AccessToken> {
  const { target, clientId } = flow;
  deps.log.v(5, `using credential: ${flow.credentialName}`);
  // MSAL first touches its cache after the prompt: a keychain asked for and unusable must fail now, not after the user signed in.
  await deps.state.verify?.();
  const app = createPublicClient({ authorityHost: target.authorityHost, tenantId: target.tenantId, clientId, persistAs: USER_SIGN_IN_CACHE_ENTRY }, deps);
  const scopes = [target.scope];
  const recordTarget: RecordTarget = { authorityHost: target.authorityHost, tenantId: target.tenantId, clientId };
  const files: RecordFiles = { ...flow.files, refused: refusalReporter(deps.log) };
  const saveRecordOf = async (account: AccountInfo): Promise<void> => {
    // Upstream fails here; a cache dir that cannot be written must not fail the sign-in that just succeeded.
    await saveRecord(recordStore(files, deps.rt.clock.now), recordTarget, recordFor(account, clientId)).catch((err: unknown) => {
      deps.log.warn(messages.recordNotStored((err as Error).message));
    });
  };

  const record = flow.silent === false ? undefined : await findRecord(files, recordTarget, flow.acceptRecord);
  const step = signInStepOf(record !== undefined, flow.authenticates !== false);
  if (!record && flow.silent !== false) deps.log.v(5, "no stored record; calling Authenticate");
  const account = record
    ? await accountFor(app, record, deps)
    : flow.silent !== false && flow.accountHint
      ? await accountNamed(app, flow.accountHint)
      : undefined;
  let claims: string | undefined;
  if (account) {
    deps.log.v(5, `getting token with scopes: [${target.scope}] for ${record ? "the saved account" : `the cached account ${flow.accountHint}`}`);
    let silent: AuthenticationResult | null | undefined;
    try {
      silent = await app.acquireTokenSilent({ account, scopes, ...flow.silentRequest });
    } catch (err) {
      if (deps.signal.aborted) throw deps.signal.reason;
      if (!needsNewSignIn(err)) throw (await translate(err, flow, deps)).wrap("failed to get token");
      const who = account.username ? ` for ${account.username}` : "";
      const why = singleLine(extractAadsts(err.errorMessage || err.message)?.description ?? err.errorCode);
      claims = err instanceof InteractionRequiredAuthError && err.claims ? err.claims : undefined;
      deps.interaction.showMessage(claims ? messages.claimsChallenge(who, why) : messages.savedSignInUnusable(who, why));
    }
    if (silent !== undefined) {
      const token = toAccessToken(silent, "failed to get token");
      // The account is now the one this target signs in as: the next plan keys its token by it.
      if (!record) await saveRecordOf(account);
      return token;
    }
  }

  let result: AuthenticationResult | null;
  try {
    result = await flow.prompt(app, scopes, step, claims);
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw (await translate(err, flow, deps)).wrap(step);
  }
  const token = toAccessToken(result, step);
  if (result?.account) await saveRecordOf(result.account);
  return token;
}

/**
 * The saved sign-in cannot be used (no refresh token, or Entra refused it: AADSTS50173, 700082,
 * 70043, a new MFA or consent requirement...): only a new prompt helps. Anything else (the
 * network, a wrong tenant) is reported instead of prompting.
 */
function needsNewSignIn(err: unknown): err is AuthError {
  if (err instanceof InteractionRequiredAuthError) return true;
  return err instanceof AuthError && ["invalid_grant", "interaction_required", "login_required", "consent_required"].includes(err.errorCode);
}

async function accountFor(app: PublicClientApplication, record: AuthenticationRecord, deps: LoginDeps): Promise<AccountInfo | undefined> {
  const account = await app.getTokenCache().getAccountByHomeId(record.homeAccountId);
  if (!account) deps.log.v(5, `the saved account ${record.homeAccountId} is not in the MSAL cache`);
  return account ?? undefined;
}

async function accountNamed(app: PublicClientApplication, username: string): Promise<AccountInfo | undefined> {
  const accounts = await app.getTokenCache().getAllAccounts();
  return accounts.find((account) => account.username.toLowerCase() === username.toLowerCase());
}

function toAccessToken(result: AuthenticationResult | null, step: SignInStep): AccessToken {
  if (!result?.accessToken || !result.expiresOn) throw new AuthenticationError(messages.noToken).wrap(step);
  return { token: result.accessToken, expiresOn: result.expiresOn.getTime() };
}

/** MSAL's error in kubelogin's words, unwrapped. */
async function translate(err: unknown, flow: UserSignIn, deps: LoginDeps): Promise<KubeloginError> {
  const translated = await fromMsalError(err, msalErrorContext(flow.target, flow.clientId, deps, flow.credential));
  for (const prefix of flow.errorPrefixes ?? []) translated.wrap(prefix);
  return translated;
}

function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
