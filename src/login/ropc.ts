// Username and password login (compat spec §3.7, §4.1): the resource-owner password grant through
// msal-node's public client; the authentication record is written as upstream does. Unlike
// upstream, the access token is keyed by the user name and a hash of the password, and there is
// no silent sign-in from a saved refresh token: another --username or a wrong password is never
// served someone's token (upstream's documented caveat). A password grant needs no person, so
// this costs one request per token lifetime and no prompt.
import { createHash } from "node:crypto";
import { MissingOptionError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { userCacheKey } from "./auth-record.js";
import { checkTenantFormat, entraTarget } from "./authority.js";
import { recordFilesFor } from "./devicecode.js";
import { popBindingFor, withPopTokenRequests } from "./pop.js";
import type { LoginPlan, LoginStrategy, PlanContext } from "./types.js";

const messages = {
  clientId: "client ID cannot be empty",
  tenantId: "tenant ID cannot be empty",
  username: "username cannot be empty",
  password: "password cannot be empty",
} as const;

function checkOptions(o: Readonly<GetTokenOptions>): void {
  if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
  if (o.tenantId === "") throw new MissingOptionError(messages.tenantId, "--tenant-id", envNamesFor("tenantId", o));
  if (o.username === "") throw new MissingOptionError(messages.username, "--username", envNamesFor("username", o));
  if (o.password === "") throw new MissingOptionError(messages.password, "--password", envNamesFor("password", o));
  checkTenantFormat(o.tenantId, o.isPopTokenEnabled ? undefined : "failed to create username password credential");
}

/** Upstream's breadcrumbs for a PoP sign-in, innermost first. */
const POP_ERROR_PREFIXES = ["failed to create PoP token with username/password flow", "failed to create PoP token using username and password credential"] as const;

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  checkOptions(o);
  const pop = o.isPopTokenEnabled ? await popBindingFor(o.popClaims, context.state) : undefined;
  const target = entraTarget(o);
  const files = recordFilesFor(context);
  return {
    // The user name and password say whose token it is; no record is needed to tell.
    cacheKey: userCacheKey("ropc", target, o.clientId, undefined, ["user", o.username.toLowerCase(), sha256(o.password), ...(pop?.cacheKeyPart ?? [])]),
    // No auth record: the key says whose token it is.
    inputs: [],
    warnings: [...target.warnings, ...(pop?.warnings ?? [])],
    ...(pop ? { present: pop.present } : {}),
    // No saved sign-in is ever used here, so a plain failure is Authenticate's.
    timeoutWording: () => ({ prefix: pop ? `failed to get token: ${POP_ERROR_PREFIXES[1]}: ${POP_ERROR_PREFIXES[0]}` : "failed to authenticate: UsernamePasswordCredential" }),
    acquire: async (deps) => {
      const { signInUser } = await import("./user-sign-in.js");
      return signInUser(
        {
          target,
          clientId: o.clientId,
          files,
          silent: false,
          credential: "password",
          credentialName: pop ? "UsernamePasswordCredentialWithPoP" : "UsernamePasswordCredential",
          ...(pop
            ? { authenticates: false, errorPrefixes: POP_ERROR_PREFIXES }
            : {}),
          prompt: (app, scopes) =>
            app.acquireTokenByUsernamePassword({ scopes, username: o.username, password: o.password, ...(pop ? { popKid: pop.key.thumbprint } : {}) }),
        },
        pop ? withPopTokenRequests(deps, pop.key) : deps,
      );
    },
  };
}

export const ropc: LoginStrategy = { mode: "ropc", plan };
