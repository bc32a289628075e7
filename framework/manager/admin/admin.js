// msgo's admin page. It asks for the manager token once, keeps it in this
// tab's sessionStorage and sends it as a bearer header (never in a URL);
// with no token configured on loopback the calls just work. Every figure is
// set with textContent: nothing from the server is ever parsed as HTML.

const TOKEN_KEY = 'msgo.manager.token';
const REFRESH_MS = 1000;
const WINDOW_MS = 60000; // "last minute" of closes

const STRINGS = {
  en: {
    title: 'msgo admin', tokenLabel: 'Manager token', signIn: 'Sign in',
    tokenHint: 'The token stays in this tab (sessionStorage) and is sent as a bearer header.',
    connections: 'Connections', users: 'Users', rooms: 'Rooms', clusterConnections: 'Cluster connections',
    clusterUsers: 'Cluster users', memory: 'Memory (RSS)', goroutines: 'Goroutines', uptime: 'Uptime', nodes: 'Nodes',
    node: 'Node', age: 'Age', largestRooms: 'Largest rooms (this node)', room: 'Room', closes: 'Closes by code',
    code: 'Code', meaning: 'Meaning', lastMinute: 'Last minute', sinceStart: 'Since start', push: 'Push a test message',
    to: 'To', toRoom: 'a room', toUser: 'a user', target: 'Room or user id', userType: 'User type', anyType: 'any',
    event: 'Event', param: 'Param (JSON object)', send: 'Send',
    connecting: 'Connecting…', live: 'Live, refreshed every second', needToken: 'This node needs its manager token.',
    badToken: 'That token was refused.', unreachable: 'The manager port does not answer: {error}',
    none: 'none', sent: 'Delivered to {n} connection(s).', failed: 'Not sent: {error}', badJSON: 'Param must be a JSON object.',
    c1000: 'normal', c1001: 'server stopping', c1002: 'protocol error', c1006: 'dropped (no close frame)',
    c1007: 'invalid UTF-8', c1008: 'kicked, or too slow to read', c1009: 'message too big', c1011: 'server error',
    c1012: 'restart (reload)', c4000: 'idle timeout', cOther: 'client code',
  },
  'zh-CN': {
    title: 'msgo 管理', tokenLabel: '管理令牌', signIn: '登录', tokenHint: '令牌只保存在本标签页（sessionStorage），以 Bearer 头发送。',
    connections: '连接', users: '用户', rooms: '房间', clusterConnections: '集群连接', clusterUsers: '集群用户',
    memory: '内存（RSS）', goroutines: 'Goroutine', uptime: '运行时长', nodes: '节点', node: '节点', age: '运行时长',
    largestRooms: '最大的房间（本节点）', room: '房间', closes: '按关闭码统计的断开', code: '关闭码', meaning: '含义',
    lastMinute: '最近一分钟', sinceStart: '启动以来', push: '推送测试消息', to: '发给', toRoom: '房间', toUser: '用户',
    target: '房间或用户 id', userType: '用户类型', anyType: '任意', event: '事件', param: '参数（JSON 对象）', send: '发送',
    connecting: '连接中…', live: '实时，每秒刷新', needToken: '此节点需要管理令牌。', badToken: '令牌被拒绝。',
    unreachable: '管理端口无响应：{error}', none: '无', sent: '已送达 {n} 个连接。', failed: '未发送：{error}',
    badJSON: '参数必须是 JSON 对象。',
    c1000: '正常关闭', c1001: '服务停止', c1002: '协议错误', c1006: '断开（无关闭帧）', c1007: '无效 UTF-8',
    c1008: '被踢出或读取太慢', c1009: '消息过大', c1011: '服务器错误', c1012: '重启（reload）', c4000: '空闲超时', cOther: '客户端关闭码',
  },
};

const $ = (id) => document.getElementById(id);

// translator loads the shared i18n.js the manager serves at /assets/; without
// it (a manager built without assets) the page stays in English.
async function translator() {
  try {
    const { i18n } = await import('/assets/i18n.js');
    return i18n(STRINGS);
  } catch {
    return (key, vars) => {
      const s = STRINGS.en[key] ?? key;
      return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
    };
  }
}

class Unauthorized extends Error {}

/** Calls the manager; answers data, throws Unauthorized on 401. */
async function call(path, init = {}) {
  const headers = { Accept: 'application/json', ...(init.headers || {}) };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  const resp = await fetch(path, { ...init, headers, cache: 'no-store', credentials: 'omit' });
  if (resp.status === 401) throw new Unauthorized();
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || `${resp.status} ${resp.statusText}`);
  return body.data;
}

