// Azure Pipelines service connection (compat spec §3.12): the pipeline's OIDC endpoint issues a
// token for the service connection, which is the client assertion of a client-credentials
// request. Upstream's checks and texts: kubelogin's SYSTEM_ACCESSTOKEN check first, then
// azidentity's AzurePipelinesCredential constructor checks.
//
// Not @azure/identity's AzurePipelinesCredential: its OIDC request and MSAL copy do not use the
// run's fetch and abort signal; the request is one POST, done here, and the token request goes
// through our MSAL factory like workloadidentity's.
import { AuthenticationError, KubeloginError, MissingOptionError, ValidationError } from "../errors.js";
import { envNamesFor, type GetTokenOptions } from "../options/resolve.js";
import { INVALID_TENANT_MESSAGE, entraTarget, isValidTenantId } from "./authority.js";
import { networkErrorFor, retryingFetch, type HttpDeps } from "./http.js";
import type { LoginPlan, LoginStrategy, PlanContext } from "./types.js";
import { acquireByAssertion } from "./workloadidentity.js";

const messages = {
  accessToken: "SYSTEM_ACCESSTOKEN environment variable not set",
  create: "failed to create azure pipelines credential",
  clientId: "no client ID specified",
  serviceConnectionId: "no service connection ID specified",
  oidcRequestUri: "no value for environment variable SYSTEM_OIDCREQUESTURI. This should be set by Azure Pipelines",
  oidcStatus: "response from the OIDC endpoint. Check service connection ID and Pipeline configuration.",
  oidcSend: "couldn't send OIDC token request",
  oidcUnexpected: "unexpected response from OIDC endpoint",
} as const;

const OIDC_API_VERSION = "7.1";

export interface PipelinesRequest {
  readonly oidcRequestUri: string;
  readonly serviceConnectionId: string;
  readonly systemAccessToken: string;
}

function checkOptions(o: Readonly<GetTokenOptions>, env: PlanContext["env"]): PipelinesRequest {
  const systemAccessToken = env.SYSTEM_ACCESSTOKEN ?? "";
  if (systemAccessToken === "") {
    throw new KubeloginError(messages.accessToken, {
      hint: "map it into the step that runs kubectl: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` (Azure Pipelines does not expose it to scripts by itself)",
    });
  }
  const sdkCheck = (): void => {
    if (!isValidTenantId(o.tenantId)) {
      throw new ValidationError(INVALID_TENANT_MESSAGE, { hint: `pass --tenant-id or set ${envNamesFor("tenantId", o).join(" or ") || "it"}` });
    }
    if (o.clientId === "") throw new MissingOptionError(messages.clientId, "--client-id", envNamesFor("clientId", o));
    if (o.azurePipelinesServiceConnectionId === "") {
      throw new MissingOptionError(messages.serviceConnectionId, "--azure-pipelines-service-connection-id", envNamesFor("azurePipelinesServiceConnectionId", o));
    }
    if (!env.SYSTEM_OIDCREQUESTURI) {
      throw new KubeloginError(messages.oidcRequestUri, { hint: "run kubelogin inside an Azure Pipelines job (AzureCLI@2 or a script step)" });
    }
  };
  try {
    sdkCheck();
  } catch (err) {
    throw (err as KubeloginError).wrap(messages.create);
  }
  return { oidcRequestUri: env.SYSTEM_OIDCREQUESTURI!, serviceConnectionId: o.azurePipelinesServiceConnectionId, systemAccessToken };
}

async function plan(o: Readonly<GetTokenOptions>, context: PlanContext): Promise<LoginPlan> {
  const request = checkOptions(o, context.env);
  const target = entraTarget(o);
  return {
    // The access token is the job's, not the identity's: it is no part of the key.
    cacheKey: ["azurepipelines", target.authorityHost, target.tenantId, o.clientId, target.scope, request.serviceConnectionId],
    inputs: [],
    warnings: target.warnings,
    acquire: (deps) => {
      deps.log.v(5, "using credential: AzurePipelinesCredential");
      deps.log.addSecrets([request.systemAccessToken]);
      return acquireByAssertion(
        { target, clientId: o.clientId, createError: messages.create },
        () => requestOidcToken(request, deps),
        deps,
      );
    },
  };
}

/** POST <SYSTEM_OIDCREQUESTURI>?api-version=7.1&serviceConnectionId=<id>, as azidentity sends it. */
export async function requestOidcToken(request: PipelinesRequest, deps: HttpDeps): Promise<string> {
  const url = `${request.oidcRequestUri}?api-version=${OIDC_API_VERSION}&serviceConnectionId=${request.serviceConnectionId}`;
  let response: Response;
  try {
    response = await retryingFetch(deps)(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${request.systemAccessToken}`, "X-TFS-FedAuthRedirect": "Suppress" },
      signal: deps.signal,
    });
  } catch (err) {
    if (deps.signal.aborted) throw deps.signal.reason;
    throw networkErrorFor(url, err, {
      service: "the Azure Pipelines OIDC endpoint",
      hint: "check SYSTEM_OIDCREQUESTURI; the agent must reach its Azure DevOps organization (HTTPS_PROXY / NO_PROXY if it needs a proxy)",
    }).wrap(messages.oidcSend);
  }
  const text = await response.text();
  if (response.status !== 200) {
    // The two ids Azure DevOps support asks for, when the service sent them.
    const ids = ["x-msedge-ref", "x-vss-e2eid"].flatMap((name) => {
      const value = response.headers.get(name);
      return value ? [`${name}: ${value}`] : [];
    });
    throw new AuthenticationError(`${`${response.status} ${response.statusText}`.trim()} ${messages.oidcStatus}${ids.length ? ` ${ids.join(", ")}` : ""}`, {
      hint: "check --azure-pipelines-service-connection-id (or AZURESUBSCRIPTION_SERVICE_CONNECTION_ID) and that the pipeline may use that service connection",
    });
  }
  let token: unknown;
  try {
    token = (JSON.parse(text) as { oidcToken?: unknown }).oidcToken;
  } catch {
    throw new AuthenticationError(messages.oidcUnexpected);
  }
  if (typeof token !== "string" || token === "") throw new AuthenticationError(messages.oidcUnexpected);
  return token;
}

export const azurepipelines: LoginStrategy = { mode: "azurepipelines", plan };
