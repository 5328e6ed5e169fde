// Interactive browser login (compat spec §3.5): authorization code with PKCE through msal-node's
// loopback redirect (response_mode=form_post). The browser comes from the run's interaction seam
// ($BROWSER first, else the platform opener); the URL is always shown on stderr too, so a browser
// that cannot start, or starts where nobody sees it (SSH, WSL, a container), never leaves the
// user waiting on nothing. After the first sign-in the auth record names the account, and MSAL's
// refresh token signs it in silently until Entra refuses it.
import { MissingOptionError, ValidationError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { findRecord, recordPaths, type AuthenticationRecord, type RecordFiles, type RecordTarget } from "./auth-record.js";
import { INVALID_TENANT_MESSAGE, entraTarget, isValidTenantId, type EntraTarget } from "./authority.js";
import { popBindingFor, withPopTokenRequests, type PopBinding } from "./pop.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  redirectUrl: (url: string) => `invalid --redirect-url "${url}": it must be an http://localhost URL, optionally with a port`,
  portInUse: (port: number) => `cannot receive the sign-in on port ${port} (--redirect-url): the port is in use`,
  browserOpened: (url: string) => `A browser should open for the sign-in. If none does, open this URL in a browser on this machine:\n${url}`,
  browserFailed: (reason: string, url: string) => `Could not open a browser (${reason}). To sign in, open this URL in a browser on this machine:\n${url}`,
  successPage: "You are signed in to kubelogin. You can close this window and return to the terminal.",
  errorPage: "The sign-in did not complete. Return to the terminal to see why.",
  cancelled: "kubelogin stopped waiting for the sign-in",
} as const;

/** The port msal-node listens on for the redirect; 0 lets the OS choose (upstream's default). */
export function redirectPort(redirectUrl: string): number {
  if (redirectUrl === "") return 0;
  let url: URL;
  try {
    url = new URL(redirectUrl);
  } catch {
    throw redirectUrlError(redirectUrl);
  }
  // MSAL (Go and Node alike) listens on localhost and sends http://localhost:<port> as the redirect
  // URI: only the port of --redirect-url is used, so anything else would be silently ignored.
  if (url.protocol !== "http:" || !["localhost", "127.0.0.1"].includes(url.hostname) || (url.pathname !== "/" && url.pathname !== "")) {
    throw redirectUrlError(redirectUrl);
  }
  return url.port === "" ? 0 : Number(url.port);
}

function redirectUrlError(redirectUrl: string): ValidationError {
  return new ValidationError(messages.redirectUrl(redirectUrl), {
    hint: "register http://localhost (any port) or http://localhost:<port> as a mobile and desktop redirect URI of the app, and pass that",
  });
}

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  if (!isValidTenantId(o.tenantId)) {
    throw new ValidationError(INVALID_TENANT_MESSAGE, { hint: "--tenant-id takes a tenant ID (a GUID) or a domain name such as contoso.onmicrosoft.com" });
  }
}

/** A --login-hint asks for that user: another user's record does not pick the account. */
const acceptsRecord = (loginHint: string) => (record: AuthenticationRecord): boolean =>
  loginHint === "" || record.username.toLowerCase() === loginHint.toLowerCase();

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  checkOptions(o);
  const pop = o.isPopTokenEnabled ? await popBindingFor(o.popClaims, context.state) : undefined;
  const port = redirectPort(o.redirectUrl);
  const target = entraTarget(o);
  const recordTarget: RecordTarget = { authorityHost: target.authorityHost, tenantId: target.tenantId, clientId: o.clientId };
  const files: RecordFiles = { cacheDir: context.cacheDir };
  const record = await findRecord(files, recordTarget, acceptsRecord(o.loginHint));
  return {
    // The account is part of the key: two users signed in through one cache dir never get each other's token.
    cacheKey: ["interactive", target.authorityHost, target.tenantId, o.clientId, target.scope, record?.homeAccountId ?? "no account yet", ...(pop?.cacheKeyPart ?? [])],
    inputs: recordPaths(files, recordTarget),
    warnings: [...target.warnings, ...(pop?.warnings ?? [])],
    ...(pop ? { present: pop.present } : {}),
    acquire: (deps) => acquireToken(o, target, port, files, pop, deps),
  };
}

