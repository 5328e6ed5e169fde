// What every user sign-in (devicecode, ropc, interactive) does around its prompt (compat spec §3.1
// steps 4-8, §4.1): find the account from the authentication record, try MSAL's silent flow (its
// cached access token, else the refresh token), prompt only when that cannot work, then write the
// record. Loaded on the cold path only: it imports MSAL.
import { AuthError, InteractionRequiredAuthError, type AccountInfo, type AuthenticationResult, type PublicClientApplication } from "@azure/msal-node";
import { KubeloginError } from "../errors.js";
import { findRecord, recordFor, saveRecord, USER_SIGN_IN_CACHE_ENTRY, type AuthenticationRecord, type RecordFiles, type RecordTarget } from "./auth-record.js";
import type { EntraTarget } from "./authority.js";
import { authorityFor, createPublicClient } from "./msal/client.js";
import { extractAadsts, fromMsalError, type CredentialOption } from "./msal/errors.js";
import type { AccessToken, LoginDeps } from "./types.js";

const messages = {
  noToken: "the identity provider returned no access token",
  savedSignInUnusable: (who: string, why: string) => `The saved sign-in${who} can no longer be used (${why}); signing in again.`,
} as const;

export interface UserSignIn {
  readonly target: EntraTarget;
  readonly clientId: string;
  readonly files: RecordFiles;
  /** Narrows which record may pick the account (ropc: only the same user name). */
  readonly acceptRecord?: (record: AuthenticationRecord) => boolean;
  /** false: never sign in silently (ropc: a wrong password must not get a token through a saved sign-in). */
  readonly silent?: boolean;
  /** The credential option for error hints (ropc: password). */
  readonly credential?: CredentialOption;
  /** upstream's credential name, logged at -v 5. */
  readonly credentialName: string;
  /** The sign-in itself, when there is no usable saved one. */
  prompt(app: PublicClientApplication, scopes: string[]): Promise<AuthenticationResult | null>;
}

export async function signInUser(flow: UserSignIn, deps: LoginDeps): Promise<AccessToken> {
  const { target, clientId } = flow;
  deps.log.v(5, `using credential: ${flow.credentialName}`);
  const app = createPublicClient({ authorityHost: target.authorityHost, tenantId: target.tenantId, clientId, persistAs: USER_SIGN_IN_CACHE_ENTRY }, deps);
  const scopes = [target.scope];
  const recordTarget: RecordTarget = { authorityHost: target.authorityHost, tenantId: target.tenantId, clientId };

  const record = flow.silent === false ? undefined : await findRecord(flow.files, recordTarget, flow.acceptRecord);
  if (!record && flow.silent !== false) deps.log.v(5, "no stored record; calling Authenticate");
  const account = record ? await accountFor(app, record, deps) : undefined;
  if (account) {
    deps.log.v(5, `getting token with scopes: [${target.scope}] for the saved account`);
    try {
      return toAccessToken(await app.acquireTokenSilent({ account, scopes }));
    } catch (err) {
      if (deps.signal.aborted) throw deps.signal.reason;
      if (!needsNewSignIn(err)) throw await translate(err, flow, deps);
      const who = account.username ? ` for ${account.username}` : "";
      const why = extractAadsts(err.errorMessage || err.message)?.description ?? err.errorCode;
      deps.interaction.showMessage(messages.savedSignInUnusable(who, singleLine(why)));
    }
  }

  let result: AuthenticationResult | null;
  try {
    result = await flow.prompt(app, scopes);
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw await translate(err, flow, deps);
  }
  const token = toAccessToken(result);
  if (result?.account) {
    // A cache dir that cannot be written must not fail the sign-in that just succeeded.
    await saveRecord(flow.files, recordTarget, recordFor(result.account, clientId)).catch((err: unknown) => {
      deps.log.warn(`could not save the authentication record in ${flow.files.cacheDir}: ${(err as Error).message}`);
    });
  }
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

function toAccessToken(result: AuthenticationResult | null): AccessToken {
  if (!result?.accessToken || !result.expiresOn) throw new KubeloginError(messages.noToken);
  return { token: result.accessToken, expiresOn: result.expiresOn.getTime() };
}

async function translate(err: unknown, flow: UserSignIn, deps: LoginDeps): Promise<KubeloginError> {
  const translated = await fromMsalError(err, {
    authority: authorityFor(flow.target.authorityHost, flow.target.tenantId),
    clientId: flow.clientId,
    tenantId: flow.target.tenantId,
    provenance: deps.provenance,
    ...(flow.credential ? { credential: flow.credential } : {}),
    fetch: deps.rt.fetch,
    signal: deps.signal,
  });
  return translated.wrap("failed to get token");
}

function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
