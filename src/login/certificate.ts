// The client certificate for `spn` login: a PEM file or a PKCS#12 archive, reduced to the RSA key
// and the one certificate that belongs to it. Messages keep upstream kubelogin's wording where it
// has one; none of them ever carries key material or the password.
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
  /** Hex sha1 over the certificate's DER, for msal versions that still send x5t. */
  thumbprintSha1: string;
}

const PKCS12_FILE_SUFFIX = /\.(pfx|p12)$/i;
const PEM_BEGIN_MARKER = "-----BEGIN";
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const LEGACY_ENCRYPTED_PEM_HEADER = /^Proc-Type:\s*4,\s*ENCRYPTED/m;
const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);
const PKCS12_VERSION = 3;
const KEY_BAG_OID = "1.2.840.113549.1.12.10.1.1";
const PKCS8_SHROUDED_KEY_BAG_OID = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG_OID = "1.2.840.113549.1.12.10.1.3";

const PASSWORD_HINT =
  "check --client-certificate-password (or AZURE_CLIENT_CERTIFICATE_PASSWORD / AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD)";

export function parseClientCertificate(data: Buffer, path: string, password: string): ClientCredentialCertificate {
  if (PKCS12_FILE_SUFFIX.test(path) || looksLikePkcs12(data)) return parsePkcs12(data, path, password);
  return parsePem(data.toString("utf8"), path);
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
    const reason = messageOf(err);
    throw new CertificateError(`failed to decode PKCS#12 certificate ${path}: ${reason}`, {
      hint: /password/i.test(reason)
        ? PASSWORD_HINT
        : `${path} is not a valid PKCS#12 archive; a PEM file must not be named .pfx or .p12`,
      cause: err,
    });
  }

  const keyBag = [...bagsOfType(pfx, PKCS8_SHROUDED_KEY_BAG_OID), ...bagsOfType(pfx, KEY_BAG_OID)][0];
  if (keyBag === undefined) {
    throw new CertificateError(`failed to decode PKCS#12 certificate ${path}: it contains no private key`, {
      hint: "export the certificate together with its private key",
    });
  }
  const privateKey = parsePrivateKey(() =>
    createPrivateKey({ key: privateKeyInfoDer(keyBag), format: "der", type: "pkcs8" }),
  );
  const certificates = bagsOfType(pfx, CERT_BAG_OID).map(certificateDer);
  return selectMatchingCertificate(privateKey, certificates, path);
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
    throw new CertificateError("failed to decode a pem block from private key", {
      hint: `${path} must hold a PEM "PRIVATE KEY" or "RSA PRIVATE KEY" block and its CERTIFICATE, or be a PKCS#12 (.pfx/.p12) archive`,
    });
  }
  if (keyBlock.label === "ENCRYPTED PRIVATE KEY" || LEGACY_ENCRYPTED_PEM_HEADER.test(keyBlock.text)) {
    throw new CertificateError(`the private key in ${path} is encrypted, which PEM client certificates do not support`, {
      hint: "decrypt it (openssl pkey -in key.pem -out plain.pem) or bundle key and certificate into a PFX (openssl pkcs12 -export) and pass its password with --client-certificate-password",
    });
  }
  const privateKey = parsePrivateKey(() => createPrivateKey(keyBlock.text));
  const certificates = blocks.filter((block) => block.label === "CERTIFICATE").map((block) => block.text);
  return selectMatchingCertificate(privateKey, certificates, path);
}

function parsePrivateKey(parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch (err) {
    throw new CertificateError(`unable to parse private key: ${messageOf(err)}`, { cause: err });
  }
}

function selectMatchingCertificate(
  privateKey: KeyObject,
  certificates: readonly (string | Buffer)[],
  path: string,
): ClientCredentialCertificate {
  if (privateKey.asymmetricKeyType !== "rsa") {
    throw new CertificateError("pkcs8 contained non-RSA key. Expected RSA key", {
      hint: `${path} holds a ${privateKey.asymmetricKeyType ?? "non-RSA"} key, but the client assertion kubelogin signs for Entra ID needs an RSA key; issue an RSA certificate for the service principal`,
    });
  }
  const keySpki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  for (const encoded of certificates) {
    const certificate = parseCertificate(encoded);
    if (!certificate.publicKey.export({ type: "spki", format: "der" }).equals(keySpki)) continue;
    return {
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      certificatePem: certificate.toString(),
      thumbprintSha256: createHash("sha256").update(certificate.raw).digest("hex"),
      thumbprintSha1: createHash("sha1").update(certificate.raw).digest("hex"),
    };
  }
  throw new CertificateError("unable to find a matching public certificate", {
    hint: `${path} must contain the certificate issued for its private key`,
  });
}

function parseCertificate(encoded: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(encoded);
  } catch (err) {
    throw new CertificateError(`unable to parse certificate: ${messageOf(err)}`, { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
