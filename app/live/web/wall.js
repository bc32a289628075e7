// The event wall: the room's messages as a list or flying across the screen
// (danmaku), the guest count, join and leave toasts, who is in the lucky
// draw, and the draw itself. Open it as /live/wall?auth=<wall token> (add
// &mode=danmaku to start flying, &lang=zh-CN or en to pick the language).
// Held messages never show here: they wait on /live/moderate.

import { boot, el, $, avatar, toast, errorText } from '/assets/page.js';
import { i18n } from '/assets/i18n.js';
import { STRINGS } from './wall.strings.js';
import { Room, messageCard } from './room.js';

const t = i18n(STRINGS);

const KEEP = 150; // messages kept in the list
const LANE = 58; // px per danmaku lane
const SPIN_MIN = 2200; // ms the reel spins before it may stop
const SHOWN = 60; // guests named in the side panel
const REFRESH = 3000; // ms between two reads of who can win
const BURST = 1500; // ms of joins (or leaves) one toast sums up

function start(client) {
  const stream = $('#stream');
  const sky = $('#danmaku');
  const mode = { now: new URLSearchParams(location.search).get('mode') === 'danmaku' ? 'danmaku' : 'list' };
  const who = (u) => u.nickname || u.id;
  const joins = new Burst('joined', 'joinedMany', 'join');
  const leaves = new Burst('left', 'leftMany', 'leave');

  const room = new Room(client, {
    onMessage: (m, live) => {
      addToList(stream, m);
      if (live && mode.now === 'danmaku') fly(sky, m);
    },
    onJoin: (u) => {
      if (u.type === 'wall') return;
      joins.add(who(u));
      eligible.refresh();
    },
    onLeave: (u) => {
      if (u.type === 'wall') return;
      leaves.add(who(u));
      eligible.refresh();
    },
    onCounts: (c) => {
      setCount(c);
      if (c.guests !== eligible.count) eligible.refresh();
    },
    onJoined: (p) => { $('#room').textContent = p.room ? `#${p.room}` : ''; },
    onLottery: (winners) => draw.shown(winners),
    onError: (what, err) => toast(t(what === 'join' ? 'joinFailed' : 'historyFailed', { why: errorText(err) }), 'error', 6000),
  });
  const eligible = new Eligible(room);
  room.join().catch(() => { /* shown by onError; retried on the next open */ });

  const setMode = (m) => {
    mode.now = m;
    document.body.dataset.mode = m;
    sky.hidden = m !== 'danmaku';
    $('#mode').textContent = t(m === 'danmaku' ? 'list' : 'danmaku');
  };
  setMode(mode.now);
  $('#mode').addEventListener('click', () => setMode(mode.now === 'danmaku' ? 'list' : 'danmaku'));

  const draw = new Draw(room, eligible);
  $('#draw').addEventListener('click', () => draw.start());
  $('#lottery-close').addEventListener('click', () => draw.close());
  addEventListener('keydown', (e) => { if (e.key === 'Escape') draw.close(); });
}

// Burst sums up the joins (or leaves) of BURST ms in one toast: a hall
// filling up would otherwise bury the screen in them.
class Burst {
  constructor(one, many, kind) {
    Object.assign(this, { one, many, kind, names: [], timer: 0 });
  }

  add(name) {
    this.names.push(name);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), BURST);
  }

  flush() {
    const [name] = this.names;
    const total = this.names.length;
    toast(total === 1 ? t(this.one, { name }) : t(this.many, { name, others: total - 1, total }), this.kind);
    this.names = [];
    this.timer = 0;
  }
}

// setCount shows the guests, not every connection: the screens and the
// moderators are in online too.
function setCount({ online, guests }) {
  const o = $('#guests');
  o.parentElement.title = t('guestsTitle', { online });
  o.dataset.online = String(online);
  if (o.textContent === String(guests)) return;
  o.textContent = String(guests);
  o.classList.remove('bump');
  void o.offsetWidth; // restart the animation
  o.classList.add('bump');
}

// Eligible keeps the side panel's list of who can win the draw: the joined
// guests (live.room.online with type wechatUser), read again at most every
// REFRESH ms while guests come and go.
class Eligible {
  constructor(room) {
    this.room = room;
    this.names = [];
    this.count = -1; // not read yet
    this.timer = 0;
    this.last = 0;
  }

  refresh() {
    if (this.timer) return;
    const wait = Math.max(0, this.last + REFRESH - Date.now());
    this.timer = setTimeout(() => this.load(), wait);
  }

  async load() {
    this.last = Date.now();
    try {
      const { guests, users = [] } = await this.room.online(200, 'wechatUser');
      this.count = guests;
      this.names = users.map((u) => u.nickname || u.id);
      $('#eligible').textContent = String(guests);
      $('#eligible-list').replaceChildren(...users.slice(0, SHOWN).map((u) =>
        el('li', { class: 'side-guest', dataset: { user: u.id } }, avatar(u.id, u.nickname), el('span', { text: u.nickname || u.id }))));
      const more = guests - Math.min(SHOWN, users.length);
      $('#eligible-more').hidden = more <= 0;
      $('#eligible-more').textContent = t('more', { n: more });
    } catch (_) { /* offline: the next count change reads again */ }
    this.timer = 0;
  }
}

function addToList(stream, m) {
  const empty = $('#empty');
  if (empty) empty.remove();
  const item = messageCard('msg', m, { dataset: { seq: String(m.seq) } });
  // Most messages arrive in order; one filling a gap walks back to its place.
  let before = stream.lastElementChild;
  while (before && Number(before.dataset.seq) > m.seq) before = before.previousElementSibling;
  if (before) before.after(item);
  else stream.prepend(item);
  while (stream.children.length > KEEP) stream.firstElementChild.remove();
  stream.scrollTop = stream.scrollHeight;
}

