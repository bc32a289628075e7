// A live room as the wall and the phone page see it: joining (again after
// every reconnect, since membership belongs to the connection), messages
// without gaps or duplicates, and the room's pushes.
//
// Messages are delivered to onMessage once each, whatever mix of pushes and
// live.message.history pages brought them, and possibly out of seq order (a
// push can overtake the history that fills a gap): render by seq. Because a
// room's seq has no gaps, the room tracks the highest seq below which it has
// seen everything, and after a (re)join asks live.message.history for what
// follows it, page by page, so a wall that was offline shows what it missed.
//
// Counts: online counts everyone in the room, walls included; guests only
// the guests (wechatUsers). They come with the join and leave replies, with
// live.user.join / live.user.leave pushes (which may reach walls only) and
// with live.room.count pushes; a push without guests keeps the last known
// number of walls, so guests follow online.

import { el, avatar, fmtTime } from '/assets/page.js';

const PAGE = 100;

export class Room {
  /**
   * @param {import('/sdk/msgo.js').Client} client
   * @param {{
   *   onMessage?: (m: any, live: boolean) => void,
   *   onJoin?: (u: any) => void,
   *   onLeave?: (u: any) => void,
   *   onCounts?: (c: {online: number, guests: number}) => void,
   *   onLottery?: (winners: any[]) => void,
   *   onJoined?: (info: {room: string, online: number, guests?: number}) => void,
   *   onError?: (what: string, err: any) => void,
   * }} handlers
   */
  constructor(client, handlers = {}) {
    this.client = client;
    this.h = handlers;
    this.wantJoined = false;
    this.joining = null;
    this.joined = false;
    this.contiguous = 0; // every seq up to this one has been delivered
    this.seen = new Set(); // seqs delivered above contiguous
    this.catching = null;
    this.walls = 0; // online - guests, as last told
    client.on('live.message', (m) => this._message(m, true));
    client.on('live.user.join', (u) => { this._counts(u); this.h.onJoin && this.h.onJoin(u); });
    client.on('live.user.leave', (u) => { this._counts(u); this.h.onLeave && this.h.onLeave(u); });
    client.on('live.room.count', (c) => this._counts(c));
    client.on('live.lottery', (p) => this.h.onLottery && this.h.onLottery(p.winners || []));
    // Membership belongs to the connection: join again on every new one,
    // unless a join made while offline is on its way already.
    client.on('open', () => { if (this.wantJoined && !this.joining) this.join().catch(() => {}); });
    client.on('close', () => { this.joined = false; });
  }

  // _report passes on errors worth a word: a dropped connection is not one,
  // since the next open joins and catches up again.
  _report(what, err) {
    if (err && (err.code === 'disconnected' || err.code === 'closed')) return;
    if (this.h.onError) this.h.onError(what, err);
  }

  // _counts passes on a reply's or push's counts; only a joined room counts
  // (a push racing a leave does not bring a stale number back).
  _counts(p) {
    if (!p || typeof p.online !== 'number' || !this.wantJoined) return;
    if (typeof p.guests === 'number') this.walls = Math.max(0, p.online - p.guests);
    const guests = typeof p.guests === 'number' ? p.guests : Math.max(0, p.online - this.walls);
    this.counts = { online: p.online, guests };
    if (this.h.onCounts) this.h.onCounts(this.counts);
  }

  _message(m, live) {
    // Everything up to contiguous was delivered (or, per history, never existed).
    if (!m || typeof m.seq !== 'number' || m.seq <= this.contiguous || this.seen.has(m.seq)) return;
    this.seen.add(m.seq);
    this._advance();
    this.h.onMessage && this.h.onMessage(m, live);
  }

  _advance() {
    while (this.seen.delete(this.contiguous + 1)) this.contiguous++;
    for (const s of this.seen) if (s <= this.contiguous) this.seen.delete(s);
  }

