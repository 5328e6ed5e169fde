// Every failure a user can act on is a KubeloginError: the message keeps upstream's text (scripts
// match on it), the hint says what to do. cli/run.ts is the only place that prints them.

export interface ErrorDetails {
  hint?: string | undefined;
  cause?: unknown;
  exitCode?: number;
}

export class KubeloginError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  /** How much of the message, from its start, is the breadcrumb wrap() added: kubelogin's own words. */
  #prefixLength = 0;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
    this.exitCode = details.exitCode ?? 1;
  }

  /**
   * Adds upstream's breadcrumb prefix ("failed to get token: …") to this error and returns it: the
   * class, hint, cause chain and stack stay as they were, only the text gains the prefix. The
   * prefix is fixed text, never a value: the redactor leaves it as it is.
   */
  wrap(prefix: string): this {
    const before = this.message;
    this.message = `${prefix}: ${before}`;
    this.#prefixLength += prefix.length + 2;
    if (this.stack?.startsWith(`${this.name}: ${before}`)) this.stack = `${this.name}: ${this.message}${this.stack.slice(this.name.length + 2 + before.length)}`;
    return this;
  }

  /** The start of the message that is upstream's breadcrumb, our fixed words (no value is in it). */
  get breadcrumb(): string {
    return this.message.slice(0, this.#prefixLength);
  }
}

/** Entra's ids for a failed request: support asks for them, so they are shown, never stripped. */
export interface EntraIds {
  readonly traceId?: string | undefined;
  readonly correlationId?: string | undefined;
}

function entraIdsOf(err: unknown): EntraIds | undefined {
  return err instanceof AuthenticationError ? err.traceIds : undefined;
}

/** Command-line syntax: unknown flag or command, bad flag value. */
export class UsageError extends KubeloginError {}

/** An option value that upstream's Validate() rejects. */
export class ValidationError extends KubeloginError {}

/** A value the chosen mode needs and nobody supplied; the hint names the flag and its env vars. */
export class MissingOptionError extends KubeloginError {
  constructor(
    message: string,
    readonly flag: string,
    readonly envNames: readonly string[] = [],
  ) {
    super(message, { hint: envNames.length > 0 ? `pass ${flag} or set ${envNames.join(" or ")}` : `pass ${flag}` });
  }
}

/** KUBERNETES_EXEC_INFO that kubelogin cannot answer. */
export class ExecInfoError extends KubeloginError {}

/** A client certificate file that cannot be used. */
export class CertificateError extends KubeloginError {}

/** The identity provider refused the request (AADSTS code kept in the message). */
export class AuthenticationError extends KubeloginError {
  readonly traceIds: EntraIds | undefined;

  constructor(message: string, details: ErrorDetails & { traceIds?: EntraIds | undefined } = {}) {
    super(message, details);
    this.traceIds = details.traceIds?.traceId || details.traceIds?.correlationId ? details.traceIds : undefined;
  }
}

/** The identity provider could not be reached at all. */
export class NetworkError extends KubeloginError {}

export class TimeoutError extends KubeloginError {}

export class NotImplementedError extends KubeloginError {}

/**
 * The cache's storage failed: a filesystem error reading, writing, locking or clearing it (the OS
 * error is the cause). Only this error means "the cache is unusable": get-token then goes on
 * without it, where any other error is reported as itself.
 */
export class CacheError extends KubeloginError {}

/** Who holds a cache lock, from the lock file. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** When it was taken, milliseconds since the epoch. */
  readonly since: number;
}

export class CacheLockTimeoutError extends KubeloginError {
  constructor(
    readonly lockPath: string,
    waitedMs: number,
    readonly holder: LockHolder | undefined,
  ) {
    super(`timed out after ${Math.round(waitedMs / 1000)}s waiting for the cache lock ${lockPath}`, {
      // A holder may be a device-code sign-in waiting for a person: deleting its lock would let a
      // second sign-in start beside it, so deleting is suggested only when nobody holds it.
      hint: holder
        ? `kubelogin pid ${holder.pid} on ${holder.host} has held it since ${new Date(holder.since).toISOString()} (it may be waiting for a sign-in); ` +
          "it is released when that kubelogin finishes, or broken automatically once that process is gone or stops refreshing it; raise --timeout to wait longer"
        : `the lock file names no holder; if no kubelogin is running, delete ${lockPath}`,
    });
  }
}

/** A kubeconfig that cannot be read, parsed or converted. */
export class KubeconfigError extends KubeloginError {}

const REDACTED = "[REDACTED]";
const MIN_SECRET_LENGTH = 4;

// The one redaction layer: the logger and the error reporter both end here. Registered secrets go
// first (client secrets, passwords, PFX passwords, SYSTEM_ACCESSTOKEN...); the shapes below catch
// what nobody registered: tokens minted during the run, opaque refresh tokens, echoed requests.
const SECRET_FIELDS = "client_secret|password|refresh_token|access_token|id_token|client_assertion|assertion|code_verifier|device_code";
/** Form and query fields (`client_secret=…`); `user_code=` stays, it is meant for the user's eyes. */
const FORM_FIELD = new RegExp(`(?<![\\w])(${SECRET_FIELDS})=[^&\\s"]+`, "gi");
/**
 * An authorization `code=` in a query or form: a redirect URL or a token request body. Entra's
 * error page links (`/error?code=500011`) carry a number that people search for, so a code made
 * only of digits stays, unless the query around it is an authorization response or a token
 * request (state, client_info, grant_type...), where every code is a secret.
 */
