// Which certificate authorities a request trusts. Node trusts its bundled roots and
// NODE_EXTRA_CA_CERTS only; Go (so upstream kubelogin, and kubectl) trusts the system's, which is
// where a company installs the CA of its TLS-inspecting proxy. So every request trusts both:
// Node's set, plus what Go's crypto/x509 reads. Nothing here runs before a request is made.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import * as tls from "node:tls";
import type { Env } from "./options/resolve.js";

/**
 * The bundle files Go probes on Linux, in its order (crypto/x509/root_linux.go); the first that
 * can be read is used. SSL_CERT_FILE replaces the list.
 */
export const GO_BUNDLE_FILES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

/** The directories Go reads on Linux, every one of them; SSL_CERT_DIR replaces the list. */
export const GO_BUNDLE_DIRS: readonly string[] = ["/etc/ssl/certs", "/etc/pki/tls/certs"];

export interface TrustSources {
  readonly env: Env;
  readonly platform: NodeJS.Platform;
  /** Go's probe lists, where tests point elsewhere. */
  readonly bundleFiles?: readonly string[];
  readonly bundleDirs?: readonly string[];
}

/** Node ≥ 22.15 / 23.9 exposes its stores; Node 20's typings (and runtime) do not have this. */
type CaStore = "default" | "system";
const nodeTls: typeof tls & { readonly getCACertificates?: (store: CaStore) => string[] } = tls;

// A bundle is a few hundred kB; anything far larger is not one.
const MAX_CERTIFICATE_FILE_BYTES = 16 * 1024 * 1024;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * The TLS context every request uses: Node's own trust plus what Go would read; undefined when the
 * system adds nothing to Node's set, so requests keep Node's defaults.
 */
export function trustedContext(sources: TrustSources): tls.SecureContext | undefined {
  const own = nodeTls.getCACertificates?.("default") ?? [...tls.rootCertificates, ...extraCertificates(sources.env)];
  const known = new Set(own.map(pemBody));
  const added = unique(systemCertificates(sources).filter((pem) => !known.has(pemBody(pem))));
  if (added.length === 0) return undefined;
  // Adding a CA to Node's default context copies its bundled roots (already parsed, so cheap,
  // where naming them all in `ca` parses a few hundred certificates again) and drops what it
  // added to them, NODE_EXTRA_CA_CERTS among them: those go back in first.
  const bundled = new Set(tls.rootCertificates.map(pemBody));
  const context = tls.createSecureContext();
  for (const pem of [...own.filter((pem) => !bundled.has(pemBody(pem))), ...added]) context.context.addCACert(pem);
  return context;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----|\s/g, "");
}

function unique(pems: readonly string[]): string[] {
  const seen = new Set<string>();
  return pems.filter((pem) => {
    const body = pemBody(pem);
    if (seen.has(body)) return false;
    seen.add(body);
    return true;
  });
}

/** What Go's crypto/x509 trusts on this platform, as PEM certificates (duplicates possible). */
export function systemCertificates(sources: TrustSources): string[] {
  const { env, platform } = sources;
  const named = env.SSL_CERT_FILE || undefined;
  const namedDirs = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(platform === "win32" ? ";" : ":").filter((d) => d !== "") : undefined;
  if (platform === "win32" || platform === "darwin") {
    // Go asks the OS there; Node can only where it exposes the store. SSL_CERT_FILE / SSL_CERT_DIR
    // are honoured too, since a user who sets them means them.
    const store = nodeTls.getCACertificates?.("system") ?? [];
    const file = named === undefined ? [] : certificatesIn(named);
    return [...store, ...file, ...certificatesInDirs(namedDirs ?? [])];
  }
  // Go on Linux: the first bundle that reads (SSL_CERT_FILE instead of the list), then every
  // directory (SSL_CERT_DIR instead of the list), each replacing only its own probe.
  let bundle: string[] = [];
  for (const file of named === undefined ? (sources.bundleFiles ?? GO_BUNDLE_FILES) : [named]) {
    const found = readCertificateFile(file);
    if (found === undefined) continue;
    bundle = pemCertificates(found);
    break;
  }
  return [...bundle, ...certificatesInDirs(namedDirs ?? sources.bundleDirs ?? GO_BUNDLE_DIRS)];
}

/** NODE_EXTRA_CA_CERTS, which Node read at start but cannot hand back before Node 22.15. */
function extraCertificates(env: Env): string[] {
  return env.NODE_EXTRA_CA_CERTS ? certificatesIn(env.NODE_EXTRA_CA_CERTS) : [];
}

function certificatesIn(file: string): string[] {
  const text = readCertificateFile(file);
  return text === undefined ? [] : pemCertificates(text);
}

/**
 * Every file in the directories, as Go reads them: whatever holds PEM certificates counts, and a
 * symlink to a file in the same directory (OpenSSL's hash names) is skipped as a second copy.
 * Synchronous: the request waits for the list anyway, and a bundle directory holds hundreds of
 * small files that the thread pool would only queue.
 */
function certificatesInDirs(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries.flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink() && !linkTarget(path).includes("/")) return [];
      return certificatesIn(path);
    });
  });
}

function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "/";
  }
}

/**
 * The file's text, or undefined when it cannot be read or is not a regular file: a missing or
 * unreadable source is skipped, as Go skips it. Opened without blocking, so a FIFO where a file
 * was expected cannot hang the request.
 */
function readCertificateFile(path: string): string | undefined {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_CERTIFICATE_FILE_BYTES) return undefined;
    return readFileSync(fd, "utf8");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The CERTIFICATE blocks of a PEM text (Go's AppendCertsFromPEM skips every other block, and so do we). */
export function pemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)]
    .filter(([, body]) => !body!.includes(":"))
    .map(([, body]) => `-----BEGIN CERTIFICATE-----\n${body!.replace(/\s+/g, "\n").trim()}\n-----END CERTIFICATE-----\n`);
}
