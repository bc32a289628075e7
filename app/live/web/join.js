// The guest's phone page: join the room, see it live, send messages.
// Open it as /live/join?auth=<wechatUser token with the room code>
// (&lang=zh-CN or en to pick the language).

import { boot, el, $, toast, errorText, composer } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { STRINGS } from './join.strings.js';
import { Room, whoami, messageCard } from './room.js';

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
