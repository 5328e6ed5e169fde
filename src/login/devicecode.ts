// Device-code login, the default mode (compat spec §3.4, §3.1, §4.1): a public client through
// msal-node. Entra's message goes to stderr as Entra wrote it; polling follows `interval`,
// `authorization_pending` and `slow_down`; the whole sign-in is bounded by --timeout. After the
// first sign-in the authentication record names the account, and later runs are silent (cached
// access token, then the refresh token) until both are unusable.
import { AuthenticationError, MissingOptionError, TimeoutError } from "../errors.js";
import { formatGoDuration } from "../options/duration.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { findRecord, recordPaths, userCacheKey, type RecordFiles } from "./auth-record.js";
import { checkTenantFormat, entraTarget, type EntraTarget } from "./authority.js";
import { signInStepOf } from "./sign-in-step.js";
import type { SignInStep } from "./user-sign-in.js";
import type { AccessToken, LoginDeps, LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  notCompleted: (timeout: number) =>
    `the device-code sign-in was not completed within ${formatGoDuration(timeout)} (--timeout): open the page and enter the code sooner, or allow more time with --timeout (or AZURE_CLI_TIMEOUT)`,
  declinedHint: "the sign-in was declined at the device-code page; run the command again for a new code",
  expiredHint: "the code expired before the sign-in was completed; run the command again for a new code",
} as const;

/** Upstream's; its errors start with it. */
const CREDENTIAL_NAME = "DeviceCodeCredential";

/** msal-node's spelling of the poll's grant type (not RFC 8628's URN). */
const DEVICE_CODE_GRANT = "device_code";
/** RFC 8628 §3.5: after `slow_down`, wait this much longer before this and every later poll. */
const SLOW_DOWN_STEP_MS = 5_000;

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  checkTenantFormat(o.tenantId, "failed to create device code credential");
}

export function recordFilesFor(context: PlanContext): RecordFiles {
  return { cacheDir: context.cacheDir };
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  // ADAL v1 (decision 9): its own checks, no MSAL, no auth record.
  if (o.legacy) return (await import("./adal-v1.js")).legacyDeviceCodePlan(o);
  checkOptions(o);
  const target = entraTarget(o);
  const files = recordFilesFor(context);
  const recordTarget = { authorityHost: target.authorityHost, tenantId: target.tenantId, clientId: o.clientId };
  const record = await findRecord(files, recordTarget);
  return {
    cacheKey: userCacheKey("devicecode", target, o.clientId, record),
    inputs: recordPaths(files, recordTarget),
    warnings: target.warnings,
    timeoutWording: () => ({ prefix: `${signInStepOf(record !== undefined)}: ${CREDENTIAL_NAME}` }),
    // Not async: the rejection on timeout must reach the use case before its own generic one.
    acquire: (deps) => settleOnAbort(deps.signal, acquireToken(o, target, files, deps), () => timeoutError(o, deps)),
  };
}

/**
 * Set once the device-code message is on screen: a timeout after that is a sign-in not completed,
 * reported at the step that prompted (user-sign-in.ts).
 */
const prompted = new WeakMap<AbortSignal, SignInStep>();

function timeoutError(o: Readonly<GetTokenOptions>, deps: LoginDeps): unknown {
  const step = prompted.get(deps.signal);
  if (!step) return deps.signal.reason;
  return new TimeoutError(`${step}: ${CREDENTIAL_NAME}: context deadline exceeded`, { hint: messages.notCompleted(o.timeout), cause: deps.signal.reason });
}

/**
 * Rejects the moment `signal` aborts, with the error `onAbort` gives. msal-node sleeps between
 * polls with a timer no signal reaches; the `cancel` flag set on abort stops its loop at the next
 * turn, but the answer must not wait for that.
 */
