// The user sign-in half of the fake Entra ID (plugged into fake-entra.ts): public client apps, users,
// the device-code endpoint with a test-controlled approval, and the device-code, password and
// refresh-token grants. Responses carry what msal-node needs to make an account: an id_token and
// client_info. msal-node's username/password flow makes no user-realm request, so there is none.
import { randomBytes, randomUUID } from "node:crypto";

export interface FakeUser {
  username: string;
  password: string;
  /** The password grant is refused with AADSTS50076 (MFA required), as Entra does for such accounts. */
  requireMfa?: boolean;
  /** The password grant is refused with AADSTS53003 (blocked by Conditional Access). */
  blockedByConditionalAccess?: boolean;
}

/** How the next device-code sign-ins go; tests change it between runs. */
export interface DeviceCodeScript {
  /** Who approves (a registered user name). */
  user: string;
  /** Polls answered `slow_down` first (RFC 8628 §3.5). */
  slowDownPolls: number;
  /** Polls answered `authorization_pending` after those. */
  pendingPolls: number;
  /**
   * What the poll after them gets: tokens, a decline, or pending forever; "browser" stays pending
   * until `approve(userCode)`, as when a person enters the code in the browser.
   */
  outcome: "approve" | "decline" | "never" | "browser";
  /** Seconds the client is told to wait between polls. */
  interval: number;
}

export interface FakeEntraUsers {
  addPublicClient(clientId: string): void;
  addUser(user: FakeUser): void;
  deviceCode: DeviceCodeScript;
  /** Lifetime of access tokens issued to users (default: the fake's tokenLifetimeSeconds). */
  tokenLifetimeSeconds: number;
  /** Every device-code message handed out, in order. */
  readonly messages: string[];
  /** The person at the browser enters this code and signs in (for outcome "browser"); false if no such code is pending. */
  approve(userCode: string): boolean;
  /** Makes every refresh token issued so far unusable (AADSTS700082), as inactivity or a revocation does. */
  revokeRefreshTokens(): void;
  /**
   * A Conditional Access step-up (claims challenge): every refresh-token grant from now on is
   * answered `interaction_required` with these claims, as Entra answers when a policy the
   * saved sign-in did not satisfy starts to apply; undefined lifts it.
   */
  claimsChallenge: string | undefined;
}

export interface UserFlowContext {
  origin(): string;
  tokenLifetimeSeconds: number;
  /** Signs claims with the fake's token-signing key. */
  signJwt(claims: object): string;
  issued(accessToken: string): void;
  entraError(status: number, error: string, code: number, message: string): { status: number; body: object };
  missingParameter(name: string): { status: number; body: object };
  objectIdFor(seed: string): string;
}

type Reply = { status: number; body: object };

interface PendingDeviceCode {
  tenant: string;
  clientId: string;
  scope: string;
  script: DeviceCodeScript;
  polls: number;
  done: boolean;
  userCode: string;
  approved: boolean;
}

interface RefreshGrant {
  tenant: string;
  clientId: string;
  username: string;
  revoked: boolean;
}

/** What msal-node sends (Entra also takes RFC 8628's "urn:ietf:params:oauth:grant-type:device_code"). */
export const DEVICE_CODE_GRANT = "device_code";
const RFC_DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const OIDC_SCOPES = ["openid", "profile", "offline_access"];

