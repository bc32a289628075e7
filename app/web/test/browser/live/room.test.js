// A wall and three phones in one room, in a real browser: everyone sees
// everyone's messages in the same order, the online count, and the lottery's
// winners on the wall.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from '../harness.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const room = `room-${process.pid}`;
const phone = { width: 390, height: 780 };

async function open(path, claims, viewport) {
  const page = await openPage(browser, path, { token: mint({ code: room, ...claims }), viewport });
  await page.waitForSelector('body[data-state="open"]');
  return page;
}

const seqs = (page, sel) => page.$$eval(sel, (els) => els.map((e) => Number(e.dataset.seq)));
const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));

test('a wall and three phones chat in one room, and the wall draws winners', async () => {
  const wall = await open('/live/wall', { id: 'wall-1', type: 'wall', nickname: 'Main screen' }, { width: 1600, height: 900 });
  const guests = [['g1', 'Ming'], ['g2', 'Hong'], ['g3', '小李']];
  const phones = [];
  for (const [id, nickname] of guests) {
    const p = await open('/live/join', { id, type: 'wechatUser', nickname }, phone);
    await p.click('#join');
    await p.waitForSelector('body[data-joined="yes"]');
    phones.push(p);
  }
  await wall.waitForFunction(() => document.querySelector('#online').textContent === '4');

  const sent = [];
  for (let round = 0; round < 3; round++) {
    for (const [i, p] of phones.entries()) {
      const text = `round ${round} from ${guests[i][1]}`;
      await p.fill('#text', text);
      await p.press('#text', 'Enter');
      sent.push(text);
    }
  }
  const n = sent.length;
  await wall.waitForFunction((n) => document.querySelectorAll('.msg').length === n, n);
  const wallSeqs = await seqs(wall, '.msg');
  assert.deepEqual(wallSeqs, [...wallSeqs].sort((a, b) => a - b));
  assert.deepEqual(new Set(await texts(wall, '.msg .msg-text')), new Set(sent));
  for (const p of phones) {
    await p.waitForFunction((n) => document.querySelectorAll('.bubble').length === n, n);
    assert.deepEqual(await seqs(p, '.bubble'), wallSeqs);
    assert.equal(await p.$$eval('.bubble.mine', (els) => els.length), 3);
  }
  await shot(phones[2], 'live-join-room');

  // Danmaku: new messages fly across the wall.
  await wall.click('#mode');
  await wall.waitForSelector('body[data-mode="danmaku"]');
  for (const [i, p] of phones.entries()) {
    await p.fill('#text', `flying ${i}`);
    await p.press('#text', 'Enter');
  }
  await wall.waitForFunction(() => document.querySelectorAll('#danmaku .bullet').length === 3);
  await wall.waitForTimeout(1500);
  await shot(wall, 'live-wall-danmaku');
  await wall.click('#mode');
  await wall.waitForFunction((n) => document.querySelectorAll('.msg').length === n, n + 3);

  await wall.fill('#count', '2');
  await wall.click('#draw');
  await wall.waitForSelector('body[data-lottery="done"]');
  const winners = await wall.$$eval('.winner', (els) => els.map((e) => e.dataset.user));
  assert.equal(winners.length, 2);
  assert.ok(winners.every((w) => ['g1', 'g2', 'g3'].includes(w)), String(winners));
  await wall.waitForTimeout(800);
  await shot(wall, 'live-wall-lottery');
  await wall.click('#lottery-close');
  await shot(wall, 'live-wall-room');
  for (const p of [wall, ...phones]) assert.deepEqual(p.problems, []);
});

const control = (what) => fetch(`${process.env.MSGO_CONTROL_URL}/${what}`, { method: 'POST' }).then((r) => assert.equal(r.status, 200));

test('after msgo restarts the pages reconnect and the wall fills its gap', async () => {
  const wall = await open('/live/wall', { id: 'wall-2', type: 'wall', nickname: 'Side screen', code: `${room}-b` }, { width: 1280, height: 800 });
  const p = await openPage(browser, '/live/join', { token: mint({ id: 'g9', type: 'wechatUser', nickname: 'Ming', code: `${room}-b` }), viewport: phone });
  await p.waitForSelector('body[data-state="open"]');
  await p.click('#join');
  await p.waitForSelector('body[data-joined="yes"]');
  const say = async (text) => {
    await p.fill('#text', text);
    await p.press('#text', 'Enter');
    await p.waitForFunction((t) => [...document.querySelectorAll('.bubble-text')].some((e) => e.textContent === t), text);
  };
  await say('before the restart');
  await wall.waitForFunction(() => document.querySelectorAll('.msg').length === 1);

  await control('gate'); // the wall may not come back yet
  await control('kill');
  await wall.waitForSelector('body[data-state="reconnecting"]');
  await p.waitForSelector('body[data-state="reconnecting"]');
  // Typed while msgo is down: the send waits for the reconnect and the
  // re-join (the restart lost the session), then goes out once.
  await p.fill('#text', 'typed while msgo was down');
  await p.press('#text', 'Enter');
  await control('start');
  await p.waitForSelector('body[data-state="open"]');
  await p.waitForSelector('body[data-joined="yes"]');
  await p.waitForFunction(() => [...document.querySelectorAll('.bubble-text')].some((e) => e.textContent === 'typed while msgo was down'));
  assert.equal(await p.inputValue('#text'), '');
  const gap = ['while the wall was away 1', 'while the wall was away 2', 'while the wall was away 3'];
  for (const text of gap) await say(text);
  assert.notEqual(await wall.getAttribute('body', 'data-state'), 'open');

  await control('ungate');
  await wall.waitForSelector('body[data-state="open"]', { timeout: 60000 });
  await wall.waitForFunction((n) => document.querySelectorAll('.msg').length === n, gap.length + 2);
  assert.deepEqual(await texts(wall, '.msg .msg-text'), ['before the restart', 'typed while msgo was down', ...gap]);
  const wallSeqs = await seqs(wall, '.msg');
  assert.deepEqual(wallSeqs, [...wallSeqs].sort((a, b) => a - b));
  assert.equal(new Set(wallSeqs).size, wallSeqs.length);

  await say('after the wall is back');
  await wall.waitForFunction((n) => document.querySelectorAll('.msg').length === n, gap.length + 3);
  await shot(wall, 'live-wall-after-restart');
  for (const page of [wall, p]) await page.context().close();
});

test('a send that fails gives its text back, before what was typed since', async () => {
  const p = await open('/live/join', { id: 'g10', type: 'wechatUser', nickname: 'Hong' }, phone);
  const kept = await p.evaluate(async () => {
    const { composer } = await import('/assets/page.js');
    const form = document.createElement('form');
    form.innerHTML = '<textarea></textarea><button type="submit">send</button>';
    document.body.append(form);
    let fail;
    composer(form, { max: 100, onSend: () => new Promise((_, reject) => { fail = reject; }) });
    const box = form.querySelector('textarea');
    box.value = 'the message that fails';
    box.dispatchEvent(new Event('input'));
    form.requestSubmit();
    await new Promise((r) => setTimeout(r, 0));
    box.value = 'typed meanwhile';
    fail(new Error('network'));
    await new Promise((r) => setTimeout(r, 50));
    return box.value;
  });
  assert.equal(kept, 'the message that fails\ntyped meanwhile');
  await p.context().close();
});
