// Compiled by tsc (never run): the SDK's declared types accept the uses the
// docs show, and reject obvious misuse.
import { connect, Client, MsgoError, type Frame, type LiveMessage } from '../sdk/msgo.js';
import { connect as wxConnect } from '../sdk/msgo-wx.js';

async function uses(): Promise<void> {
  const c: Client = connect({ token: 't', heartbeat: 25000, verify: async () => true });
  const off = c.on('live.message', (m: LiveMessage, f: Frame<LiveMessage>) => void m.seq.toFixed(f.status));
  off();
  c.on('state', (s, info) => void [s.toUpperCase(), info.prev]);
  c.on('close', (i) => void (i.final && i.code));
  const r = await c.request<{ online: number }>('live.user.join', {}, { timeout: 5000 });
  r.param.online.toFixed();
  for await (const chunk of c.stream('kefu.bot.ask', { message: 'hi', session_id: 's' })) chunk.message.trim();
  try { await c.request('x'); } catch (e) { if (e instanceof MsgoError) void [e.status, e.code]; }
  wxConnect({ url: 'wss://h/ws', token: 't', wx: {} }).close();
  // @ts-expect-error: state is read-only
  c.state = 'open';
  // @ts-expect-error: tokenIn is 'protocol' or 'query'
  connect({ tokenIn: 'header' });
}
void uses;
