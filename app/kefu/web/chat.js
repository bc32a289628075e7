// The user's chat: talk to the agents (history, unread badge, read marks)
// or ask the FAQ bot, whose answer streams in as it is written.
// Open it as /kefu/chat?auth=<wechatUser token>.

import { boot, el, $, toast, errorText, composer } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { Thread, MAX, TO_AGENT, TO_USER } from './thread.js';
import { STRINGS } from './chat.strings.js';

const t = i18n(STRINGS);
document.title = t('title');
const client = boot();
if (client) start(client);

function start(client) {
  const thread = new Thread($('#agent-pane'), { mine: (m) => m.type === TO_AGENT, who: (m) => (m.type === TO_USER ? t('agent') : t('you')) });
  const ui = { tab: 'agent', unread: 0 };

  const setUnread = (n) => {
    ui.unread = Math.max(0, n);
    $('#unread').hidden = !ui.unread;
    $('#unread').textContent = ui.unread > 99 ? '99+' : String(ui.unread);
  };

  const history = async (params) => {
    const { param } = await client.request('kefu.chat.history', params);
    return param.messages || [];
  };

  const markRead = async () => {
    if (ui.tab !== 'agent' || document.hidden) return;
    const upTo = thread.maxId(TO_USER);
    if (!upTo || thread.readTo >= upTo) return;
    thread.readTo = upTo;
    try {
      await client.request('kefu.chat.read', { up_to_id: upTo });
      thread.markRead(TO_USER, upTo);
      setUnread(0);
    } catch (err) {
      thread.readTo = 0;
    }
  };

  const setTab = (tab) => {
    ui.tab = tab;
    document.body.dataset.tab = tab;
    $('#agent-pane').hidden = tab !== 'agent';
    $('#bot-pane').hidden = tab !== 'bot';
    for (const b of document.querySelectorAll('.ch-tab')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    $('#agent-form').hidden = tab !== 'agent';
    $('#bot-form').hidden = tab !== 'bot';
    if (tab === 'agent') markRead();
  };
  for (const b of document.querySelectorAll('.ch-tab')) b.addEventListener('click', () => setTab(b.dataset.tab));

  client.on('open', async ({ reconnect }) => {
    try {
      if (reconnect || thread.byId.size) await thread.refresh(history);
      else {
        await thread.older(history);
        if (!thread.byId.size) greet($('#agent-pane'), t('greetAgent'));
      }
      const { param } = await client.request('kefu.chat.unread');
      setUnread(param.unread || 0);
      await markRead();
    } catch (err) {
      if (err.code !== 'disconnected') toast(t('loadFailed', { why: errorText(err) }), 'error', 6000);
    }
  });
  $('#agent-pane').addEventListener('scroll', () => {
    if ($('#agent-pane').scrollTop < 40) thread.older(history).catch(() => {});
  }, { passive: true });

  client.on('kefu.message', (m) => {
    const added = thread.add([m]);
    if (added && m.type === TO_USER && !m.isread) {
      if (ui.tab === 'agent' && !document.hidden) markRead();
      else setUnread(ui.unread + 1);
    }
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) markRead(); });

  greet($('#bot-pane'), t('greetBot'));
  const bot = { session: botSession() };

  // A box per tab: a message to the agents that fails stays for another try;
  // a question clears at once, since the bot's answer shows its own errors.
  composer($('#agent-form'), {
    max: MAX,
    onSend: async (msg) => {
      const { param } = await client.request('kefu.chat.send', { msg });
      thread.add([{ id: param.id, openid: '', msg, type: TO_AGENT, isread: 0, time: param.time }]);
      $('#agent-pane').scrollTop = $('#agent-pane').scrollHeight;
    },
  });
  composer($('#bot-form'), { max: MAX, onSend: (q) => ask(client, bot, q) });
}

function greet(pane, text) {
  pane.append(el('div', { class: 'kmsg theirs greeting' }, el('div', { class: 'kmsg-bubble' }, el('div', { class: 'kmsg-text', text }))));
}

function botSession() {
  const key = 'msgo.kefu.bot.session';
  let id = '';
  try { id = sessionStorage.getItem(key) || ''; } catch (_) { /* storage off */ }
  if (!id) {
    id = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2);
    try { sessionStorage.setItem(key, id); } catch (_) { /* storage off */ }
  }
  return id;
}

// ask sends a question to the bot and writes its answer as the chunks come.
async function ask(client, bot, question) {
  const pane = $('#bot-pane');
  pane.append(el('div', { class: 'kmsg mine' }, el('div', { class: 'kmsg-bubble' }, el('div', { class: 'kmsg-text', text: question }))));
  const answer = el('div', { class: 'kmsg-text typing' });
  const bubble = el('div', { class: 'kmsg theirs bot-answer', dataset: { state: 'streaming' } }, el('div', { class: 'kmsg-bubble' }, answer));
  pane.append(bubble);
  pane.scrollTop = pane.scrollHeight;
  try {
    for await (const chunk of client.stream('kefu.bot.ask', { message: question, session_id: bot.session }, { timeout: 30000 })) {
      answer.textContent += chunk.message || '';
      pane.scrollTop = pane.scrollHeight;
    }
    if (!answer.textContent) answer.textContent = '…';
    bubble.dataset.state = 'done';
  } catch (err) {
    answer.textContent += (answer.textContent ? '\n' : '') + `(${errorText(err)})`;
    bubble.dataset.state = 'error';
  } finally {
    answer.classList.remove('typing');
    pane.scrollTop = pane.scrollHeight;
  }
}
