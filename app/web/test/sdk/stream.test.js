// Streamed replies (several frames with one id, param.complete), the shape
// of kefu.bot.ask.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, closeAll } from './helpers.js';

after(closeAll);

const parts = ['Our ', 'opening ', 'hours ', 'are ', '9 to 5.'];

test('stream() yields the chunks in order and resolves with the last frame', async () => {
  const c = client();
  const s = c.stream('sdktest.stream.chunks', { parts, session_id: 's1' });
  let text = '';
  const ids = new Set();
  for await (const chunk of s) {
    assert.equal(chunk.session_id, 's1');
    text += chunk.message;
    ids.add(chunk.complete);
  }
  assert.equal(text, parts.join(''));
  const last = await s.result;
  assert.equal(last.param.complete, true);
  assert.equal(last.event, 'sdktest.stream');
});

test('a plain acknowledgement before the chunks is skipped', async () => {
  const c = client();
  const chunks = [];
  const last = await c.request('sdktest.stream.chunks', { parts, ack_first: true }, { onChunk: (p) => chunks.push(p) });
  assert.equal(chunks.map((p) => p.message).join(''), parts.join(''));
  assert.equal(chunks.at(-1).complete, true);
  assert.equal(chunks.filter((p) => p.complete).length, 1);
  assert.equal(last.param.complete, true);
});

test('an error after some chunks ends the iteration with it', async () => {
  const c = client();
  const got = [];
  await assert.rejects(async () => {
    for await (const chunk of c.stream('sdktest.stream.chunks', { parts, fail_after: 2 })) got.push(chunk.message);
  }, { status: 500, code: 'reply' });
  assert.deepEqual(got, ['Our ', 'opening ']);
});

test('the timeout restarts at each chunk', async () => {
  const c = client();
  // 5 chunks 250 ms apart: 1250 ms in all, longer than the timeout, but
  // never 1000 ms without a frame.
  const s = c.stream('sdktest.stream.chunks', { parts, gap_ms: 250 }, { timeout: 1000 });
  let text = '';
  for await (const chunk of s) text += chunk.message;
  assert.equal(text, parts.join(''));
  await assert.rejects(c.request('sdktest.stream.chunks', { parts, gap_ms: 400 }, { timeout: 100, onChunk: () => {} }), { code: 'timeout' });
});

test('two streams at once keep their chunks apart', async () => {
  const c = client();
  const a = c.stream('sdktest.stream.chunks', { parts: ['a1', 'a2', 'a3'], session_id: 'a' });
  const b = c.stream('sdktest.stream.chunks', { parts: ['b1', 'b2'], session_id: 'b' });
  const collect = async (s) => { const out = []; for await (const ch of s) out.push(ch.message); return out.join(','); };
  assert.deepEqual(await Promise.all([collect(a), collect(b)]), ['a1,a2,a3,', 'b1,b2,']);
});