async function acquireToken(
  o: Readonly<GetTokenOptions>,
  target: EntraTarget,
  port: number,
  files: RecordFiles,
  pop: PopBinding | undefined,
  runDeps: LoginDeps,
): Promise<AccessToken> {
  const { signInUser } = await import("./user-sign-in.js");
  const deps = pop ? withPopTokenRequests(runDeps, pop.key) : runDeps;
  return signInUser(
    {
      target,
      clientId: o.clientId,
      files,
      acceptRecord: acceptsRecord(o.loginHint),
      accountHint: o.loginHint,
      credentialName: pop ? "InteractiveBrowserCredentialWithPoP" : "InteractiveBrowserCredential",
      // A PoP token is bound to our key: MSAL returns it unsigned, and never one from its bearer cache.
      ...(pop
        ? {
            silentRequest: { popKid: pop.key.thumbprint, forceRefresh: true },
            errorPrefixes: ["failed to create PoP token with interactive flow", "failed to create PoP token using interactive login"],
          }
        : {}),
      prompt: (app, scopes, _step, claims) =>
        app.acquireTokenInteractive({
          scopes,
          ...(claims ? { claims } : {}),
          openBrowser: browserOpener(port, deps),
          successTemplate: messages.successPage,
          errorTemplate: messages.errorPage,
          ...(port === 0 ? {} : { preferredPort: port }),
          ...(o.loginHint === "" ? {} : { loginHint: o.loginHint }),
          ...(pop ? { popKid: pop.key.thumbprint } : {}),
        }),
    },
    deps,
  );
}

/**
 * msal-node's openBrowser callback. It shows the URL, opens the browser, and hands --timeout to
 * msal's loopback listener, which has no way to be cancelled: when the run is aborted it delivers
 * an error response to the listener itself, the way Entra would, so msal closes its server.
 */
function browserOpener(preferredPort: number, deps: LoginDeps): (url: string) => Promise<void> {
  return async (url) => {
    const redirect = new URL(new URL(url).searchParams.get("redirect_uri") ?? "http://localhost/");
    // msal-node falls back to a random port when the preferred one is taken; the app registration
    // would then reject the redirect, so fail now (MSAL Go fails the same way).
    if (preferredPort !== 0 && Number(redirect.port) !== preferredPort) {
      throw new ValidationError(messages.portInUse(preferredPort), { hint: "stop what listens on that port, or pick another port in --redirect-url" });
    }
    const state = new URL(url).searchParams.get("state") ?? "";
    const cancel = (): void => void cancelLoopback(deps.rt.fetch, redirect.port, state);
    if (deps.signal.aborted) {
      cancel();
      return;
    }
    deps.signal.addEventListener("abort", cancel, { once: true });
    try {
      await deps.interaction.openBrowser(url);
      deps.log.v(5, "opened the browser for the sign-in");
      deps.interaction.showMessage(messages.browserOpened(url));
    } catch (err) {
      deps.interaction.showMessage(messages.browserFailed((err as Error).message, url));
    }
  };
}

/** Ends msal's wait for the redirect with an error response carrying its state, so it closes the listener. */
async function cancelLoopback(fetch: LoginDeps["rt"]["fetch"], port: string, state: string): Promise<void> {
  const body = new URLSearchParams({ error: "access_denied", error_description: messages.cancelled, state }).toString();
  // 127.0.0.1, where msal listens, not "localhost", which may resolve to ::1 first. Not the run's
  // signal: it is the one that just fired.
  await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    signal: AbortSignal.timeout(5_000),
  }).catch(() => undefined);
}

export const interactive: LoginStrategy = { mode: "interactive", plan };
