// The agent console: the conversations split into mine, unassigned and
// other agents', each named by the user's nickname, with this agent's own
// unread counts; the open one with its history, replies (canned ones with
// a click or "/"), read marks, and claim, transfer and release, live
// through kefu.message and kefu.session. Open it as
// /kefu/agent?auth=<kefu token> (&lang=zh-CN or en to choose the language).

import { boot, el, $, avatar, fmtTime, toast, errorText, composer } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { Thread, MAX, TO_AGENT, TO_USER } from './thread.js';
import { cannedPicker } from './canned.js';
import { STRINGS } from './agent.strings.js';

const t = i18n(STRINGS);
langLink($('#lang'));
document.title = t('title');
const client = boot();
if (client) start(client);

// langLink points a at this page in the other language.
function langLink(a) {
  const u = new URL(location.href);
  u.searchParams.set('lang', t.lang === 'zh-CN' ? 'en' : 'zh-CN');
  a.href = u.href;
}

const badgeText = (n) => (n > 99 ? '99+' : String(n));

function start(client) {
  // openid -> {openid, nickname, code, agent_id, agent_name, last_msg, last_time, unread, my_unread}
  const sessions = new Map();
  const me = { id: '', nickname: '' };
  const view = { openid: '', thread: null, owner: '' };
  let canned = [];

  const ownerOf = (s) => (!s.agent_id ? 'unassigned' : s.agent_id === me.id ? 'mine' : 'others');
  const nameOf = (s) => (s && s.nickname) || (s && s.openid) || view.openid;
  const agentOf = (s) => s.agent_name || s.agent_id || t('someone');

  const setOwner = (owner) => {
    view.owner = owner;
    document.body.dataset.owner = owner;
    for (const b of document.querySelectorAll('.ag-tab')) b.setAttribute('aria-selected', String(b.dataset.owner === owner));
    renderSessions();
  };
  for (const b of document.querySelectorAll('.ag-tab')) b.addEventListener('click', () => setOwner(b.dataset.owner));

  const renderSessions = () => {
    const all = [...sessions.values()];
    const tally = { mine: [0, 0], unassigned: [0, 0], others: [0, 0] }; // conversations, my unread
    for (const s of all) {
      tally[ownerOf(s)][0]++;
      tally[ownerOf(s)][1] += s.my_unread || 0;
    }
    for (const b of document.querySelectorAll('.ag-tab')) {
      const [n, unread] = tally[b.dataset.owner];
      const badge = b.querySelector('.badge, .count');
      const shown = badge.classList.contains('badge') ? unread : n;
      badge.hidden = !shown;
      badge.textContent = badgeText(shown);
    }
    const filter = $('#filter').value.trim().toLowerCase();
    const list = all
      .filter((s) => ownerOf(s) === view.owner)
      .filter((s) => !filter || [s.nickname, s.openid, s.code, s.last_msg].some((v) => (v || '').toLowerCase().includes(filter)))
      .sort((a, b) => b.last_time - a.last_time);
    const ul = $('#sessions');
    if (!list.length) {
      const none = { mine: 'noMine', unassigned: 'noUnassigned', others: 'noOthers' }[view.owner];
      ul.replaceChildren(el('li', { class: 'empty', text: t(filter && tally[view.owner][0] ? 'noMatch' : none) }));
    } else {
      ul.replaceChildren(...list.map(sessionItem));
    }
    const waiting = tally.mine[1] + tally.unassigned[1];
    document.title = waiting ? t('titleUnread', { n: waiting }) : t('title');
  };

  const sessionItem = (s) => el('li', {
    class: `ag-session${s.openid === view.openid ? ' active' : ''}${s.my_unread ? ' has-unread' : ''}`,
    dataset: { openid: s.openid },
    title: s.openid,
    tabIndex: 0,
    onclick: () => open(s.openid),
    onkeydown: (e) => { if (e.key === 'Enter') open(s.openid); },
  },
  avatar(s.openid, nameOf(s)),
  el('div', { class: 'ag-session-body' },
    el('div', { class: 'ag-session-top' },
      el('span', { class: 'ag-session-name', text: nameOf(s) }),
      s.code ? el('span', { class: 'ag-chip', text: t('room', { code: s.code }) }) : null,
      el('time', { class: 'ag-session-time', text: s.last_time ? fmtTime(s.last_time) : '' })),
    el('div', { class: 'ag-session-bottom' },
      el('span', { class: 'ag-session-last', text: s.last_msg || '' }),
      ownerOf(s) === 'others' ? el('span', { class: 'ag-session-agent', text: agentOf(s) }) : null,
      s.my_unread ? el('span', { class: 'badge', text: badgeText(s.my_unread) }) : null)));

  // The open conversation's header, banner and buttons follow its owner.
  const renderHeader = () => {
    const s = sessions.get(view.openid);
    if (!s) return;
    const owner = ownerOf(s);
    $('#conv-avatar').replaceChildren(avatar(s.openid, nameOf(s)));
    $('#conv-name').textContent = nameOf(s);
    const sub = [s.openid];
    if (s.code) sub.push(t('room', { code: s.code }));
    sub.push(owner === 'mine' ? t('subMine') : owner === 'unassigned' ? t('subUnassigned') : t('subOthers', { agent: agentOf(s) }));
    $('#conv-sub').textContent = sub.join(' · ');
    document.body.dataset.convOwner = owner;
    $('#claim').hidden = owner !== 'unassigned';
    $('#release').hidden = owner !== 'mine';
    $('#transfer').hidden = owner === 'others';
    $('#banner').hidden = owner !== 'others';
    $('#banner').textContent = t('heldBy', { agent: agentOf(s) });
  };

  // pushes counts kefu.message pushes: a push that lands while the list is
  // loading may be newer than the list (the server ran the query first), so
  // the list, which is authoritative, is loaded again until none did.
  let pushes = 0;
  const loadSessions = async () => {
    try {
      let lists;
      for (let tries = 0; tries < 5; tries++) {
        const seen = pushes;
        // The latest 100 of all, and all of mine however old.
        lists = await Promise.all([
          client.request('kefu.session.list', { limit: 100 }),
          client.request('kefu.session.list', { limit: 100, owner: 'mine' }),
        ]);
        if (pushes === seen) break;
      }
      sessions.clear();
      for (const { param } of lists) for (const s of param.sessions || []) sessions.set(s.openid, { ...s });
      renderSessions();
      renderHeader();
    } catch (err) {
      if (err.code !== 'disconnected') toast(t('loadFailed', { why: errorText(err) }), 'error', 6000);
    }
  };
  let reload = 0;
  const loadSoon = () => {
    clearTimeout(reload);
    reload = setTimeout(loadSessions, 300);
  };

  const history = (openid) => async (params) => {
    const { param } = await client.request('kefu.chat.history', { openid, ...params });
    return param.messages || [];
  };

  // markRead tells the server the agent has seen the user's messages up to
  // the newest one shown, when the page is in front.
  const markRead = async () => {
    const { openid, thread } = view;
    if (!thread || document.hidden) return;
    const upTo = thread.maxId(TO_AGENT);
    const s = sessions.get(openid);
    if (!upTo || (s && !s.my_unread && !s.unread && thread.readTo >= upTo)) return;
    thread.readTo = upTo;
    try {
      await client.request('kefu.chat.read', { openid, up_to_id: upTo });
      thread.markRead(TO_AGENT, upTo);
      if (s) {
        s.unread = s.my_unread = 0;
        s.my_read_id = Math.max(s.my_read_id || 0, upTo);
      }
      renderSessions();
    } catch (err) {
      thread.readTo = 0;
      if (err.code !== 'disconnected') toast(t('readFailed', { why: errorText(err) }), 'error');
    }
  };

  const open = async (openid) => {
    view.openid = openid;
    document.body.dataset.view = 'conversation';
    $('#placeholder').hidden = true;
    $('#conv').hidden = false;
    $('#transfer-menu').hidden = true;
    const s = sessions.get(openid);
    const thread = new Thread($('#thread'), { mine: (m) => m.type === TO_USER, who: (m) => (m.type === TO_USER ? t('agent') : nameOf(sessions.get(openid))) });
    view.thread = thread;
    if (s) renderHeader();
    renderSessions();
    try {
      await thread.older(history(openid));
      $('#older').hidden = !thread.more;
      $('#thread').scrollTop = $('#thread').scrollHeight;
      await markRead();
    } catch (err) {
      toast(t('convFailed', { why: errorText(err) }), 'error');
    }
    $('#text').focus();
  };

  const olderPage = async () => {
    if (!view.thread) return;
    try {
      await view.thread.older(history(view.openid));
      $('#older').hidden = !view.thread.more;
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  $('#older').addEventListener('click', olderPage);
  $('#thread').addEventListener('scroll', () => { if ($('#thread').scrollTop < 40) olderPage(); }, { passive: true });
  $('#back').addEventListener('click', () => { document.body.dataset.view = 'list'; });
  $('#filter').addEventListener('input', renderSessions);

  // apply takes a conversation as the server now has it, keeping this
  // agent's own unread count and read mark.
  const apply = (ses) => {
    const known = sessions.get(ses.openid) || ses;
    sessions.set(ses.openid, { ...ses, my_unread: known.my_unread || 0, my_read_id: known.my_read_id || 0 });
    renderSessions();
    if (ses.openid === view.openid) renderHeader();
  };

  // act runs a claim, transfer or release and says how it went.
  const act = async (method, params, done) => {
    try {
      const { param } = await client.request(method, params);
      apply(param.session);
      toast(done(param.session));
    } catch (err) {
      if (err.status !== 409) {
        toast(t('failed', { why: errorText(err) }), 'error');
        return;
      }
      await loadSessions(); // another agent was quicker: catch up and say who
      toast(t('claimTaken', { agent: agentOf(sessions.get(params.openid) || {}) }), 'error');
    }
  };
  $('#claim').addEventListener('click', () => act('kefu.session.claim', { openid: view.openid }, (s) => {
    setOwner('mine');
    return t('claimed', { name: nameOf(s) });
  }));
  $('#release').addEventListener('click', () => act('kefu.session.release', { openid: view.openid }, (s) => t('released', { name: nameOf(s) })));
  $('#transfer').addEventListener('click', async () => {
    const menu = $('#transfer-menu');
    if (!menu.hidden) {
      menu.hidden = true;
      return;
    }
    let agents = [];
    try {
      ({ agents } = (await client.request('kefu.agent.list')).param);
    } catch (err) {
      toast(t('failed', { why: errorText(err) }), 'error');
      return;
    }
    const others = agents.filter((a) => a.id !== me.id);
    menu.replaceChildren(el('div', { class: 'ag-menu-head', text: t('transferTo') }),
      ...(others.length ? others.map((a) => el('button', {
        class: 'ag-menu-item', type: 'button', role: 'menuitem', dataset: { agent: a.id },
        onclick: () => {
          menu.hidden = true;
          act('kefu.session.transfer', { openid: view.openid, to: a.id }, (s) => t('transferred', { name: nameOf(s), agent: agentOf(s) }));
        },
      }, avatar(a.id, a.nickname || a.id, 'avatar avatar-small'),
      el('span', { class: 'ag-menu-name', text: a.nickname || a.id }),
      el('span', { class: 'ag-menu-load', text: t('agentLoad', { n: a.sessions }) })))
        : [el('div', { class: 'ag-menu-none', text: t('noAgents') })]));
    menu.hidden = false;
  });
  document.addEventListener('click', (e) => { if (!e.target.closest('.ag-menu-wrap')) $('#transfer-menu').hidden = true; });

  client.on('kefu.message', (m) => {
    pushes++;
    let s = sessions.get(m.openid);
    if (!s) {
      s = { openid: m.openid, nickname: '', code: '', agent_id: '', agent_name: '', unread: 0, my_unread: 0, my_read_id: 0 };
      loadSoon(); // a new conversation: its name comes with the list
    }
    s.last_msg = m.msg;
    s.last_time = m.time;
    const shown = view.openid === m.openid && view.thread;
    if (shown) view.thread.add([m]);
    if (m.type === TO_AGENT && !m.isread) {
      if (shown && !document.hidden) markRead();
      else {
        s.unread = (s.unread || 0) + 1;
        s.my_unread = (s.my_unread || 0) + 1;
      }
    } else if (m.type === TO_USER && !s.my_read_id) {
      s.my_unread = 0; // never read here: the count runs from the latest reply
    }
    sessions.set(m.openid, s);
    renderSessions();
  });

  client.on('kefu.session', ({ action, by, session }) => {
    apply(session);
    if (action === 'transfer' && session.agent_id === me.id && by.id !== me.id) {
      toast(t('transferredToYou', { by: by.nickname || by.id, name: nameOf(session) }));
    }
  });

  client.on('open', async ({ reconnect }) => {
    try {
      const [{ param: a }, { param: c }] = await Promise.all([client.request('kefu.agent.list'), client.request('kefu.canned.list')]);
      Object.assign(me, a.me);
      canned = c.replies || [];
    } catch (err) {
      if (err.code !== 'disconnected') toast(t('loadFailed', { why: errorText(err) }), 'error', 6000);
    }
    await loadSessions();
    if (!view.owner) setOwner([...sessions.values()].some((s) => ownerOf(s) === 'mine') ? 'mine' : 'unassigned');
    if (reconnect && view.thread) {
      try {
        await view.thread.refresh(history(view.openid));
        await markRead();
      } catch (_) { /* the next open tries again */ }
    }
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) markRead(); });

  cannedPicker($('#composer'), { button: $('#canned-btn'), list: $('#canned'), replies: () => canned, t });
  composer($('#composer'), {
    max: MAX,
    onSend: async (msg) => {
      const { openid, thread } = view;
      const { param } = await client.request('kefu.chat.send', { openid, msg });
      thread.add([{ id: param.id, openid, msg, type: TO_USER, isread: 0, time: param.time }]);
      $('#thread').scrollTop = $('#thread').scrollHeight;
      markRead();
    },
  });
}
