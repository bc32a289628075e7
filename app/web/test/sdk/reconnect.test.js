// Reconnecting: which closes are retried, which are final, the backoff, the
// queue of requests made while offline, and a refused token.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, closeAll, env, socket, until, sleep, states, uid } from './helpers.js';
import { Client, backoffDelay, isFinalClose, OPEN, CLOSED, RECONNECTING } from '../../sdk/msgo.js';

after(closeAll);

// kick closes every connection of c's user from another connection, as the
// manager's /api/disconnect/user does.
async function kick(c, code, type = 'wechatUser') {
  const admin = client();
  const r = await admin.request('sdktest.user.close', { user: c.userId, type, code });
  admin.close();
  return r.param.closed;
}

test('backoffDelay is full jitter under an exponential cap', () => {
  assert.equal(backoffDelay(0, 500, 30000, () => 0), 0);
  assert.equal(backoffDelay(0, 500, 30000, () => 0.999999), 499);
  assert.equal(backoffDelay(3, 500, 30000, () => 0.5), 2000);
  assert.equal(backoffDelay(10, 500, 30000, () => 0.5), 15000); // capped at 30000
  assert.equal(backoffDelay(1000, 500, 30000, () => 0.999999), 29999);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(4, 100, 1000);
    assert.ok(d >= 0 && d < 1000, `delay ${d}`);
  }
});

test('which closes are final', () => {
  assert.equal(isFinalClose(1008, 'disconnected by the server'), true);
  assert.equal(isFinalClose(1008, 'too slow to read its messages'), false);
  assert.equal(isFinalClose(4000, 'idle timeout'), false);
  assert.equal(isFinalClose(4001), true);
  assert.equal(isFinalClose(4999), true);
  for (const code of [1000, 1001, 1002, 1006, 1007, 1009, 1011, 1012]) assert.equal(isFinalClose(code), false, String(code));
});

test('the real idle timeout (4000) is retried', async () => {
  const c = client({ url: env.idleURL });
  const seen = states(c);
  const closes = [];
  c.on('close', (i) => closes.push(i));
  const opens = [];
  c.on('open', (i) => opens.push(i));
  await until(() => opens.length === 2, 'the reconnect after the idle close', 8000);
  assert.equal(closes[0].code, 4000);
  assert.equal(closes[0].final, false);
  assert.deepEqual(opens, [{ reconnect: false, resumed: false }, { reconnect: true, resumed: false }]);
  assert.deepEqual(seen.map((s) => s.s), ['open', 'reconnecting', 'open']); // 'connecting' came before states() listened
  assert.equal((await c.request('index.index.index', { back: 1 })).param.back, 1);
});

for (const [code, reason] of [[1012, ''], [1001, 'server stopping'], [1000, ''], [1008, 'too slow to read its messages']]) {
  test(`a close ${code} ${reason} is retried`, async () => {
    const c = client();
    await c.once('open');
    const reopened = c.once('open');
    await c.request('sdktest.conn.close', { code, reason });
    assert.deepEqual(await reopened, { reconnect: true, resumed: false }); // a close frame ends the session
    assert.equal(c.state, OPEN);
  });
}

test('a kick (1008) is final: no reconnect, requests reject', async () => {
  const c = client();
  await c.once('open');
  const seen = states(c);
  const closed = c.once('close');
  assert.equal(await kick(c, 1008), 1);
  const info = await closed;
  assert.equal(info.code, 1008);
  assert.equal(info.final, true);
  assert.equal(c.state, CLOSED);
  await assert.rejects(c.request('index.index.index'), { code: 'closed' });
  await sleep(300);
  assert.deepEqual(seen.map((s) => s.s), ['closed']);
});

test('a close 4001-4999 is final', async () => {
  const c = client();
  await c.once('open');
  const closed = c.once('close');
  await c.request('sdktest.conn.close', { code: 4403, reason: 'token revoked' });
  assert.deepEqual(await closed, { code: 4403, reason: 'token revoked', wasClean: true, final: true, opened: true });
  assert.equal(c.state, CLOSED);
});

test('isFinal replaces the rule', async () => {
  const c = client({ isFinal: (code) => code === 4000 });
  await c.once('open');
  const closed = c.once('close');
  await c.request('sdktest.conn.close', { code: 4000 });
  assert.equal((await closed).final, true);
  assert.equal(c.state, CLOSED);
});

test('a request in flight when the connection drops rejects as disconnected', async () => {
  const c = client();
  await c.once('open');
  // The assertion is attached before the kick: the rejection can come while
  // kick() still waits for its own reply, and a rejection nobody handles yet
  // fails the test run.
  const rejected = assert.rejects(c.request('sdktest.slow.sleep', { ms: 400 }), { code: 'disconnected', closeCode: 4000 });
  await sleep(50);
  await kick(c, 4000);
  await rejected;
  await until(() => c.state === OPEN, 'the reconnect');
});

