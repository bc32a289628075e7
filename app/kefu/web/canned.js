// The canned replies picker of the agent console's composer: a list that
// opens from its button (the reply goes in at the cursor) or when the box
// holds "/" and a few characters of a reply, or its number (the reply
// replaces them). Arrow keys move, Enter or Tab picks, Escape closes.

import { el } from '/assets/page.js';

/**
 * @param {HTMLFormElement} form the composer, holding the textarea
 * @param {{button: HTMLElement, list: HTMLElement, replies: () => string[], t: (key: string) => string}} opts
 */
export function cannedPicker(form, { button, list, replies, t }) {
  const text = form.querySelector('textarea');
  const ui = { open: false, slash: false, items: [], active: 0 };

  const close = () => {
    ui.open = false;
    list.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };

  const render = () => {
    if (!ui.items.length) {
      const none = replies().length ? t('cannedNoMatch') : t('cannedNone');
      list.replaceChildren(el('li', { class: 'ag-canned-none', text: none }));
      return;
    }
    list.replaceChildren(...ui.items.map(({ reply, n }, i) => el('li', {
      class: `ag-canned-item${i === ui.active ? ' active' : ''}`,
      role: 'option',
      ariaSelected: String(i === ui.active),
      dataset: { n: String(n) },
      onmousedown: (e) => { e.preventDefault(); pick(reply); }, // keep the box's focus
    }, el('span', { class: 'ag-canned-n', text: String(n) }), el('span', { class: 'ag-canned-text', text: reply }))));
  };

  const show = (query, slash) => {
    const q = query.toLowerCase();
    ui.items = replies().map((reply, i) => ({ reply, n: i + 1 }))
      .filter(({ reply, n }) => !q || String(n) === q || reply.toLowerCase().includes(q));
    ui.open = true;
    ui.slash = slash;
    ui.active = 0;
    list.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    render();
  };

  const pick = (reply) => {
    if (ui.slash) {
      text.value = reply;
    } else {
      const { selectionStart: a, selectionEnd: b, value } = text;
      text.value = value.slice(0, a) + reply + value.slice(b);
      text.selectionStart = text.selectionEnd = a + reply.length;
    }
    close();
    text.focus();
    text.dispatchEvent(new Event('input')); // the composer enables Send
  };

  text.addEventListener('input', () => {
    const m = /^\/(\S*)$/.exec(text.value);
    if (m) show(m[1], true);
    else if (ui.open && ui.slash) close();
  });
  // Capture: these keys belong to the list while it is open, before the
  // composer sees Enter as "send".
  form.addEventListener('keydown', (e) => {
    if (!ui.open || e.isComposing) return;
    const n = ui.items.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (n) ui.active = (ui.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      render();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && n) {
      pick(ui.items[ui.active].reply);
    } else if (e.key === 'Escape') {
      close();
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
  }, true);
  button.addEventListener('click', () => {
    if (ui.open) close();
    else show('', false);
    text.focus();
  });
  // Focus leaving the composer closes the list; moving to its button does not.
  form.addEventListener('focusout', (e) => { if (!form.contains(e.relatedTarget)) close(); });
  return { close };
}
