// The cold path's yardstick for npm run bench: the smallest program that makes the request a cold
// spn get-token makes (one MSAL confidential client, client credentials with a secret, the same
// known authority) and prints the token. Settings come from the environment the bench sets.
// Like kubelogin, it tries again when the connection fails (32 of these at once on a loaded
// machine can miss undici's 10 s connect timeout); a run that succeeds at once never pays for it.
import { ConfidentialClientApplication } from "@azure/msal-node";

const { BENCH_AUTHORITY_HOST: host, BENCH_TENANT: tenant, BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret, BENCH_SCOPE: scope } = process.env;
const app = new ConfidentialClientApplication({ auth: { clientId, clientSecret, authority: `${host}${tenant}`, knownAuthorities: [new URL(host).host] } });
const TRANSIENT = new Set(["network_error", "endpoints_resolution_error"]);
for (let attempt = 1; ; attempt++) {
  try {
    const result = await app.acquireTokenByClientCredential({ scopes: [scope] });
    process.stdout.write(`${result.accessToken.length}\n`);
    break;
  } catch (err) {
    if (attempt === 3 || !TRANSIENT.has(err?.errorCode)) throw err;
  }
}
