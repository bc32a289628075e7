// The manager's admin page in a real browser: token once (sessionStorage,
// bearer header, never in a URL), live figures, tables, a test push, and
// both languages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { launch, openPage, shot, mint, env } from '../harness.js';

const token = process.env.MSGO_MANAGER_TOKEN;
const openURL = process.env.MSGO_OPEN_MANAGER_URL;

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());
const cells = (page, sel) => page.$$eval(sel, (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

// The first call of a page with no token yet answers 401: that is the page
// asking, not a problem.
const problems = (page) => page.problems.filter((p) => !/^401 .*\/api\/|status of 401/.test(p));

/** A WebSocket client of the node, joined to room. */
async function guest(id, room) {
  const ws = new WebSocket(`${env.wsURL}?auth=${mint({ id, type: 'wechatUser' })}`);
  const frames = [];
  ws.on('message', (m) => frames.push(JSON.parse(m)));
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  ws.send(JSON.stringify({ method: 'admintest.room.join', id: 1, room }));
  while (!frames.some((f) => f.id === 1)) await new Promise((r) => setTimeout(r, 20));
  return { ws, frames };
}

test('asks for the token once, shows the node live, and pushes to a room', async () => {
  const page = await openPage(browser, '/admin', { viewport: { width: 1366, height: 900 } });
  const urls = [];
  const bearer = [];
  page.on('request', (r) => {
    urls.push(r.url());
    if (r.url().includes('/api/')) bearer.push(r.headers().authorization || '');
  });
  await page.waitForSelector('body[data-state="login"]');
  assert.ok(await page.isVisible('#login'));
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForSelector('body[data-state="open"]');

  assert.equal(await text(page, '#f-connections'), '16');
  assert.equal(await text(page, '#f-users'), '15'); // 12 guests (one on two devices), a wall, 2 vip guests
  assert.equal(await text(page, '#f-rooms'), '2');
  assert.match(await text(page, '#node'), /^node-a · v1\.4\.0 · go/);
  const nodes = await cells(page, '#nodes tbody tr');
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0][0], 'node-a');
  assert.equal(nodes[0][1], '16');
  assert.match(nodes[0][2], /^\d+s$/);
  assert.deepEqual(await cells(page, '#rooms tbody tr'), [['hall', '14', '13'], ['vip', '2', '2']]);
  const closes = await cells(page, '#closes tbody tr');
  assert.ok(closes.some(([code]) => code === '1000' || code === '1006'), `closes: ${JSON.stringify(closes)}`);

  // Live: a new guest shows within a few refreshes; its leaving is a close.
  const ticks = Number(await page.getAttribute('body', 'data-ticks'));
  const g = await guest('live-guest', 'hall');
  await page.waitForFunction(() => document.querySelector('#f-connections').textContent === '17');
  await page.waitForFunction((n) => Number(document.body.dataset.ticks) >= n + 2, ticks);

  // A bad param is refused in the page, nothing is sent.
  await page.selectOption('#push-to', 'room');
  await page.fill('#push-target', 'hall');
  await page.fill('#push-param', '[1,2]');
  await page.click('#push button[type="submit"]');
  await page.waitForSelector('#push-result.bad');
  // The push form reaches the room's 15 connections, the new guest's too.
  await page.fill('#push-event', 'admin.test');
  await page.fill('#push-param', '{"text":"<b>hello</b>"}');
  await page.click('#push button[type="submit"]');
  await page.waitForSelector('#push-result[data-delivered]');
  assert.equal(await page.getAttribute('#push-result', 'data-delivered'), '15');
  while (!g.frames.some((f) => f.event === 'admin.test')) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(g.frames.find((f) => f.event === 'admin.test').param, { text: '<b>hello</b>' });

  g.ws.close(1000);
  await page.waitForFunction(() => document.querySelector('#f-connections').textContent === '16');
  await page.waitForFunction(() => [...document.querySelectorAll('#closes tbody tr')]
    .some((r) => r.cells[0].textContent === '1000' && Number(r.cells[2].textContent) >= 1));
  await shot(page, 'admin-dashboard');

  // The token stays in this tab: a reload opens without asking.
  await page.reload();
  await page.waitForSelector('body[data-state="open"]');
  assert.ok(!(await page.isVisible('#login')));
  for (const u of urls) assert.ok(!u.includes(token), `token in a URL: ${u}`);
  assert.ok(bearer.filter((h) => h === `Bearer ${token}`).length > 3, 'calls carry the bearer header');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('a wrong token is refused and asked again', async () => {
  const page = await openPage(browser, '/admin');
  await page.waitForSelector('body[data-state="login"]');
  await page.fill('#token', 'not-the-token');
  await page.press('#token', 'Enter');
  await page.waitForFunction(() => document.body.dataset.state === 'login'
    && document.querySelector('#status').textContent.includes('refused'));
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.context().close();
});

test('speaks Chinese with ?lang=zh-CN', async () => {
  const page = await openPage(browser, '/admin', { query: { lang: 'zh-CN' } });
  await page.waitForSelector('body[data-state="login"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await text(page, '[data-i18n="signIn"]'), '登录');
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForSelector('body[data-state="open"]');
  assert.equal(await text(page, '#status'), '实时，每秒刷新');
  assert.equal(await text(page, '[data-i18n="largestRooms"]'), '最大的房间（本节点）');
  await shot(page, 'admin-dashboard-zh');
  assert.deepEqual(problems(page), []);
  await page.context().close();
});

test('with no token configured on loopback it just opens', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(`${openURL}/admin`);
  await page.waitForSelector('body[data-state="open"]');
  assert.ok(!(await page.isVisible('#login')));
  await ctx.close();
});