const AUTH_CODE = /(?<![\w])code=([^&\s"#]+)/gi;
const QUERY_AROUND = /[^\s"'?#]*$/;
const OAUTH_COMPANIONS = /(?<![\w])(?:state|session_state|client_info|grant_type|redirect_uri|code_verifier|client_id)=/i;
/** JSON members: an echoed token response or an MSAL cache entry (`"secret"` holds the token there); an error's `"code"` stays. */
const JSON_FIELD = new RegExp(`"(${SECRET_FIELDS}|accessToken|refreshToken|secret|token|oidcToken)"(\\s*:\\s*)"[^"]*"`, "gi");
/** An Authorization or App Service identity header, in HTTP or JSON form: the credential after the scheme. */
const AUTH_HEADER = /\b(authorization|x-identity-header)(["']?\s*[:=]\s*["']?)((?:bearer|basic|pop)\s+)?[^\s"',;}]+/gi;
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** A stretch of text that is kubelogin's own words, [start, end): a secret's value is never in it. */
export type OwnWords = readonly [start: number, end: number];

/**
 * Replaces each secret wherever it occurs, except inside `ownWords` (our fixed texts: a secret that
 * is a common word, "token" or "secret", must not eat "failed to get token"), and anything shaped
 * like a token, credential field or Authorization header.
 */
export function redact(text: string, secrets: Iterable<string> = [], ownWords: readonly OwnWords[] = []): string {
  const hidden = new Uint8Array(text.length);
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      const end = at + secret.length;
      if (ownWords.some(([start, stop]) => start <= at && end <= stop)) continue;
      hidden.fill(1, at, end);
    }
  }
  // A run of hidden characters, one secret or several overlapping ones, becomes one marker.
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += text[i];
    else if (i === 0 || !hidden[i - 1]) out += REDACTED;
  }
  return out
    .replace(JWT, REDACTED)
    .replace(AUTH_HEADER, (_match, name: string, separator: string, scheme: string | undefined) => `${name}${separator}${scheme ?? ""}${REDACTED}`)
    .replace(JSON_FIELD, (_match, name: string, colon: string) => `"${name}"${colon}"${REDACTED}"`)
    .replace(FORM_FIELD, `$1=${REDACTED}`)
    .replace(AUTH_CODE, (match, value: string, offset: number, whole: string) => (isAuthorizationCode(value, offset, whole) ? `code=${REDACTED}` : match));
}

function isAuthorizationCode(value: string, offset: number, text: string): boolean {
  if (!/^\d+$/.test(value)) return true;
  const start = offset - (QUERY_AROUND.exec(text.slice(0, offset))?.[0].length ?? 0);
  const end = text.slice(offset).search(/[\s"']|$/);
  return OAUTH_COMPANIONS.test(text.slice(start, offset + end));
}

/**
 * stderr text for an error: `Error: <message>`, a hint line, and the cause chain when verbose.
 * `names` are words of ours that hints and messages quote (flag and environment variable names):
 * like the breadcrumb, they are never taken for a secret.
 */
export function formatError(err: unknown, verbose: boolean, secrets: Iterable<string> = [], names: readonly string[] = []): string {
  const lines: string[] = [];
  const ownWords: OwnWords[] = [];
  if (err instanceof KubeloginError) {
    ownWords.push([0, "Error: ".length + err.breadcrumb.length]);
    lines.push(`Error: ${err.message}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
    const ids = entraIdsOf(err);
    if (ids) lines.push(`trace id: ${ids.traceId ?? "none"}, correlation id: ${ids.correlationId ?? "none"}`);
  } else if (err instanceof Error) {
    lines.push(`Error: ${err.message}`);
  } else {
    lines.push(`Error: ${String(err)}`);
  }
  if (verbose) {
    let shown = err instanceof Error ? err.message : "";
    let cause = err instanceof Error ? err.cause : undefined;
    while (cause instanceof Error) {
      // A wrapped error's cause is itself without the prefix: nothing new to say.
      if (!shown.endsWith(cause.message)) lines.push(`caused by: ${cause.name}: ${cause.message}`);
      shown = cause.message;
      cause = cause.cause;
    }
    if (err instanceof Error && err.stack && !(err instanceof KubeloginError)) lines.push(err.stack);
  }
  const text = lines.join("\n");
  for (const name of names) {
    for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) {
      // Only a whole name: "--client-secret" in "--client-secret-x" is not ours.
      if (!/[\w-]/.test(text[at - 1] ?? "") && !/[\w-]/.test(text[at + name.length] ?? "")) ownWords.push([at, at + name.length]);
    }
  }
  return redact(text, secrets, ownWords) + "\n";
}

export function exitCodeOf(err: unknown): number {
  return err instanceof KubeloginError ? err.exitCode : 1;
}
