// The browser tests' harness: Debian's Chromium driven by playwright-core
// (never a downloaded browser), pages opened against the node and page
// server the Go test started, screenshots into the artifacts directory.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { mint as mintWith } from '../token.js';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test ./app/web/`);
  return v;
}

export const env = {
  pageURL: required('MSGO_PAGE_URL'), // web's handler
  wsURL: process.env.MSGO_WS_URL || '', // the node, when it does not serve the pages itself
  secret: required('MSGO_SECRET'),
  artifacts: required('MSGO_ARTIFACTS'),
  chromium: process.env.MSGO_CHROMIUM || '/usr/bin/chromium',
};

export const mint = (claims) => mintWith(env.secret, claims);

// Flags for a quiet, reproducible headless Chromium in a container;
// playwright adds a fresh --user-data-dir of its own to every launch.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts Chromium; close it with browser.close(). */
export function launch() {
  return chromium.launch({ executablePath: env.chromium, headless: true, args: ARGS, timeout: 60000 });
}

/**
 * Opens path (e.g. '/live/wall') as its own browser context (its own
 * storage), pointed with ?ws= at the node when it does not serve the pages
 * itself, with token in the query when given, in a browser whose language
 * is locale (Chromium's own when not given). Page errors and failed
 * requests are collected in page.problems.
 */
export async function openPage(browser, pagePath, { token, viewport = { width: 1280, height: 800 }, query = {}, locale } = {}) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, locale });
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000); // a loaded 2-core CI machine is slow, never wrong
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`${r.status()} ${r.url()}`); });
  const q = new URLSearchParams(query);
  if (env.wsURL) q.set('ws', env.wsURL);
  if (token) q.set('auth', token);
  await page.goto(`${env.pageURL}${pagePath}?${q}`);
  return page;
}

/** Saves a screenshot as <artifacts>/<name>.png. */
export async function shot(page, name) {
  fs.mkdirSync(env.artifacts, { recursive: true });
  const file = path.join(env.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
