// The cold path's yardstick for npm run bench: the smallest program that makes the request a cold
// spn get-token makes (one MSAL confidential client, client credentials with a secret, the same
// known authority) and prints the token. Settings come from the environment the bench sets.
import { ConfidentialClientApplication } from "@azure/msal-node";

const { BENCH_AUTHORITY_HOST: host, BENCH_TENANT: tenant, BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret, BENCH_SCOPE: scope } = process.env;
const app = new ConfidentialClientApplication({ auth: { clientId, clientSecret, authority: `${host}${tenant}`, knownAuthorities: [new URL(host).host] } });
const result = await app.acquireTokenByClientCredential({ scopes: [scope] });
process.stdout.write(`${result.accessToken.length}\n`);
