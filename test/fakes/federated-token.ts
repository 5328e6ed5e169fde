// External identity tokens as GitHub Actions, Azure Pipelines and the AKS workload identity
// webhook issue them: an RS256 JWT with iss, sub and aud. Fake Entra matches iss + sub + aud
// against an app's federated credentials.
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";

export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

export interface FederatedTokenClaims {
  issuer: string;
  subject: string;
  audience?: string;
  /** Default 3600; negative makes an expired token. */
  lifetimeSeconds?: number;
}

export function mintFederatedToken(claims: FederatedTokenClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = claims.lifetimeSeconds ?? 3600;
  const header = { alg: "RS256", typ: "JWT", kid: "fake-issuer" };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.audience ?? TOKEN_EXCHANGE_AUDIENCE,
    iat: Math.min(now, now + lifetime),
    nbf: Math.min(now, now + lifetime),
    exp: now + lifetime,
    jti: randomUUID(),
  };
  const signed = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return `${signed}.${sign("sha256", Buffer.from(signed), privateKey).toString("base64url")}`;
}