export function createUserFlows(ctx: UserFlowContext) {
  const publicClients = new Set<string>();
  const users = new Map<string, FakeUser>();
  const deviceCodes = new Map<string, PendingDeviceCode>();
  const refreshTokens = new Map<string, RefreshGrant>();
  const messages: string[] = [];

  const controller: FakeEntraUsers = {
    addPublicClient: (clientId) => void publicClients.add(clientId),
    addUser: (user) => void users.set(user.username.toLowerCase(), user),
    deviceCode: { user: "", slowDownPolls: 0, pendingPolls: 1, outcome: "approve", interval: 1 },
    tokenLifetimeSeconds: ctx.tokenLifetimeSeconds,
    messages,
    approve(userCode) {
      const pending = [...deviceCodes.values()].find((code) => code.userCode === userCode && !code.done);
      if (pending === undefined) return false;
      pending.approved = true;
      return true;
    },
    revokeRefreshTokens() {
      for (const grant of refreshTokens.values()) grant.revoked = true;
    },
    claimsChallenge: undefined,
  };

  function unknownClient(clientId: string, tenant: string): Reply {
    return ctx.entraError(400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
  }

  function deviceCodeEndpoint({ tenant, request }: { tenant: string; request: { form: Record<string, string> } }): Reply {
    const { form } = request;
    if (form.client_id === undefined) return ctx.missingParameter("client_id");
    if (form.scope === undefined) return ctx.missingParameter("scope");
    if (!publicClients.has(form.client_id)) return unknownClient(form.client_id, tenant);
    const deviceCode = randomBytes(24).toString("base64url");
    const userCode = randomBytes(6).toString("hex").toUpperCase().slice(0, 9);
    const verificationUri = "https://microsoft.com/devicelogin";
    const message = `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`;
    messages.push(message);
    const script = { ...controller.deviceCode };
    deviceCodes.set(deviceCode, { tenant, clientId: form.client_id, scope: form.scope, script, polls: 0, done: false, userCode, approved: false });
    return {
      status: 200,
      body: { user_code: userCode, device_code: deviceCode, verification_uri: verificationUri, expires_in: 900, interval: script.interval, message },
    };
  }

  function deviceCodeGrant(tenant: string, form: Record<string, string>): Reply {
    const pending = form.device_code === undefined ? undefined : deviceCodes.get(form.device_code);
    if (pending === undefined || pending.done || pending.tenant !== tenant || pending.clientId !== form.client_id) {
      return ctx.entraError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.");
    }
    pending.polls += 1;
    const { script } = pending;
    if (pending.polls <= script.slowDownPolls) {
      return ctx.entraError(400, "slow_down", 70016, "OAuth 2.0 device flow error. Polling too fast; slow down.");
    }
    const waiting = script.outcome === "never" || (script.outcome === "browser" && !pending.approved);
    if (waiting || pending.polls <= script.slowDownPolls + script.pendingPolls) {
      return ctx.entraError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
    }
    pending.done = true;
    if (script.outcome === "decline") {
      return ctx.entraError(400, "authorization_declined", 70000, "The user has declined the authorization request.");
    }
    const user = users.get(script.user.toLowerCase());
    if (user === undefined) throw new Error(`fake Entra: the device-code script names no registered user (${script.user})`);
    return userTokens(tenant, pending.clientId, user, form.scope ?? pending.scope);
  }

  function passwordGrant(tenant: string, form: Record<string, string>): Reply {
    for (const name of ["client_id", "scope", "username", "password"]) if (form[name] === undefined) return ctx.missingParameter(name);
    if (!publicClients.has(form.client_id!)) return unknownClient(form.client_id!, tenant);
    const user = users.get(form.username!.toLowerCase());
    if (user === undefined || user.password !== form.password) {
      return ctx.entraError(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.");
    }
    if (user.blockedByConditionalAccess) {
      return ctx.entraError(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.");
    }
    if (user.requireMfa) {
      return ctx.entraError(
        400,
        "invalid_grant",
        50076,
        `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resourceOf(form.scope!)}'.`,
      );
    }
    return userTokens(tenant, form.client_id!, user, form.scope!);
  }

  function refreshTokenGrant(tenant: string, form: Record<string, string>): Reply {
    // Before the token is looked at, so that the interactive flow's refresh tokens meet it too.
    if (controller.claimsChallenge !== undefined) {
      const challenge = ctx.entraError(
        400,
        "interaction_required",
        50076,
        `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resourceOf(form.scope ?? "")}'.`,
      );
      return { status: challenge.status, body: { ...challenge.body, suberror: "basic_action", claims: controller.claimsChallenge } };
    }
    const grant = form.refresh_token === undefined ? undefined : refreshTokens.get(form.refresh_token);
    if (grant === undefined || grant.revoked || grant.tenant !== tenant || grant.clientId !== form.client_id) {
      return ctx.entraError(
        400,
        "invalid_grant",
        700082,
        "The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.",
      );
    }
    const user = users.get(grant.username)!;
    return userTokens(tenant, grant.clientId, user, form.scope ?? "");
  }

  function userTokens(tenant: string, clientId: string, user: FakeUser, scope: string): Reply {
    const now = Math.floor(Date.now() / 1000);
    const objectId = ctx.objectIdFor(`user/${tenant}/${user.username.toLowerCase()}`);
    const resource = resourceOf(scope);
    const lifetime = controller.tokenLifetimeSeconds;
    const accessToken = ctx.signJwt({
      aud: resource,
      iss: `https://sts.windows.net/${tenant}/`,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      appid: clientId,
      // "0": a public client, which has no credential of its own.
      appidacr: "0",
      oid: objectId,
      sub: objectId,
      tid: tenant,
      upn: user.username,
      unique_name: user.username,
      scp: "user.read",
      uti: randomUUID(),
      ver: "1.0",
    });
    ctx.issued(accessToken);
    const idToken = ctx.signJwt({
      aud: clientId,
      iss: `${ctx.origin()}/${tenant}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.username.split("@")[0],
      oid: objectId,
      preferred_username: user.username,
      sub: objectId,
      tid: tenant,
      ver: "2.0",
    });
    const refreshToken = randomBytes(32).toString("base64url");
    refreshTokens.set(refreshToken, { tenant, clientId, username: user.username.toLowerCase(), revoked: false });
    const granted = scope.split(" ").filter((part) => part !== "" && !OIDC_SCOPES.includes(part));
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        scope: granted.join(" "),
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: accessToken,
        refresh_token: refreshToken,
        id_token: idToken,
        client_info: Buffer.from(JSON.stringify({ uid: objectId, utid: tenant })).toString("base64url"),
      },
    };
  }

  return {
    controller,
    deviceCodeEndpoint,
    /** The reply for a user grant, or undefined for another grant type. */
    token(tenant: string, form: Record<string, string>): Reply | undefined {
      switch (form.grant_type) {
        case DEVICE_CODE_GRANT:
        case RFC_DEVICE_CODE_GRANT:
          return deviceCodeGrant(tenant, form);
        case "password":
          return passwordGrant(tenant, form);
        case "refresh_token":
          return refreshTokenGrant(tenant, form);
        default:
          return undefined;
      }
    },
  };
}

/** "api://x/.default openid profile" → "api://x" */
function resourceOf(scope: string): string {
  const resourceScope = scope.split(" ").find((part) => part !== "" && !OIDC_SCOPES.includes(part)) ?? "";
  return resourceScope.replace(/\/\.default$/, "");
}
