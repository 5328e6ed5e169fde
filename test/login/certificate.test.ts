import { createHash, createPrivateKey, sign, verify, X509Certificate } from "node:crypto";
import forge from "node-forge";
import { beforeAll, describe, expect, it } from "vitest";
import { parseClientCertificate } from "../../src/login/certificate.js";
import {
  createClientCertificate,
  createEcCertificate,
  toPfx,
  type ClientCertificate,
} from "../support/pki.js";

const PASSWORD = "correct horse battery staple";
const PASSWORD_HINT =
  "check --client-certificate-password (or AZURE_CLIENT_CERTIFICATE_PASSWORD / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD)";

let client: ClientCertificate;
let unrelated: ClientCertificate;
let ec: { certPem: string; keyPem: string };

beforeAll(() => {
  client = createClientCertificate("kubelogin-spn");
  unrelated = createClientCertificate("someone-else");
  ec = createEcCertificate("kubelogin-ec");
});

function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

function privateKeyInfoDer(keyPem: string): Buffer {
  return createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
}

// forge can only write PKCS#12 for RSA keys and re-encodes certificates on the way, so inputs it
// cannot produce (EC keys, several certificates, exact foreign certificate bytes) are assembled
// here as an unencrypted, MAC-less PFX: both are optional in PKCS#12 and forge reads them.
function unprotectedPfx(privateKeyInfos: readonly Buffer[], certificateDers: readonly Buffer[]): Buffer {
  const { asn1 } = forge;
  const der = (node: forge.asn1.Asn1): string => asn1.toDer(node).getBytes();
  const sequence = (...items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
  const oid = (id: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
  const explicit0 = (item: forge.asn1.Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [item]);
  const octets = (bytes: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
  const dataContentInfo = (content: forge.asn1.Asn1) => sequence(oid("1.2.840.113549.1.7.1"), explicit0(octets(der(content))));
  const keyBags = privateKeyInfos.map((info) =>
    sequence(oid("1.2.840.113549.1.12.10.1.1"), explicit0(asn1.fromDer(info.toString("binary")))),
  );
  const certBags = certificateDers.map((cert) =>
    sequence(
      oid("1.2.840.113549.1.12.10.1.3"),
      explicit0(sequence(oid("1.2.840.113549.1.9.22.1"), explicit0(octets(cert.toString("binary"))))),
    ),
  );
  const version3 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, "\x03");
  const pfx = sequence(version3, dataContentInfo(sequence(dataContentInfo(sequence(...keyBags, ...certBags)))));
  return Buffer.from(der(pfx), "binary");
}

// sha256WithRSAEncryption with the NULL parameters left out, as some older encoders write it:
// still a valid certificate, but one forge would re-encode with a NULL added.
function withoutSignatureAlgorithmParameters(cert: ClientCertificate): Buffer {
  const certificate = forge.asn1.fromDer(pemToDer(cert.certPem).toString("binary"));
  const [tbs, outerAlgorithm] = certificate.value as forge.asn1.Asn1[];
  const tbsFields = tbs?.value as forge.asn1.Asn1[];
  const innerAlgorithm = tbsFields[2];
  (innerAlgorithm?.value as forge.asn1.Asn1[]).pop();
  (outerAlgorithm?.value as forge.asn1.Asn1[]).pop();
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs as forge.asn1.Asn1).getBytes(), "binary");
  const signature = sign("sha256", tbsDer, cert.keyPkcs8Pem).toString("binary");
  (certificate.value as forge.asn1.Asn1[])[2] = forge.asn1.create(
    forge.asn1.Class.UNIVERSAL,
    forge.asn1.Type.BITSTRING,
    false,
    "\0" + signature,
  );
  return Buffer.from(forge.asn1.toDer(certificate).getBytes(), "binary");
}

function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

interface AcceptedInput {
  name: string;
  input: () => { data: Buffer; path: string; password: string };
  expectedCertificateDer?: () => Buffer;
}

const pem = (...parts: string[]) => Buffer.from(parts.join("\n"));

