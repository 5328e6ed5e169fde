// Which proxy a request goes through: HTTPS_PROXY / HTTP_PROXY and NO_PROXY as Go's
// golang.org/x/net/http/httpproxy reads them (kubectl and upstream kubelogin do), so one set of
// variables serves kubectl and the plugin alike. Pure: the environment is a parameter.
import { isIP } from "node:net";
import type { Env } from "./options/resolve.js";

/** The proxy URL for `url`, or undefined to connect directly. */
export function proxyFor(url: string | URL, env: Env): string | undefined {
  const target = new URL(url);
  const scheme = target.protocol.replace(/:$/, "");
  if (scheme !== "https" && scheme !== "http") return undefined;
  const configured = scheme === "https" ? firstSet(env, "HTTPS_PROXY", "https_proxy") : firstSet(env, "HTTP_PROXY", "http_proxy");
  if (configured === undefined) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port || (scheme === "https" ? "443" : "80");
  if (alwaysDirect(host) || bypassed(host, port, firstSet(env, "NO_PROXY", "no_proxy") ?? "")) return undefined;
  // "proxy:3128" means http://proxy:3128, as Go reads it.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(configured) ? configured : `http://${configured}`;
}

function firstSet(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * Loopback (a local listener, msal's redirect) and link-local addresses (IMDS at 169.254.169.254)
 * are never sent to a proxy: it could not reach them, and IMDS must not see a proxy's headers.
 */
function alwaysDirect(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost") || host === "::1") return true;
  if (isIP(host) === 4) return host.startsWith("127.") || host.startsWith("169.254.");
  return false;
}

/**
 * NO_PROXY: comma- or space-separated entries. `*` matches everything; an IP or a CIDR matches
 * addresses; `example.com` matches it and its subdomains, `.example.com` (or `*.example.com`)
 * only subdomains; `host:port` only that port.
 */
export function bypassed(host: string, port: string, noProxy: string): boolean {
  for (const raw of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (raw === "") continue;
    if (raw === "*") return true;
    if (raw.includes("/")) {
      if (inCidr(host, raw)) return true;
      continue;
    }
    const hostAndPort = /^(?<host>\[[^\]]+\]|[^:]+):(?<port>\d+)$/.exec(raw)?.groups;
    const entryPort = hostAndPort?.port;
    let entry = (hostAndPort?.host ?? raw).replace(/^\[|\]$/g, "");
    if (entryPort !== undefined && entryPort !== port) continue;
    if (isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".")) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (isIP(host) !== 4 || isIP(base ?? "") !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (ip: string): number => ip.split(".").reduce((acc, part) => (acc << 8) | Number(part), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(host) & mask) === (toInt(base!) & mask);
}
