// The agent console: every conversation with unread badges, the open one
// with its history, replies, and read marks, live through kefu.message.
// Open it as /kefu/agent?auth=<kefu token>.

import { boot, el, $, avatar, fmtTime, toast, errorText, composer } from '/assets/page.js';
import { Thread, MAX, TO_AGENT, TO_USER } from './thread.js';

const client = boot();
if (client) start(client);

function start(client) {
  const sessions = new Map(); // openid -> {openid, last_msg, last_time, unread}
  const view = { openid: '', thread: null };

  const renderSessions = () => {
    const filter = $('#filter').value.trim().toLowerCase();
    const list = [...sessions.values()]
      .filter((s) => !filter || s.openid.toLowerCase().includes(filter) || (s.last_msg || '').toLowerCase().includes(filter))
      .sort((a, b) => b.last_time - a.last_time);
    const ul = $('#sessions');
    if (!list.length) {
      ul.replaceChildren(el('li', { class: 'empty', text: sessions.size ? 'No match' : 'No conversations yet' }));
    } else {
      ul.replaceChildren(...list.map((s) => el('li', {
        class: `ag-session${s.openid === view.openid ? ' active' : ''}${s.unread ? ' has-unread' : ''}`,
        dataset: { openid: s.openid },
        tabIndex: 0,
        onclick: () => open(s.openid),
        onkeydown: (e) => { if (e.key === 'Enter') open(s.openid); },
      },
      avatar(s.openid, s.openid),
      el('div', { class: 'ag-session-body' },
        el('div', { class: 'ag-session-top' },
          el('span', { class: 'ag-session-name', text: s.openid }),
          el('time', { class: 'ag-session-time', text: s.last_time ? fmtTime(s.last_time) : '' })),
        el('div', { class: 'ag-session-bottom' },
          el('span', { class: 'ag-session-last', text: s.last_msg || '' }),
          s.unread ? el('span', { class: 'badge', text: s.unread > 99 ? '99+' : String(s.unread) }) : null)))));
    }
    const total = [...sessions.values()].reduce((n, s) => n + (s.unread || 0), 0);
    document.title = `${total ? `(${total}) ` : ''}Support console · msgo`;
  };

  // pushes counts kefu.message pushes: a push that lands while the list is
  // loading may be newer than the list (the server ran the query first), so
  // the list, which is authoritative, is loaded again until none did.
  let pushes = 0;
  const loadSessions = async () => {
    try {
      let param;
      for (let tries = 0; tries < 5; tries++) {
        const seen = pushes;
        ({ param } = await client.request('kefu.session.list', { limit: 100 }));
        if (pushes === seen) break;
      }
      sessions.clear();
      for (const s of param.sessions || []) sessions.set(s.openid, { ...s });
      renderSessions();
    } catch (err) {
      if (err.code !== 'disconnected') toast(`Could not load conversations: ${errorText(err)}`, 'error', 6000);
    }
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
    if (!upTo || (s && !s.unread && thread.readTo >= upTo)) return;
    thread.readTo = upTo;
    try {
      await client.request('kefu.chat.read', { openid, up_to_id: upTo });
      thread.markRead(TO_AGENT, upTo);
      if (s) s.unread = 0;
      renderSessions();
    } catch (err) {
      thread.readTo = 0;
      if (err.code !== 'disconnected') toast(`Could not mark as read: ${errorText(err)}`, 'error');
    }
  };

  const open = async (openid) => {
    view.openid = openid;
    document.body.dataset.view = 'conversation';
    $('#placeholder').hidden = true;
    $('#conv').hidden = false;
    $('#conv-avatar').replaceChildren(avatar(openid, openid));
    $('#conv-name').textContent = openid;
    $('#conv-sub').textContent = 'WeChat user';
    const thread = new Thread($('#thread'), { mine: (m) => m.type === TO_USER, who: (m) => (m.type === TO_USER ? 'Agent' : openid) });
    view.thread = thread;
    renderSessions();
    try {
      await thread.older(history(openid));
      $('#older').hidden = !thread.more;
      $('#thread').scrollTop = $('#thread').scrollHeight;
      await markRead();
    } catch (err) {
      toast(`Could not load the conversation: ${errorText(err)}`, 'error');
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

  client.on('kefu.message', (m) => {
    pushes++;
    const s = sessions.get(m.openid) || { openid: m.openid, unread: 0 };
    s.last_msg = m.msg;
    s.last_time = m.time;
    const shown = view.openid === m.openid && view.thread;
    if (shown) view.thread.add([m]);
    if (m.type === TO_AGENT && !m.isread) {
      if (shown && !document.hidden) markRead();
      else s.unread = (s.unread || 0) + 1;
    }
    sessions.set(m.openid, s);
    renderSessions();
  });

  client.on('open', async ({ reconnect, resumed }) => {
    if (resumed) return; // the session kept everything: nothing was missed
    await loadSessions();
    if (reconnect && view.thread) {
      try {
        await view.thread.refresh(history(view.openid));
        await markRead();
      } catch (_) { /* the next open tries again */ }
    }
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) markRead(); });

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