const acceptedInputs: AcceptedInput[] = [
  { name: "PEM with PKCS#8 key, then certificate", input: () => ({ data: pem(client.keyPkcs8Pem, client.certPem), path: "spn.pem", password: "" }) },
  { name: "PEM with PKCS#1 key, then certificate", input: () => ({ data: pem(client.keyPkcs1Pem, client.certPem), path: "spn.pem", password: "" }) },
  {
    name: "PEM with a PKCS#1 body under the PKCS#8 label (upstream tries PKCS#1 first)",
    input: () => ({ data: pem(client.keyPkcs1Pem.replace(/RSA PRIVATE KEY/g, "PRIVATE KEY"), client.certPem), path: "spn.pem", password: "" }),
  },
  {
    name: "PEM with a PKCS#8 body under the PKCS#1 label",
    input: () => ({ data: pem(client.keyPkcs8Pem.replace(/PRIVATE KEY/g, "RSA PRIVATE KEY"), client.certPem), path: "spn.pem", password: "" }),
  },
  { name: "PEM with certificate, then PKCS#8 key", input: () => ({ data: pem(client.certPem, client.keyPkcs8Pem), path: "spn.pem", password: "" }) },
  { name: "PEM with certificate, then PKCS#1 key", input: () => ({ data: pem(client.certPem, client.keyPkcs1Pem), path: "spn.pem", password: "" }) },
  {
    name: "PEM with an unrelated certificate before the matching one",
    input: () => ({ data: pem(unrelated.certPem, client.certPem, client.keyPkcs8Pem), path: "spn.pem", password: "" }),
  },
  {
    name: "PEM whose password argument is ignored",
    input: () => ({ data: pem(client.keyPkcs8Pem, client.certPem), path: "spn.crt", password: PASSWORD }),
  },
  { name: "PFX, AES-256", input: () => ({ data: toPfx(client, PASSWORD), path: "spn.pfx", password: PASSWORD }) },
  { name: "PFX, legacy 3DES", input: () => ({ data: toPfx(client, PASSWORD, { legacy: true }), path: "spn.pfx", password: PASSWORD }) },
  { name: "PFX named .P12", input: () => ({ data: toPfx(client, PASSWORD), path: "C:\\certs\\SPN.P12", password: PASSWORD }) },
  { name: "PFX named .PFX", input: () => ({ data: toPfx(client, PASSWORD, { legacy: true }), path: "SPN.PFX", password: PASSWORD }) },
  { name: "PFX without a suffix, found by content", input: () => ({ data: toPfx(client, PASSWORD), path: "spn-credential", password: PASSWORD }) },
  { name: "PFX named .pem, found by content", input: () => ({ data: toPfx(client, PASSWORD), path: "spn.pem", password: PASSWORD }) },
  { name: "PFX with an empty password", input: () => ({ data: toPfx(client, ""), path: "spn.pfx", password: "" }) },
  {
    name: "unprotected PFX with an unrelated certificate before the matching one",
    input: () => ({
      data: unprotectedPfx([privateKeyInfoDer(client.keyPkcs8Pem)], [pemToDer(unrelated.certPem), pemToDer(client.certPem)]),
      path: "spn.p12",
      password: "",
    }),
  },
  {
    name: "PFX holding a certificate whose signature algorithm has no NULL parameters (bytes kept exactly)",
    input: () => ({
      data: unprotectedPfx([privateKeyInfoDer(client.keyPkcs8Pem)], [withoutSignatureAlgorithmParameters(client)]),
      path: "spn.pfx",
      password: "",
    }),
    expectedCertificateDer: () => withoutSignatureAlgorithmParameters(client),
  },
];

