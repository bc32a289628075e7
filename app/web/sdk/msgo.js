// msgo client SDK: a plain ES module, no build step, no dependencies.
//
//   import { connect } from '/sdk/msgo.js';
//   const client = connect({ token });            // same-origin /ws by default
//   client.on('live.message', (m) => show(m));   // pushes, by their event name
//   const { param } = await client.request('live.user.join');
//
// It speaks the msgo wire contract (docs/protocol.md): the token
// travels as the subprotocol "auth.<token>" beside "msgo" (or as ?auth= with
// tokenIn: 'query'), requests carry a numeric id that every answering frame
// echoes, and everything without an id is a push.
//
// Reconnecting. A dropped connection is retried with exponential backoff and
// full jitter: attempt n waits a random time in [0, min(backoffMax,
// backoffBase * 2^n)); n returns to 0 once a connection has stayed open for
// stableAfter ms. These closes are final (no reconnect, state 'closed'):
//   * 1008, kicked by the manager (POST /api/disconnect/user), unless its
//     reason says the client was too slow to read, which is the network's
//     fault and is retried;
//   * 4001-4999, reserved by msgo for closes that retrying cannot fix;
//   * a refused handshake when the verify option says the token is bad
//     (browsers hide the 403, so the SDK asks verify after a failed
//     handshake).
// Everything else is retried: 4000 (idle timeout), 1001 (server stopping),
// 1012 (restart), 1006 (network), 1000 from the server, 1002/1007/1009.
// isFinal replaces the rule.
//
// Requests made while connecting or reconnecting wait in a bounded queue
// (queueSize) and are sent in order once the connection opens; past the bound
// request rejects at once with code 'queue_full'.
//
// Sessions (option session, on by default). Every connection opens a
// resumable session (sys.session.open) and a reconnect resumes it
// (sys.session.resume) before anything else is sent, so a dropped network
// costs nothing: the server kept the connection's rooms and the frames sent
// meanwhile, which arrive once each and in order, and says how many of the
// client's messages it read, so the SDK resends exactly the ones it did not.
// A request in flight when the network dropped is not failed: its reply comes
// among the replayed frames, or it is resent. Only when the session could
// not be resumed (its window passed, the server lost it, or the server has
// sessions off) do such requests reject with code 'disconnected' (they may or
// may not have run, so the SDK never sends them twice), and the client emits
// 'reset': the connection starts afresh and the page reloads its state (joins
// again). The requests made while reconnecting wait for the reset's
// listeners: a listener that returns a promise (a re-join) holds them until
// it settles, and requests made meanwhile go out at once.
//
// Events (on/off/once): every push by its event name, called with (param,
// frame); and the client's own: 'state' (state, {prev, attempt, delay}),
// 'open' ({reconnect, resumed}), 'reset' ({}) before the 'open' of a
// reconnect that did not resume, 'close' ({code, reason, wasClean, final, opened}),
// 'frame' (frame) for every frame received, 'pong' as any push.
//
// Concurrency: JavaScript is single-threaded; every callback runs on the event
// loop. A listener (or onChunk) that throws does not stop the others: its
// error goes to options.onError, by default rethrown on a fresh microtask,
// where the console reports it.

/** @typedef {'connecting'|'open'|'reconnecting'|'closed'} State */

/**
 * A server frame (docs/protocol.md, "Frames from the server").
 * @typedef {object} Frame
 * @property {number} status
 * @property {string} info
 * @property {any} param
 * @property {string} event
 * @property {string|number} [id]
 */

/**
 * What the SDK needs of a socket: the browser WebSocket, the ws package's,
 * or the WeChat adapter in msgo-wx.js.
 * @typedef {object} SocketLike
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((ev: any) => void)|null} onopen
 * @property {((ev: {data: any}) => void)|null} onmessage
 * @property {((ev: {code: number, reason: string, wasClean?: boolean}) => void)|null} onclose
 * @property {((ev: any) => void)|null} onerror
 * @property {string} [binaryType]
 */