const lanesBusy = [];

function fly(sky, m) {
  const lanes = Math.max(3, Math.floor((sky.clientHeight - 20) / LANE));
  if (sky.children.length > lanes * 3) return; // a flood: the list still has it
  // The lane used longest ago, starting the search at a random lane so that
  // a quiet wall does not fill from the top.
  const from = Math.floor(Math.random() * lanes);
  let lane = from;
  for (let k = 1; k < lanes; k++) {
    const i = (from + k) % lanes;
    if ((lanesBusy[i] || 0) < (lanesBusy[lane] || 0)) lane = i;
  }
  lanesBusy[lane] = Date.now();
  const b = el('div', { class: 'bullet' }, avatar(m.id, m.nickname, 'avatar bullet-avatar'),
    el('b', { text: (m.nickname || m.id) + '：' }), el('span', { text: m.content }));
  b.style.top = `${10 + lane * LANE}px`;
  b.style.animationDuration = `${8 + Math.random() * 4}s`;
  b.addEventListener('animationend', () => b.remove());
  sky.append(b);
}

// Draw runs the lucky draw on the wall: a reel of guests' names that spins,
// slows and stops on the winners. The winners come from this wall's
// live.wall.lottery reply, or from a live.lottery push when another wall drew.
class Draw {
  constructor(room, eligible) {
    this.room = room;
    this.eligible = eligible;
    this.running = false;
    this.timer = 0;
  }

  async start() {
    if (this.running) return;
    const count = Math.max(1, Math.min(100, Math.floor(Number($('#count').value) || 1)));
    this.running = true;
    $('#draw').disabled = true;
    await this.eligible.load();
    this.open(t('drawing', { count, eligible: this.eligible.count }));
    this.spin(this.eligible.names);
    const began = Date.now();
    try {
      const winners = await this.room.lottery(count);
      await sleep(Math.max(0, SPIN_MIN - (Date.now() - began)));
      await this.reveal(winners);
    } catch (err) {
      this.stopSpin();
      $('#reel').textContent = '✕';
      $('#lottery-note').textContent = t('drawFailed', { why: errorText(err) });
    } finally {
      this.running = false;
      $('#draw').disabled = false;
    }
  }

  // shown plays a draw another wall made.
  async shown(winners) {
    if (this.running) return; // our own draw: its reply shows it
    this.running = true;
    this.open(t('draw'));
    this.spin(winners.map((w) => w.nickname || w.id));
    await sleep(SPIN_MIN / 2);
    await this.reveal(winners);
    this.running = false;
  }

  open(title) {
    $('#lottery-title').textContent = title;
    $('#winners').replaceChildren();
    $('#lottery-note').textContent = '';
    $('#reel').textContent = '…';
    $('#reel').classList.remove('stopped');
    $('#lottery').hidden = false;
    document.body.dataset.lottery = 'drawing';
  }

  close() {
    if (this.running) return;
    this.stopSpin();
    $('#lottery').hidden = true;
    document.querySelectorAll('.confetti').forEach((c) => c.remove());
    delete document.body.dataset.lottery;
  }

  spin(names) {
    this.stopSpin();
    const pool = names.length ? names : ['?'];
    let i = Math.floor(Math.random() * pool.length);
    const tick = () => {
      $('#reel').textContent = pool[i++ % pool.length];
      this.timer = setTimeout(tick, 60);
    };
    tick();
  }

  stopSpin() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  async reveal(winners) {
    // Slow the reel down before it stops.
    for (const ms of [90, 130, 180, 240, 320]) {
      await sleep(ms);
    }
    this.stopSpin();
    const reel = $('#reel');
    reel.classList.add('stopped');
    if (!winners.length) {
      reel.textContent = '—';
      $('#lottery-title').textContent = t('noWinners');
      $('#lottery-note').textContent = t('nobody');
      document.body.dataset.lottery = 'done';
      return;
    }
    reel.textContent = winners.length === 1 ? (winners[0].nickname || winners[0].id) : '★';
    $('#lottery-title').textContent = winners.length > 1 ? t('manyWinners', { n: winners.length }) : t('oneWinner');
    const list = $('#winners');
    for (const w of winners) {
      list.append(el('li', { class: 'winner', dataset: { user: w.id } }, avatar(w.id, w.nickname), el('span', { text: w.nickname || w.id })));
      await sleep(winners.length > 5 ? 120 : 350);
    }
    confetti();
    document.body.dataset.lottery = 'done';
  }
}

function confetti() {
  const colors = ['#ff5e7e', '#ffd166', '#06d6a0', '#4dabf7', '#b197fc', '#ff922b'];
  for (let i = 0; i < 80; i++) {
    const c = el('span', { class: 'confetti' });
    c.style.left = `${Math.random() * 100}vw`;
    c.style.background = colors[i % colors.length];
    c.style.animationDelay = `${Math.random() * 0.6}s`;
    c.style.animationDuration = `${2.2 + Math.random() * 1.6}s`;
    c.style.setProperty('--drift', `${(Math.random() - 0.5) * 220}px`);
    c.style.setProperty('--spin', `${360 + Math.random() * 720}deg`);
    c.addEventListener('animationend', () => c.remove());
    document.body.append(c);
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Last, so that everything above (the Draw class included) is defined.
const client = boot();
if (client) start(client);
