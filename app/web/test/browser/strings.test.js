// Every page's words are complete in both languages: each *.strings.js
// under app/ has the same keys in zh-CN and en, none empty, and every key
// the page's markup (data-i18n*) or code (t('key')) asks for is there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// dictionaries maps each directory holding *.strings.js to its files' STRINGS.
async function dictionaries() {
  const byDir = new Map();
  for (const rel of fs.readdirSync(app, { recursive: true })) {
    if (!rel.endsWith('.strings.js') || rel.includes('node_modules')) continue;
    const file = path.join(app, rel);
    const { STRINGS } = await import(pathToFileURL(file));
    const dir = path.dirname(file);
    if (!byDir.has(dir)) byDir.set(dir, new Map());
    byDir.get(dir).set(path.basename(file, '.strings.js'), STRINGS);
  }
  return byDir;
}

// asked returns the keys a page's file uses: data-i18n* attributes in
// markup, literal t('key') calls in code.
function asked(file) {
  const src = fs.readFileSync(file, 'utf8');
  const re = file.endsWith('.html') ? /data-i18n(?:-[a-z-]+)?="([^"]+)"/g : /\bt\('([A-Za-z0-9_]+)'/g;
  return [...src.matchAll(re)].map((m) => m[1]);
}

test('every dictionary is complete in both languages and has every key its page asks for', async () => {
  const byDir = await dictionaries();
  assert.ok(byDir.size >= 2, `found dictionaries in ${[...byDir.keys()]}`);
  for (const [dir, dicts] of byDir) {
    const all = new Set();
    for (const [name, strings] of dicts) {
      const where = path.relative(app, path.join(dir, `${name}.strings.js`));
      assert.deepEqual(Object.keys(strings).sort(), ['en', 'zh-CN'], where);
      assert.deepEqual(Object.keys(strings['zh-CN']).sort(), Object.keys(strings.en).sort(), where);
      for (const [l, dict] of Object.entries(strings)) {
        for (const [k, v] of Object.entries(dict)) assert.ok(v.trim(), `${where}: ${l} ${k} is empty`);
      }
      for (const k of Object.keys(strings.en)) all.add(k);
    }
    for (const f of fs.readdirSync(dir)) {
      if (!/\.(html|js)$/.test(f) || f.endsWith('.strings.js')) continue;
      // A page's own files use its dictionary; shared helpers any of the directory's.
      const own = dicts.get(f.replace(/\.(html|js)$/, ''));
      const keys = own ? new Set(Object.keys(own.en)) : all;
      for (const k of asked(path.join(dir, f))) {
        assert.ok(keys.has(k), `${path.relative(app, path.join(dir, f))} asks for "${k}", which its dictionary lacks`);
      }
    }
  }
});
