// Device-code polling at the edges the other device-code tests leave open, in-process against the
// fake Entra ID (MSAL is real): which waits go on the run's clock, a poll answer that is not
// Entra's JSON, and a poll that fails after a pending one.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { run } from "../../src/cli/run.js";
import type { Clock } from "../../src/runtime.js";
import { DEVICE_CODE_GRANT } from "../fakes/entra-user-flows.js";
import { startFakeEntra, type FakeEntra } from "../fakes/fake-entra.js";
import { loadTestPki } from "../support/pki.js";
import { testRuntime } from "../support/runtime.js";

const SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const USER = { username: "carol@contoso.example", password: "unused-here" };

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra({ pki: await loadTestPki(process.env.KUBELOGIN_TEST_PKI_DIR!), tenants: [TENANT], apps: [] });
  entra.users.addPublicClient(CLIENT);
  entra.users.addUser(USER);
});
afterAll(async () => {
  await entra.close();
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-mutants-"));
  entra.users.deviceCode = { user: USER.username, slowDownPolls: 0, pendingPolls: 0, outcome: "approve", interval: 0 };
});

const args = (extra: string[] = []): string[] => [
  "get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", TENANT,
  "--authority-host", entra.url, "--cache-dir", cacheDir, ...extra,
];
const isPoll = (init: RequestInit | undefined): boolean =>
  typeof init?.body === "string" && new URLSearchParams(init.body).get("grant_type") === DEVICE_CODE_GRANT;

/** A clock that stands still and writes down every sleep asked of it. */
function recordingClock(): Clock & { sleeps: number[] } {
  let now = Date.now();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      now += ms;
    },
  };
}

test("without slow_down nothing sleeps on the run's clock; after it, each later poll waits 5 s more than the last slow_down said", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, pendingPolls: 2 };
  const plain = recordingClock();
  expect(await run(args(), testRuntime({ clock: plain }))).toBe(0);
  expect(plain.sleeps).toEqual([]);

  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-mutants-"));
  entra.users.deviceCode = { ...entra.users.deviceCode, slowDownPolls: 2, pendingPolls: 1 };
  const slowed = recordingClock();
  expect(await run(args(), testRuntime({ clock: slowed }))).toBe(0);
  expect(slowed.sleeps).toEqual([5_000, 10_000, 10_000]);
});

test("a poll answered with a body that is not JSON is reported as such, not mistaken for Entra's refusal", async () => {
  const rt = testRuntime({
    fetch: (input, init) => (isPoll(init) ? Promise.resolve(new Response("<html>bad gateway</html>", { status: 400 })) : fetch(input, init)),
  });
  expect(await run(args(), rt)).toBe(1);
  expect(rt.stderr.text().split("\n").slice(1, 3)).toEqual([
    `Error: failed to authenticate: the authority ${entra.url}${TENANT} answered 200 to ${entra.url}${TENANT}/v2.0/.well-known/openid-configuration`,
    "hint: check --tenant-id, --environment and --authority-host",
  ]);
});

test("a poll that fails on the network after a pending one is the network's failure, not the pending answer", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, outcome: "never" };
  let polls = 0;
  const rt = testRuntime({
    fetch: (input, init) => {
      if (isPoll(init) && ++polls > 1) return Promise.reject(new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }));
      return fetch(input, init);
    },
  });
  expect(await run(args(), rt)).toBe(1);
  expect(rt.stderr.text().split("\n").slice(1, 3)).toEqual([
    `Error: failed to authenticate: the authority ${entra.url}${TENANT} answered 200 to ${entra.url}${TENANT}/v2.0/.well-known/openid-configuration`,
    "hint: check --tenant-id, --environment and --authority-host",
  ]);
});

test("a refused poll whose JSON has no error field is not taken for Entra's refusal", async () => {
  const rt = testRuntime({
    fetch: (input, init) =>
      isPoll(init) ? Promise.resolve(new Response(JSON.stringify({ message: "nope" }), { status: 400, headers: { "content-type": "application/json" } })) : fetch(input, init),
  });
  expect(await run(args(), rt)).toBe(1);
  expect(rt.stderr.text().split("\n").slice(1, 3)).toEqual(["Error: failed to authenticate: the identity provider returned no access token", ""]);
});

test("a poll answer Entra marks as transient keeps its status, so it is asked again; the same for a throttled slow_down", async () => {
  let polls = 0;
  const answering = (body: object) => (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    isPoll(init) && ++polls === 1
      ? Promise.resolve(new Response(JSON.stringify(body), { status: 503, headers: { "content-type": "application/json", "retry-after": "3" } }))
      : fetch(input, init);
  const unavailable = recordingClock();
  const rt = testRuntime({ clock: unavailable, fetch: answering({ error: "temporarily_unavailable" }) });
  expect(await run(args(), rt), rt.stderr.text()).toBe(0);
  expect(unavailable.sleeps).toEqual([3_000]);

  polls = 0;
  cacheDir = await mkdtemp(join(tmpdir(), "kubelogin-devicecode-mutants-"));
  const throttled = recordingClock();
  const again = testRuntime({ clock: throttled, fetch: answering({ error: "slow_down" }) });
  expect(await run(args(), again), again.stderr.text()).toBe(0);
  expect(throttled.sleeps).toEqual([3_000, 5_000]);
});

test("slow_down then a network failure: the failure's diagnosis is not delayed by the polls' slow_down", async () => {
  entra.users.deviceCode = { ...entra.users.deviceCode, slowDownPolls: 1, outcome: "never" };
  let polls = 0;
  const clock = recordingClock();
  const rt = testRuntime({
    clock,
    fetch: (input, init) => {
      if (isPoll(init) && ++polls > 1) return Promise.reject(new TypeError("fetch failed"));
      return fetch(input, init);
    },
  });
  expect(await run(args(), rt)).toBe(1);
  expect(clock.sleeps).toEqual([5_000]);
});

test("a malformed tenant is refused with upstream's device-code wording", async () => {
  const rt = testRuntime();
  expect(await run(["get-token", "-l", "devicecode", "--server-id", SERVER_ID, "--client-id", CLIENT, "--tenant-id", "a b", "--cache-dir", cacheDir], rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe(
    "Error: failed to create azidentity credential: failed to create device code credential: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names",
  );
});

test("with a saved sign-in, --timeout before any prompt is reported at GetToken's step", async () => {
  entra.users.tokenLifetimeSeconds = 301;
  try {
    expect(await run(args(), testRuntime())).toBe(0);
  } finally {
    entra.users.tokenLifetimeSeconds = 3600;
  }
  await new Promise((resolve) => setTimeout(resolve, 2_200));
  const rt = testRuntime({
    fetch: (input, init) =>
      typeof init?.body === "string" && new URLSearchParams(init.body).get("grant_type") === "refresh_token"
        ? new Promise<Response>((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)))
        : fetch(input, init),
  });
  expect(await run(args(["--timeout", "1s"]), rt)).toBe(1);
  expect(rt.stderr.text().split("\n")[0]).toBe("Error: failed to get token: DeviceCodeCredential: context deadline exceeded");
});

test("a refused poll whose error is not text is still one readable Error line", async () => {
  const rt = testRuntime({
    fetch: (input, init) =>
      isPoll(init) ? Promise.resolve(new Response(JSON.stringify({ error: 5 }), { status: 400, headers: { "content-type": "application/json" } })) : fetch(input, init),
  });
  expect(await run(args(), rt)).toBe(1);
  expect(rt.stderr.text().split("\n").slice(1, 3)).toEqual(["Error: failed to authenticate: 5", ""]);
});
