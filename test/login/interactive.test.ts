// get-token -l interactive in-process (compat spec §3.5): msal-node's real loopback flow against the
// fake Entra's authorization endpoint (PKCE, response_mode=form_post). The "browser" is the test
// visiting the URL as a browser would; real Chromium drives it in test/e2e/kubectl-interactive.
import { readdir, readFile, rm } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import { chooseRedirect } from "../../src/login/interactive.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { visitSignInUrl } from "../support/browser.js";
import { loadTestPki } from "../support/pki.js";
import { neverBrowser, testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = "alice@contoso.example";
const BOB = "bob@contoso.example";
const CAROL = "carol@contoso.example";

let entra: FakeEntra;
beforeAll(async () => {
  const pki = await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!);
  entra = await startFakeEntra({ pki, tenants: [TENANT], apps: [] });
  entra.authCode.addPublicClient(CLIENT);
});
afterAll(async () => {
  await entra.close();
});

const newCacheDir = (): Promise<string> => mkdtemp(join(tmpdir(), "kubelogin-interactive-"));
const argv = (cacheDir: string, extra: string[] = []): string[] => [
  "get-token", "-l", "interactive", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];
const tokenOf = (stdout: string): string => (JSON.parse(stdout) as { status: { token: string } }).status.token;
const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

/** A browser that signs in at once and records what it was asked to open. */
function signingInBrowser(): { opened: string[]; open(url: string): Promise<void> } {
  const opened: string[] = [];
  return {
    opened,
    async open(url) {
      opened.push(url);
      // Not awaited: a browser opener returns once the browser runs, not once the user signed in.
      void visitSignInUrl(url);
    },
  };
}

/** A browser where the user declines: the redirect carries an error, as Entra sends it, to msal's listener. */
async function decliningBrowser(url: string): Promise<void> {
  const params = new URL(url).searchParams;
  const redirect = new URL(params.get("redirect_uri")!);
  const body = new URLSearchParams({ error: "access_denied", error_description: "AADSTS65004: User declined to consent to access the app.", state: params.get("state")! });
  void fetch(`http://127.0.0.1:${redirect.port}/`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
}

const POP_CLAIMS = ["--pop-enabled", "--pop-claims", "u=/subscriptions/s/resourceGroups/r/providers/Microsoft.Kubernetes/connectedClusters/c"];

/** The access-token entries of a cache dir (MSAL's blob and the auth records stay). */
async function removeAccessTokens(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const content = await readFile(join(cacheDir, name), "utf8").catch(() => "");
    if (content.includes('"interactive"')) await rm(join(cacheDir, name));
  }
}