function duration(seconds) {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400); s %= 86400;
  const h = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

const number = (n) => (n == null ? '-' : Number(n).toLocaleString());
const mib = (b) => (b ? `${(b / 1048576).toFixed(1)} MiB` : '-');

/** Replaces tbody's rows with cells (strings), or one "none" row. */
function fill(tbody, rows, t, columns) {
  const trs = rows.map((cells) => {
    const tr = document.createElement('tr');
    cells.forEach((v, i) => {
      const td = document.createElement('td');
      td.textContent = String(v);
      if (i > 0 && /^[\d,.-]+$/.test(String(v))) td.className = 'num';
      tr.append(td);
    });
    return tr;
  });
  if (!trs.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = columns;
    td.className = 'empty';
    td.textContent = t('none');
    tr.append(td);
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
}

function closeMeaning(t, code) {
  const key = 'c' + code;
  const s = t(key);
  return s === key ? t('cOther') : s;
}

async function main() {
  const t = await translator();
  const status = $('status');
  const history = []; // [{time, closes}] over the last minute
  let timer = 0;
  let ticks = 0;

  const say = (state, text) => {
    document.body.dataset.state = state;
    status.textContent = text;
  };

  const login = (why) => {
    clearTimeout(timer);
    $('dash').hidden = true;
    $('login').hidden = false;
    say('login', why);
    $('token').focus();
  };

  function render(st, stats) {
    $('node').textContent = `${st.node_id} · ${st.version} · ${st.go_version}`;
    $('f-connections').textContent = number(st.connections);
    $('f-users').textContent = number(st.users);
    $('f-rooms').textContent = number(st.rooms);
    $('f-cluster-connections').textContent = number(st.cluster?.connections);
    $('f-cluster-users').textContent = number(st.cluster?.users);
    $('f-rss').textContent = mib(st.memory?.rss);
    $('f-goroutines').textContent = number(st.goroutines);
    $('f-uptime').textContent = duration(st.uptime);
    const now = Date.now() / 1000;
    fill($('nodes').tBodies[0], (st.nodes || []).map((n) => [n.id, number(n.connections), duration(now - n.started)]), t, 3);
    fill($('rooms').tBodies[0], stats.rooms.map((r) => [r.room, number(r.connections), number(r.users)]), t, 3);

    history.push({ time: stats.time, closes: stats.closes });
    while (history.length > 1 && stats.time - history[0].time > WINDOW_MS) history.shift();
    const base = history[0].closes;
    const codes = Object.keys(stats.closes).sort((a, b) => Number(a) - Number(b));
    fill($('closes').tBodies[0], codes.map((c) => [c, closeMeaning(t, c),
      number(stats.closes[c] - (base[c] || 0)), number(stats.closes[c])]), t, 4);
  }

  async function tick() {
    try {
      const [st, stats] = await Promise.all([call('/api/status'), call('/api/admin/stats?limit=10')]);
      render(st, stats);
      $('login').hidden = true;
      $('dash').hidden = false;
      document.body.dataset.ticks = String(++ticks);
      say('open', t('live'));
    } catch (err) {
      if (err instanceof Unauthorized) {
        const had = sessionStorage.getItem(TOKEN_KEY);
        sessionStorage.removeItem(TOKEN_KEY);
        login(had ? t('badToken') : t('needToken'));
        return;
      }
      say('error', t('unreachable', { error: err.message }));
    }
    timer = setTimeout(tick, REFRESH_MS);
  }

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    say('loading', t('connecting'));
    tick();
  });

  $('push').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('push-result');
    out.className = '';
    let param;
    try {
      param = JSON.parse($('push-param').value || '{}');
    } catch {
      param = null;
    }
    if (!param || typeof param !== 'object' || Array.isArray(param)) {
      out.className = 'bad';
      out.textContent = t('badJSON');
      return;
    }
    const toRoom = $('push-to').value === 'room';
    const body = { event: $('push-event').value.trim(), param };
    if (toRoom) body.room = $('push-target').value.trim();
    else {
      body.id = $('push-target').value.trim();
      if ($('push-type').value) body.type = $('push-type').value;
    }
    try {
      const data = await call(toRoom ? '/api/send/room' : '/api/send/user', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      out.textContent = t('sent', { n: data.delivered });
      out.dataset.delivered = String(data.delivered);
    } catch (err) {
      out.className = 'bad';
      out.textContent = t('failed', { error: err instanceof Unauthorized ? t('badToken') : err.message });
    }
  });
  $('push-to').addEventListener('change', () => { $('push-type').disabled = $('push-to').value === 'room'; });
  $('push-type').disabled = true;

  say('loading', t('connecting'));
  tick();
}

main();