  /** Joins the room, then fetches what was missed. */
  join() {
    this.wantJoined = true;
    if (!this.joining) {
      this.joining = this._join().finally(() => { this.joining = null; });
    }
    return this.joining;
  }

  async _join() {
    try {
      const { param } = await this.client.request('live.user.join');
      this.joined = true;
      this._counts(param);
      this.h.onJoined && this.h.onJoined(param);
    } catch (err) {
      this._report('join', err);
      throw err;
    }
    await this.catchUp();
  }

  async leave() {
    this.wantJoined = false;
    const { param } = await this.client.request('live.user.leave');
    this.joined = false;
    this.counts = null;
  }

  /**
   * Fetches every message after the last seq seen. Concurrent calls share
   * one run; a call during a run starts another after it.
   */
  catchUp() {
    if (this.catching) {
      this.again = true;
      return this.catching;
    }
    this.catching = (async () => {
      try {
        do {
          this.again = false;
          await this._fetchAll();
        } while (this.again);
      } catch (err) {
        this._report('history', err);
      } finally {
        this.catching = null;
      }
    })();
    return this.catching;
  }

  async _fetchAll() {
    let cursor = this.contiguous;
    for (let pages = 0; pages < 1000; pages++) {
      let param;
      try {
        ({ param } = await this.client.request('live.message.history', { after_seq: cursor, limit: PAGE }));
      } catch (err) {
        if (err.status === 429) { // over the rate limit: slow down and go on
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        throw err;
      }
      const msgs = param.messages || [];
      for (const m of msgs) this._message(m, false);
      if (msgs.length) cursor = msgs[msgs.length - 1].seq;
      if (msgs.length < PAGE) {
        // History is the record: a seq it did not return up to cursor does
        // not exist, so the contiguous mark may pass it.
        if (cursor > this.contiguous) this.contiguous = cursor;
        this._advance();
        return;
      }
    }
  }

  /** @param {string} content */
  async send(content) {
    const { param } = await this.client.request('live.message.send', { content });
    return param;
  }

  /** @param {number} count */
  async lottery(count) {
    const { param } = await this.client.request('live.wall.lottery', { count }, { timeout: 15000 });
    return param.winners || [];
  }

  /**
   * Who is in the room: {online, guests, users}; type narrows users to
   * 'wechatUser' (who can win the lottery) or 'wall'.
   * @param {number} [limit]
   * @param {string} [type]
   */
  async online(limit = 100, type = undefined) {
    const { param } = await this.client.request('live.room.online', type ? { limit, type } : { limit });
    this._counts(param);
    return param;
  }
}

/** Who this connection is, from index.index.whoami; null when unavailable. */
export async function whoami(client) {
  try {
    const { param } = await client.request('index.index.whoami');
    return param;
  } catch (_) {
    return null;
  }
}

/**
 * A message as the pages draw it: avatar, then name, time and text, with
 * class names starting with prefix (prefix-body, -meta, -name, -time,
 * -text). meta adds to the name line, body after the text, tail after the
 * body.
 * @param {string} prefix
 * @param {{id: string, nickname?: string, content: string, time: number}} m
 * @param {{cls?: string, dataset?: object, meta?: Node[], body?: Node[], tail?: Node[]}} [opts]
 */
export function messageCard(prefix, m, { cls = prefix, dataset = {}, meta = [], body = [], tail = [] } = {}) {
  return el('div', { class: cls, dataset: { user: m.id, ...dataset } },
    avatar(m.id, m.nickname),
    el('div', { class: `${prefix}-body` },
      el('div', { class: `${prefix}-meta` },
        el('span', { class: `${prefix}-name`, text: m.nickname || m.id }),
        el('time', { class: `${prefix}-time`, text: fmtTime(m.time), dateTime: new Date(m.time).toISOString() }),
        ...meta),
      el('div', { class: `${prefix}-text`, text: m.content }),
      ...body),
    ...tail);
}
