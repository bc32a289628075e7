// An agent and a user chat both ways in real browsers, with unread badges
// and read marks, and the user asks the FAQ bot, whose answer streams in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, mint } from '../harness.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const phone = { width: 390, height: 780 };

async function open(path, claims, viewport) {
  const page = await openPage(browser, path, { token: mint(claims), viewport });
  await page.waitForSelector('body[data-state="open"]');
  return page;
}

async function send(page, form, text) {
  await page.fill(`${form} textarea`, text);
  await page.press(`${form} textarea`, 'Enter');
}

const bubbles = (page, pane) => page.$$eval(`${pane} .kmsg[data-id] .kmsg-text`, (els) => els.map((e) => e.textContent));

test('an agent and a user chat both ways with unread badges', async () => {
  const openid = `o-${process.pid}`;
  const agent = await open('/kefu/agent', { id: 'agent-1', type: 'kefu', nickname: 'Agent Li' }, { width: 1280, height: 800 });
  const user = await open('/kefu/chat', { id: openid, type: 'wechatUser', nickname: 'Ming' }, phone);

  await send(user, '#agent-form', 'Hello, my parcel has not arrived');
  await send(user, '#agent-form', 'Order 1234');
  const session = `.ag-session[data-openid="${openid}"]`;
  await agent.waitForFunction((s) => document.querySelector(`${s} .badge`)?.textContent === '2', session);
  assert.match(await agent.textContent(`${session} .ag-session-last`), /Order 1234/);
  await shot(agent, 'kefu-agent-unread');

  await agent.click(session);
  await agent.waitForFunction(() => document.querySelectorAll('#thread .kmsg[data-id]').length === 2);
  await agent.waitForFunction((s) => !document.querySelector(`${s} .badge`), session); // read
  assert.deepEqual(await bubbles(agent, '#thread'), ['Hello, my parcel has not arrived', 'Order 1234']);

  // The user looks at the bot tab: the agent's reply waits under a badge.
  await user.click('#tab-bot');
  await send(agent, '#composer', 'Sorry about that! It ships today.');
  await user.waitForFunction(() => document.querySelector('#unread').textContent === '1' && !document.querySelector('#unread').hidden);
  await user.click('#tab-agent');
  await user.waitForFunction(() => document.querySelector('#unread').hidden);
  assert.deepEqual(await bubbles(user, '#agent-pane'), ['Hello, my parcel has not arrived', 'Order 1234', 'Sorry about that! It ships today.']);
  assert.equal(await user.$$eval('#agent-pane .kmsg.mine[data-id]', (els) => els.length), 2);
  await agent.waitForFunction(() => document.querySelectorAll('#thread .kmsg[data-id]').length === 3);

  await send(user, '#agent-form', 'Thank you!');
  await agent.waitForFunction(() => document.querySelectorAll('#thread .kmsg[data-id]').length === 4);
  await agent.waitForFunction((s) => !document.querySelector(`${s} .badge`), session); // read at once: it is open
  await agent.waitForTimeout(400); // let entrance animations settle for the picture
  await shot(agent, 'kefu-agent-first-reply');
  await shot(user, 'kefu-chat-agent');
  for (const p of [agent, user]) assert.deepEqual(p.problems, []);
  for (const p of [agent, user]) await p.context().close();
});

test('the FAQ bot streams its answer', async () => {
  const user = await open('/kefu/chat', { id: `o-bot-${process.pid}`, type: 'wechatUser', nickname: 'Hong' }, phone);
  await user.click('#tab-bot');
  await send(user, '#bot-form', 'How do I get a refund?');
  await user.waitForSelector('.bot-answer[data-state="streaming"]');
  await user.waitForSelector('.bot-answer[data-state="done"]');
  const answer = await user.textContent('.bot-answer .kmsg-text');
  assert.match(answer, /refund/i);
  await send(user, '#bot-form', '你好');
  await user.waitForFunction(() => document.querySelectorAll('.bot-answer[data-state="done"]').length === 2);
  await shot(user, 'kefu-chat-bot');
  assert.deepEqual(user.problems, []);
  await user.context().close();
});
