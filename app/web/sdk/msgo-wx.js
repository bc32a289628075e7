// msgo client SDK for WeChat mini programs: the same Client, over
// wx.connectSocket instead of the browser's WebSocket.
//
//   import { connect } from './msgo-wx.js';
//   const client = connect({ url: 'wss://<your domain>/ws', token });
//
// Mini programs have no page origin, so url is required. The token travels
// as the "auth.<token>" subprotocol (wx.connectSocket's protocols), as in a
// browser. Copy msgo.js beside this file: it imports it.

import { Client } from './msgo.js';

/**
 * Returns a socket factory for the Client's socket option built on
 * wx.connectSocket. Each call opens its own SocketTask (tasks are
 * independent since base library 1.7.0).
 * @param {any} [wxApi] the wx object; default the global wx
 * @returns {(url: string, protocols: string[]) => import('./msgo.js').SocketLike}
 */
export function wxSocket(wxApi = globalThis.wx) {
  if (!wxApi || typeof wxApi.connectSocket !== 'function') {
    throw new Error('msgo-wx: wx.connectSocket is not available');
  }
  return (url, protocols) => {
    const sock = {
      readyState: 0,
      binaryType: 'arraybuffer',
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send(data) {
        if (sock.readyState !== 1) throw new Error('msgo-wx: socket not open');
        task.send({ data });
      },
      close(code = 1000, reason = '') {
        if (sock.readyState >= 2) return;
        sock.readyState = 2;
        task.close({ code, reason });
      },
    };
    let closed = false;
    const fireClose = (code, reason) => {
      if (closed) return;
      closed = true;
      sock.readyState = 3;
      if (sock.onclose) sock.onclose({ code: code || 1006, reason: reason || '', wasClean: code !== 1006 && !!code });
    };
    const task = wxApi.connectSocket({
      url,
      protocols,
      // A connect that fails at once (bad URL, domain not in the allow-list)
      // may never reach onClose; report it as an abnormal close.
      fail: (res) => fireClose(1006, (res && res.errMsg) || 'connectSocket failed'),
    });
    task.onOpen(() => {
      sock.readyState = 1;
      if (sock.onopen) sock.onopen({});
    });
    task.onMessage((res) => {
      if (sock.onmessage) sock.onmessage({ data: res.data });
    });
    task.onError((res) => {
      if (sock.onerror) sock.onerror({ message: res && res.errMsg });
      // Some base library versions report a failed handshake through onError
      // alone; the close that should follow then never comes.
      if (sock.readyState === 0) fireClose(1006, (res && res.errMsg) || 'socket error');
    });
    task.onClose((res) => fireClose(res && res.code, res && res.reason));
    return sock;
  };
}

/**
 * Creates a Client over wx.connectSocket and starts connecting.
 * @param {import('./msgo.js').Options & {wx?: any}} options
 */
export function connect(options) {
  const { wx: wxApi, ...rest } = options;
  return new Client({ socket: wxSocket(wxApi), ...rest }).connect();
}

export { Client, MsgoError, CONNECTING, OPEN, RECONNECTING, CLOSED } from './msgo.js';