function settleOnAbort<T>(signal: AbortSignal, work: Promise<T>, onAbort: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    // Stryker disable next-line ConditionalExpression: get-token starts the login with a signal its timer has not aborted yet
    if (signal.aborted) abort();
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once, so the listener runs once either way
    signal.addEventListener("abort", abort, { once: true });
    // The removals below only drop a listener whose reject() would come after the promise settled, which does nothing.
    work.then(
      (value) => {
        // Stryker disable next-line StringLiteral: see above
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err: unknown) => {
        // Stryker disable next-line StringLiteral: see above
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}

async function acquireToken(o: Readonly<GetTokenOptions>, target: EntraTarget, files: RecordFiles, deps: LoginDeps): Promise<AccessToken> {
  const polling: PollingState = { extraDelayMs: 0 };
  // Only the polls go through this wrapper's slow_down handling; every other request is untouched.
  const pollingDeps: LoginDeps = { ...deps, rt: { ...deps.rt, fetch: pollingFetch(deps, polling) } };
  const { signInUser } = await import("./user-sign-in.js");
  return signInUser(
    {
      target,
      clientId: o.clientId,
      files,
      credentialName: CREDENTIAL_NAME,
      prompt: async (app, scopes, step, claims) => {
        const request: Parameters<typeof app.acquireTokenByDeviceCode>[0] = {
          scopes,
          ...(claims ? { claims } : {}),
          deviceCodeCallback: (response) => {
            prompted.set(deps.signal, step);
            deps.interaction.showMessage(response.message);
          },
        };
        // msal-node reads the flag before each poll (it mutates and keeps this very object). The
        // run's signal also fails every later poll before it is sent (msal/client.ts), so without
        // the flag msal's loop ends at its next poll all the same: nothing a user or Entra sees.
        // Stryker disable next-line ArrowFunction,BooleanLiteral: see above
        const cancel = (): void => void (request.cancel = true);
        // Stryker disable next-line StringLiteral,ObjectLiteral,BooleanLiteral: see above
        deps.signal.addEventListener("abort", cancel, { once: true });
        // The listener stays once the request settled: msal no longer reads the flag then.
        try {
          return await app.acquireTokenByDeviceCode(request);
        } catch (err) {
          throw polling.refusal ? await refusalError(polling.refusal, err) : err;
        }
      },
    },
    pollingDeps,
  );
}

interface EntraErrorBody {
  error: string;
  error_description?: string;
}

interface PollingState {
  extraDelayMs: number;
  /** The poll answer that ended the sign-in (declined, expired): msal-node keeps only its `error`. */
  refusal?: EntraErrorBody;
}

/**
 * msal-node 7 polls on `authorization_pending` but fails on `slow_down`. RFC 8628 says to keep
 * polling 5 s slower from then on, so this turns `slow_down` into a pending answer for msal and
 * adds the delay itself (on the run's clock, cancelled by --timeout).
 */
function pollingFetch(deps: LoginDeps, state: PollingState): typeof fetch {
  const inner = deps.rt.fetch;
  return async (input, init) => {
    // Every request here comes with an init whose body is a string or absent, and a text with no
    // grant_type is not a poll whatever it is.
    // Stryker disable next-line ConditionalExpression,OptionalChaining,StringLiteral: see above
    const body = typeof init?.body === "string" ? init.body : "";
    if (new URLSearchParams(body).get("grant_type") !== DEVICE_CODE_GRANT) return inner(input, init);
    if (state.extraDelayMs > 0) await deps.rt.clock.sleep(state.extraDelayMs, deps.signal);
    const response = await inner(input, init);
    // Stryker disable next-line ConditionalExpression: only spares reading a token answer, which has no error to look at
    if (response.ok) return response;
    const text = await response.text();
    const answer = parseErrorBody(text);
    if (answer?.error === "slow_down") {
      state.extraDelayMs += SLOW_DOWN_STEP_MS;
      deps.log.v(5, `device code: slow_down; polling every ${SLOW_DOWN_STEP_MS / 1000}s more from now on`);
      return new Response(JSON.stringify({ ...answer, error: "authorization_pending" }), { status: response.status, headers: response.headers });
    }
    if (answer && answer.error !== "authorization_pending") state.refusal = answer;
    return new Response(text, { status: response.status, headers: response.headers });
  };
}

function parseErrorBody(text: string): EntraErrorBody | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<EntraErrorBody>;
    // Stryker disable next-line ConditionalExpression: an error that is not text reads the same either way (msal fails the poll with that value as its words), and none makes no refusal
    return typeof parsed.error === "string" ? (parsed as EntraErrorBody) : undefined;
  } catch {
    // Not JSON, or JSON null: no answer of Entra's to look at.
  }
  return undefined;
}

/** msal-node reports a refused poll as "post_request_failed"; Entra's own words say what happened. */
async function refusalError(refusal: EntraErrorBody, cause: unknown): Promise<AuthenticationError> {
  const { extractAadsts, extractEntraIds } = await import("./msal/errors.js");
  // Stryker disable next-line StringLiteral: any text without an AADSTS code or ids reads the same
  const text = refusal.error_description ?? "";
  const hint = refusal.error === "authorization_declined" ? messages.declinedHint : refusal.error === "expired_token" ? messages.expiredHint : undefined;
  const description = extractAadsts(text)?.description;
  return new AuthenticationError(description ? `${refusal.error}: ${description}` : refusal.error, { hint, cause, traceIds: extractEntraIds(text) });
}

export const devicecode: LoginStrategy = { mode: "devicecode", plan };