/**
 * @typedef {object} Options
 * @property {string|(() => string)} [url] WebSocket URL; default same-origin /ws
 * @property {string|(() => string|Promise<string>)} [token] the auth token, or a function asked before every attempt (to refresh it)
 * @property {'protocol'|'query'} [tokenIn] how the token travels; default 'protocol'
 * @property {(url: string, protocols: string[]) => SocketLike} [socket] socket factory; default new WebSocket(url, protocols)
 * @property {number} [timeout] default request timeout, ms; 0 = none; default 10000
 * @property {number} [heartbeat] ping interval, ms; 0 = none; default 25000. A connection that receives nothing for two intervals is dropped and retried.
 * @property {number} [backoffBase] ms; default 500
 * @property {number} [backoffMax] ms; default 30000
 * @property {number} [stableAfter] ms open before the backoff resets; default 10000
 * @property {number} [queueSize] requests held while not open; default 100
 * @property {(code: number, reason: string) => boolean} [isFinal] which closes end the client
 * @property {(token: string) => Promise<boolean|undefined>} [verify] asked after a refused handshake: false means the token is bad (final), true or undefined retries
 * @property {() => number} [random] in [0, 1); default Math.random (tests fix it)
 * @property {(err: unknown) => void} [onError] gets what listeners and onChunk throw; default rethrows it on a microtask
 * @property {boolean} [session] open a resumable session and resume it on reconnect; default true
 */

export const CONNECTING = 'connecting';
export const OPEN = 'open';
export const RECONNECTING = 'reconnecting';
export const CLOSED = 'closed';

/** Defaults for the numeric options. */
export const DEFAULTS = Object.freeze({
  timeout: 10000,
  heartbeat: 25000,
  backoffBase: 500,
  backoffMax: 30000,
  stableAfter: 10000,
  queueSize: 100,
});

/**
 * A request that failed: a reply with a status other than 200 (code
 * 'reply'), or a client-side failure (status 0, code 'timeout', 'queue_full',
 * 'disconnected', 'closed', 'aborted' or 'unauthorized').
 */
export class MsgoError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string, info?: string, event?: string, reply?: Frame|null, closeCode?: number, closeReason?: string}} [detail]
   */
  constructor(message, detail = {}) {
    super(message);
    this.name = 'MsgoError';
    /** @type {number} */ this.status = detail.status || 0;
    /** @type {string} */ this.code = detail.code || '';
    /** @type {string} */ this.info = detail.info || '';
    /** @type {string} */ this.event = detail.event || '';
    /** @type {Frame|null} */ this.reply = detail.reply || null;
    /** @type {number|undefined} */ this.closeCode = detail.closeCode;
    /** @type {string|undefined} */ this.closeReason = detail.closeReason;
  }
}

/**
 * The full-jitter backoff: a random delay in [0, min(max, base * 2^attempt)).
 * @param {number} attempt 0 for the first retry
 * @param {number} base
 * @param {number} max
 * @param {() => number} [random]
 */
