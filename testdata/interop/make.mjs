// Writes jose-*.txt: entitlement tokens made by the jose package, for ses to
// open. Run: npm ci && node make.mjs
import { writeFileSync } from 'node:fs';
import { SignJWT, CompactEncrypt } from 'jose';
import { load } from './keys.mjs';

const sign = load('sign');
const enc = load('enc');
const nbf = Date.parse('2026-01-01T00:00:00Z') / 1000;

async function token(claims) {
  const jws = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS512', kid: sign.thumbprint, x5t: sign.x5t, typ: 'JWT' })
    .sign(sign.privateKey);
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256CBC-HS512', kid: enc.thumbprint, typ: 'JWT', cty: 'JWT' })
    .encrypt(enc.publicKey);
}

const base = {
  iss: 'https://batch.azure.test/software-entitlement',
  aud: 'https://batch.azure.test/software-entitlement',
  nbf, iat: nbf, exp: nbf + 7 * 24 * 3600,
};
writeFileSync('jose-token.txt', await token({ ...base, id: 'token-jose-1', app: 'contosoapp', ip: '10.0.0.4', vmid: 'vm-jose' }) + '\n');
writeFileSync('jose-token-many.txt', await token({ ...base, id: 'token-jose-2', app: ['contosoapp', 'fabrikam'], ip: ['10.0.0.4', '2001:db8::4'] }) + '\n');
