// The one place MSAL clients are built (issue: one MSAL client factory): authority, instance
// discovery, the cache plugin, logging, and HTTP through the run's fetch and abort signal.
// Strategies import this module only on their cold path.
import {
  ConfidentialClientApplication,
  PublicClientApplication,
  type Configuration,
  type ICachePlugin,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
  type NodeAuthOptions,
} from "@azure/msal-node";
import { createMsalCachePlugin } from "../../cache/msal-plugin.js";
import { NetworkError } from "../../errors.js";
import { networkErrorFor, retryingFetch } from "../http.js";
import type { LoginDeps } from "../types.js";

export interface MsalClientSettings {
  /** With trailing slash, as the user or the cloud table gave it. */
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  /**
   * The entry in the long-lived store where MSAL keeps accounts and refresh tokens. Omitted for
   * client-credential modes: their blob would hold only a second plaintext copy of the access
   * token that the access-token store already has.
   */
  readonly persistAs?: string;
}

export function authorityFor(authorityHost: string, tenantId: string): string {
  return `${authorityHost}${tenantId}`;
}

export function createConfidentialClient(
  settings: MsalClientSettings,
  credential: Pick<NodeAuthOptions, "clientSecret" | "clientCertificate" | "clientAssertion">,
  deps: LoginDeps,
): ConfidentialClientApplication {
  return new ConfidentialClientApplication(msalConfiguration(settings, credential, deps));
}

export function createPublicClient(settings: MsalClientSettings, deps: LoginDeps): PublicClientApplication {
  return new PublicClientApplication(msalConfiguration(settings, {}, deps));
}

function msalConfiguration(settings: MsalClientSettings, credential: Partial<NodeAuthOptions>, deps: LoginDeps): Configuration {
  const cachePlugin = settings.persistAs === undefined ? undefined : pluginFor(settings.persistAs, deps);
  return {
    auth: {
      clientId: settings.clientId,
      authority: authorityFor(settings.authorityHost, settings.tenantId),
      // Always a known authority: MSAL then asks no instance-discovery endpoint (decision 12) and
      // sends requests to this host, never to an alias from its built-in cloud table (it would
      // turn login.chinacloudapi.cn into login.partner.microsoftonline.cn).
      knownAuthorities: [new URL(settings.authorityHost).host],
      ...credential,
    },
    ...(cachePlugin ? { cache: { cachePlugin } } : {}),
    system: {
      networkClient: fetchNetworkClient(deps),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: deps.log.level >= 10 ? 3 : 1,
        loggerCallback: (_level: number, message: string) => deps.log.v(10, `msal: ${message}`),
      },
    },
  };
}

function pluginFor(entry: string, deps: LoginDeps): ICachePlugin {
  return createMsalCachePlugin(deps.state, entry, deps.lock, {
    corrupt: (aside) => deps.log.warn(`the MSAL cache entry was unreadable and has been set aside${aside ? ` as ${aside}` : ""}`),
    unusable: (err) => deps.log.v(1, `the MSAL cache in ${deps.state.location} is unusable (${err.message}); continuing without it`),
    notSaved: (err) => deps.log.warn(`the sign-in was not saved in ${deps.state.location} (${err.message}); the token is used, but the next call may have to sign in again`),
  });
}

/**
 * MSAL's own client uses the global fetch, never retries and hides why a request failed ("fetch
 * failed"). This one goes through the run's fetch and signal (--timeout cancels the request in
 * flight), retries transient faults (http.ts) and names the host and the reason when the network
 * fails.
 */
export function fetchNetworkClient(deps: Pick<LoginDeps, "rt" | "log" | "signal" | "deadline">): INetworkModule {
  const fetch = retryingFetch(deps);
  const send = async <T>(url: string, method: "GET" | "POST", options: NetworkRequestOptions | undefined): Promise<NetworkResponse<T>> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === "POST" ? { body: options?.body ?? "" } : {}),
        signal: deps.signal,
      });
    } catch (err) {
      if (deps.signal.aborted) throw deps.signal.reason;
      throw networkErrorFor(url, err);
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      throw new NetworkError(`the identity provider at ${new URL(url).host} answered ${response.status} with a body that is not JSON`, {
        hint: "check --authority-host / --environment: the URL may not be an Entra ID endpoint, or a proxy answered instead",
      });
    }
    return { headers, body: body as T, status: response.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, "GET", options),
    sendPostRequestAsync: (url, options) => send(url, "POST", options),
  };
}
