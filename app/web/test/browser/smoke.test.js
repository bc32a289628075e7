// A first look at the pages in a real browser: each one loads with all its
// files, connects to the node, and says plainly when its token is missing or
// bad. Screenshots go to the artifacts directory.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from './harness.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const pages = [
  ['/live/wall', { id: 'wall-1', type: 'wall', code: 'smoke', nickname: 'Main screen' }, { width: 1600, height: 900 }],
  ['/live/join', { id: 'guest-1', type: 'wechatUser', code: 'smoke', nickname: 'Ming' }, { width: 390, height: 780 }],
  ['/live/moderate', { id: 'mod-1', type: 'wall', code: 'smoke', nickname: 'Moderator' }, { width: 1280, height: 800 }],
  ['/kefu/agent', { id: 'agent-1', type: 'kefu', nickname: 'Agent Li' }, { width: 1280, height: 800 }],
  ['/kefu/chat', { id: 'openid-1', type: 'wechatUser', nickname: 'Ming' }, { width: 390, height: 780 }],
];

for (const [path, claims, viewport] of pages) {
  const name = path.slice(1).replace('/', '-');

  test(`${path} loads and connects`, async () => {
    const page = await openPage(browser, path, { token: mint(claims), viewport });
    await page.waitForSelector('body[data-state="open"]');
    assert.equal(await page.textContent('#status'), 'Connected');
    assert.equal(await page.evaluate(() => globalThis.msgo.client.state), 'open');
    await page.waitForTimeout(400); // let entrance animations settle for the picture
    await shot(page, `${name}`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test(`${path} speaks the browser's language unless ?lang= says otherwise`, async () => {
    for (const [locale, query, lang, status] of [['zh-CN', {}, 'zh-CN', '已连接'], ['zh-TW', {}, 'zh-CN', '已连接'],
      ['zh-CN', { lang: 'en' }, 'en', 'Connected'], ['en-US', { lang: 'zh-CN' }, 'zh-CN', '已连接']]) {
      const page = await openPage(browser, path, { token: mint(claims), viewport, query, locale });
      await page.waitForSelector('body[data-state="open"]');
      assert.equal(await page.getAttribute('html', 'lang'), lang, `${locale} ${JSON.stringify(query)}`);
      assert.equal(await page.textContent('#status'), status);
      await page.context().close();
    }
  });

  test(`${path} says so when the token is bad`, async () => {
    const page = await openPage(browser, path, { token: 'bm90LWEtdG9rZW4', viewport });
    await page.waitForSelector('.blocker h1');
    assert.equal(await page.textContent('.blocker h1'), 'Missing or invalid token');
    assert.match(await page.textContent('.blocker p'), /refused/);
    assert.equal(await page.evaluate(() => globalThis.msgo.client.state), 'closed');
    await shot(page, `${name}-bad-token`);
    await page.context().close();
  });

  test(`${path} says so in Chinese when the token is bad`, async () => {
    const page = await openPage(browser, path, { token: 'bm90LWEtdG9rZW4', viewport, query: { lang: 'zh-CN' } });
    await page.waitForSelector('.blocker h1');
    assert.equal(await page.textContent('.blocker h1'), '令牌缺失或无效');
    assert.match(await page.textContent('.blocker p'), /服务器拒绝了/);
    assert.equal(await page.textContent('.blocker button'), '刷新');
    assert.equal(await page.textContent('#status'), '令牌无效');
    await page.context().close();
  });

  test(`${path} says so when there is no token`, async () => {
    const page = await openPage(browser, path, { viewport });
    await page.waitForSelector('.blocker h1');
    assert.equal(await page.textContent('.blocker h1'), 'Missing or invalid token');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}
