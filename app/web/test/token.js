// Mints msgo tokens (docs/protocol.md, "Tokens") with Node's crypto, for tests.

import crypto from 'node:crypto';

/** token = base64url(nonce || AES-256-GCM(claims) || tag), key = SHA-256(secret). */
export function mint(secret, { id, type = 'wechatUser', code = 'r1', nickname = id, ctime = Math.floor(Date.now() / 1000) }) {
  const key = crypto.createHash('sha256').update(secret, 'utf8').digest();
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([c.update(JSON.stringify({ id, type, code, nickname, ctime }), 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64url');
}
