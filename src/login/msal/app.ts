// Builds MSAL client configuration: authority, instance discovery, cache plugin and logging.
import type { Configuration, ICachePlugin, NodeAuthOptions } from "@azure/msal-node";
import type { Logger } from "../../log.js";
import { isWellKnownCloud } from "../authority.js";

export interface MsalAppSettings {
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly disableInstanceDiscovery: boolean;
  readonly cachePlugin: ICachePlugin;
  readonly log: Logger;
}

export function authorityFor(authorityHost: string, tenantId: string): string {
  return `${authorityHost}${tenantId}`;
}

/**
 * Instance discovery asks login.microsoftonline.com about the authority. It is skipped when the
 * user asks (--disable-instance-discovery) and for hosts outside the public clouds, which that
 * endpoint does not know: asking would only fail after a network round trip.
 */
export function msalConfiguration(settings: MsalAppSettings, credential: Partial<NodeAuthOptions>): Configuration {
  const skipDiscovery = settings.disableInstanceDiscovery || !isWellKnownCloud(settings.authorityHost);
  return {
    auth: {
      clientId: settings.clientId,
      authority: authorityFor(settings.authorityHost, settings.tenantId),
      ...(skipDiscovery ? { knownAuthorities: [new URL(settings.authorityHost).host] } : {}),
      ...credential,
    },
    cache: { cachePlugin: settings.cachePlugin },
    system: {
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: settings.log.level >= 10 ? 3 : 1,
        loggerCallback: (_level: number, message: string) => settings.log.v(10, `msal: ${message}`),
      },
    },
  };
}
