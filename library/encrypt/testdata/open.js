// Opens a token with Node's built-in crypto, independently of msgo, and prints
// the claims JSON. Used by TestMintOpensElsewhere.
//
//     node open.js SECRET TOKEN
'use strict';
const crypto = require('crypto');

const [secret, token] = process.argv.slice(2);
const key = crypto.createHash('sha256').update(secret, 'utf8').digest();
if (!/^[A-Za-z0-9_-]+$/.test(token)) {
  throw new Error('not unpadded base64url');
}
const raw = Buffer.from(token, 'base64url');
const nonce = raw.subarray(0, 12);
const tag = raw.subarray(raw.length - 16);
const ciphertext = raw.subarray(12, raw.length - 16);
const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
decipher.setAuthTag(tag);
const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
process.stdout.write(plain.toString('utf8'));
