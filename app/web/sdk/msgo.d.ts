// Types for msgo.js, the msgo client SDK. See the comment at the top of
// msgo.js for the reconnect and queue rules.

export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

export const CONNECTING: 'connecting';
export const OPEN: 'open';
export const RECONNECTING: 'reconnecting';
export const CLOSED: 'closed';

/** A server frame (docs/protocol.md, "Frames from the server"). */
export interface Frame<P = any> {
  status: number;
  info: string;
  param: P;
  event: string;
  id?: string | number;
}

/** What the SDK needs of a socket (browser WebSocket, ws, msgo-wx). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: any) => void) | null;
  binaryType?: string;
}

export interface Options {
  /** WebSocket URL; default same-origin /ws. */
  url?: string | (() => string);
  /** The auth token, or a function asked before every attempt. */
  token?: string | (() => string | Promise<string>);
  /** How the token travels; default 'protocol' (Sec-WebSocket-Protocol auth.<token>). */
  tokenIn?: 'protocol' | 'query';
  /** Socket factory; default new WebSocket(url, protocols). */
  socket?: (url: string, protocols: string[]) => SocketLike;
  /** Default request timeout in ms; 0 = none. Default 10000. */
  timeout?: number;
  /** Ping interval in ms; 0 = none. Default 25000. */
  heartbeat?: number;
  /** Default 500 ms. */
  backoffBase?: number;
  /** Default 30000 ms. */
  backoffMax?: number;
  /** How long a connection must stay open before the backoff resets. Default 10000 ms. */
  stableAfter?: number;
  /** Requests held while not open. Default 100. */
  queueSize?: number;
  /** Which closes end the client; default isFinalClose. */
  isFinal?: (code: number, reason: string) => boolean;
  /** Asked after a refused handshake: false = the token is bad (final). */
  verify?: (token: string) => Promise<boolean | undefined>;
  /** In [0, 1); default Math.random. */
  random?: () => number;
  /** Gets what listeners and onChunk throw; default rethrows it on a microtask. */
  onError?: (err: unknown) => void;
}

export const DEFAULTS: Readonly<{
  timeout: number;
  heartbeat: number;
  backoffBase: number;
  backoffMax: number;
  stableAfter: number;
  queueSize: number;
}>;

export type ErrorCode = 'reply' | 'timeout' | 'queue_full' | 'disconnected' | 'closed' | 'aborted' | 'unauthorized';

export class MsgoError extends Error {
  /** The reply's status, or 0 for a client-side failure. */
  status: number;
  code: ErrorCode | '';
  info: string;
  event: string;
  reply: Frame | null;
  closeCode?: number;
  closeReason?: string;
}

export interface RequestOptions {
  timeout?: number;
  signal?: AbortSignal;
  /** Makes the request a stream: called for each chunk (param.complete false, then true). */
  onChunk?: (param: any, frame: Frame) => void;
}

export interface StateInfo {
  prev: State;
  attempt?: number;
  delay?: number;
  error?: MsgoError;
}

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
  final: boolean;
  opened: boolean;
}

// Pushes of msgo's own modules (docs/live.md, docs/kefu.md).
export interface LiveMember { id: string; nickname: string; type: string; online: number }
export interface LiveMessage { seq: number; id: string; nickname: string; content: string; time: number }
export interface Winner { id: string; nickname: string }
export interface KefuMessage { id: number; openid: string; msg: string; type: 1 | 2; isread: number; time: number }
export interface BotChunk { session_id: string; message: string; complete: boolean }

export interface PushEvents {
  'live.user.join': LiveMember;
  'live.user.leave': LiveMember;
  'live.message': LiveMessage;
  'live.lottery': { winners: Winner[] };
  'kefu.message': KefuMessage;
  'system.notice': { title: string; message: string; level: string; time: number };
  'data.update': { resource_type: string; action: string; data: any };
  pong: { time: number };
  error: any;
}

export class Stream<C = any> implements AsyncIterable<C> {
  /** Resolves with the final frame, rejects with the request's error. */
  result: Promise<Frame<C>>;
  [Symbol.asyncIterator](): AsyncIterator<C>;
}

export class Client {
  constructor(options?: Options);
  readonly state: State;
  connect(): this;
  close(code?: number, reason?: string): void;
  retry(): void;
  request<P = any>(method: string, params?: object, opts?: RequestOptions): Promise<Frame<P>>;
  stream<C = BotChunk>(method: string, params?: object, opts?: Omit<RequestOptions, 'onChunk'>): Stream<C>;

  on(event: 'state', fn: (state: State, info: StateInfo) => void): () => void;
  on(event: 'open', fn: (info: { reconnect: boolean }) => void): () => void;
  on(event: 'close', fn: (info: CloseInfo) => void): () => void;
  on(event: 'frame', fn: (frame: Frame) => void): () => void;
  on<E extends keyof PushEvents>(event: E, fn: (param: PushEvents[E], frame: Frame<PushEvents[E]>) => void): () => void;
  on(event: string, fn: (param: any, frame: Frame) => void): () => void;
  off(event: string, fn: (...args: any[]) => void): void;
  once(event: string, fn: (...args: any[]) => void): () => void;
  once(event: string): Promise<any>;
}

export function connect(options?: Options): Client;
export function backoffDelay(attempt: number, base: number, max: number, random?: () => number): number;
export function isFinalClose(code: number, reason?: string): boolean;