export function backoffDelay(attempt, base, max, random = Math.random) {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/**
 * The default rule for closes that end the client (see the module comment).
 * @param {number} code
 * @param {string} [reason]
 */
export function isFinalClose(code, reason = '') {
  if (code === 1008) return !/too slow/i.test(reason);
  return code >= 4001 && code <= 4999;
}

function defaultURL() {
  const loc = globalThis.location;
  if (!loc || !loc.host) throw new Error('msgo: no url given and no page location to default to');
  return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + '/ws';
}

function defaultSocket(url, protocols) {
  if (typeof globalThis.WebSocket !== 'function') {
    throw new Error('msgo: no global WebSocket; pass options.socket (e.g. the ws package)');
  }
  return new globalThis.WebSocket(url, protocols);
}

function decode(data) {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return String(data);
}

function rethrow(err) {
  queueMicrotask(() => { throw err; });
}

/**
 * One logical connection to msgo that survives reconnects.
 */
export class Client {
  /** @param {Options} [options] */
  constructor(options = {}) {
    this._o = { ...DEFAULTS, tokenIn: 'protocol', socket: defaultSocket, isFinal: isFinalClose, random: Math.random, onError: rethrow, session: true, ...options };
    /** @type {State} */ this._state = CLOSED;
    /** @type {SocketLike|null} */ this._socket = null;
    this._listeners = new Map();
    this._pending = new Map(); // id -> call, sent and awaiting its reply
    this._queue = []; // calls waiting for the connection to open
    this._nextId = 0;
    this._attempt = 0;
    this._generation = 0; // bumped by close(), so late async steps of an old run give up
    this._everOpened = false;
    this._opened = false;
    this._token = '';
    this._timers = { retry: 0, stable: 0, heartbeat: 0 };
    this._lastRecv = 0;
    this._lastPing = 0;
    // The resumable session: its id once the server answered the open, the
    // number of the last frame received, and the messages sent since the
    // open that the server may not have read (seq, text), oldest first.
    this._session = null;
    this._counting = false; // messages are logged: a session is open or opening
    this._lastN = 0;
    this._sent = 0;
    this._log = [];
    /** @type {Map<string, (f: Frame) => void>} */
    this._controls = new Map();
    this._phase = ''; // 'resuming' or 'resetting' while a reconnect settles
    this._lastClose = { code: 1006, reason: '' };
  }

  /** @returns {State} */
  get state() { return this._state; }

  /** Starts connecting; does nothing unless the client is closed. */
  connect() {
    if (this._state !== CLOSED) return this;
    this._attempt = 0;
    this._setState(CONNECTING);
    this._dial();
    return this;
  }

  /**
   * Closes the connection for good (until connect is called again). Waiting
   * and queued requests reject with code 'closed'.
   * @param {number} [code] 1000 or 3000-4999
   * @param {string} [reason]
   */
  close(code = 1000, reason = '') {
    if (this._state === CLOSED) return;
    this._generation++;
    const sock = this._detach();
    if (sock) {
      try { sock.close(code, reason); } catch (_) { /* already closing */ }
    }
    this._shutdown(new MsgoError('msgo: client closed', { code: 'closed' }), { code, reason, wasClean: true, final: true, opened: this._opened });
  }

  /** Skips the wait of a pending reconnect (e.g. when the browser comes back online). */
  retry() {
    if (this._state !== RECONNECTING || !this._timers.retry) return;
    clearTimeout(this._timers.retry);
    this._timers.retry = 0;
    this._dial();
  }

  /**
   * Sends a request and resolves with its reply when the status is 200; any
   * other status rejects with a MsgoError carrying status and info.
   * With onChunk the request is a stream (kefu.bot.ask): every frame with
   * this id whose param has a boolean `complete` is a chunk, the timeout
   * restarts at each chunk, and the promise resolves with the frame whose
   * `complete` is true (which onChunk sees too). A plain 200 acknowledgement
   * in between is ignored.
   * @param {string} method
   * @param {object} [params]
   * @param {{timeout?: number, signal?: AbortSignal, onChunk?: (param: any, frame: Frame) => void}} [opts]
   * @returns {Promise<Frame>}
   */
  request(method, params = {}, opts = {}) {
    return new Promise((resolve, reject) => {
      if (this._state === CLOSED) {
        reject(new MsgoError('msgo: client is closed', { code: 'closed' }));
        return;
      }
      if (opts.signal && opts.signal.aborted) {
        reject(new MsgoError('msgo: request aborted', { code: 'aborted' }));
        return;
      }
      const id = ++this._nextId;
      const call = {
        id, method, resolve, reject,
        frame: JSON.stringify({ ...params, method, id }),
        timeout: opts.timeout ?? this._o.timeout,
        onChunk: opts.onChunk || null,
        timer: 0, signal: opts.signal || null, onAbort: null,
      };
      if (this._state !== OPEN && this._phase !== 'resetting' && this._queue.length >= this._o.queueSize) {
        reject(new MsgoError(`msgo: ${method}: request queue full (${this._o.queueSize}) while ${this._state}`, { code: 'queue_full' }));
        return;
      }
      this._arm(call);
      if (call.signal) {
        call.onAbort = () => this._settle(call, new MsgoError(`msgo: ${method}: aborted`, { code: 'aborted' }));
        call.signal.addEventListener('abort', call.onAbort, { once: true });
      }
      if (this._state === OPEN || this._phase === 'resetting') this._send(call);
      else this._queue.push(call);
    });
  }

  /**
   * A streamed request as an async iterator of chunk params:
   *   for await (const chunk of client.stream('kefu.bot.ask', {message, session_id})) text += chunk.message;
   * `result` resolves with the final frame; iterating rethrows its error.
   * @param {string} method
   * @param {object} [params]
   * @param {{timeout?: number, signal?: AbortSignal}} [opts]
   */
  stream(method, params = {}, opts = {}) {
    return new Stream(this, method, params, opts);
  }

  /**
   * Adds a listener; returns a function that removes it.
   * @param {string} event
   * @param {(...args: any[]) => void} fn
   */
  on(event, fn) {
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} fn
   */
  off(event, fn) {
    const set = this._listeners.get(event);
    if (set) set.delete(fn);
  }

  /**
   * Calls fn once on the next event, or without fn returns a promise of the
   * event's first argument.
   * @param {string} event
   * @param {(...args: any[]) => void} [fn]
   */
  once(event, fn) {
    if (!fn) return new Promise((resolve) => this.once(event, resolve));
    const off = this.on(event, (...args) => { off(); fn(...args); });
    return off;
  }

  _emit(event, ...args) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(...args); } catch (err) { this._o.onError(err); }
    }
  }

  _setState(state, info = {}) {
    const prev = this._state;
    if (prev === state && state !== RECONNECTING) return;
    this._state = state;
    this._emit('state', state, { prev, ...info });
  }

  _dial() {
    const gen = this._generation;
    const token = this._o.token;
    Promise.resolve(typeof token === 'function' ? token() : token).then(
      (tok) => { if (gen === this._generation) this._open(tok || ''); },
      (err) => { if (gen === this._generation) this._lost(null, 1006, `token: ${err && err.message}`, false); },
    );
  }

  _open(token) {
    this._token = token;
    let url;
    const protocols = ['msgo'];
    let sock;
    try {
      url = typeof this._o.url === 'function' ? this._o.url() : (this._o.url || defaultURL());
      if (token && this._o.tokenIn === 'query') {
        url += (url.includes('?') ? '&' : '?') + 'auth=' + encodeURIComponent(token);
      } else if (token) {
        protocols.push('auth.' + token);
      }
      sock = this._o.socket(url, protocols);
    } catch (err) {
      this._lost(null, 1006, String(err && err.message), false);
      return;
    }
    try { sock.binaryType = 'arraybuffer'; } catch (_) { /* not settable */ }
    this._socket = sock;
    this._opened = false;
    sock.onopen = () => { if (sock === this._socket) this._onOpen(); };
    sock.onmessage = (ev) => { if (sock === this._socket) this._onMessage(ev.data); };
    sock.onerror = () => { /* the close event that follows says what happened */ };
    sock.onclose = (ev) => { if (sock === this._socket) this._lost(sock, ev.code || 1006, ev.reason || '', !!ev.wasClean); };
  }

  _onOpen() {
    const reconnect = this._everOpened;
    this._opened = this._everOpened = true;
    this._lastRecv = Date.now();
    this._lastPing = 0;
    this._timers.stable = setTimeout(() => { this._attempt = 0; }, this._o.stableAfter);
    if (this._o.heartbeat > 0) this._timers.heartbeat = setInterval(() => this._beat(), this._o.heartbeat);
    if (this._session) {
      this._resume();
      return;
    }
    if (reconnect) {
      this._reset();
      return;
    }
    this._openSession();
    // The queue goes out before anyone hears of the open, so calls keep their order.
    this._flush();
    this._setState(OPEN);
    this._emit('open', { reconnect, resumed: false });
  }

  _flush() {
    for (const call of this._queue.splice(0)) this._send(call);
  }

  // _openSession asks for a session; frames sent after it count as read
  // from the start of the session, which begins with the server's answer.
  _openSession() {
    this._session = null;
    this._lastN = this._sent = 0;
    this._log = [];
    this._counting = !!this._o.session;
    if (!this._counting) return;
    const sock = this._socket;
    this._control('sys.session.open', {}, (f) => {
      if (sock !== this._socket) return;
      if (f.status !== 200 || !f.param || !f.param.session) {
        this._counting = false; // sessions off: nothing counts
        this._log = [];
        return;
      }
      this._session = f.param.session;
    });
  }

  // _resume asks the server to continue the session on this connection.
  _resume() {
    const sock = this._socket;
    // Nothing else goes out until the answer: what the server reads after
    // the resume is not in its count.
    this._phase = 'resuming';
    this._control('sys.session.resume', { session: this._session, n: this._lastN }, (f) => {
      if (sock !== this._socket) return;
      const p = (f && f.param) || {};
      if (f.status !== 200 || !p.resumed) {
        this._session = null;
        this._reset();
        return;
      }
      // What the server read needs no resend; the rest goes again, in order.
      const received = Number(p.received) || 0;
      const resend = this._log.filter((e) => e.seq > received);
      this._sent = received;
      this._log = [];
      for (const e of resend) this._write(e.text, e.ping);
      this._phase = '';
      this._flush();
      this._setState(OPEN);
      this._emit('open', { reconnect: true, resumed: true });
    });
  }

  // _reset starts afresh on this connection: requests whose fate is unknown
  // fail, a new session opens, and the reset's listeners run before the
  // queue goes out.
  _reset() {
    const sock = this._socket;
    this._failPending(this._lastClose.code, this._lastClose.reason);
    this._openSession();
    this._phase = 'resetting';
    const waits = [];
    const set = this._listeners.get('reset');
    for (const fn of set ? [...set] : []) {
      try { waits.push(fn({})); } catch (err) { this._o.onError(err); }
    }
    Promise.allSettled(waits).then(() => {
      if (sock !== this._socket) return;
      this._phase = '';
      this._flush();
      this._setState(OPEN);
      this._emit('open', { reconnect: true, resumed: false });
    });
  }

  // _control sends a session request outside the calls and the log.
  _control(method, params, onReply) {
    const id = `s${++this._nextId}`;
    this._controls.set(id, onReply);
    try { this._socket.send(JSON.stringify({ ...params, method, id })); } catch (_) { /* the close follows */ }
  }

  _beat() {
    if (this._phase === 'resuming') return;
    if (this._lastPing && this._lastRecv < this._lastPing) {
      // Nothing came back since the last ping: the path is dead even if the
      // socket has not noticed. Drop it rather than wait for TCP to give up.
      const sock = this._detach();
      try { sock.close(); } catch (_) { /* ignore */ }
      this._lost(null, 1006, 'heartbeat timeout', false);
      return;
    }
    this._lastPing = Date.now();
    this._write('{"method":"ping"}', true);
  }

  // _write sends a message; in a session it is logged until known read.
  _write(text, ping = false) {
    if (this._counting) this._log.push({ seq: ++this._sent, text, ping });
    try {
      this._socket.send(text);
      return true;
    } catch (_) {
      return false; // the close event follows
    }
  }

  // _read drops the log up to seq: the server read it (it answered it, and
  // reads in order).
  _read(seq) {
    let i = 0;
    while (i < this._log.length && this._log[i].seq <= seq) i++;
    if (i) this._log.splice(0, i);
  }

  _send(call) {
    this._pending.set(call.id, call);
    this._write(call.frame);
    call.seq = this._sent;
  }

  _onMessage(data) {
    this._lastRecv = Date.now();
    let f;
    try { f = JSON.parse(decode(data)); } catch (_) { return; }
    if (!f || typeof f !== 'object') return;
    if (typeof f.n === 'number') {
      if (f.n <= this._lastN) return; // had it already
      this._lastN = f.n;
    } else if (this._phase === 'resuming' && !(typeof f.id === 'string' && this._controls.has(f.id))) {
      // A push to the user reaching the new connection before the resume's
      // answer: the session kept its own numbered copy, replayed after the
      // answer; and if the session is gone, the reset reloads everything.
      return;
    }
    if (typeof f.id === 'string' && this._controls.has(f.id)) {
      const fn = this._controls.get(f.id);
      this._controls.delete(f.id);
      fn(f);
      return;
    }
    this._emit('frame', f);
    if (f.id === undefined || f.id === null) {
      if (f.event === 'pong') {
        const ping = this._log.find((e) => e.ping);
        if (ping) this._read(ping.seq);
      }
      this._emit(f.event, f.param, f);
      return;
    }
    const call = this._pending.get(typeof f.id === 'number' ? f.id : Number(f.id));
    if (!call) return; // a reply that came after its timeout
    if (call.seq) this._read(call.seq);
    if (call.onChunk && f.status === 200) {
      const p = f.param;
      if (!p || typeof p.complete !== 'boolean') return; // an acknowledgement; chunks follow
      this._arm(call);
      try { call.onChunk(p, f); } catch (err) { this._o.onError(err); }
      if (p.complete) this._settle(call, null, f);
      return;
    }
    if (f.status === 200) this._settle(call, null, f);
    else this._settle(call, new MsgoError(`msgo: ${call.method}: ${f.status} ${f.info || ''}`.trim(), { code: 'reply', status: f.status, info: f.info || '', event: f.event || '', reply: f }));
  }

  // _arm (re)starts a call's timeout.
  _arm(call) {
    if (call.timer) clearTimeout(call.timer);
    if (call.timeout > 0) {
      call.timer = setTimeout(() => this._settle(call, new MsgoError(`msgo: ${call.method}: no reply in ${call.timeout} ms`, { code: 'timeout' })), call.timeout);
    }
  }

  _settle(call, err, frame) {
    if (call.timer) clearTimeout(call.timer);
    call.timer = 0;
    if (call.signal && call.onAbort) call.signal.removeEventListener('abort', call.onAbort);
    if (this._pending.get(call.id) === call) this._pending.delete(call.id);
    else {
      const i = this._queue.indexOf(call);
      if (i < 0) return; // settled already
      this._queue.splice(i, 1);
    }
    if (err) call.reject(err);
    else call.resolve(frame);
  }

  // _detach forgets the current socket and stops its timers; its late events are ignored.
  _detach() {
    const sock = this._socket;
    this._socket = null;
    clearTimeout(this._timers.stable);
    clearInterval(this._timers.heartbeat);
    clearTimeout(this._timers.retry);
    this._timers.stable = this._timers.heartbeat = this._timers.retry = 0;
    if (sock) sock.onopen = sock.onmessage = sock.onclose = null;
    return sock;
  }

  _failPending(closeCode, closeReason) {
    for (const call of [...this._pending.values()]) {
      this._settle(call, new MsgoError(`msgo: ${call.method}: connection lost before the reply (${closeCode})`, { code: 'disconnected', closeCode, closeReason }));
    }
  }

  // _lost handles the end of a connection attempt or of an open connection.
  _lost(sock, code, reason, wasClean) {
    if (sock) this._detach();
    const opened = this._opened;
    this._opened = false;
    this._phase = '';
    this._controls.clear();
    this._lastClose = { code, reason };
    // A close frame (any code but 1006) ends the session on the server too.
    if (code !== 1006) this._session = null;
    // In a session, requests in flight wait for the resume to say their fate.
    if (!this._session) this._failPending(code, reason);
    const final = opened && this._o.isFinal(code, reason);
    if (final) {
      this._shutdown(new MsgoError(`msgo: closed by the server (${code} ${reason})`.trim(), { code: 'closed', closeCode: code, closeReason: reason }), { code, reason, wasClean, final, opened });
      return;
    }
    this._emit('close', { code, reason, wasClean, final: false, opened });
    if (!opened && this._o.verify) {
      const gen = this._generation;
      Promise.resolve()
        .then(() => this._o.verify(this._token))
        .catch(() => undefined)
        .then((ok) => {
          if (gen !== this._generation || this._state === CLOSED) return;
          if (ok === false) {
            this._shutdown(new MsgoError('msgo: missing or invalid token', { code: 'unauthorized' }), { code: 1006, reason: 'unauthorized', wasClean: false, final: true, opened: false });
          } else {
            this._schedule();
          }
        });
      return;
    }
    this._schedule();
  }

  _schedule() {
    const attempt = this._attempt++;
    const delay = backoffDelay(attempt, this._o.backoffBase, this._o.backoffMax, this._o.random);
    this._timers.retry = setTimeout(() => { this._timers.retry = 0; this._dial(); }, delay);
    this._setState(RECONNECTING, { attempt, delay });
  }

  // _shutdown ends the client: everything waiting rejects with err.
  _shutdown(err, closeInfo) {
    this._detach();
    this._opened = false;
    this._session = null;
    this._counting = false;
    this._phase = '';
    this._generation++;
    for (const call of [...this._pending.values(), ...this._queue]) this._settle(call, err);
    this._setState(CLOSED, { error: err });
    this._emit('close', closeInfo);
  }
}

/**
 * A streamed request (see Client.stream): an async iterable of chunk params.
 */
export class Stream {
  /**
   * @param {Client} client
   * @param {string} method
   * @param {object} params
   * @param {{timeout?: number, signal?: AbortSignal}} opts
   */
  constructor(client, method, params, opts) {
    this._chunks = [];
    this._wake = null;
    this._done = false;
    this._error = null;
    /** Resolves with the final frame, or rejects with the request's error. @type {Promise<Frame>} */
    this.result = client.request(method, params, {
      ...opts,
      onChunk: (p) => { this._chunks.push(p); this._notify(); },
    });
    this.result.then(() => { this._done = true; this._notify(); }, (err) => { this._error = err; this._notify(); });
  }

  _notify() {
    const wake = this._wake;
    this._wake = null;
    if (wake) wake();
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      if (this._chunks.length) {
        yield this._chunks.shift();
        continue;
      }
      if (this._error) throw this._error;
      if (this._done) return;
      await new Promise((resolve) => { this._wake = resolve; });
    }
  }
}

/**
 * Creates a client and starts connecting.
 * @param {Options} [options]
 */
export function connect(options) {
  return new Client(options).connect();
}
