// The guest's phone page: join the room, see it live, send messages.
// Open it as /live/join?auth=<wechatUser token with the room code>
// (&lang=zh-CN or en to pick the language).

import { boot, el, $, toast, errorText, composer } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { Room, whoami, messageCard } from './room.js';

const STRINGS = {
  en: {
    title: 'Live chat',
    leave: 'Leave',
    welcome: 'Welcome!',
    welcomeName: 'Welcome, {name}!',
    intro: 'Join the room to chat with everyone here; your messages show on the big screen.',
    join: 'Join the room',
    placeholder: 'Say something…',
    message: 'Message',
    send: 'Send',
    here: '{n} guests here',
    hereOne: '1 guest here',
    joined: '{name} joined',
    left: '{name} left',
    joinFailed: 'Could not join: {why}',
    historyFailed: 'Could not load messages: {why}',
    held: 'Waiting for the host to approve it',
    heldToast: 'Sent: it shows on the screen once the host approves it',
  },
  'zh-CN': {
    title: '现场互动',
    leave: '离开',
    welcome: '欢迎！',
    welcomeName: '欢迎你，{name}！',
    intro: '加入房间，和现场的大家一起聊天；你的消息会显示在大屏幕上。',
    join: '加入房间',
    placeholder: '说点什么…',
    message: '消息',
    send: '发送',
    here: '现场 {n} 位来宾',
    hereOne: '现场 1 位来宾',
    joined: '{name} 加入了',
    left: '{name} 离开了',
    joinFailed: '无法加入：{why}',
    historyFailed: '无法加载消息：{why}',
    held: '等待主持人审核',
    heldToast: '已发送：主持人审核通过后显示在大屏幕上',
  },
};
const t = i18n(STRINGS);

const MAX = 500; // characters per message (live.message.send, docs/live.md)
const KEEP = 200;

const client = boot();
if (client) start(client);

function start(client) {
  const list = $('#list');
  const me = { id: '', seqs: new Set() };
  const who = (u) => u.nickname || u.id;

  const room = new Room(client, {
    onMessage: (m) => addMessage(list, m, me),
    onJoin: (u) => note(list, t('joined', { name: who(u) })),
    onLeave: (u) => note(list, t('left', { name: who(u) })),
    onCounts: ({ guests }) => {
      $('#count').textContent = guests === 1 ? t('hereOne') : t('here', { n: guests });
      $('#count').hidden = false;
    },
    onJoined: (p) => {
      $('#room').textContent = p.room ? `#${p.room}` : '';
      showJoined(true);
    },
    onError: (what, err) => toast(t(what === 'join' ? 'joinFailed' : 'historyFailed', { why: errorText(err) }), 'error', 5000),
  });

  client.once('open', async () => {
    const who = await whoami(client);
    if (!who) return;
    me.id = who.id;
    $('#hello').textContent = t('welcomeName', { name: who.nickname || who.id });
    for (const n of list.querySelectorAll(`.bubble[data-user="${CSS.escape(me.id)}"]`)) n.classList.add('mine');
  });

  $('#join').addEventListener('click', async () => {
    $('#join').disabled = true;
    try {
      await room.join();
    } catch (_) {
      $('#join').disabled = false;
    }
  });
  $('#leave').addEventListener('click', async () => {
    try {
      await room.leave();
      showJoined(false);
      $('#join').disabled = false;
    } catch (err) {
      toast(errorText(err), 'error');
    }
  });

  composer($('#composer'), {
    max: MAX,
    counter: $('#counter'),
    onSend: async (content) => {
      const r = await room.send(content);
      if (r.held) { // it waits for a moderator: shown here only, until it is approved
        addPending(list, content);
        toast(t('heldToast'));
        return;
      }
      me.seqs.add(r.seq);
      const mine = list.querySelector(`.bubble[data-seq="${r.seq}"]`);
      if (mine) mine.classList.add('mine');
    },
  });
}

// showJoined switches between the welcome card and the chat. A phone that
// has not joined shows no count: it is not in the room.
function showJoined(joined) {
  $('#welcome').hidden = joined;
  $('#composer').hidden = !joined;
  $('#leave').hidden = !joined;
  if (!joined) $('#count').hidden = true;
  document.body.dataset.joined = joined ? 'yes' : 'no';
}

function addMessage(list, m, me) {
  let mine = (me.id && m.id === me.id) || me.seqs.has(m.seq);
  if (mine || !me.id) { // a held message of ours was approved: it takes its place in the room
    const p = [...list.querySelectorAll('.bubble.pending')].find((b) => b.dataset.content === m.content);
    if (p) {
      p.remove();
      mine = true;
    }
  }
  const b = messageCard('bubble', m, { cls: `bubble${mine ? ' mine' : ''}`, dataset: { seq: String(m.seq) } });
  // A message filling a gap walks back past the later ones to its place.
  let before = list.lastElementChild;
  while (before && !before.classList.contains('pending') && before.classList.contains('bubble') && Number(before.dataset.seq) > m.seq) before = before.previousElementSibling;
  if (before) before.after(b);
  else list.prepend(b);
  trim(list);
  stickToBottom(list);
}

// addPending shows one of our messages that waits for a moderator.
function addPending(list, content) {
  const m = { id: '', nickname: '', content, time: Date.now() };
  list.append(messageCard('bubble', m, { cls: 'bubble mine pending', dataset: { content }, body: [el('div', { class: 'bubble-held', text: t('held') })] }));
  trim(list);
  stickToBottom(list);
}

function note(list, text) {
  list.append(el('div', { class: 'note', text }));
  trim(list);
  stickToBottom(list);
}

function trim(list) {
  while (list.children.length > KEEP + 1) {
    const first = list.firstElementChild.id === 'welcome' ? list.children[1] : list.firstElementChild;
    first.remove();
  }
}

// stickToBottom follows new messages unless the reader scrolled up to read.
function stickToBottom(list) {
  if (list.scrollHeight - list.scrollTop - list.clientHeight < 200) list.scrollTop = list.scrollHeight;
}
