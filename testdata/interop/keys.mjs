// Keys and thumbprints of the fixture certificates, shared by make.mjs and
// check.mjs.
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, createHash } from 'node:crypto';

export function load(name) {
  const pem = readFileSync(new URL(`./${name}.pem`, import.meta.url), 'utf8');
  const cert = new X509Certificate(pem);
  const sha1 = createHash('sha1').update(cert.raw).digest();
  return {
    cert,
    publicKey: cert.publicKey,
    privateKey: createPrivateKey(pem),
    thumbprint: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
  };
}
