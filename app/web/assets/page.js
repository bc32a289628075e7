// What every msgo page shares: reading ?auth= and ?ws=, connecting with the
// SDK, the connection pill, the "missing or invalid token" screen, toasts and
// a small DOM builder. Pages import it as /assets/page.js. Its own words are
// in page.strings.js, shown in the page's language (i18n.js).

import { connect, CLOSED } from '/sdk/msgo.js';
import { i18n } from '/assets/i18n.js';
import { STRINGS } from '/assets/page.strings.js';

// t translates page.js's own strings; the root is empty, so the page's
// markup is left to the page's own i18n call.
const t = i18n(STRINGS, document.createDocumentFragment());

/**
 * The page's settings from its URL: query first, then the fragment (a token
 * in the fragment never reaches a server log).
 * @returns {{token: string, ws: string, get: (k: string) => string}}
 */
export function pageParams() {
  const q = new URLSearchParams(location.search);
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  const get = (k) => q.get(k) || h.get(k) || '';
  return { token: get('auth'), ws: get('ws'), get };
}

/**
 * Asks the page's server whether token is good: true, false (403), or
 * undefined when it cannot tell (no such endpoint, server down).
 * @param {string} token
 */
export async function verifyToken(token) {
  try {
    const r = await fetch('/auth/check', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    if (r.status === 403) return false;
    if (r.ok) return true;
  } catch (_) { /* server unreachable: say nothing */ }
  return undefined;
}

/**
 * Builds an element. attrs: class, dataset (object), on<event> handlers, and
 * any property (text sets textContent, never innerHTML).
 * @param {string} tag
 * @param {object} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c);
  }
  return e;
}

/** @param {string} sel */
export const $ = (sel) => document.querySelector(sel);

/** Characters as the protocol counts them: code points. */
export const charCount = (s) => [...s].length;

const pad = (n) => String(n).padStart(2, '0');

/** hh:mm, or a date too when not today. @param {number} ms */
export function fmtTime(ms) {
  const d = new Date(ms);
  const now = new Date();
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
}

/** A stable hue for a user id, for avatars: FNV-1a, so ids that differ in one character still differ in colour. @param {string} id */
export function hueFor(id) {
  let h = 0x811c9dc5;
  for (const c of String(id)) h = Math.imul(h ^ c.codePointAt(0), 16777619);
  return (h >>> 0) % 360;
}

/** A round avatar with the name's first character. */
export function avatar(id, name, cls = 'avatar') {
  const a = el('span', { class: cls, text: ([...(name || id || '?')][0] || '?').toUpperCase(), 'aria-hidden': 'true' });
  a.style.background = `hsl(${hueFor(id)} 62% 52%)`;
  return a;
}

/** A short message for an SDK error, for the UI. */
export function errorText(err) {
  if (!err) return '';
  switch (err.code) {
    case 'reply': return err.info || t('errStatus', { status: err.status });
    case 'timeout': return t('errTimeout');
    case 'queue_full': return t('errQueueFull');
    case 'disconnected': return t('errDisconnected');
    case 'closed': return t('errClosed');
    case 'unauthorized': return t('badTokenTitle');
    default: return err.message || String(err);
  }
}

/**
 * Wires a message form: Enter sends (Shift+Enter and IME composition do
 * not), the button is enabled for 1..max characters, the box grows with its
 * text, and counter (if any) shows n/max. The box is cleared at once and
 * onSend gets the trimmed text; sends run one at a time in the order typed.
 * A send that throws gets a toast saying why, and its text comes back into
 * the box if the box is empty.
 * @param {HTMLFormElement} form holding a textarea and a submit button
 * @param {{max: number, counter?: HTMLElement|null, onSend: (text: string) => Promise<unknown>}} opts
 */
export function composer(form, { max, counter = null, onSend }) {
  const text = form.querySelector('textarea');
  const send = form.querySelector('[type=submit]');
  // Sends go out one after another in the order typed; the box is free again
  // at once, so a message typed while the last one is on its way is kept,
  // not dropped.
  let chain = Promise.resolve();
  const refresh = () => {
    const n = charCount(text.value);
    if (counter) {
      counter.textContent = `${n}/${max}`;
      counter.classList.toggle('over', n > max);
    }
    send.disabled = !text.value.trim() || n > max;
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
  };
  text.addEventListener('input', refresh);
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value || charCount(value) > max) return;
    text.value = '';
    refresh();
    text.focus();
    chain = chain.then(() => onSend(value)).catch((err) => {
      toast(t('notSent', { why: errorText(err) }), 'error');
      if (!text.value) { // give the text back rather than lose it
        text.value = value;
        refresh();
      }
    });
  });
  refresh();
  return { refresh };
}

