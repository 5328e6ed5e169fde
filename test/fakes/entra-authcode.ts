// The browser sign-in half of the fake Entra ID (plugged into fake-entra.ts): the v2 authorization
// endpoint and the authorization_code grant with PKCE, as msal-node 7 drives them. The endpoint
// signs the configured user in at once (no login form) and answers with response_mode=form_post:
// an HTML page whose form POSTs code, state and client_info to the loopback redirect_uri and
// submits itself, which is what Entra does and what msal-node 7 insists on (a 302 with ?code= is
// refused). The grant checks the code_verifier against the code_challenge (S256).
import { createHash, randomBytes, randomUUID } from "node:crypto";

type Reply = { status: number; body: object; html?: string };

export interface FakeAuthCode {
  /** Apps that may sign users in through the browser. */
  addPublicClient(clientId: string): void;
  /** Who the next browser sign-ins sign in as (a user principal name). */
  user: string;
  /** Lifetime of the access tokens it issues; default the fake's. */
  tokenLifetimeSeconds: number;
  /** The query of every authorize request, in order (client_id, redirect_uri, login_hint, ...). */
  readonly authorizeRequests: Record<string, string>[];
}

export interface AuthCodeContext {
  origin(): string;
  tokenLifetimeSeconds: number;
  signJwt(claims: object): string;
  issued(accessToken: string): void;
  entraError(status: number, error: string, code: number, message: string): { status: number; body: object };
  missingParameter(name: string): { status: number; body: object };
  objectIdFor(seed: string): string;
}

interface IssuedCode {
  tenant: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  username: string;
  used: boolean;
}

const OIDC_SCOPES = ["openid", "profile", "offline_access"];

export function createAuthCodeFlow(ctx: AuthCodeContext) {
  const publicClients = new Set<string>();
  const codes = new Map<string, IssuedCode>();
  const controller: FakeAuthCode = {
    addPublicClient: (clientId) => void publicClients.add(clientId),
    user: "",
    tokenLifetimeSeconds: ctx.tokenLifetimeSeconds,
    authorizeRequests: [],
  };

  function authorize({ tenant, request }: { tenant: string; request: { query: Record<string, string> } }): Reply {
    const q = request.query;
    controller.authorizeRequests.push(q);
    for (const name of ["client_id", "redirect_uri", "scope", "state", "code_challenge"]) {
      if (q[name] === undefined) return ctx.missingParameter(name);
    }
    if (!publicClients.has(q.client_id!)) {
      return ctx.entraError(400, "unauthorized_client", 700016, `Application with identifier '${q.client_id}' was not found in the directory '${tenant}'.`);
    }
    if (q.response_type !== "code") return ctx.entraError(400, "unsupported_response_type", 900144, "The response_type must be 'code'.");
    if (q.code_challenge_method !== "S256") return ctx.entraError(400, "invalid_request", 501491, "Invalid code_challenge_method: S256 is required.");
    if (q.response_mode !== "form_post") return ctx.entraError(400, "invalid_request", 900144, "This fake answers only response_mode=form_post, as msal-node 7 asks.");
    if (!/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\/?$/.test(q.redirect_uri!)) {
      return ctx.entraError(400, "invalid_request", 50011, `The redirect URI '${q.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${q.client_id}'.`);
    }
    if (controller.user === "") throw new Error("fake Entra: set authCode.user before a browser sign-in");
    const code = randomBytes(32).toString("base64url");
    codes.set(code, { tenant, clientId: q.client_id!, redirectUri: q.redirect_uri!, challenge: q.code_challenge!, scope: q.scope!, username: controller.user, used: false });
    const objectId = ctx.objectIdFor(`user/${tenant}/${controller.user.toLowerCase()}`);
    const fields = {
      code,
      state: q.state!,
      client_info: Buffer.from(JSON.stringify({ uid: objectId, utid: tenant })).toString("base64url"),
      session_state: randomUUID(),
    };
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}" />`)
      .join("");
    return {
      status: 200,
      body: {},
      html: `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="${escapeHtml(q.redirect_uri!)}">${inputs}<noscript><input type="submit" value="Continue" /></noscript></form><script>document.forms[0].submit();</script></body></html>`,
    };
  }

  function authorizationCodeGrant(tenant: string, form: Record<string, string>): Reply {
    for (const name of ["client_id", "code", "redirect_uri", "code_verifier"]) if (form[name] === undefined) return ctx.missingParameter(name);
    const issued = codes.get(form.code!);
    if (issued === undefined || issued.used || issued.tenant !== tenant || issued.clientId !== form.client_id) {
      return ctx.entraError(400, "invalid_grant", 70000, "The provided authorization code is invalid or has expired.");
    }
    issued.used = true;
    if (issued.redirectUri !== form.redirect_uri) {
      return ctx.entraError(400, "invalid_grant", 500112, `The reply address '${form.redirect_uri}' does not match the reply address '${issued.redirectUri}' provided when requesting the authorization code.`);
    }
    if (createHash("sha256").update(form.code_verifier!).digest("base64url") !== issued.challenge) {
      return ctx.entraError(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
    }
    return userTokens(tenant, issued.clientId, issued.username, form.scope ?? issued.scope);
  }

  function userTokens(tenant: string, clientId: string, username: string, scope: string): Reply {
    const now = Math.floor(Date.now() / 1000);
    const objectId = ctx.objectIdFor(`user/${tenant}/${username.toLowerCase()}`);
    const lifetime = controller.tokenLifetimeSeconds;
    const resource = (scope.split(" ").find((part) => part !== "" && !OIDC_SCOPES.includes(part)) ?? "").replace(/\/\.default$/, "");
    const accessToken = ctx.signJwt({
      aud: resource,
      iss: `https://sts.windows.net/${tenant}/`,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      appid: clientId,
      appidacr: "0",
      amr: ["pwd"],
      oid: objectId,
      sub: objectId,
      tid: tenant,
      upn: username,
      unique_name: username,
      scp: "user.read",
      ver: "1.0",
    });
    ctx.issued(accessToken);
    const idToken = ctx.signJwt({
      aud: clientId,
      iss: `${ctx.origin()}/${tenant}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: username.split("@")[0],
      oid: objectId,
      preferred_username: username,
      sub: objectId,
      tid: tenant,
      ver: "2.0",
    });
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        scope: scope.split(" ").filter((part) => part !== "" && !OIDC_SCOPES.includes(part)).join(" "),
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: accessToken,
        refresh_token: randomBytes(32).toString("base64url"),
        id_token: idToken,
        client_info: Buffer.from(JSON.stringify({ uid: objectId, utid: tenant })).toString("base64url"),
      },
    };
  }

  return {
    controller,
    authorize,
    /** The reply for the authorization_code grant, or undefined for another grant type. */
    token(tenant: string, form: Record<string, string>): Reply | undefined {
      return form.grant_type === "authorization_code" ? authorizationCodeGrant(tenant, form) : undefined;
    },
  };
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
