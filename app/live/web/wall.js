// The event wall: the room's messages as a list or flying across the screen
// (danmaku), the online count, join and leave toasts, and the lucky draw.
// Open it as /live/wall?auth=<wall token> (add &mode=danmaku to start flying).

import { boot, el, $, avatar, fmtTime, toast, errorText } from '/assets/page.js';
import { Room } from './room.js';

const KEEP = 150; // messages kept in the list
const LANE = 58; // px per danmaku lane
const SPIN_MIN = 2200; // ms the reel spins before it may stop

function start(client) {
  const stream = $('#stream');
  const sky = $('#danmaku');
  const mode = { now: new URLSearchParams(location.search).get('mode') === 'danmaku' ? 'danmaku' : 'list' };

  const room = new Room(client, {
    onMessage: (m, live) => {
      addToList(stream, m);
      if (live && mode.now === 'danmaku') fly(sky, m);
    },
    onJoin: (u) => { if (u.type !== 'wall') toast(`${u.nickname || u.id} joined`, 'join'); },
    onLeave: (u) => { if (u.type !== 'wall') toast(`${u.nickname || u.id} left`, 'leave'); },
    onOnline: (n) => setOnline(n),
    onJoined: (p) => { $('#room').textContent = p.room ? `#${p.room}` : ''; },
    onLottery: (winners) => draw.shown(winners),
    onError: (what, err) => toast(`Could not ${what === 'join' ? 'join the room' : 'load messages'}: ${errorText(err)}`, 'error', 6000),
  });
  room.join().catch(() => { /* shown by onError; retried on the next open */ });

  const setMode = (m) => {
    mode.now = m;
    document.body.dataset.mode = m;
    sky.hidden = m !== 'danmaku';
    $('#mode').textContent = m === 'danmaku' ? 'List' : 'Danmaku';
  };
  setMode(mode.now);
  $('#mode').addEventListener('click', () => setMode(mode.now === 'danmaku' ? 'list' : 'danmaku'));

  const draw = new Draw(room);
  $('#draw').addEventListener('click', () => draw.start());
  $('#lottery-close').addEventListener('click', () => draw.close());
  addEventListener('keydown', (e) => { if (e.key === 'Escape') draw.close(); });
}

function setOnline(n) {
  const o = $('#online');
  if (o.textContent === String(n)) return;
  o.textContent = String(n);
  o.classList.remove('bump');
  void o.offsetWidth; // restart the animation
  o.classList.add('bump');
}

function addToList(stream, m) {
  const empty = $('#empty');
  if (empty) empty.remove();
  const item = el('div', { class: 'msg', dataset: { seq: String(m.seq), user: m.id } },
    avatar(m.id, m.nickname),
    el('div', { class: 'msg-body' },
      el('div', { class: 'msg-meta' },
        el('span', { class: 'msg-name', text: m.nickname || m.id }),
        el('time', { class: 'msg-time', text: fmtTime(m.time), dateTime: new Date(m.time).toISOString() })),
      el('div', { class: 'msg-text', text: m.content })));
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
  constructor(room) {
    this.room = room;
    this.running = false;
    this.timer = 0;
  }

  async start() {
    if (this.running) return;
    const count = Math.max(1, Math.min(100, Math.floor(Number($('#count').value) || 1)));
    this.running = true;
    $('#draw').disabled = true;
    this.open(`Drawing ${count} winner${count > 1 ? 's' : ''}…`);
    let names = [];
    try {
      const { users = [] } = await this.room.online(100);
      names = users.filter((u) => u.type === 'wechatUser').map((u) => u.nickname || u.id);
    } catch (_) { /* the reel spins on question marks */ }
    this.spin(names);
    const began = Date.now();
    try {
      const winners = await this.room.lottery(count);
      await sleep(Math.max(0, SPIN_MIN - (Date.now() - began)));
      await this.reveal(winners);
    } catch (err) {
      this.stopSpin();
      $('#reel').textContent = '✕';
      $('#lottery-note').textContent = `The draw failed: ${errorText(err)}`;
    } finally {
      this.running = false;
      $('#draw').disabled = false;
    }
  }

  // shown plays a draw another wall made.
  async shown(winners) {
    if (this.running) return; // our own draw: its reply shows it
    this.running = true;
    this.open('Lucky draw');
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
      $('#lottery-title').textContent = 'No winners';
      $('#lottery-note').textContent = 'Nobody eligible is in the room: guests must join from their phones.';
      document.body.dataset.lottery = 'done';
      return;
    }
    reel.textContent = winners.length === 1 ? (winners[0].nickname || winners[0].id) : '★';
    $('#lottery-title').textContent = winners.length > 1 ? `${winners.length} winners!` : 'We have a winner!';
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
