// The Entra ID v1 endpoints of the fake (plugged into fake-entra.ts), as go-autorest/adal drives
// them for kubelogin --legacy: `POST /<tenant>/oauth2/devicecode?api-version=1.0` (client_id,
// resource) and `POST /<tenant>/oauth2/token?api-version=1.0` with grant_type device_code (code,
// resource) or client_credentials (secret or certificate assertion, the audience being this v1
// token endpoint). v1 answers carry numbers as strings ("expires_in": "3599"), as Entra's do.
import { randomBytes } from "node:crypto";

type Reply = { status: number; body: object };

/** How the next v1 device-code sign-ins go. */
export interface V1DeviceCodeScript {
  /** Who approves (a user principal name). */
  user: string;
  slowDownPolls: number;
  pendingPolls: number;
  /** Seconds between polls, sent as a string. */
  interval: number;
}

export interface FakeEntraV1 {
  /** Apps that may use the v1 device code. */
  addPublicClient(clientId: string): void;
  deviceCode: V1DeviceCodeScript;
  /** Every v1 device-code message handed out. */
  readonly messages: string[];
}

export interface V1Context {
  origin(): string;
  tokenLifetimeSeconds: number;
  signJwt(claims: object): string;
  issued(accessToken: string): void;
  entraError(status: number, error: string, code: number, message: string): Reply;
  missingParameter(name: string): Reply;
  objectIdFor(seed: string): string;
  /** The v2 client-credential check (secret, or an assertion for `audience`); undefined when it passes. */
  checkApp(clientId: string, tenant: string, form: Record<string, string>, audience: string): Reply | undefined;
}

interface PendingCode {
  tenant: string;
  clientId: string;
  resource: string;
  script: V1DeviceCodeScript;
  polls: number;
  done: boolean;
}

export function createV1Endpoints(ctx: V1Context) {
  const publicClients = new Set<string>();
  const pending = new Map<string, PendingCode>();
  const controller: FakeEntraV1 = {
    addPublicClient: (clientId) => void publicClients.add(clientId),
    deviceCode: { user: "", slowDownPolls: 0, pendingPolls: 1, interval: 1 },
    messages: [],
  };
  const tokenEndpoint = (tenant: string): string => `${ctx.origin()}/${tenant}/oauth2/token?api-version=1.0`;

  function checkApiVersion(query: Record<string, string>): Reply | undefined {
    if (query["api-version"] === "1.0") return undefined;
    return ctx.entraError(400, "invalid_request", 900144, "The request must contain the query parameter 'api-version' with value '1.0'.");
  }

  function deviceCode({ tenant, request }: { tenant: string; request: { query: Record<string, string>; form: Record<string, string> } }): Reply {
    const { form } = request;
    const wrongVersion = checkApiVersion(request.query);
    if (wrongVersion) return wrongVersion;
    if (form.client_id === undefined) return ctx.missingParameter("client_id");
    if (form.resource === undefined) return ctx.missingParameter("resource");
    if (!publicClients.has(form.client_id)) {
      return ctx.entraError(400, "unauthorized_client", 700016, `Application with identifier '${form.client_id}' was not found in the directory '${tenant}'.`);
    }
    const code = randomBytes(24).toString("base64url");
    const userCode = randomBytes(5).toString("hex").toUpperCase().slice(0, 9);
    const message = `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`;
    controller.messages.push(message);
    const script = { ...controller.deviceCode };
    pending.set(code, { tenant, clientId: form.client_id, resource: form.resource, script, polls: 0, done: false });
    return {
      status: 200,
      body: { user_code: userCode, device_code: code, verification_url: "https://microsoft.com/devicelogin", expires_in: "900", interval: String(script.interval), message },
    };
  }

  function token({ tenant, request }: { tenant: string; request: { query: Record<string, string>; form: Record<string, string> } }): Reply {
    const { form } = request;
    const wrongVersion = checkApiVersion(request.query);
    if (wrongVersion) return wrongVersion;
    if (form.resource === undefined) return ctx.missingParameter("resource");
    if (form.client_id === undefined) return ctx.missingParameter("client_id");
    switch (form.grant_type) {
      case "device_code":
        return deviceCodeGrant(tenant, form);
      case "client_credentials": {
        const refused = ctx.checkApp(form.client_id, tenant, form, tokenEndpoint(tenant));
        if (refused) return refused;
        const objectId = ctx.objectIdFor(`${tenant}/${form.client_id}`);
        return tokens(tenant, form.resource, { appid: form.client_id, appidacr: form.client_assertion === undefined ? "1" : "2", oid: objectId, sub: objectId }, false);
      }
      default:
        return ctx.entraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
  }

  function deviceCodeGrant(tenant: string, form: Record<string, string>): Reply {
    const code = form.code === undefined ? undefined : pending.get(form.code);
    if (code === undefined || code.done || code.tenant !== tenant || code.clientId !== form.client_id) {
      return ctx.entraError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.");
    }
    code.polls += 1;
    if (code.polls <= code.script.slowDownPolls) return ctx.entraError(400, "slow_down", 70016, "Polling too fast; slow down.");
    if (code.polls <= code.script.slowDownPolls + code.script.pendingPolls) {
      return ctx.entraError(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
    }
    code.done = true;
    const user = code.script.user;
    const objectId = ctx.objectIdFor(`user/${tenant}/${user.toLowerCase()}`);
    return tokens(tenant, code.resource, { appid: code.clientId, appidacr: "0", oid: objectId, sub: objectId, upn: user, unique_name: user }, true);
  }

  function tokens(tenant: string, resource: string, subject: Record<string, string>, withRefresh: boolean): Reply {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = ctx.tokenLifetimeSeconds;
    const accessToken = ctx.signJwt({ aud: resource, iss: `https://sts.windows.net/${tenant}/`, iat: now, nbf: now, exp: now + lifetime, tid: tenant, ver: "1.0", ...subject });
    ctx.issued(accessToken);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: String(lifetime),
        ext_expires_in: String(lifetime),
        expires_on: String(now + lifetime),
        not_before: String(now),
        resource,
        access_token: accessToken,
        ...(withRefresh ? { refresh_token: randomBytes(32).toString("base64url") } : {}),
      },
    };
  }

  return { controller, deviceCode, token };
}
