// The guest's phone page: join the room, see it live, send messages.
// Open it as /live/join?auth=<wechatUser token with the room code>.

import { boot, el, $, avatar, fmtTime, toast, errorText, composer } from '/assets/page.js';
import { Room, whoami } from './room.js';

const MAX = 500; // characters per message (live.message.send, docs/live.md)
const KEEP = 200;

const client = boot();
if (client) start(client);

function start(client) {
  const list = $('#list');
  const me = { id: '', seqs: new Set() };

  const room = new Room(client, {
    onMessage: (m) => addMessage(list, m, me),
    onJoin: (u) => note(list, `${u.nickname || u.id} joined`),
    onLeave: (u) => note(list, `${u.nickname || u.id} left`),
    onOnline: (n) => { $('#online').textContent = String(n); },
    onJoined: (p) => {
      $('#room').textContent = p.room ? `#${p.room}` : '';
      showJoined(true);
    },
    onError: (what, err) => toast(`Could not ${what === 'join' ? 'join' : 'load messages'}: ${errorText(err)}`, 'error', 5000),
  });

  client.once('open', async () => {
    const who = await whoami(client);
    if (!who) return;
    me.id = who.id;
    $('#hello').textContent = `Welcome, ${who.nickname || who.id}!`;
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
      const { seq } = await room.send(content);
      me.seqs.add(seq);
      const mine = list.querySelector(`.bubble[data-seq="${seq}"]`);
      if (mine) mine.classList.add('mine');
    },
  });
}

function showJoined(joined) {
  $('#welcome').hidden = joined;
  $('#composer').hidden = !joined;
  $('#leave').hidden = !joined;
  document.body.dataset.joined = joined ? 'yes' : 'no';
}

function addMessage(list, m, me) {
  const mine = (me.id && m.id === me.id) || me.seqs.has(m.seq);
  const b = el('div', { class: `bubble${mine ? ' mine' : ''}`, dataset: { seq: String(m.seq), user: m.id } },
    avatar(m.id, m.nickname),
    el('div', { class: 'bubble-body' },
      el('div', { class: 'bubble-meta' }, el('span', { class: 'bubble-name', text: m.nickname || m.id }), el('time', { text: fmtTime(m.time) })),
      el('div', { class: 'bubble-text', text: m.content })));
  // A message filling a gap walks back past the later ones to its place.
  let before = list.lastElementChild;
  while (before && before.classList.contains('bubble') && Number(before.dataset.seq) > m.seq) before = before.previousElementSibling;
  if (before) before.after(b);
  else list.prepend(b);
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
