// The client certificate for `spn` login: a PEM file or a PKCS#12 archive, reduced to the RSA key
// and the one certificate that belongs to it (upstream's readCertificate, compat spec §3.6). Every
// message is upstream's: `failed to read certificate: ` and the Go text; the hint is ours. None
// of them ever carries key material or the password.
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { CertificateError } from "../errors.js";

export interface ClientCredentialCertificate {
  /** PKCS#8 PEM whatever the input held, because msal-node signs the client assertion with it. */
  privateKeyPem: string;
  /** The certificate whose public key matches the private key; msal-node sends it as x5c. */
  certificatePem: string;
  /** Hex sha256 over the certificate's DER. */
  thumbprintSha256: string;
}

const PKCS12_FILE_SUFFIX = /\.(pfx|p12)$/i;
const PEM_BEGIN_MARKER = "-----BEGIN";
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const LEGACY_ENCRYPTED_PEM_HEADER = /^Proc-Type:\s*4,\s*ENCRYPTED/m;
// Upstream reads only "PRIVATE KEY" blocks; decision 7 adds PKCS#1's own label. The others are
// recognised to say why they cannot be used.
const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);
const PKCS12_VERSION = 3;
const KEY_BAG_OID = "1.2.840.113549.1.12.10.1.1";
const PKCS8_SHROUDED_KEY_BAG_OID = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG_OID = "1.2.840.113549.1.12.10.1.3";

const PASSWORD_HINT =
  "check --client-certificate-password (or AZURE_CLIENT_CERTIFICATE_PASSWORD / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD)";

const NO_KEY_BLOCK = "failed to decode a pem block from private key";
const NON_RSA = "pkcs8 contained non-RSA key. Expected RSA key";
const NON_RSA_HINT = "the client assertion kubelogin signs for Entra ID needs an RSA key; issue an RSA certificate for the service principal";
// Go's x509 text for an EC (SEC1) body where PKCS#1 or PKCS#8 was expected.
const USE_EC = "x509: failed to parse private key (use ParseECPrivateKey instead for this key format)";

export function parseClientCertificate(data: Buffer, path: string, password: string): ClientCredentialCertificate {
  try {
    if (PKCS12_FILE_SUFFIX.test(path) || looksLikePkcs12(data)) return parsePkcs12(data, path, password);
    return parsePem(data.toString("utf8"), path);
  } catch (err) {
    throw err instanceof CertificateError ? err.wrap("failed to read certificate") : err;
  }
}

// A PFX renamed to .pem or .crt should still work: PEM is text, a PFX is a DER SEQUENCE that
// starts with version 3.
function looksLikePkcs12(data: Buffer): boolean {
  if (data.includes(PEM_BEGIN_MARKER)) return false;
  try {
    const [version] = forge.asn1.fromDer(data.toString("binary")).value;
    return (
      typeof version === "object" &&
      version.type === forge.asn1.Type.INTEGER &&
      version.value === String.fromCharCode(PKCS12_VERSION)
    );
  } catch {
    return false;
  }
}

function parsePkcs12(data: Buffer, path: string, password: string): ClientCredentialCertificate {
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    const strict = true; // forge's non-strict mode silently accepts truncated files
    pfx = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(data.toString("binary"), strict), strict, password);
  } catch (err) {
    // golang.org/x/crypto/pkcs12's texts; forge's own reason stays in the cause for -v.
    if (/password/i.test(messageOf(err))) throw new CertificateError("pkcs12: decryption password incorrect", { hint: PASSWORD_HINT, cause: err });
    throw new CertificateError(`pkcs12: error reading P12 data: ${asn1Problem(data) ?? "not a PKCS#12 archive"}`, {
      hint: `${path} is not a valid PKCS#12 archive; a PEM file must not be named .pfx or .p12`,
      cause: err,
    });
  }

  const keyBag = [...bagsOfType(pfx, PKCS8_SHROUDED_KEY_BAG_OID), ...bagsOfType(pfx, KEY_BAG_OID)][0];
  if (keyBag === undefined) {
    throw new CertificateError(NO_KEY_BLOCK, { hint: `${path} holds no private key; export the certificate together with its private key` });
  }
  const privateKey = parsePrivateKeyBody(asPkcs12ToPemKey(privateKeyInfoDer(keyBag)));
  const certificates = bagsOfType(pfx, CERT_BAG_OID).map(certificateDer);
  return selectMatchingCertificate(privateKey, certificates, path);
}

