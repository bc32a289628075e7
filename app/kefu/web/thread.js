// A conversation as both kefu pages show it: messages kept once each by id,
// in id order, with older pages (kefu.chat.history, newest first) loaded
// above without the view jumping.

import { el, fmtTime } from '/assets/page.js';

export const PAGE = 20;
export const MAX = 2000; // characters per message (kefu.chat.send, docs/kefu.md)

// Message types of the chat table.
export const TO_USER = 1; // agent to user
export const TO_AGENT = 2; // user to agent

export class Thread {
  /**
   * @param {HTMLElement} box the scrolling container
   * @param {{mine: (m: any) => boolean, who: (m: any) => string}} opts
   */
  constructor(box, opts) {
    this.box = box;
    this.opts = opts;
    this.byId = new Map();
    this.oldest = 0;
    this.more = true;
    this.top = el('div', { class: 'thread-top' });
    box.replaceChildren(this.top);
  }

  /** Adds messages (any order); returns how many were new. */
  add(msgs) {
    const atBottom = this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight < 120;
    const fromTop = this.box.scrollHeight - this.box.scrollTop;
    let added = 0;
    let onlyOlder = true;
    for (const m of [...msgs].sort((a, b) => a.id - b.id)) {
      const known = this.byId.get(m.id);
      if (known) {
        known.m = m;
        known.node.classList.toggle('unread', !m.isread);
        continue;
      }
      const node = this.render(m);
      this.byId.set(m.id, { m, node });
      this.place(node, m.id);
      if (!this.oldest || m.id < this.oldest) this.oldest = m.id;
      else onlyOlder = false;
      added++;
    }
    if (added && onlyOlder && this.byId.size > added) {
      this.box.scrollTop = this.box.scrollHeight - fromTop; // keep the reader's place
    } else if (added && atBottom) {
      this.box.scrollTop = this.box.scrollHeight;
    }
    return added;
  }

  render(m) {
    const mine = this.opts.mine(m);
    return el('div', { class: `kmsg ${mine ? 'mine' : 'theirs'}${m.isread ? '' : ' unread'}`, dataset: { id: String(m.id), type: String(m.type) } },
      el('div', { class: 'kmsg-bubble' },
        el('div', { class: 'kmsg-text', text: m.msg }),
        el('div', { class: 'kmsg-meta' },
          el('span', { text: this.opts.who(m) }),
          el('time', { text: fmtTime(m.time) }))));
  }

  place(node, id) {
    let before = this.box.lastElementChild;
    while (before && before !== this.top && Number(before.dataset.id) > id) before = before.previousElementSibling;
    (before || this.top).after(node);
  }

  /** The highest id of a message of type, or 0. */
  maxId(type) {
    let max = 0;
    for (const { m } of this.byId.values()) if (m.type === type && m.id > max) max = m.id;
    return max;
  }

  /** Marks the other side's messages up to id as read in the view. */
  markRead(type, upTo) {
    for (const { m, node } of this.byId.values()) {
      if (m.type === type && m.id <= upTo) {
        m.isread = 1;
        node.classList.remove('unread');
      }
    }
  }

  /**
   * Loads the page before the oldest message shown.
   * @param {(params: object) => Promise<any[]>} fetchPage asks kefu.chat.history
   */
  async older(fetchPage) {
    if (!this.more || this.loading) return 0;
    this.loading = true;
    try {
      const params = { limit: PAGE };
      if (this.oldest) params.before_id = this.oldest;
      const msgs = await fetchPage(params);
      if (msgs.length < PAGE) this.more = false;
      return this.add(msgs);
    } finally {
      this.loading = false;
    }
  }

  /**
   * Loads what is newer than the newest message shown (after a reconnect),
   * page by page from the newest back until the pages meet what is shown.
   */
  async refresh(fetchPage) {
    const known = Math.max(0, ...this.byId.keys());
    let added = 0;
    let before = 0;
    for (let i = 0; i < 50; i++) {
      const params = { limit: PAGE };
      if (before) params.before_id = before;
      const msgs = await fetchPage(params);
      added += this.add(msgs);
      if (!known && msgs.length < PAGE) this.more = false;
      if (!known || msgs.length < PAGE || msgs.some((m) => m.id <= known)) break;
      before = Math.min(...msgs.map((m) => m.id));
    }
    return added;
  }
}
