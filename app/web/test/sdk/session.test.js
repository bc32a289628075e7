// Sessions: a dropped network (the TCP connection cut, no close frame) is
// resumed on the next connection: pushes sent meanwhile arrive once each and
// in order, every request is applied exactly once, the connection id stays,
// and a session that cannot be resumed resets the client.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, closeAll, until, sleep } from './helpers.js';
import { OPEN } from '../../sdk/msgo.js';

after(closeAll);

// cut ends c's TCP connection abruptly: no close frame, as a lost network.
function cut(c) {
  c._socket._socket.destroy();
}

// ticks collects the i of every sdktest.tick push c receives.
function ticks(c) {
  const seen = [];
  c.on('sdktest.tick', (p) => seen.push(p.i));
  return seen;
}

test('a cut connection resumes: pushes once and in order, requests applied once, same connection', async () => {
  const c = client();
  const resets = [];
  c.on('reset', () => resets.push(1));
  const seen = ticks(c);
  const { param: { conn } } = await c.request('sdktest.conn.id');
  await c.request('sdktest.push.later', { count: 40, gap_ms: 15 });
  await until(() => seen.length >= 5, 'the first pushes');
  // Requests in flight when the network goes: some read, some not.
  const inFlight = [];
  for (let i = 0; i < 5; i++) inFlight.push(c.request('sdktest.log.add', { v: `a${i}` }));
  cut(c);
  // Requests made while reconnecting wait for the resume.
  const later = [];
  for (let i = 0; i < 5; i++) later.push(c.request('sdktest.log.add', { v: `b${i}` }));
  await Promise.all([...inFlight, ...later]);
  await until(() => seen.length >= 40, 'every push');
  await sleep(100);
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i));
  const { param: { values } } = await c.request('sdktest.log.get');
  assert.deepEqual(values, [0, 1, 2, 3, 4].map((i) => `a${i}`).concat([0, 1, 2, 3, 4].map((i) => `b${i}`)));
  assert.equal((await c.request('sdktest.conn.id')).param.conn, conn);
  assert.deepEqual(resets, []);
});

test('pushes to the user that reach the new connection before the resume answer arrive once', async () => {
  const c = client();
  const seen = ticks(c);
  await c.request('sdktest.push.later', { count: 60, gap_ms: 10, to_user: true });
  await until(() => seen.length >= 5, 'the first pushes');
  // Hold the resume back, as a move from another node does: meanwhile the
  // user's pushes reach the new connection unnumbered, and the session
  // keeps its numbered copies.
  const resume = c._resume.bind(c);
  c._resume = () => { c._phase = 'resuming'; setTimeout(resume, 150); };
  cut(c);
  await until(() => seen.length >= 60, 'every push');
  await sleep(100);
  assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i));
});

test('a session the server no longer has resets the client; queued requests wait for the reset', async () => {
  const c = client();
  await c.once('open');
  const order = [];
  c.on('reset', async () => {
    order.push('reset');
    await c.request('sdktest.log.add', { v: 'rejoin' });
  });
  const opens = [];
  c.on('open', (info) => opens.push(info));
  c._session = '0'.repeat(32); // as if its window had passed
  const dropped = new Promise((resolve) => { const off = c.on('state', (s) => { if (s !== OPEN) { off(); resolve(); } }); });
  cut(c);
  await dropped; // from here requests wait in the queue
  const queued = c.request('sdktest.log.add', { v: 'queued' });
  await queued;
  const { param: { values } } = await c.request('sdktest.log.get');
  assert.deepEqual(values, ['rejoin', 'queued']);
  assert.deepEqual(order, ['reset']);
  assert.deepEqual(opens, [{ reconnect: true, resumed: false }]);
  // The new session resumes in turn.
  cut(c);
  await until(() => opens.length === 2, 'the resume');
  assert.deepEqual(opens[1], { reconnect: true, resumed: true });
  assert.equal(c.state, OPEN);
});

test('a request in flight when the session is lost rejects as disconnected', async () => {
  const c = client();
  await c.once('open');
  await sleep(50); // the session's open is answered
  c._session = '0'.repeat(32);
  const slow = c.request('sdktest.slow.sleep', { ms: 300 });
  await sleep(20);
  cut(c);
  await assert.rejects(slow, { code: 'disconnected' });
});

test('session: false opens no session and fails in-flight requests on a drop', async () => {
  const c = client({ session: false });
  await c.once('open');
  const frames = [];
  c.on('frame', (f) => frames.push(f));
  const slow = c.request('sdktest.slow.sleep', { ms: 300 });
  await sleep(20);
  cut(c);
  await assert.rejects(slow, { code: 'disconnected' });
  await c.once('open');
  const r = await c.request('index.index.index', { x: 1 });
  assert.equal(r.n, undefined);
});