/**
 * The key body pkcs12.ToPEM hands upstream's key parser: an RSA key as PKCS#1, an EC key as SEC1
 * (which that parser then refuses); any other type is refused by ToPEM itself.
 */
function asPkcs12ToPemKey(privateKeyInfo: Buffer): Buffer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyInfo, format: "der", type: "pkcs8" });
  } catch (err) {
    throw new CertificateError(`pkcs12: ${asn1Problem(privateKeyInfo) ?? "invalid PKCS#8 key bag"}`, { cause: err });
  }
  if (key.asymmetricKeyType === "rsa") return key.export({ type: "pkcs1", format: "der" });
  if (key.asymmetricKeyType === "ec") return key.export({ type: "sec1", format: "der" });
  throw new CertificateError("found unknown private key type in PKCS#8 wrapping", { hint: `the key is ${key.asymmetricKeyType ?? "not RSA"}, but ${NON_RSA_HINT}` });
}

function bagsOfType(pfx: forge.pkcs12.Pkcs12Pfx, bagType: string): forge.pkcs12.Bag[] {
  return pfx.getBags({ bagType })[bagType] ?? [];
}

// forge decodes RSA keys into its own objects and leaves any other key type as raw ASN.1.
function privateKeyInfoDer(bag: forge.pkcs12.Bag): Buffer {
  const privateKeyInfo = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
  return Buffer.from(forge.asn1.toDer(privateKeyInfo).getBytes(), "binary");
}

// forge rebuilds a parsed certificate's outer signatureAlgorithm from the OID, always with NULL
// parameters, so a certificate that omits them would come out with other bytes and a thumbprint
// Entra ID does not know. RFC 5280 requires that field to equal the TBSCertificate's own copy,
// which forge keeps byte for byte. Certificates forge cannot parse it hands over as raw ASN.1.
function certificateDer(bag: forge.pkcs12.Bag): Buffer {
  const cert = bag.cert;
  if (!cert) return Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), "binary");
  // Only the optional [0] version and the serial INTEGER precede it.
  const signatureAlgorithm = (cert.tbsCertificate.value as forge.asn1.Asn1[]).find(
    (field) => field.tagClass === forge.asn1.Class.UNIVERSAL && field.type === forge.asn1.Type.SEQUENCE,
  );
  if (signatureAlgorithm === undefined) throw new CertificateError("unable to parse certificate: no signature algorithm");
  const { asn1 } = forge;
  const noUnusedBits = "\0";
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    cert.tbsCertificate,
    signatureAlgorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, noUnusedBits + cert.signature),
  ]);
  return Buffer.from(asn1.toDer(certificate).getBytes(), "binary");
}

interface PemBlock {
  label: string;
  text: string;
}

function parsePem(text: string, path: string): ClientCredentialCertificate {
  const blocks: PemBlock[] = [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] ?? "", text: match[0] }));
  const keyBlock = blocks.find((block) => PRIVATE_KEY_LABELS.has(block.label));
  if (keyBlock === undefined) {
    throw new CertificateError(NO_KEY_BLOCK, {
      hint: `${path} must hold a PEM "PRIVATE KEY" or "RSA PRIVATE KEY" block and its CERTIFICATE, or be a PKCS#12 (.pfx/.p12) archive`,
    });
  }
  if (keyBlock.label === "ENCRYPTED PRIVATE KEY" || LEGACY_ENCRYPTED_PEM_HEADER.test(keyBlock.text)) {
    // Upstream skips encrypted blocks, so it finds no key block at all.
    throw new CertificateError(NO_KEY_BLOCK, {
      hint: `the private key in ${path} is encrypted, which PEM client certificates do not support; decrypt it (openssl pkey -in key.pem -out plain.pem) or bundle key and certificate into a PFX (openssl pkcs12 -export) and pass its password with --client-certificate-password`,
    });
  }
  const privateKey = parsePrivateKeyBody(pemBody(keyBlock.text));
  const certificates = blocks.filter((block) => block.label === "CERTIFICATE").map((block) => pemBody(block.text));
  return selectMatchingCertificate(privateKey, certificates, path);
}

/** The DER inside one PEM block (RFC 1421 headers such as Proc-Type are not part of it). */
function pemBody(block: string): Buffer {
  const lines = block.split(/\r?\n/).slice(1, -1).filter((line) => !line.includes(":"));
  return Buffer.from(lines.join(""), "base64");
}

