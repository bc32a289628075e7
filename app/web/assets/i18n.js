// Page language: zh-CN or en. ?lang= (query or fragment) wins, then the
// browser's languages (any zh* reads as zh-CN), then English. Each page keeps
// all of its strings in one dictionary per language and passes them to i18n.

/** @returns {'zh-CN'|'en'} */
export function lang() {
  const q = new URLSearchParams(location.search);
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  const pick = (v) => (/^zh/i.test(v) ? 'zh-CN' : /^en/i.test(v) ? 'en' : '');
  const forced = pick(q.get('lang') || h.get('lang') || '');
  if (forced) return forced;
  for (const l of navigator.languages || [navigator.language || '']) {
    const p = pick(l);
    if (p) return p;
  }
  return 'en';
}

/**
 * Picks the page's dictionary, translates the static markup (elements with
 * data-i18n, data-i18n-title, data-i18n-placeholder, data-i18n-aria-label)
 * and returns t(key, vars), which fills {name} placeholders from vars.
 * A key missing from the chosen language falls back to English, then to the key.
 * @param {{en: Record<string,string>, 'zh-CN': Record<string,string>}} strings
 * @param {ParentNode} [root]
 */
export function i18n(strings, root = document) {
  const l = lang();
  const dict = strings[l] || strings.en;
  const t = (key, vars) => {
    const s = dict[key] ?? strings.en[key] ?? key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
  };
  document.documentElement.lang = l;
  for (const [attr, prop] of [['i18n', 'textContent'], ['i18nTitle', 'title'],
    ['i18nPlaceholder', 'placeholder'], ['i18nAriaLabel', 'ariaLabel']]) {
    const sel = '[data-' + attr.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()) + ']';
    for (const e of root.querySelectorAll(sel)) e[prop] = t(e.dataset[attr]);
  }
  return Object.assign(t, { lang: l });
}
