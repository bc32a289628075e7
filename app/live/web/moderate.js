// The moderator's page: the room's held messages, oldest first, each with
// Approve (it goes on the wall with the next seq) and Reject; beside them
// what the wall shows. Open it as /live/moderate?auth=<wall token> (a wall
// token of the room; &lang=zh-CN or en to pick the language). Several
// moderators can work at once: a decision by one leaves every page.

import { boot, el, $, toast, errorText } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { STRINGS } from './moderate.strings.js';
import { Room, messageCard } from './room.js';

const t = i18n(STRINGS);

const PAGE = 100;
const KEEP = 100; // wall messages kept

const client = boot();
if (client) start(client);

function start(client) {
  const cards = new Map(); // held_id -> card

  const room = new Room(client, {
    onMessage: (m) => addWall(m),
    onCounts: ({ guests }) => {
      $('#guests').textContent = t('guests', { n: guests });
      $('#guests').hidden = false;
    },
    onJoined: (p) => {
      $('#room').textContent = p.room ? `#${p.room}` : '';
      load();
    },
    onError: (what, err) => toast(t(what === 'join' ? 'joinFailed' : 'historyFailed', { why: errorText(err) }), 'error', 6000),
  });
  client.on('live.message.held', (h) => add(h));
  client.on('live.message.moderated', (d) => remove(d.held_id));
  room.join().catch(() => { /* shown by onError; retried on the next open */ });

  // load reads the whole queue again (after every join: pushes missed while
  // away are in it).
  async function load() {
    try {
      let after = 0;
      const seen = new Set();
      const stale = new Set(cards.keys()); // cards pushed during the read are current

      for (let pages = 0; pages < 100; pages++) {
        const { param } = await client.request('live.moderation.pending', { after_id: after, limit: PAGE });
        showMode(param.mode);
        for (const h of param.messages) {
          seen.add(h.held_id);
          add(h);
        }
        if (param.messages.length < PAGE) break;
        after = param.messages[param.messages.length - 1].held_id;
      }
      for (const id of stale) if (!seen.has(id)) remove(id); // decided while we were away
      document.body.dataset.loaded = 'yes';
    } catch (err) {
      if (err.code !== 'disconnected' && err.code !== 'closed') toast(t('loadFailed', { why: errorText(err) }), 'error', 6000);
    }
  }

  function add(h) {
    if (cards.has(h.held_id)) return;
    const approve = el('button', { class: 'btn btn-small mod-approve', type: 'button', text: t('approve') });
    const reject = el('button', { class: 'btn btn-small mod-reject', type: 'button', text: t('reject') });
    const card = messageCard('mod', h, {
      cls: 'mod-card',
      dataset: { held: String(h.held_id) },
      meta: h.word ? [el('span', { class: 'mod-word', text: t('word', { word: h.word }) })] : [],
      tail: [el('div', { class: 'mod-actions' }, approve, reject)],
    });
    approve.addEventListener('click', () => decide(h.held_id, 'approve'));
    reject.addEventListener('click', () => decide(h.held_id, 'reject'));
    // Oldest first: a card arriving late walks back to its place.
    const list = $('#pending');
    let before = list.lastElementChild;
    while (before && before.dataset.held && Number(before.dataset.held) > h.held_id) before = before.previousElementSibling;
    if (before) before.after(card);
    else list.prepend(card);
    cards.set(h.held_id, card);
    count();
  }

  function remove(id) {
    const card = cards.get(id);
    if (!card) return;
    cards.delete(id);
    card.remove();
    count();
  }

  function count() {
    $('#pending-n').textContent = String(cards.size);
    $('#pending-empty').hidden = cards.size > 0;
    document.body.dataset.pending = String(cards.size);
  }

  async function decide(id, what) {
    const card = cards.get(id);
    if (!card) return;
    for (const b of card.querySelectorAll('button')) b.disabled = true;
    try {
      await client.request(`live.moderation.${what}`, { held_id: id });
      remove(id);
    } catch (err) {
      if (err.status === 400) { // decided elsewhere first
        remove(id);
        toast(t('gone'));
        return;
      }
      for (const b of card.querySelectorAll('button')) b.disabled = false;
      toast(t('failed', { what: t(what), why: errorText(err) }), 'error');
    }
  }
}

function showMode(mode) {
  $('#mode').textContent = t(mode === 'hold_all' ? 'modeHoldAll' : 'modeOff');
  $('#mode').dataset.mode = mode;
  $('#mode').hidden = false;
}

function addWall(m) {
  const list = $('#wall');
  const item = messageCard('mod', m, { cls: 'mod-card mod-card-wall', dataset: { seq: String(m.seq) } });
  // Newest on top.
  let after = list.firstElementChild;
  while (after && Number(after.dataset.seq) > m.seq) after = after.nextElementSibling;
  if (after) after.before(item);
  else list.append(item);
  while (list.children.length > KEEP) list.lastElementChild.remove();
}
