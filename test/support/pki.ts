// Every key and certificate the tests use is generated here at run time, so no private key is
// ever committed. node:crypto makes the keys (much faster than forge's pure-JS RSA); forge only
// builds and signs the X.509 and PKCS#12 structures, which node:crypto cannot.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import forge from "node-forge";

export interface TestPki {
  dir: string;
  caCertPem: string;
  /** Suitable for NODE_EXTRA_CA_CERTS. */
  caCertPath: string;
  /** Signed by the CA; valid for IP:127.0.0.1, DNS:localhost and DNS:entra.kubelogin.test (reached through the test proxy), EKU serverAuth. */
  serverCertPem: string;
  serverKeyPem: string;
}

export interface ClientCertificate {
  certPem: string;
  keyPkcs8Pem: string;
  keyPkcs1Pem: string;
  /** SPKI PEM, for verifying the signature of a client assertion. */
  publicKeyPem: string;
  /** Hex sha256 over the certificate's DER. */
  thumbprintSha256: string;
}

const ONE_HOUR_MS = 60 * 60 * 1000;
const ONE_YEAR_MS = 365 * 24 * ONE_HOUR_MS;

interface RsaKeys {
  forgePrivateKey: forge.pki.rsa.PrivateKey;
  forgePublicKey: forge.pki.rsa.PublicKey;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function generateRsaKeys(): RsaKeys {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pkcs1Pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const spkiPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return {
    forgePrivateKey: forge.pki.privateKeyFromPem(pkcs1Pem),
    forgePublicKey: forge.pki.publicKeyFromPem(spkiPem) as forge.pki.rsa.PublicKey,
    privateKey,
    publicKey,
  };
}

function newCertificate(subjectCommonName: string, publicKey: forge.pki.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A leading 0x01 byte keeps the DER INTEGER positive and of fixed length.
  cert.serialNumber = "01" + randomBytes(15).toString("hex");
  // Backdated so that clock skew between the test process and the TLS peer cannot make it "not yet valid".
  cert.validity.notBefore = new Date(Date.now() - ONE_HOUR_MS);
  cert.validity.notAfter = new Date(Date.now() + ONE_YEAR_MS);
  cert.setSubject([{ name: "commonName", value: subjectCommonName }]);
  return cert;
}

// forge signs with SHA-1 unless told otherwise, which OpenSSL 3 rejects at its default security level.
function signSha256(cert: forge.pki.Certificate, issuerKey: forge.pki.rsa.PrivateKey): void {
  cert.sign(issuerKey, forge.md.sha256.create());
}

function certificateDer(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
}

/** `caName` tells two test CAs apart: TLS finds a certificate's issuer by name first. */
export async function createTestPki(dir: string, caName = "kubelogin test CA"): Promise<TestPki> {
  const caKeys = generateRsaKeys();
  const caCert = newCertificate(caName, caKeys.forgePublicKey);
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  signSha256(caCert, caKeys.forgePrivateKey);

  const serverKeys = generateRsaKeys();
  const serverCert = newCertificate("localhost", serverKeys.forgePublicKey);
  serverCert.setIssuer(caCert.subject.attributes);
  serverCert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 2, value: "localhost" },
        { type: 2, value: "entra.kubelogin.test" },
      ],
    },
  ]);
  signSha256(serverCert, caKeys.forgePrivateKey);

  const pki: TestPki = {
    dir,
    caCertPem: forge.pki.certificateToPem(caCert),
    caCertPath: join(dir, "ca.pem"),
    serverCertPem: forge.pki.certificateToPem(serverCert),
    serverKeyPem: serverKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(pki.caCertPath, pki.caCertPem),
    writeFile(join(dir, "server.pem"), pki.serverCertPem),
    writeFile(join(dir, "server-key.pem"), pki.serverKeyPem, { mode: 0o600 }),
  ]);
  return pki;
}

/** A self-signed RSA 2048 certificate, as a service principal would register it in Entra ID. */
export function createClientCertificate(commonName: string): ClientCertificate {
  const keys = generateRsaKeys();
  const cert = newCertificate(commonName, keys.forgePublicKey);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, critical: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
  signSha256(cert, keys.forgePrivateKey);
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPkcs8Pem: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    keyPkcs1Pem: keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    thumbprintSha256: createHash("sha256").update(certificateDer(cert)).digest("hex"),
  };
}

/** Modern = PBES2/AES-256 as current Windows and OpenSSL 3 write; legacy = 3DES as older tooling writes. */
export function toPfx(cert: ClientCertificate, password: string, options: { legacy?: boolean } = {}): Buffer {
  const pfxAsn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(cert.keyPkcs8Pem),
    [forge.pki.certificateFromPem(cert.certPem)],
    password,
    { algorithm: options.legacy === true ? "3des" : "aes256", friendlyName: "kubelogin test client" },
  );
  return Buffer.from(forge.asn1.toDer(pfxAsn1).getBytes(), "binary");
}

/**
 * A real X.509 certificate carrying a P-256 public key, plus its PKCS#8 key. forge cannot sign
 * with EC keys, so an RSA-signed certificate gets the EC SubjectPublicKeyInfo spliced into its
 * TBSCertificate and is re-signed by that throwaway RSA key: the issuer signature is irrelevant
 * to the "EC key" path under test.
 */
export function createEcCertificate(commonName: string): { certPem: string; keyPem: string } {
  const ecKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signer = generateRsaKeys();
  const cert = newCertificate(commonName, signer.forgePublicKey);
  cert.setIssuer(cert.subject.attributes);
  signSha256(cert, signer.forgePrivateKey);

  const certAsn1 = forge.pki.certificateToAsn1(cert);
  const [tbs, , signatureBits] = certAsn1.value as forge.asn1.Asn1[];
  if (tbs === undefined || signatureBits === undefined) throw new Error("forge produced a malformed certificate");
  const tbsFields = tbs.value as forge.asn1.Asn1[];
  const subjectPublicKeyInfoIndex = 6; // version, serialNumber, signature, issuer, validity, subject, SPKI
  const ecSpkiDer = ecKeys.publicKey.export({ type: "spki", format: "der" });
  tbsFields[subjectPublicKeyInfoIndex] = forge.asn1.fromDer(ecSpkiDer.toString("binary"));
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), "binary");
  const noUnusedBits = "\0";
  signatureBits.value = noUnusedBits + sign("sha256", tbsDer, signer.privateKey).toString("binary");

  return {
    certPem: forge.pem.encode({ type: "CERTIFICATE", body: forge.asn1.toDer(certAsn1).getBytes() }),
    keyPem: ecKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** The PKI that test/support/global-setup.ts made for this run (its CA is in NODE_EXTRA_CA_CERTS). */
export async function loadTestPki(dir: string): Promise<TestPki> {
  const [caCertPem, serverCertPem, serverKeyPem] = await Promise.all(
    ["ca.pem", "server.pem", "server-key.pem"].map((name) => readFile(join(dir, name), "utf8")),
  );
  return { dir, caCertPem: caCertPem!, caCertPath: join(dir, "ca.pem"), serverCertPem: serverCertPem!, serverKeyPem: serverKeyPem! };
}
