// Moderation in a real browser: every message waits; the guest sees its own
// message as waiting, the moderator pages (two at once) see it with the word
// that held it, the wall shows only what a moderator approved, in seq order
// and without gaps; rejected and dropped messages never reach the wall.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from '../harness.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const room = `mod-${process.pid}`;
const phone = { width: 390, height: 780 };

async function open(path, claims, viewport, query = {}) {
  const page = await openPage(browser, path, { token: mint({ code: room, ...claims }), viewport, query });
  await page.waitForSelector('body[data-state="open"]');
  return page;
}

async function say(p, text) {
  await p.fill('#text', text);
  await p.press('#text', 'Enter');
}

const card = (text) => `.mod-card[data-held]:has(.mod-text:text-is("${text}"))`;
const cardTexts = (page) => page.$$eval('#pending .mod-card .mod-text', (els) => els.map((e) => e.textContent));

test('held, approved, rejected, held by a word and dropped by one', async () => {
  const wall = await open('/live/wall', { id: 'screen', type: 'wall', nickname: 'Main screen' }, { width: 1920, height: 1080 });
  const mod = await open('/live/moderate', { id: 'mod-1', type: 'wall', nickname: 'Moderator' }, { width: 1280, height: 800 });
  const mod2 = await open('/live/moderate', { id: 'mod-2', type: 'wall', nickname: 'Second moderator' }, { width: 1024, height: 700 });
  await mod.waitForSelector('body[data-loaded="yes"]');
  assert.equal(await mod.textContent('#mode'), 'Every message waits for approval');
  const ming = await open('/live/join', { id: 'g1', type: 'wechatUser', nickname: 'Ming' }, phone);
  const li = await open('/live/join', { id: 'g2', type: 'wechatUser', nickname: '小李' }, phone);
  for (const p of [ming, li]) {
    await p.click('#join');
    await p.waitForSelector('body[data-joined="yes"]');
  }
  // Two guests; the screen and two moderator pages are not guests.
  await wall.waitForFunction(() => document.querySelector('#guests').textContent === '2');
  await mod.waitForFunction(() => document.querySelector('#guests').textContent === '2 guests');

  await say(ming, 'Hello everyone');
  await ming.waitForSelector('.bubble.pending:has-text("Hello everyone")');
  assert.match(await ming.textContent('.bubble.pending .bubble-held'), /approve/);
  await say(li, '加我微信 abc123');
  await say(ming, 'spam spam spam'); // dropped: waiting on the phone, nowhere else
  await ming.waitForSelector('.bubble.pending:has-text("spam spam spam")');
  await say(li, 'Great talk!');
  for (const m of [mod, mod2]) {
    await m.waitForFunction(() => document.body.dataset.pending === '3');
    assert.deepEqual(await cardTexts(m), ['Hello everyone', '加我微信 abc123', 'Great talk!']);
  }
  assert.equal(await mod.textContent(`${card('加我微信 abc123')} .mod-word`), 'matched “微信”');
  assert.equal(await wall.$$eval('.msg', (els) => els.length), 0);
  await mod.waitForTimeout(300);
  await shot(mod, 'live-moderate');

  // Approve: on the wall and every phone; the sender's waiting bubble
  // becomes its own message; the second moderator's card goes too.
  await mod.click(`${card('Hello everyone')} .mod-approve`);
  await wall.waitForFunction(() => document.querySelectorAll('.msg').length === 1);
  await ming.waitForSelector('.bubble.mine[data-seq="1"]');
  assert.equal(await ming.$$eval('.bubble.pending', (els) => els.length), 1); // only the dropped one
  await li.waitForSelector('.bubble[data-seq="1"]');
  await mod2.waitForFunction(() => document.body.dataset.pending === '2');
  await mod.waitForSelector('#wall .mod-card[data-seq="1"]');

  // Reject on the second page: it leaves both; nothing reaches the wall.
  await mod2.click(`${card('加我微信 abc123')} .mod-reject`);
  await mod.waitForFunction(() => document.body.dataset.pending === '1');
  await mod.click(`${card('Great talk!')} .mod-approve`);
  await wall.waitForFunction(() => document.querySelectorAll('.msg').length === 2);
  assert.deepEqual(await wall.$$eval('.msg', (els) => els.map((e) => [Number(e.dataset.seq), e.querySelector('.msg-text').textContent])),
    [[1, 'Hello everyone'], [2, 'Great talk!']]);
  await mod2.waitForFunction(() => document.body.dataset.pending === '0');
  assert.equal(await mod.isVisible('#pending-empty'), true);

  // A moderator page that comes late (or back) reads the queue as it is.
  await say(li, 'One more question');
  await mod.waitForFunction(() => document.body.dataset.pending === '1');
  const late = await open('/live/moderate', { id: 'mod-3', type: 'wall', nickname: 'Late moderator' }, { width: 1280, height: 800 }, { lang: 'zh-CN' });
  await late.waitForFunction(() => document.body.dataset.pending === '1');
  assert.equal(await late.textContent('#mode'), '所有消息都需审核');
  assert.equal(await late.textContent(`${card('One more question')} .mod-approve`), '通过');
  await say(ming, '请加微信 wx888');
  await say(li, '讲得太好了，学到很多！');
  await late.waitForFunction(() => document.body.dataset.pending === '3');
  await late.waitForTimeout(300);
  await shot(late, 'live-moderate.zh-CN');
  for (const p of [wall, mod, mod2, ming, li, late]) assert.deepEqual(p.problems, []);
});