test('requests made while reconnecting are queued, sent in order, and bounded', async () => {
  // random() near 1 makes the wait the cap: 1.5 s, time enough to queue.
  const c = client({ backoffBase: 1500, backoffMax: 5000, random: () => 0.9999, queueSize: 3 });
  await c.once('open');
  await c.request('sdktest.conn.close', { code: 1012 });
  await until(() => c.state === RECONNECTING, 'reconnecting');
  const queued = [1, 2, 3].map((i) => c.request('index.index.index', { i }));
  await assert.rejects(c.request('index.index.index', { i: 4 }), { code: 'queue_full' });
  const order = [];
  queued.forEach((p) => p.then((r) => order.push(r.param.i)));
  await Promise.all(queued);
  assert.deepEqual(order, [1, 2, 3]);
});

test('a queued request still times out', async () => {
  const c = client({ backoffBase: 2000, backoffMax: 2000, random: () => 0.9999 });
  await c.once('open');
  await c.request('sdktest.conn.close', { code: 1012 });
  await until(() => c.state === RECONNECTING, 'reconnecting');
  await assert.rejects(c.request('index.index.index', {}, { timeout: 50 }), { code: 'timeout' });
  c.close();
});

test('the backoff grows while connections fail, and resets once one is stable', async () => {
  const c = client({ backoffBase: 10, backoffMax: 1000, stableAfter: 1500 });
  const seen = states(c);
  await c.once('open');
  const attempts = () => seen.filter((s) => s.s === 'reconnecting').map((s) => s.attempt);
  for (let i = 0; i < 3; i++) {
    const reopened = c.once('open');
    await c.request('sdktest.conn.close', { code: 4000 });
    await reopened;
  }
  assert.deepEqual(attempts(), [0, 1, 2]);
  await sleep(1800); // stays open past stableAfter
  const reopened = c.once('open');
  await c.request('sdktest.conn.close', { code: 4000 });
  await reopened;
  assert.deepEqual(attempts(), [0, 1, 2, 0]);
});

test('an unreachable server is retried until it answers', async () => {
  let url = 'ws://127.0.0.1:1/ws'; // nothing listens on port 1
  const c = client({ url: () => url, backoffBase: 20, backoffMax: 40 });
  const closes = [];
  c.on('close', (i) => closes.push(i));
  await until(() => closes.length >= 3, 'three failed attempts');
  assert.ok(closes.every((i) => !i.opened && !i.final && i.code === 1006));
  assert.equal(c.state, RECONNECTING);
  url = env.url;
  await c.once('open');
  assert.equal(c.state, OPEN);
});

test('a refused token is final once verify says so', async () => {
  const verify = async (token) => {
    const r = await fetch(env.httpURL + '/auth/check', { headers: { Authorization: 'Bearer ' + token } });
    return r.status === 403 ? false : r.ok ? true : undefined;
  };
  const c = new Client({ url: env.url, token: 'not-a-token', socket, heartbeat: 0, backoffBase: 20, verify }).connect();
  const closed = [];
  c.on('close', (i) => closed.push(i));
  await until(() => c.state === CLOSED, 'the final close');
  assert.equal(closed.at(-1).reason, 'unauthorized');
  assert.equal(closed.at(-1).final, true);
  await assert.rejects(c.request('index.index.index'), { code: 'closed' });
});

test('without verify a refused token keeps retrying', async () => {
  const c = new Client({ url: env.url, token: 'not-a-token', socket, heartbeat: 0, backoffBase: 10, backoffMax: 20 }).connect();
  const closes = [];
  c.on('close', (i) => closes.push(i));
  await until(() => closes.length >= 3, 'three refused attempts');
  assert.equal(c.state, RECONNECTING);
  c.close();
  assert.equal(c.state, CLOSED);
});

test('the heartbeat drops a connection that stopped answering', async () => {
  // A real WebSocket server that accepts the handshake and then says nothing.
  const { WebSocketServer } = await import('ws');
  const mute = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'msgo', autoPong: false });
  await new Promise((r) => mute.once('listening', r));
  try {
    const c = client({ url: `ws://127.0.0.1:${mute.address().port}/ws`, heartbeat: 60, backoffBase: 5000 });
    const closed = c.once('close');
    await c.once('open');
    const info = await closed;
    assert.equal(info.reason, 'heartbeat timeout');
    assert.equal(info.final, false);
    assert.equal(c.state, RECONNECTING);
    c.close();
  } finally {
    for (const ws of mute.clients) ws.terminate();
    mute.close();
  }
});

test('uid helper makes distinct users', () => assert.notEqual(uid(), uid()));