describe("parseClientCertificate accepts", () => {
  it.each(acceptedInputs)("$name", ({ input, expectedCertificateDer }) => {
    const { data, path, password } = input();

    const parsed = parseClientCertificate(data, path, password);

    const chosen = new X509Certificate(parsed.certificatePem);
    const expectedDer = expectedCertificateDer?.() ?? pemToDer(client.certPem);
    expect(chosen.raw.equals(expectedDer)).toBe(true);
    expect(parsed.thumbprintSha256).toBe(sha256Hex(chosen.raw));
    expect(parsed.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const payload = Buffer.from("client assertion header.payload");
    const signature = sign("sha256", payload, parsed.privateKeyPem);
    expect(verify("sha256", payload, chosen.publicKey, signature)).toBe(true);
    expect(verify("sha256", payload, client.publicKeyPem, signature)).toBe(true);
  });

  it("reports the thumbprint of the test PKI's own computation", () => {
    const parsed = parseClientCertificate(toPfx(client, PASSWORD), "spn.pfx", PASSWORD);

    expect(parsed.thumbprintSha256).toBe(client.thumbprintSha256);
  });
});

interface RejectedInput {
  name: string;
  input: () => { data: Buffer; path: string; password: string };
  message: string | RegExp;
  hint?: string | RegExp;
}

const PREFIX = "failed to read certificate: ";
const corruptKey = (label: string) => `-----BEGIN ${label}-----\nMIIBAAAA\n-----END ${label}-----`;
const sec1Pem = (label: string) =>
  `-----BEGIN ${label}-----\n${createPrivateKey(ec.keyPem).export({ type: "sec1", format: "der" }).toString("base64")}\n-----END ${label}-----`;
const BOTH_EC = "(x509: failed to parse private key (use ParseECPrivateKey instead for this key format)), (x509: failed to parse private key (use ParseECPrivateKey instead for this key format))";

// Every message is upstream's (compat spec §3.6): the prefix, then the Go text.
const rejectedInputs: RejectedInput[] = [
  {
    name: "PFX with the wrong password",
    input: () => ({ data: toPfx(client, PASSWORD), path: "spn.pfx", password: "wrong password" }),
    message: `${PREFIX}pkcs12: decryption password incorrect`,
    hint: PASSWORD_HINT,
  },
  {
    name: "legacy PFX with the wrong password",
    input: () => ({ data: toPfx(client, PASSWORD, { legacy: true }), path: "spn.pfx", password: "" }),
    message: `${PREFIX}pkcs12: decryption password incorrect`,
    hint: PASSWORD_HINT,
  },
  {
    name: "garbage named .pfx",
    input: () => ({ data: Buffer.from("not a certificate at all"), path: "spn.pfx", password: PASSWORD }),
    message: `${PREFIX}pkcs12: error reading P12 data: asn1: syntax error: data truncated`,
    hint: "spn.pfx is not a valid PKCS#12 archive; a PEM file must not be named .pfx or .p12",
  },
  {
    name: "truncated PFX",
    input: () => ({ data: toPfx(client, PASSWORD).subarray(0, 1000), path: "spn.pfx", password: PASSWORD }),
    message: `${PREFIX}pkcs12: error reading P12 data: asn1: syntax error: data truncated`,
  },
  {
    name: "PEM named .p12",
    input: () => ({ data: pem(client.keyPkcs8Pem, client.certPem), path: "spn.p12", password: "" }),
    message: /^failed to read certificate: pkcs12: error reading P12 data: /,
  },
  {
    name: "DER that is not PKCS#12, without a PFX suffix",
    input: () => ({ data: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x07]), path: "spn.bin", password: "" }),
    message: `${PREFIX}failed to decode a pem block from private key`,
    hint: /or be a PKCS#12 \(\.pfx\/\.p12\) archive/,
  },
  {
    name: "PEM with only a certificate",
    input: () => ({ data: pem(client.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}failed to decode a pem block from private key`,
  },
  {
    name: "PEM EC key (PKCS#8) with its certificate",
    input: () => ({ data: pem(ec.keyPem, ec.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}pkcs8 contained non-RSA key. Expected RSA key`,
    hint: /^the key is ec, but the client assertion kubelogin signs for Entra ID needs an RSA key/,
  },
  {
    name: "PEM EC key (SEC1) under the PKCS#8 label",
    input: () => ({ data: pem(sec1Pem("PRIVATE KEY"), ec.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}failed to parse private key as Pkcs#1 or Pkcs#8. ${BOTH_EC}`,
    hint: /^the key is an EC key, but .* needs an RSA key/,
  },
  {
    name: "PEM EC key (SEC1) under its own label",
    input: () => ({ data: pem(sec1Pem("EC PRIVATE KEY"), ec.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}failed to parse private key as Pkcs#1 or Pkcs#8. ${BOTH_EC}`,
  },
  {
    name: "PFX with an EC key (pkcs12.ToPEM hands it on as SEC1)",
    input: () => ({ data: unprotectedPfx([privateKeyInfoDer(ec.keyPem)], [pemToDer(ec.certPem)]), path: "spn.pfx", password: "" }),
    message: `${PREFIX}failed to parse private key as Pkcs#1 or Pkcs#8. ${BOTH_EC}`,
  },
  {
    name: "PEM key with somebody else's certificate",
    input: () => ({ data: pem(client.keyPkcs8Pem, unrelated.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}unable to find a matching public certificate`,
    hint: "spn.pem must contain the certificate issued for its private key",
  },
  {
    name: "PEM key without a certificate",
    input: () => ({ data: pem(client.keyPkcs1Pem), path: "spn.pem", password: "" }),
    message: `${PREFIX}unable to find a matching public certificate`,
  },
  {
    name: "PFX without a private key",
    input: () => ({ data: unprotectedPfx([], [pemToDer(client.certPem)]), path: "spn.pfx", password: "" }),
    message: `${PREFIX}failed to decode a pem block from private key`,
    hint: "spn.pfx holds no private key; export the certificate together with its private key",
  },
  {
    name: "PEM with a corrupt certificate",
    input: () => ({ data: pem(client.keyPkcs8Pem, corruptKey("CERTIFICATE")), path: "spn.pem", password: "" }),
    message: `${PREFIX}unable to parse certificate: x509: malformed certificate`,
  },
  {
    name: "PEM with a truncated private key",
    input: () => ({ data: pem(corruptKey("PRIVATE KEY"), client.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}failed to parse private key as Pkcs#1 or Pkcs#8. (asn1: syntax error: data truncated), (asn1: syntax error: data truncated)`,
  },
  {
    name: "PEM with a private key block that holds a certificate",
    input: () => ({ data: pem(client.certPem.replace(/CERTIFICATE/g, "PRIVATE KEY"), client.certPem), path: "spn.pem", password: "" }),
    message: `${PREFIX}failed to parse private key as Pkcs#1 or Pkcs#8. (not a PKCS#1 RSA private key), (not a PKCS#8 private key)`,
  },
  {
    name: "PEM with an encrypted PKCS#8 key (upstream skips the block)",
    input: () => ({
      data: pem(
        createPrivateKey(client.keyPkcs8Pem)
          .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: PASSWORD })
          .toString(),
        client.certPem,
      ),
      path: "spn.pem",
      password: PASSWORD,
    }),
    message: `${PREFIX}failed to decode a pem block from private key`,
    hint: /^the private key in spn\.pem is encrypted, .*decrypt it .* or bundle key and certificate into a PFX/,
  },
  {
    name: "PEM with a legacy encrypted PKCS#1 key",
    input: () => ({
      data: pem(
        createPrivateKey(client.keyPkcs8Pem)
          .export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: PASSWORD })
          .toString(),
        client.certPem,
      ),
      path: "spn.pem",
      password: PASSWORD,
    }),
    message: `${PREFIX}failed to decode a pem block from private key`,
    hint: /^the private key in spn\.pem is encrypted/,
  },
];

describe("parseClientCertificate rejects", () => {
  it.each(rejectedInputs)("$name", ({ input, message, hint }) => {
    const { data, path, password } = input();

    expect(() => parseClientCertificate(data, path, password)).toThrow(
      expect.objectContaining({
        name: "CertificateError",
        message: typeof message === "string" ? message : expect.stringMatching(message),
        ...(hint === undefined ? {} : { hint: typeof hint === "string" ? hint : expect.stringMatching(hint) }),
      }),
    );
  });

  it("never puts the password or key material in the message or hint", () => {
    const keyBodyLine = client.keyPkcs8Pem.split("\n")[1] ?? "";
    const wrongPassword = "hunter2-wrong-password";
    const cases: Array<[Buffer, string, string]> = [
      [toPfx(client, PASSWORD), "spn.pfx", wrongPassword],
      [pem(client.keyPkcs8Pem, unrelated.certPem), "spn.pem", wrongPassword],
      [pem(client.keyPkcs8Pem, "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----"), "spn.pem", wrongPassword],
    ];
    expect(keyBodyLine.length).toBeGreaterThan(40);

    for (const [data, path, password] of cases) {
      for (const secret of [wrongPassword, PASSWORD, keyBodyLine]) {
        expect(() => parseClientCertificate(data, path, password)).toThrow(
          expect.objectContaining({ message: expect.not.stringContaining(secret), hint: expect.not.stringContaining(secret) }),
        );
      }
    }
  });
});
