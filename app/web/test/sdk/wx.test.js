// The WeChat adapter, driven through a wx object whose connectSocket is a
// real WebSocket (the ws package) to the real node, shaped as the mini
// program API is: a SocketTask with onOpen/onMessage/onClose/onError,
// send({data}) and close({code, reason}).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, mint, socket, uid, until } from './helpers.js';
import { connect, wxSocket, OPEN } from '../../sdk/msgo-wx.js';

const made = [];
after(() => made.forEach((c) => c.close()));

function wxOverWS() {
  const calls = [];
  const sockets = [];
  return {
    calls,
    sockets,
    connectSocket(opts) {
      calls.push({ url: opts.url, protocols: opts.protocols });
      const ws = socket(opts.url, opts.protocols);
      sockets.push(ws);
      const on = {};
      ws.onopen = () => on.open && on.open({ header: {}, profile: {} });
      ws.onmessage = (ev) => on.message && on.message({ data: ev.data });
      ws.onerror = (ev) => on.error && on.error({ errMsg: `connectSocket:fail ${ev.message || ''}` });
      ws.onclose = (ev) => on.close && on.close({ code: ev.code, reason: ev.reason });
      return {
        onOpen: (f) => { on.open = f; },
        onMessage: (f) => { on.message = f; },
        onError: (f) => { on.error = f; },
        onClose: (f) => { on.close = f; },
        send: ({ data }) => ws.send(data),
        close: ({ code, reason }) => ws.close(code, reason),
      };
    },
  };
}

test('the wx adapter connects with the token as a subprotocol and answers requests', async () => {
  const wx = wxOverWS();
  const id = uid('wx');
  const c = connect({ wx, url: env.url, token: mint({ id }), heartbeat: 0 });
  made.push(c);
  const r = await c.request('index.index.whoami');
  assert.equal(r.param.id, id);
  assert.equal(wx.calls[0].protocols[0], 'msgo');
  assert.ok(wx.calls[0].protocols[1].startsWith('auth.'));
});

test('the wx adapter reconnects after a 4000 close and reports the code', async () => {
  const wx = wxOverWS();
  const c = connect({ wx, url: env.url, token: mint({ id: uid('wx') }), heartbeat: 0, backoffBase: 20 });
  made.push(c);
  await c.once('open');
  const closed = c.once('close');
  await c.request('sdktest.conn.close', { code: 4000, reason: 'idle timeout' });
  const info = await closed;
  assert.equal(info.code, 4000);
  assert.equal(info.reason, 'idle timeout');
  await until(() => c.state === OPEN && wx.calls.length === 2, 'the reconnect');
});

test('wxSocket refuses to run without wx', () => {
  assert.throws(() => wxSocket(undefined), /wx.connectSocket/);
});

test('the wx adapter resumes its session after the network drops', async () => {
  const wx = wxOverWS();
  const c = connect({ wx, url: env.url, token: mint({ id: uid('wx') }), heartbeat: 0, backoffBase: 20 });
  made.push(c);
  const { param: { conn } } = await c.request('sdktest.conn.id');
  const opens = [];
  c.on('open', (info) => opens.push(info));
  wx.sockets[0]._socket.destroy(); // no close frame: a lost network
  await until(() => opens.length === 1, 'the resume');
  assert.deepEqual(opens[0], { reconnect: true, resumed: true });
  assert.equal((await c.request('sdktest.conn.id')).param.conn, conn);
});
