// The agent console as a support team uses it for a shift, in Chinese and
// in English: users named by their nickname and room, claims, transfers to
// another agent, canned replies inserted with a click and with "/", and
// unread counts that are each agent's own.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from '../harness.js';
import { STRINGS as AGENT } from '../../../../kefu/web/agent.strings.js';
import { STRINGS as CHAT } from '../../../../kefu/web/chat.strings.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const desk = { width: 1280, height: 800 };
const phone = { width: 390, height: 780 };

// Each language runs the whole shift with its own people and words.
const shifts = {
  'zh-CN': {
    user: { nickname: '小明', code: 'r-88' },
    agents: ['李娜', '王强'],
    first: '你好，我的快递三天了还没到',
    second: '订单号 20261205',
    slash: '/订单', // matches the canned reply asking for the order number
    slashPick: '请提供一下您的订单号，我帮您查询。',
    clickPick: '您好，请问有什么可以帮您？',
    later: ['还在吗？', '我有点着急'],
    room: '房间 r-88',
  },
  en: {
    user: { nickname: 'Ming', code: 'r-88' },
    agents: ['Li Na', 'Wang Qiang'],
    first: 'Hi, my parcel has been on its way for three days',
    second: 'Order 20261205',
    slash: '/order',
    slashPick: 'Could you share your order number? I will look it up.',
    clickPick: '您好，请问有什么可以帮您？',
    later: ['Still there?', 'It is a bit urgent'],
    room: 'room r-88',
  },
};

async function open(path, claims, viewport, lang) {
  const page = await openPage(browser, path, { token: mint(claims), viewport, query: { lang } });
  await page.waitForSelector('body[data-state="open"]');
  return page;
}

const bubbles = (page, pane) => page.$$eval(`${pane} .kmsg[data-id] .kmsg-text`, (els) => els.map((e) => e.textContent));

