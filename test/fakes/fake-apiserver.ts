// Just enough of a Kubernetes API server, over real HTTPS on loopback, for the real kubectl binary
// to run `get nodes` and `auth whoami` against it. Like an AKS API server with Entra integration,
// it only lets in bearer tokens that the Entra issuer signed for its audience; everything else,
// discovery included, gets 401 — which is what makes kubectl (and client-go's exec plugin
// machinery) react exactly as they do against a real cluster.
//
// Discovery is served in the legacy format only: kubectl asks for aggregated discovery first
// (Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...,application/json)
// and falls back to per-group documents when the answer is plain application/json.
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TestPki } from "../support/pki.js";
import { closeServer } from "./fake-entra.js";

export interface FakeApiServerOptions {
  pki: TestPki;
  /** The aud a token must carry (the AKS server app id); "spn:<audience>" is accepted too. */
  audience: string;
  issuerPublicKeyPem: string;
  /** Kubernetes minor version reported by /version; default "30". */
  serverMinor?: string;
  /**
   * The cluster's ARM id, as an Azure Arc cluster checks PoP tokens: their `u` claim must be this.
   * Without it, PoP tokens are refused.
   */
  armId?: string;
}

/** What a verified PoP envelope said (pop tokens only). */
export interface AcceptedPopToken {
  /** The key's thumbprint (header kid = cnf.jwk kid = the access token's cnf.kid). */
  kid: string;
  ts: number;
  u: string;
  nonce: string;
  /** The inner Entra access token. */
  at: string;
}

export interface ApiServerRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  authorized: boolean;
  /** Why the token was refused; absent when authorized. */
  reason?: string;
}

export interface FakeApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  /** base64 of the CA certificate PEM, for a kubeconfig's certificate-authority-data. */
  caData: string;
  requests: ApiServerRequest[];
  /** Every bearer token that was let in, in order (repeats included). */
  acceptedTokens: string[];
  /** Every PoP envelope that was let in, in order (repeats included). */
  acceptedPop: AcceptedPopToken[];
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: object;
}

type TokenClaims = Record<string, unknown>;

interface RouteContext {
  path: string;
  accept: string;
  claims: TokenClaims;
}

interface Route {
  method: string;
  pattern: RegExp;
  handle(context: RouteContext): Reply;
}

const NODE_NAME = "node-1";
// client-go's own default tolerance for clocks that disagree.
const CLOCK_SKEW_SECONDS = 60;
const AUTHENTICATION_GROUP = "authentication.k8s.io";
const AUTHENTICATION_VERSIONS = ["v1", "v1beta1", "v1alpha1"];
const NODE_AGE_MS = 5 * 24 * 60 * 60 * 1000;

