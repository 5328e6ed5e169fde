// Interactive browser login (compat spec §3.5): authorization code with PKCE through msal-node's
// loopback redirect (response_mode=form_post). The browser comes from the run's interaction seam
// ($BROWSER first, else the platform opener); the URL is always shown on stderr too, so a browser
// that cannot start, or starts where nobody sees it (SSH, WSL, a container), never leaves the
// user waiting on nothing. After the first sign-in the auth record names the account, and MSAL's
// refresh token signs it in silently until Entra refuses it.
import { MissingOptionError, ValidationError } from "../errors.js";
import { formatGoDuration } from "../options/duration.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { findRecord, recordPaths, type AuthenticationRecord, type RecordFiles, type RecordTarget } from "./auth-record.js";
import { checkTenantFormat, entraTarget, type EntraTarget } from "./authority.js";
import { popBindingFor, withPopTokenRequests, type PopBinding } from "./pop.js";
import { signInStepOf } from "./sign-in-step.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  redirectUrl: (url: string) => `invalid --redirect-url "${url}": it is not a URL with a valid port`,
  redirectIgnored: (url: string, port: number, ignored: string) =>
    `--redirect-url ${url}: only its port is used; the redirect URI sent is http://localhost${port === 0 ? " on a port the OS picks" : `:${port}`} (ignored: ${ignored})`,
  portInUse: (port: number) => `cannot receive the sign-in on port ${port} (--redirect-url): the port is in use`,
  browserOpened: (url: string) => `A browser should open for the sign-in. If none does, open this URL in a browser on this machine:\n${url}`,
  browserFailed: (reason: string, url: string) => `Could not open a browser (${reason}). To sign in, open this URL in a browser on this machine:\n${url}`,
  successPage: "You are signed in to kubelogin. You can close this window and return to the terminal.",
  errorPage: "The sign-in did not complete. Return to the terminal to see why.",
  cancelled: "kubelogin stopped waiting for the sign-in",
  notCompleted: (timeout: number) =>
    `the sign-in was not completed within ${formatGoDuration(timeout)} (--timeout): finish it in the browser sooner, or allow more time with --timeout (or AZURE_CLI_TIMEOUT)`,
} as const;

export interface RedirectChoice {
  /** Where msal-node listens for the redirect; 0 lets the OS choose (upstream's default). */
  readonly port: number;
  /** The parts of --redirect-url that are not used, for the -v 1 line; absent when nothing is lost. */
  readonly ignored?: string;
}

/**
 * MSAL (Go and Node alike) listens on localhost and sends http://localhost:<port> as the redirect
 * URI: of --redirect-url only the port is used, as upstream passes the flag on. Converted
 * kubeconfigs carry such URLs with a path, so they are accepted; only a value with no port to
 * take (not a URL, or a port out of range) is refused.
 */
export function chooseRedirect(redirectUrl: string): RedirectChoice {
  if (redirectUrl === "") return { port: 0 };
  let url: URL;
  try {
    url = new URL(redirectUrl);
  } catch {
    throw new ValidationError(messages.redirectUrl(redirectUrl), {
      hint: "pass http://localhost:<port> with a port registered as a mobile and desktop redirect URI of the app, or no --redirect-url to let the OS pick one",
    });
  }
  const port = url.port === "" ? 0 : Number(url.port);
  const ignored = [
    url.protocol === "http:" ? "" : `scheme "${url.protocol.slice(0, -1)}"`,
    url.hostname === "localhost" ? "" : `host "${url.hostname}"`,
    url.pathname === "/" || url.pathname === "" ? "" : `path "${url.pathname}"`,
    url.search === "" ? "" : `query "${url.search}"`,
  ].filter((part) => part !== "");
  return ignored.length === 0 ? { port } : { port, ignored: ignored.join(", ") };
}

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  checkTenantFormat(o.tenantId, o.isPopTokenEnabled ? undefined : "failed to create interactive browser credential");
}

/** Upstream's breadcrumbs for a PoP sign-in, innermost first. */
const POP_ERROR_PREFIXES = ["failed to create PoP token with interactive flow", "failed to create PoP token using interactive login"] as const;

/** A --login-hint asks for that user: another user's record does not pick the account. */
const acceptsRecord = (loginHint: string) => (record: AuthenticationRecord): boolean =>
  loginHint === "" || record.username.toLowerCase() === loginHint.toLowerCase();

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  checkOptions(o);
  const pop = o.isPopTokenEnabled ? await popBindingFor(o.popClaims, context.state) : undefined;
  // Upstream's PoP credential never reads --redirect-url.
  const redirect = pop ? { port: 0 } : chooseRedirect(o.redirectUrl);
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
    timeoutWording: () => ({
      prefix: pop ? `failed to get token: ${POP_ERROR_PREFIXES[1]}: ${POP_ERROR_PREFIXES[0]}` : `${signInStepOf(record !== undefined)}: InteractiveBrowserCredential`,
      hint: messages.notCompleted(o.timeout),
    }),
    acquire: (deps) => acquireToken(o, target, redirect, files, pop, deps),
  };
}

async function acquireToken(
  o: Readonly<GetTokenOptions>,
  target: EntraTarget,
  redirect: RedirectChoice,
  files: RecordFiles,
  pop: PopBinding | undefined,
  runDeps: LoginDeps,
): Promise<AccessToken> {
  const { port } = redirect;
  if (redirect.ignored) runDeps.log.v(1, messages.redirectIgnored(o.redirectUrl, port, redirect.ignored));
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
            authenticates: false,
            errorPrefixes: POP_ERROR_PREFIXES,
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