for (const [lang, s] of Object.entries(shifts)) {
  const tr = AGENT[lang];

  test(`${lang}: a shift at the agent console`, async () => {
    const tag = `${lang}-${process.pid}`;
    const openid = `o-${tag}`;
    const [a1, a2] = [`a1-${tag}`, `a2-${tag}`];
    const li = await open('/kefu/agent', { id: a1, type: 'kefu', nickname: s.agents[0] }, desk, lang);
    const wang = await open('/kefu/agent', { id: a2, type: 'kefu', nickname: s.agents[1] }, desk, lang);
    const user = await open('/kefu/chat', { id: openid, type: 'wechatUser', ...s.user }, phone, lang);

    // The pages speak the language asked for.
    assert.equal(await li.getAttribute('html', 'lang'), lang);
    assert.equal(await li.textContent('.ag-tab[data-owner="unassigned"] span'), tr.tabUnassigned);
    assert.equal(await li.getAttribute('#filter', 'placeholder'), tr.filter);
    assert.equal(await user.textContent('.ch-title'), CHAT[lang].heading);
    assert.equal(await user.getAttribute('#text', 'placeholder'), CHAT[lang].messageHint);

    // A new conversation waits under Unassigned, named by the user's
    // nickname and room, with an unread badge.
    await user.fill('#agent-form textarea', s.first);
    await user.press('#agent-form textarea', 'Enter');
    await user.fill('#agent-form textarea', s.second);
    await user.press('#agent-form textarea', 'Enter');
    const item = `.ag-session[data-openid="${openid}"]`;
    for (const p of [li, wang]) {
      await p.click('.ag-tab[data-owner="unassigned"]');
      await p.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === '2', item);
      // A new conversation's name comes with the list, loaded again for it.
      await p.waitForFunction(([sel, name]) => document.querySelector(`${sel} .ag-session-name`)?.textContent === name, [item, s.user.nickname]);
      assert.equal(await p.textContent(`${item} .ag-chip`), s.room);
    }

    // Li claims it: it moves to her Mine tab and to Wang's Others' tab,
    // with her name on it.
    await li.click(item);
    await li.waitForFunction(() => document.querySelectorAll('#thread .kmsg[data-id]').length === 2);
    assert.equal(await li.textContent('#conv-name'), s.user.nickname);
    assert.match(await li.textContent('#conv-sub'), new RegExp(openid));
    await li.click('#claim');
    await li.waitForSelector('body[data-conv-owner="mine"][data-owner="mine"]');
    await li.waitForSelector(`${item}.active`);
    await wang.click('.ag-tab[data-owner="others"]');
    await wang.waitForSelector(`${item} .ag-session-agent`);
    assert.equal(await wang.textContent(`${item} .ag-session-agent`), s.agents[0]);

    // Unread counts are each agent's own: Li read the conversation, Wang
    // did not, and his badge stays.
    await li.waitForFunction((sel) => !document.querySelector(`${sel} .badge`), item);
    assert.equal(await wang.textContent(`${item} .badge`), '2');

    // A canned reply with a click, and one with "/".
    await li.click('#canned-btn');
    await li.waitForSelector('#canned:not([hidden]) .ag-canned-item');
    assert.equal(await li.$$eval('#canned .ag-canned-item', (els) => els.length), 9); // config's default set
    const suffix = lang === 'en' ? '' : `.${lang}`;
    await li.waitForTimeout(400);
    await shot(li, `kefu-agent-canned${suffix}`);
    await li.click('#canned .ag-canned-item[data-n="1"]');
    assert.equal(await li.inputValue('#text'), s.clickPick);
    await li.press('#text', 'Enter');
    await li.type('#text', s.slash);
    await li.waitForSelector('#canned:not([hidden]) .ag-canned-item');
    assert.equal(await li.$$eval('#canned .ag-canned-item', (els) => els.length), 1);
    await li.press('#text', 'Enter'); // picks, does not send
    assert.equal(await li.inputValue('#text'), s.slashPick);
    assert.ok(await li.isHidden('#canned'));
    await li.press('#text', 'Enter'); // sends
    await user.waitForFunction(() => document.querySelectorAll('#agent-pane .kmsg[data-id]').length === 4);
    assert.deepEqual((await bubbles(user, '#agent-pane')).slice(2), [s.clickPick, s.slashPick]);
    assert.equal(await user.textContent('#agent-pane .kmsg.theirs[data-id] .kmsg-meta span'), CHAT[lang].agent);

    // Wang never read it; Li answered, so his count starts again from
    // her reply.
    await wang.waitForFunction((sel) => !document.querySelector(`${sel} .badge`), item);

    // Li transfers the conversation to Wang, who is told and finds it
    // under Mine.
    await li.click('#transfer');
    await li.waitForSelector(`#transfer-menu .ag-menu-item[data-agent="${a2}"]`);
    await li.click(`#transfer-menu .ag-menu-item[data-agent="${a2}"]`);
    await li.waitForSelector('body[data-conv-owner="others"]');
    assert.equal(await li.textContent('#banner'), tr.heldBy.replace('{agent}', s.agents[1]));
    await wang.waitForSelector(`.toast:has-text("${s.agents[0]}")`);
    await wang.click('.ag-tab[data-owner="mine"]');
    await wang.waitForSelector(item);

    // Li closes the console; the user writes again. Both agents count
    // the new messages; Wang reads them and only his count clears: Li's
    // is there when she comes back.
    await li.reload();
    await li.waitForSelector('body[data-state="open"]');
    for (const msg of s.later) {
      await user.fill('#agent-form textarea', msg);
      await user.press('#agent-form textarea', 'Enter');
    }
    await li.click('.ag-tab[data-owner="others"]');
    await li.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === '2', item);
    await wang.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === '2', item);
    await wang.click(item);
    await wang.waitForFunction(() => document.querySelectorAll('#thread .kmsg[data-id]').length === 6);
    await wang.waitForFunction((sel) => !document.querySelector(`${sel} .badge`), item);
    await wang.waitForSelector('.toast', { state: 'detached' }); // the transfer's notice has gone
    await wang.waitForTimeout(400); // let entrance animations settle for the picture
    await shot(wang, `kefu-agent-conversation${suffix}`);
    await shot(user, `kefu-chat-agent${suffix}`);
    await li.reload();
    await li.waitForSelector('body[data-state="open"]');
    await li.click('.ag-tab[data-owner="others"]');
    await li.waitForSelector(`${item} .badge`);
    assert.equal(await li.textContent(`${item} .badge`), '2');
    for (const p of [li, wang, user]) assert.deepEqual(p.problems, []);
    for (const p of [li, wang, user]) await p.context().close();
  });
}