export async function startFakeApiServer(options: FakeApiServerOptions): Promise<FakeApiServer> {
  const serverMinor = options.serverMinor ?? "30";
  const kubeletVersion = `v1.${serverMinor}.0`;
  const issuerKey = createPublicKey(options.issuerPublicKeyPem);
  const nodeCreated = new Date(Date.now() - NODE_AGE_MS).toISOString().replace(/\.\d+Z$/, "Z");
  const requests: ApiServerRequest[] = [];
  const acceptedTokens: string[] = [];
  const acceptedPop: AcceptedPopToken[] = [];
  const popNonces = new Map<string, string>();
  let serverAddress = "";

  const node = {
    kind: "Node",
    apiVersion: "v1",
    metadata: { name: NODE_NAME, uid: "6c0b6a4e-5d7f-4c1e-9a55-2f3f0e4b1d01", resourceVersion: "1", creationTimestamp: nodeCreated },
    status: {
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }],
      nodeInfo: { kubeletVersion, kubeProxyVersion: kubeletVersion, operatingSystem: "linux", architecture: "amd64" },
    },
  };

  function nodes({ accept }: RouteContext): Reply {
    if (!accept.includes("as=Table")) {
      return { status: 200, body: { kind: "NodeList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [node] } };
    }
    const column = (name: string, format = ""): object => ({ name, type: "string", format, description: "", priority: 0 });
    return {
      status: 200,
      body: {
        kind: "Table",
        apiVersion: "meta.k8s.io/v1",
        metadata: { resourceVersion: "1" },
        columnDefinitions: [column("Name", "name"), column("Status"), column("Roles"), column("Age"), column("Version")],
        rows: [
          {
            cells: [NODE_NAME, "Ready", "<none>", "5d", kubeletVersion],
            object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: node.metadata },
          },
        ],
      },
    };
  }

  function selfSubjectReview({ path, claims }: RouteContext): Reply {
    const version = path.split("/")[3] ?? "v1";
    const username = typeof claims.oid === "string" ? claims.oid : String(claims.appid);
    return {
      status: 201,
      body: {
        kind: "SelfSubjectReview",
        apiVersion: `${AUTHENTICATION_GROUP}/${version}`,
        metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
        status: {
          userInfo: {
            username,
            uid: username,
            groups: ["system:authenticated"],
            extra: { aud: [String(claims.aud)] },
          },
        },
      },
    };
  }

  const ok = (body: object): Reply => ({ status: 200, body });
  const authenticationVersionPattern = AUTHENTICATION_VERSIONS.join("|");
  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/version$/,
      handle: () =>
        ok({
          major: "1",
          minor: serverMinor,
          gitVersion: kubeletVersion,
          gitCommit: "0000000000000000000000000000000000000000",
          gitTreeState: "clean",
          buildDate: "2024-04-17T17:27:03Z",
          goVersion: "go1.22.2",
          compiler: "gc",
          platform: "linux/amd64",
        }),
    },
    {
      method: "GET",
      pattern: /^\/api$/,
      handle: () =>
        ok({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] }),
    },
    {
      method: "GET",
      pattern: /^\/apis$/,
      handle: () => {
        const versions = AUTHENTICATION_VERSIONS.map((version) => ({ groupVersion: `${AUTHENTICATION_GROUP}/${version}`, version }));
        return ok({
          kind: "APIGroupList",
          apiVersion: "v1",
          groups: [{ name: AUTHENTICATION_GROUP, versions, preferredVersion: versions[0] }],
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/v1$/,
      handle: () =>
        ok({
          kind: "APIResourceList",
          groupVersion: "v1",
          resources: [{ name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"], shortNames: ["no"] }],
        }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/apis/${AUTHENTICATION_GROUP}/(${authenticationVersionPattern})$`),
      handle: ({ path }) =>
        ok({
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: path.slice("/apis/".length),
          resources: [
            { name: "selfsubjectreviews", singularName: "selfsubjectreview", namespaced: false, kind: "SelfSubjectReview", verbs: ["create"] },
          ],
        }),
    },
    { method: "GET", pattern: /^\/api\/v1\/nodes$/, handle: nodes },
    { method: "GET", pattern: new RegExp(`^/api/v1/nodes/${NODE_NAME}$`), handle: () => ok(node) },
    {
      method: "POST",
      pattern: new RegExp(`^/apis/${AUTHENTICATION_GROUP}/(${authenticationVersionPattern})/selfsubjectreviews$`),
      handle: selfSubjectReview,
    },
  ];

  function route(method: string, context: RouteContext): Reply {
    const match = routes.find((candidate) => candidate.method === method && candidate.pattern.test(context.path));
    if (match !== undefined) return match.handle(context);
    return {
      status: 404,
      body: statusFailure(404, "NotFound", "the server could not find the requested resource"),
    };
  }

  const server = createServer({ cert: options.pki.serverCertPem, key: options.pki.serverKeyPem });
  server.on("request", (incoming: IncomingMessage, response: ServerResponse) => {
    // The body (a SelfSubjectReview request) carries nothing the answer depends on; drain it.
    incoming.resume();
    incoming.on("end", () => {
      const method = incoming.method ?? "";
      const path = new URL(incoming.url ?? "/", "https://fake-apiserver.invalid").pathname;
      const token = bearerToken(incoming.headers.authorization);
      const verdict: { claims: TokenClaims; pop?: AcceptedPopToken } | { reason: string } =
        token === undefined
          ? { reason: "no bearer token" }
          : isPopEnvelope(token)
            ? checkPopToken(token, { issuerKey, audience: options.audience, armId: options.armId, nonces: popNonces })
            : refuseBoundBearer(checkToken(token, issuerKey, options.audience));
      let reply: Reply;
      if ("claims" in verdict) {
        if (verdict.pop !== undefined) acceptedPop.push(verdict.pop);
        requests.push({ method, path, authorized: true });
        acceptedTokens.push(token ?? "");
        reply = route(method, { path, accept: incoming.headers.accept ?? "", claims: verdict.claims });
      } else {
        requests.push({ method, path, authorized: false, reason: verdict.reason });
        reply = { status: 401, body: statusFailure(401, "Unauthorized", "Unauthorized") };
      }
      response.writeHead(reply.status, { "content-type": "application/json" });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  serverAddress = `127.0.0.1:${port}`;

  return {
    url: `https://${serverAddress}`,
    caData: Buffer.from(options.pki.caCertPem).toString("base64"),
    requests,
    acceptedTokens,
    acceptedPop,
    close: () => closeServer(server),
  };
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer (\S+)$/i.exec(authorization ?? "");
  return match?.[1];
}

function checkToken(token: string, issuerKey: KeyObject, audience: string): { claims: TokenClaims } | { reason: string } {
  const [encodedHeader, encodedPayload, encodedSignature, ...extra] = token.split(".");
  if (encodedHeader === undefined || encodedPayload === undefined || encodedSignature === undefined || extra.length > 0) {
    return { reason: "not a JWT" };
  }
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(encodedPayload, "base64url").toString("utf8"));
  } catch {
    return { reason: "not a JWT" };
  }
  if (!isRecord(header) || !isRecord(claims)) return { reason: "not a JWT" };
  if (header.alg !== "RS256") return { reason: `unexpected alg ${String(header.alg)}` };
  const signedPart = Buffer.from(`${encodedHeader}.${encodedPayload}`);
  if (!verify("sha256", signedPart, issuerKey, Buffer.from(encodedSignature, "base64url"))) {
    return { reason: "signature not made by the issuer" };
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => aud === audience || aud === `spn:${audience}`)) {
    return { reason: `audience ${JSON.stringify(claims.aud)} is not ${audience}` };
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || claims.exp <= now) return { reason: "token expired" };
  if (typeof claims.nbf === "number" && claims.nbf > now + CLOCK_SKEW_SECONDS) return { reason: "token not yet valid" };
  return { claims };
}

// --- proof-of-possession tokens (Azure Arc) ---
// A PoP token is a JWS made by the client with its own key: {at, ts, u, cnf.jwk, nonce}. The
// cluster checks the signature against cnf.jwk, that the inner Entra token is valid and bound to
// that key (its cnf.kid is the key's RFC 7638 thumbprint), that u names this cluster, that ts is
// recent, and that a nonce is never used for another envelope (kubectl reuses one envelope for
// the requests of a run; each run presents a new one).
const POP_TS_SKEW_SECONDS = 5 * 60;

interface PopCheck {
  issuerKey: KeyObject;
  audience: string;
  armId: string | undefined;
  /** nonce → the envelope that used it. */
  nonces: Map<string, string>;
}

/** A token bound to a key is worthless without the proof: presented bare, it is refused. */
function refuseBoundBearer(verdict: { claims: TokenClaims } | { reason: string }): { claims: TokenClaims } | { reason: string } {
  return "claims" in verdict && verdict.claims.cnf !== undefined ? { reason: "a PoP-bound token presented without its envelope" } : verdict;
}

function isPopEnvelope(token: string): boolean {
  const header = decodeSegment(token.split(".")[0] ?? "");
  return isRecord(header) && header.typ === "pop";
}

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

function checkPopToken(token: string, check: PopCheck): { claims: TokenClaims; pop: AcceptedPopToken } | { reason: string } {
  const [encodedHeader = "", encodedPayload = "", encodedSignature = "", ...extra] = token.split(".");
  const header = decodeSegment(encodedHeader);
  const payload = decodeSegment(encodedPayload);
  if (extra.length > 0 || !isRecord(header) || !isRecord(payload)) return { reason: "pop: not a JWS" };
  if (header.alg !== "RS256") return { reason: `pop: unexpected alg ${String(header.alg)}` };
  const { at, ts, u, cnf, nonce } = payload;
  if (typeof at !== "string" || typeof ts !== "number" || typeof u !== "string" || typeof nonce !== "string" || !isRecord(cnf) || !isRecord(cnf.jwk)) {
    return { reason: "pop: missing claims" };
  }
  const jwk = cnf.jwk;
  if (jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") return { reason: "pop: cnf.jwk is not an RSA key" };
  const thumbprint = createHash("sha256").update(`{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`).digest("base64url");
  if (header.kid !== thumbprint || jwk.kid !== thumbprint) return { reason: "pop: kid is not the thumbprint of cnf.jwk" };
  const key = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
  if (!verify("sha256", Buffer.from(`${encodedHeader}.${encodedPayload}`), key, Buffer.from(encodedSignature, "base64url"))) {
    return { reason: "pop: signature not made by cnf.jwk" };
  }
  const inner = checkToken(at, check.issuerKey, check.audience);
  if (!("claims" in inner)) return { reason: `pop: inner token: ${inner.reason}` };
  const bound = inner.claims.cnf;
  if (!isRecord(bound) || bound.kid !== thumbprint) return { reason: "pop: the access token is not bound to cnf.jwk" };
  if (check.armId === undefined || u !== check.armId) return { reason: `pop: u ${JSON.stringify(u)} is not this cluster` };
  if (Math.abs(Math.floor(Date.now() / 1000) - ts) > POP_TS_SKEW_SECONDS) return { reason: "pop: ts is not recent" };
  const usedBy = check.nonces.get(nonce);
  if (usedBy !== undefined && usedBy !== token) return { reason: "pop: nonce replayed" };
  check.nonces.set(nonce, token);
  return { claims: inner.claims, pop: { kid: thumbprint, ts, u, nonce, at } };
}
// --- end proof-of-possession tokens ---

function statusFailure(code: number, reason: string, message: string): object {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