describe("interactive sign-in", () => {
  test("opens the browser once on an authorization-code URL with PKCE and form_post, prints the token, writes the auth record; the next call is served from the cache", async () => {
    entra.authCode.user = ALICE;
    const cacheDir = await newCacheDir();
    const browser = signingInBrowser();
    const rt = testRuntime({ openBrowser: browser.open });
    expect(await run(argv(cacheDir, ["--login-hint", ALICE]), rt)).toBe(0);

    expect(browser.opened).toHaveLength(1);
    const url = new URL(browser.opened[0]!);
    expect(url.origin + url.pathname).toBe(`${entra.url}${TENANT}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: CLIENT,
      response_type: "code",
      response_mode: "form_post",
      code_challenge_method: "S256",
      login_hint: ALICE,
      redirect_uri: expect.stringMatching(/^http:\/\/localhost:\d+$/),
    });
    expect(url.searchParams.get("scope")!.split(" ")).toContain(`${SERVER_ID}/.default`);
    const token = tokenOf(rt.stdout.text());
    expect(token).toBe(entra.issuedTokens.at(-1));
    expect(claimsOf(token)).toMatchObject({ aud: SERVER_ID, upn: ALICE });
    expect(rt.stderr.text()).toBe(`A browser should open for the sign-in. If none does, open this URL in a browser on this machine:\n${browser.opened[0]}\n`);
    const codeGrant = entra.tokenRequests().at(-1)!;
    expect(codeGrant.form).toMatchObject({ grant_type: "authorization_code", code_verifier: expect.any(String) });

    const record = JSON.parse(await readFile(join(cacheDir, "auth.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(record)).toEqual(["authority", "clientId", "homeAccountId", "tenantId", "username", "version"]);
    expect(record).toMatchObject({ authority: entra.url.replace(/\/$/, ""), clientId: CLIENT, tenantId: TENANT, username: ALICE, version: "1.0" });

    const again = testRuntime({ openBrowser: neverBrowser });
    const requests = entra.requests.length;
    expect(await run(argv(cacheDir), again)).toBe(0);
    expect(tokenOf(again.stdout.text())).toBe(token);
    expect(entra.requests.length).toBe(requests);
  });

  test("without a cached access token, the recorded account is signed in silently from MSAL's cache: no browser", async () => {
    entra.authCode.user = ALICE;
    const cacheDir = await newCacheDir();
    const browser = signingInBrowser();
    expect(await run(argv(cacheDir), testRuntime({ openBrowser: browser.open }))).toBe(0);
    await removeAccessTokens(cacheDir);

    const authorizes = entra.authCode.authorizeRequests.length;
    const rt = testRuntime({ openBrowser: neverBrowser });
    expect(await run(argv(cacheDir), rt)).toBe(0);
    expect(claimsOf(tokenOf(rt.stdout.text()))).toMatchObject({ upn: ALICE });
    expect(entra.authCode.authorizeRequests.length).toBe(authorizes);
    expect(rt.stderr.text()).toBe("");
  });

  test("a Conditional Access claims challenge on refresh: stderr says why, and the browser sign-in asks for the claims", async () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["c1a2b3c4-0000-4000-8000-00000000ca01"]}}}';
    entra.authCode.user = ALICE;
    const lifetime = entra.authCode.tokenLifetimeSeconds;
    entra.authCode.tokenLifetimeSeconds = 301;
    const cacheDir = await newCacheDir();
    try {
      expect(await run(argv(cacheDir), testRuntime({ openBrowser: signingInBrowser().open }))).toBe(0);
      // Under the 5 minutes kubelogin and MSAL want left: the next call refreshes.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      entra.users.claimsChallenge = claims;
      const browser = signingInBrowser();
      const rt = testRuntime({ openBrowser: browser.open });
      expect(await run(argv(cacheDir), rt), rt.stderr.text()).toBe(0);
      expect(rt.stderr.text().split("\n")[0]).toMatch(/^A Conditional Access policy asks for more than the saved sign-in for alice@contoso.example gave \(AADSTS50076: .*\); signing in again to satisfy it\.$/);
      expect(browser.opened).toHaveLength(1);
      const asked = new URL(browser.opened[0]!).searchParams.get("claims");
      expect((JSON.parse(asked ?? "{}") as { access_token?: unknown }).access_token).toEqual(JSON.parse(claims).access_token);
    } finally {
      entra.users.claimsChallenge = undefined;
      entra.authCode.tokenLifetimeSeconds = lifetime;
    }
  });

  test("two users through one cache dir: a --login-hint for another user signs that user in, and each keeps their own token", async () => {
    const cacheDir = await newCacheDir();
    entra.authCode.user = ALICE;
    const alice = testRuntime({ openBrowser: signingInBrowser().open });
    expect(await run(argv(cacheDir, ["--login-hint", ALICE]), alice)).toBe(0);

    entra.authCode.user = BOB;
    const bobBrowser = signingInBrowser();
    const bob = testRuntime({ openBrowser: bobBrowser.open });
    expect(await run(argv(cacheDir, ["--login-hint", BOB]), bob)).toBe(0);
    expect(bobBrowser.opened).toHaveLength(1);
    expect(claimsOf(tokenOf(bob.stdout.text()))).toMatchObject({ upn: BOB });

    const aliceAgain = testRuntime({ openBrowser: neverBrowser });
    expect(await run(argv(cacheDir, ["--login-hint", ALICE]), aliceAgain)).toBe(0);
    expect(claimsOf(tokenOf(aliceAgain.stdout.text()))).toMatchObject({ upn: ALICE });
  });

  test("a --login-hint user signed in silently from MSAL's cache becomes the recorded account: a third user is never served their token", async () => {
    const cacheDir = await newCacheDir();
    entra.authCode.user = ALICE;
    expect(await run(argv(cacheDir, ["--login-hint", ALICE]), testRuntime({ openBrowser: signingInBrowser().open }))).toBe(0);
    entra.authCode.user = BOB;
    expect(await run(argv(cacheDir, ["--login-hint", BOB]), testRuntime({ openBrowser: signingInBrowser().open }))).toBe(0);
    await removeAccessTokens(cacheDir);
    // Bob's record is the saved one: Alice comes back through her account in MSAL's cache, silently.
    const aliceAgain = testRuntime({ openBrowser: neverBrowser });
    expect(await run(argv(cacheDir, ["--login-hint", ALICE]), aliceAgain)).toBe(0);
    expect(claimsOf(tokenOf(aliceAgain.stdout.text()))).toMatchObject({ upn: ALICE });
    expect(JSON.parse(await readFile(join(cacheDir, "auth.json"), "utf8"))).toMatchObject({ username: ALICE });

    entra.authCode.user = CAROL;
    const carolBrowser = signingInBrowser();
    const carol = testRuntime({ openBrowser: carolBrowser.open });
    expect(await run(argv(cacheDir, ["--login-hint", CAROL]), carol)).toBe(0);
    expect(carolBrowser.opened).toHaveLength(1);
    expect(claimsOf(tokenOf(carol.stdout.text()))).toMatchObject({ upn: CAROL });
  });

  test("with no browser, the URL is printed on stderr and the sign-in completes when someone visits it", async () => {
    entra.authCode.user = ALICE;
    const rt = testRuntime({
      openBrowser: async () => {
        throw new Error("spawn /nonexistent ENOENT");
      },
    });
    const running = run(argv(await newCacheDir()), rt);
    let url: string | undefined;
    while (url === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      url = /^https:\/\/\S+\/oauth2\/v2\.0\/authorize\?\S+$/m.exec(rt.stderr.text())?.[0];
    }
    expect(rt.stderr.text()).toContain("Could not open a browser (spawn /nonexistent ENOENT). To sign in, open this URL in a browser on this machine:\n");
    expect(await visitSignInUrl(url)).toContain("You are signed in to kubelogin");
    expect(await running).toBe(0);
    expect(claimsOf(tokenOf(rt.stdout.text()))).toMatchObject({ upn: ALICE });
  });

  test("--timeout ends the wait for the redirect and closes msal's loopback listener", async () => {
    const listening = (): number => process.getActiveResourcesInfo().filter((kind) => kind === "TCPServerWrap").length;
    const before = listening();
    let opened = "";
    const rt = testRuntime({ openBrowser: async (url) => void (opened = url) });
    expect(await run(argv(await newCacheDir(), ["--timeout", "2s"]), rt)).toBe(1);
    expect(opened).not.toBe("");
    // Upstream's step with no saved record is Authenticate, and its text is Go's context error.
    expect(rt.stderr.text().split("\n").find((line) => line.startsWith("Error:"))).toBe("Error: failed to authenticate: InteractiveBrowserCredential: context deadline exceeded");
    expect(rt.stderr.text().split("\n").find((line) => line.startsWith("hint:"))).toMatch(/^hint: the sign-in was not completed within 2s \(--timeout\)/);
    // msal closes its server once the cancelling redirect arrives.
    for (let i = 0; i < 100 && listening() > before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(listening()).toBe(before);
  });
});

describe("failures read as upstream's", () => {
  test("a declined sign-in with no saved record is Authenticate's failure", async () => {
    const rt = testRuntime({ openBrowser: decliningBrowser });
    expect(await run(argv(await newCacheDir()), rt)).toBe(1);
    expect(rt.stderr.text().split("\n").find((line) => line.startsWith("Error:"))).toMatch(/^Error: failed to authenticate: access_denied/);
  });

  test("a declined PoP sign-in is GetToken's failure: upstream's PoP credential has no sign-in step of its own", async () => {
    const rt = testRuntime({ openBrowser: decliningBrowser });
    expect(await run(argv(await newCacheDir(), POP_CLAIMS), rt)).toBe(1);
    expect(rt.stderr.text().split("\n").find((line) => line.startsWith("Error:"))).toMatch(
      /^Error: failed to get token: failed to create PoP token using interactive login: failed to create PoP token with interactive flow: access_denied/,
    );
  });
});

describe("--redirect-url", () => {
  test("its port is where the redirect is received", async () => {
    entra.authCode.user = ALICE;
    const port = await freePort();
    const browser = signingInBrowser();
    expect(await run(argv(await newCacheDir(), ["--redirect-url", `http://localhost:${port}`]), testRuntime({ openBrowser: browser.open }))).toBe(0);
    expect(new URL(browser.opened[0]!).searchParams.get("redirect_uri")).toBe(`http://localhost:${port}`);
  });

  test("a port in use is an error, not a silent switch to a port the app registration would reject", async () => {
    const blocker = await listen(0);
    const port = (blocker.address() as { port: number }).port;
    try {
      const rt = testRuntime({ openBrowser: neverBrowser });
      expect(await run(argv(await newCacheDir(), ["--redirect-url", `http://localhost:${port}/`]), rt)).toBe(1);
      const lines = rt.stderr.text().split("\n");
      expect(lines[0]).toBe(`Error: failed to authenticate: cannot receive the sign-in on port ${port} (--redirect-url): the port is in use`);
      expect(lines[1]).toMatch(/^hint: /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test("a URL with a path, as convert-kubeconfig writes it, signs in on its port, and -v 1 says what is ignored", async () => {
    entra.authCode.user = ALICE;
    const port = await freePort();
    const browser = signingInBrowser();
    const rt = testRuntime({ openBrowser: browser.open });
    expect(await run(argv(await newCacheDir(), ["--redirect-url", `http://localhost:${port}/callback`, "-v", "1"]), rt)).toBe(0);
    expect(new URL(browser.opened[0]!).searchParams.get("redirect_uri")).toBe(`http://localhost:${port}`);
    expect(rt.stderr.text()).toContain(`--redirect-url http://localhost:${port}/callback: only its port is used; the redirect URI sent is http://localhost:${port} (ignored: path "/callback")`);
  });

  test("PoP ignores it, as upstream's PoP credential never reads it", async () => {
    entra.authCode.user = ALICE;
    const browser = signingInBrowser();
    const rt = testRuntime({ openBrowser: browser.open });
    expect(await run(argv(await newCacheDir(), [...POP_CLAIMS, "--redirect-url", "not a url"]), rt)).toBe(0);
    expect(new URL(browser.opened[0]!).searchParams.get("redirect_uri")).toMatch(/^http:\/\/localhost:\d+$/);
  });

  test("only the port is taken; what has no port to take is refused with a hint", () => {
    expect(chooseRedirect("")).toEqual({ port: 0 });
    expect(chooseRedirect("http://localhost")).toEqual({ port: 0 });
    expect(chooseRedirect("http://localhost:8400/")).toEqual({ port: 8400 });
    expect(chooseRedirect("http://127.0.0.1:8400")).toEqual({ port: 8400, ignored: 'host "127.0.0.1"' });
    expect(chooseRedirect("https://example.com:8400/cb?x=1")).toEqual({ port: 8400, ignored: 'scheme "https", host "example.com", path "/cb", query "?x=1"' });
    for (const bad of ["not a url", "http://localhost:99999"]) {
      expect(() => chooseRedirect(bad)).toThrow(`invalid --redirect-url "${bad}": it is not a URL with a valid port`);
    }
  });
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function freePort(): Promise<number> {
  const server = await listen(0);
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