let toastBox = null;

/**
 * Shows a short notice in the corner.
 * @param {string|Node} content
 * @param {'info'|'join'|'leave'|'error'} [kind]
 * @param {number} [ms]
 */
export function toast(content, kind = 'info', ms = 3500) {
  if (!toastBox) {
    toastBox = el('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const t = el('div', { class: `toast toast-${kind}` }, content);
  toastBox.append(t);
  while (toastBox.children.length > 5) toastBox.firstElementChild.remove();
  setTimeout(() => {
    t.classList.add('toast-out');
    setTimeout(() => t.remove(), 400);
  }, ms);
}

/**
 * Covers the page with a plain explanation (a bad token, a kick).
 * @param {string} title
 * @param {string} detail
 */
export function block(title, detail) {
  document.body.dataset.blocked = title;
  let b = document.querySelector('.blocker');
  if (!b) {
    b = el('div', { class: 'blocker', role: 'alert' });
    document.body.append(b);
  }
  b.replaceChildren(el('div', { class: 'blocker-card' },
    el('h1', { text: title }),
    el('p', { text: detail }),
    el('button', { class: 'btn', text: t('reload'), onclick: () => location.reload() })));
}

/**
 * Connects the page: shows "missing or invalid token" when it is, keeps a
 * connection pill (#status) up to date, exposes the state as
 * body[data-state] (tests wait on it) and returns the client, or null when
 * there is no token at all.
 * @param {{statusEl?: HTMLElement|null}} [opts]
 */
export function boot(opts = {}) {
  const p = pageParams();
  const status = opts.statusEl === undefined ? document.getElementById('status') : opts.statusEl;
  const show = (state, text) => {
    document.body.dataset.state = state;
    if (!status) return;
    status.className = `status status-${state}`;
    status.textContent = text;
  };
  if (!p.token) {
    show('closed', t('noToken'));
    block(t('badTokenTitle'), t('noTokenDetail'));
    return null;
  }
  const client = connect({ url: p.ws || undefined, token: p.token, verify: verifyToken });
  let failures = 0;
  client.on('state', (state, info) => {
    let text = t(state);
    if (state === 'reconnecting' && info.delay !== undefined && info.delay >= 1500) {
      text = t('reconnectingIn', { s: Math.round(info.delay / 1000) });
    }
    show(state, text);
  });
  client.on('open', () => { failures = 0; });
  client.on('close', (c) => {
    if (!c.opened) failures++;
    if (!c.final && failures === 3) toast(t('unreachable'), 'error');
    if (!c.final || client.state !== CLOSED) return;
    const code = `${c.code}${c.reason ? ': ' + c.reason : ''}`;
    if (c.reason === 'unauthorized') {
      show('closed', t('invalidToken'));
      block(t('badTokenTitle'), t('refusedDetail'));
    } else if (c.code === 1008) {
      block(t('disconnected'), t('kickedDetail', { code }));
    } else {
      block(t('disconnected'), t('closedDetail', { code }));
    }
  });
  show('connecting', t('connecting'));
  addEventListener('online', () => client.retry());
  document.addEventListener('visibilitychange', () => { if (!document.hidden) client.retry(); });
  globalThis.msgo = { client }; // for the console and for tests
  return client;
}
