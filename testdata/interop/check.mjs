// Reads an entitlement token made by ses on stdin, opens it with the jose
// package (RSA-OAEP + A256CBC-HS512, then RS512) and prints its claims.
// Exits non-zero when jose refuses it. Run: ses token ... | node check.mjs
import { readFileSync } from 'node:fs';
import { compactDecrypt, jwtVerify, decodeProtectedHeader } from 'jose';
import { load } from './keys.mjs';

const sign = load('sign');
const enc = load('enc');
const raw = readFileSync(0, 'utf8').trim();

const outer = decodeProtectedHeader(raw);
const { plaintext } = await compactDecrypt(raw, enc.privateKey, {
  keyManagementAlgorithms: ['RSA-OAEP'],
  contentEncryptionAlgorithms: ['A256CBC-HS512'],
});
const inner = new TextDecoder().decode(plaintext);
const { payload, protectedHeader } = await jwtVerify(inner, sign.publicKey, {
  algorithms: ['RS512'],
  issuer: 'https://batch.azure.test/software-entitlement',
  audience: 'https://batch.azure.test/software-entitlement',
});
if (outer.kid !== enc.thumbprint || protectedHeader.kid !== sign.thumbprint || protectedHeader.x5t !== sign.x5t) {
  throw new Error(`key ids ${outer.kid} / ${protectedHeader.kid} do not name the fixture certificates`);
}
console.log(JSON.stringify({ outer, inner: protectedHeader, payload }));
