// Requests, replies, pushes and heartbeats against a real node.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, closeAll, env, mint, socket, until, sleep, uid } from './helpers.js';
import { Client, MsgoError, OPEN, CLOSED } from '../../sdk/msgo.js';

after(closeAll);

test('request resolves with the reply and flattens params', async () => {
  const c = client();
  const r = await c.request('Index.Index.Index', { a: 1, b: 'x' });
  assert.equal(r.status, 200);
  assert.equal(r.info, '执行完成');
  assert.equal(r.event, 'index.index.index');
  assert.equal(typeof r.id, 'number');
  assert.deepEqual(r.param, { a: 1, b: 'x' });
  assert.equal(c.state, OPEN);
});

test('replies are matched by id, whatever order they come in', async () => {
  const c = client();
  const slow = c.request('sdktest.slow.sleep', { ms: 150 });
  const echoes = Array.from({ length: 20 }, (_, i) => c.request('index.index.index', { i }));
  const got = await Promise.all(echoes);
  got.forEach((r, i) => assert.equal(r.param.i, i));
  assert.equal((await slow).param.ms, 150);
});

test('a status other than 200 rejects with status and info', async () => {
  const c = client();
  await assert.rejects(c.request('nope.nope.nope'), (err) => {
    assert.ok(err instanceof MsgoError);
    assert.equal(err.code, 'reply');
    assert.equal(err.status, 404);
    assert.match(err.info, /unknown method/);
    assert.equal(err.reply.event, 'nope.nope.nope');
    return true;
  });
  await assert.rejects(c.request('sdktest.slow.sleep', { ms: 'soon' }), { status: 400 });
  // the connection stays
  assert.equal((await c.request('index.index.index')).status, 200);
});

test('a request times out, and its late reply is dropped', async () => {
  const c = client();
  const frames = [];
  c.on('frame', (f) => frames.push(f));
  await assert.rejects(c.request('sdktest.slow.sleep', { ms: 300 }, { timeout: 50 }), { code: 'timeout', status: 0 });
  const r = await c.request('index.index.index', { after: true });
  assert.deepEqual(r.param, { after: true });
  await until(() => frames.some((f) => f.event === 'sdktest.slow.sleep'), 'the late reply');
});

test('an aborted request rejects at once', async () => {
  const c = client();
  const ac = new AbortController();
  const p = c.request('sdktest.slow.sleep', { ms: 200 }, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, { code: 'aborted' });
});

test('pushes reach on() listeners by event; off() and once() work', async () => {
  const c = client();
  const got = [];
  const fn = (param, frame) => got.push([param, frame.event, frame.id]);
  c.on('sdktest.note', fn);
  await c.request('sdktest.push.self', { event: 'sdktest.note', param: { n: 1 } });
  await until(() => got.length === 1, 'the push');
  assert.deepEqual(got[0], [{ n: 1 }, 'sdktest.note', undefined]);
  const once = c.once('sdktest.note');
  c.off('sdktest.note', fn);
  await c.request('sdktest.push.self', { event: 'sdktest.note', param: { n: 2 } });
  assert.deepEqual(await once, { n: 2 });
  assert.equal(got.length, 1);
});

test('a throwing listener does not stop the others; onError gets its error', async () => {
  const errors = [];
  const c = client({ onError: (e) => errors.push(e) });
  let reached = false;
  c.on('sdktest.boom', () => { throw new Error('listener bug'); });
  c.on('sdktest.boom', () => { reached = true; });
  await c.request('sdktest.push.self', { event: 'sdktest.boom' });
  await until(() => reached && errors.length === 1, 'the second listener and onError');
  assert.equal(errors[0].message, 'listener bug');
});

test('the heartbeat pings and hears pong', async () => {
  const c = client({ heartbeat: 40 });
  const pongs = [];
  c.on('pong', (p) => pongs.push(p));
  await until(() => pongs.length >= 2, 'two pongs');
  assert.equal(typeof pongs[0].time, 'number');
});

test('the heartbeat keeps an idle connection open past the idle timeout', async () => {
  const c = client({ url: env.idleURL, heartbeat: 300 });
  const closes = [];
  c.on('close', (i) => closes.push(i));
  await c.once('open');
  await sleep(2600);
  assert.deepEqual(closes, []);
  assert.equal(c.state, OPEN);
});

test('the token can travel in the query', async () => {
  const id = uid();
  const c = client({ id, type: 'kefu', tokenIn: 'query' });
  const r = await c.request('index.index.whoami');
  assert.deepEqual(r.param, { id, type: 'kefu', code: 'r1', nickname: id });
});

test('a token function is asked before each attempt', async () => {
  let asked = 0;
  const id = uid();
  const c = new Client({ url: env.url, socket, heartbeat: 0, backoffBase: 20, token: async () => { asked++; return mint({ id }); } }).connect();
  try {
    await c.once('open');
    await c.request('sdktest.conn.close', { code: 4000 });
    await until(() => asked === 2 && c.state === OPEN, 'the second attempt');
    assert.equal((await c.request('index.index.whoami')).param.id, id);
  } finally {
    c.close();
  }
});

test('close() ends the client and rejects what waits; connect() starts again', async () => {
  const c = client();
  await c.once('open');
  const waiting = c.request('sdktest.slow.sleep', { ms: 300 });
  c.close();
  await assert.rejects(waiting, { code: 'closed' });
  assert.equal(c.state, CLOSED);
  await assert.rejects(c.request('index.index.index'), { code: 'closed' });
  c.connect();
  assert.equal((await c.request('index.index.index', { again: 1 })).param.again, 1);
});