/** Upstream's parseRsaPrivateKey: PKCS#1 first, then PKCS#8 holding an RSA key, whatever the PEM label said. */
function parsePrivateKeyBody(der: Buffer): KeyObject {
  const as = (type: "pkcs1" | "pkcs8" | "sec1"): KeyObject | undefined => {
    try {
      return createPrivateKey({ key: der, format: "der", type });
    } catch {
      return undefined;
    }
  };
  // OpenSSL 3 (Node 22+) decodes any key DER whatever `type` says, so "PKCS#1" is only an RSA key.
  const pkcs1 = as("pkcs1");
  if (pkcs1?.asymmetricKeyType === "rsa" && isPkcs1Body(der)) return pkcs1;
  const pkcs8 = as("pkcs8");
  if (pkcs8) {
    if (pkcs8.asymmetricKeyType !== "rsa") throw new CertificateError(NON_RSA, { hint: `the key is ${pkcs8.asymmetricKeyType ?? "not RSA"}, but ${NON_RSA_HINT}` });
    return pkcs8;
  }
  // Go's x509.ParsePKCS1PrivateKey and ParsePKCS8PrivateKey errors for the cases people hit.
  const ec = as("sec1")?.asymmetricKeyType === "ec";
  const truncated = asn1Problem(der);
  const reason1 = ec ? USE_EC : (truncated ?? "not a PKCS#1 RSA private key");
  const reason8 = ec ? USE_EC : (truncated ?? "not a PKCS#8 private key");
  throw new CertificateError(`failed to parse private key as Pkcs#1 or Pkcs#8. (${reason1}), (${reason8})`, {
    hint: ec ? `the key is an EC key, but ${NON_RSA_HINT}` : "the private key block is damaged; export the key again",
  });
}

/**
 * A PKCS#1 RSAPrivateKey starts with INTEGER version 0 then INTEGER modulus; a PKCS#8
 * PrivateKeyInfo has an AlgorithmIdentifier SEQUENCE in second place. Go tells them apart by that
 * shape, not by what OpenSSL will decode.
 */
function isPkcs1Body(der: Buffer): boolean {
  const header = sequenceContentStart(der);
  if (header === undefined || der[header] !== 0x02) return false;
  const versionLength = der[header + 1];
  if (versionLength === undefined) return false;
  return der[header + 2 + versionLength] === 0x02;
}

/** Where the content of the outer DER SEQUENCE starts, if `der` starts with one. */
function sequenceContentStart(der: Buffer): number | undefined {
  if (der[0] !== 0x30 || der.length < 2) return undefined;
  const first = der[1]!;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

/** encoding/asn1's errors for a DER value cut short, which Go reports before looking at the content. */
function asn1Problem(der: Buffer): string | undefined {
  if (der.length === 0) return "asn1: syntax error: sequence truncated";
  if (der.length < 2) return "asn1: syntax error: truncated tag or length";
  const first = der[1]!;
  if (first === 0x80) return "asn1: syntax error: indefinite length found (not DER)";
  let length = first;
  let offset = 2;
  if (first > 0x80) {
    const width = first & 0x7f;
    if (der.length < 2 + width) return "asn1: syntax error: truncated tag or length";
    length = 0;
    for (let i = 0; i < width; i++) length = length * 256 + der[2 + i]!;
    offset = 2 + width;
  }
  return offset + length > der.length ? "asn1: syntax error: data truncated" : undefined;
}

function selectMatchingCertificate(
  privateKey: KeyObject,
  certificates: readonly Buffer[],
  path: string,
): ClientCredentialCertificate {
  const keySpki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  for (const encoded of certificates) {
    const certificate = parseCertificate(encoded);
    if (!certificate.publicKey.export({ type: "spki", format: "der" }).equals(keySpki)) continue;
    return {
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      certificatePem: certificate.toString(),
      thumbprintSha256: createHash("sha256").update(certificate.raw).digest("hex"),
    };
  }
  throw new CertificateError("unable to find a matching public certificate", {
    hint: `${path} must contain the certificate issued for its private key`,
  });
}

function parseCertificate(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    // What Go's x509.ParseCertificate says for a structure it cannot read.
    throw new CertificateError("unable to parse certificate: x509: malformed certificate", { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
