// A wall and three phones in one room, in a real browser: everyone sees
// everyone's messages in the same order, the guest count (not the
// connections), who can win, and the lottery's winners on the wall; in
// English and in Chinese.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from '../harness.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const room = `room-${process.pid}`;
const phone = { width: 390, height: 780 };

async function open(path, claims, viewport, query = {}) {
  const page = await openPage(browser, path, { token: mint({ code: room, ...claims }), viewport, query });
  await page.waitForSelector('body[data-state="open"]');
  return page;
}

const seqs = (page, sel) => page.$$eval(sel, (els) => els.map((e) => Number(e.dataset.seq)));
const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));

const hd = { width: 1920, height: 1080 };

test('a wall and three phones chat in one room, and the wall draws winners', async () => {
  const wall = await open('/live/wall', { id: 'wall-1', type: 'wall', nickname: 'Main screen' }, hd);
  assert.equal(await wall.textContent('#status'), 'Connected');
  const guests = [['g1', 'Ming'], ['g2', 'Hong'], ['g3', '小李']];
  const phones = [];
  for (const [id, nickname] of guests) {
    const p = await open('/live/join', { id, type: 'wechatUser', nickname }, phone);
    // Not joined yet: no count at all, rather than "0 online".
    assert.equal(await p.isVisible('#count'), false);
    await p.click('#join');
    await p.waitForSelector('body[data-joined="yes"]');
    await p.waitForSelector('#count:not([hidden])');
    phones.push(p);
  }
  // The wall counts guests, not connections: four are online, the wall included.
  await wall.waitForFunction(() => document.querySelector('#guests').textContent === '3');
  assert.equal(await wall.getAttribute('#guests', 'data-online'), '4');
  await phones[2].waitForFunction(() => document.querySelector('#count').textContent === '3 guests here');
  // Who can win, before any draw.
  await wall.waitForFunction(() => document.querySelectorAll('#eligible-list .side-guest').length === 3);
  assert.equal(await wall.textContent('#eligible'), '3');
  assert.deepEqual(await wall.$$eval('#eligible-list .side-guest', (els) => els.map((e) => e.dataset.user)), ['g1', 'g2', 'g3']);

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
    // Nothing is wider than the phone (a long room code in the header included).
    assert.equal(await p.evaluate(() => document.documentElement.scrollWidth), phone.width);
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
  // The title shows once the wall has loaded who can win (a request).
  await wall.waitForFunction(() => /Drawing 2 of 3 guests/.test(document.querySelector('#lottery-title').textContent));
  await wall.waitForSelector('body[data-lottery="done"]');
  const winners = await wall.$$eval('.winner', (els) => els.map((e) => e.dataset.user));
  assert.equal(winners.length, 2);
  assert.ok(winners.every((w) => ['g1', 'g2', 'g3'].includes(w)), String(winners));
  await wall.waitForTimeout(800);
  await shot(wall, 'live-wall-lottery');
  await wall.click('#lottery-close');
  await wall.waitForTimeout(600);
  await shot(wall, 'live-wall-room');
  // The messages use the width of a 1920 screen: two columns side by side.
  const lefts = await wall.$$eval('.msg', (els) => new Set(els.map((e) => Math.round(e.getBoundingClientRect().left))).size);
  assert.equal(lefts, 2);
  const right = await wall.$eval('#stream', (e) => e.getBoundingClientRect().right);
  assert.ok(right > 1400, `the stream ends at ${right}px`);
  for (const p of [wall, ...phones]) assert.deepEqual(p.problems, []);
  for (const p of [wall, ...phones]) await p.context().close();
});

test('in Chinese: the wall, a phone, and a phone that has not joined', async () => {
  const zh = { lang: 'zh-CN' };
  const code = `${room}-zh`;
  const wall = await open('/live/wall', { id: 'wall-zh', type: 'wall', nickname: '主屏幕', code }, hd, zh);
  assert.equal(await wall.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await wall.textContent('#status'), '已连接');
  assert.equal(await wall.textContent('.wall-online-l'), '位来宾');
  assert.equal(await wall.textContent('#draw'), ' 抽奖');
  const guests = [['z1', '王小明'], ['z2', '李红'], ['z3', '张伟'], ['z4', '陈静']];
  const phones = [];
  for (const [id, nickname] of guests) {
    const p = await open('/live/join', { id, type: 'wechatUser', nickname, code }, phone, zh);
    await p.waitForFunction((n) => document.querySelector('#hello').textContent === `欢迎你，${n}！`, nickname);
    phones.push(p);
  }
  // One phone stays out: it shows the welcome and no count.
  const outside = phones.pop();
  assert.equal(await outside.textContent('#join'), '加入房间');
  assert.equal(await outside.isVisible('#count'), false);
  for (const p of phones) {
    await p.click('#join');
    await p.waitForSelector('body[data-joined="yes"]');
  }
  await wall.waitForFunction(() => document.querySelector('#guests').textContent === '3');
  const lines = ['大家好，我是小明！', '今天的分享太精彩了 👏', '期待抽奖环节～', '请问 PPT 会发给大家吗？', '第一次来现场，氛围很好', '支持！'];
  for (const [i, text] of lines.entries()) {
    const p = phones[i % phones.length];
    await p.fill('#text', text);
    await p.press('#text', 'Enter');
    await p.waitForFunction((t) => [...document.querySelectorAll('.bubble-text')].some((e) => e.textContent === t), text);
  }
  await wall.waitForFunction((n) => document.querySelectorAll('.msg').length === n, lines.length);
  await phones[0].waitForFunction(() => document.querySelector('#count').textContent === '现场 3 位来宾');
  assert.equal(await phones[0].getAttribute('#text', 'placeholder'), '说点什么…');
  await wall.waitForFunction(() => document.querySelectorAll('#eligible-list .side-guest').length === 3);
  await wall.waitForTimeout(600);
  await shot(wall, 'live-wall-room.zh-CN');
  await shot(phones[0], 'live-join-room.zh-CN');
  await shot(outside, 'live-join-welcome.zh-CN');

  // live.room.count (the coalesced count every member may get) moves the
  // numbers too: with guests as given, without it by keeping the walls.
  const push = (param) => fetch(`${process.env.MSGO_CONTROL_URL}/push?room=${encodeURIComponent(code)}&event=live.room.count`,
    { method: 'POST', body: JSON.stringify(param) }).then((r) => assert.equal(r.status, 200));
  // A count that differs from the wall's list of who can win makes the wall
  // read the room again, so its number returns to the real one: record
  // every number the wall shows rather than wait for one to stay.
  await wall.evaluate(() => {
    const g = document.querySelector('#guests');
    window.shownGuests = [];
    new MutationObserver(() => window.shownGuests.push(g.textContent)).observe(g, { childList: true, characterData: true, subtree: true });
  });
  await push({ online: 9 });
  await wall.waitForFunction(() => window.shownGuests.includes('8'));
  await phones[1].waitForFunction(() => document.querySelector('#count').textContent === '现场 8 位来宾');
  await push({ online: 12, guests: 10 });
  await wall.waitForFunction(() => window.shownGuests.includes('10'));
  await phones[1].waitForFunction(() => document.querySelector('#count').textContent === '现场 10 位来宾');
  assert.equal(await outside.isVisible('#count'), false); // not in the room: no count
  for (const p of [wall, ...phones, outside]) assert.deepEqual(p.problems, []);
  for (const p of [wall, ...phones, outside]) await p.context().close();
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
