// Shared by the SDK's node tests: the nodes' addresses from the Go test that
// started them, token minting (docs/protocol.md, "Tokens") and a client factory.

import crypto from 'node:crypto';
import WebSocket from 'ws';
import { Client } from '../../sdk/msgo.js';
import { mint as mintWith } from '../token.js';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test ./app/web/`);
  return v;
}

export const env = {
  url: required('MSGO_WS_URL'),
  idleURL: required('MSGO_WS_URL_IDLE'),
  httpURL: required('MSGO_HTTP_URL'),
  secret: required('MSGO_SECRET'),
};

/** Mints a token for claims with the nodes' secret. */
export const mint = (claims) => mintWith(env.secret, claims);

let n = 0;
/** A user id no other test uses. */
export const uid = (p = 'u') => `${p}${process.pid}-${++n}-${crypto.randomBytes(3).toString('hex')}`;

/** Node 20 has no global WebSocket: the ws package stands in for the browser's. */
export const socket = (url, protocols) => new WebSocket(url, protocols);

const clients = new Set();

/**
 * A connected client as user id (a fresh one by default). Heartbeat is off
 * unless asked for, and retries are quick.
 */
export function client(opts = {}) {
  const { id = uid(), type, code, ...rest } = opts;
  const c = new Client({ url: env.url, token: mint({ id, type, code }), socket, heartbeat: 0, backoffBase: 50, backoffMax: 200, ...rest });
  c.userId = id;
  clients.add(c);
  return c.connect();
}

/** Closes every client made by client(). */
export function closeAll() {
  for (const c of clients) c.close();
  clients.clear();
}

/** Polls cond until it is true or timeout passes. */
export async function until(cond, what, timeout = 10000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records every state change of c. */
export function states(c) {
  const seen = [];
  c.on('state', (s, info) => seen.push({ s, ...info }));
  return seen;
}
