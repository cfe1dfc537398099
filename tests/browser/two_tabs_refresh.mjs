// Two tabs of one browser (one cookie jar) refresh the session at the same moment, as two open pages of a
// site do when their access token expires together. Tab one logs in with cookies from a page script; then
// both tabs POST /auth/refresh with the refresh_token cookie and the csrftoken echoed in X-CSRFToken, timed
// to leave together; then each tab asks GET /auth/me, and tab one refreshes once more (the session lives on).
// Usage: node two_tabs_refresh.mjs  (env: BASE_URL, USERNAME, PASSWORD, SCREENSHOT, CHROMIUM)
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync'];
const { BASE_URL, USERNAME, PASSWORD, SCREENSHOT } = process.env;

// What a page script does: read the csrftoken cookie, echo it, let the browser send the cookies.
async function refreshAt(at) {
  while (Date.now() < at) await new Promise((resolve) => setTimeout(resolve, 1));
  const csrf = (document.cookie.split('; ').find((pair) => pair.startsWith('csrftoken=')) || '').split('=')[1];
  const response = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin',
                                                  headers: { 'X-CSRFToken': csrf } });
  return { status: response.status, body: await response.json(), sent: performance.now() };
}

async function me() {
  const response = await fetch('/auth/me', { credentials: 'same-origin' });
  return { status: response.status, body: await response.json() };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
try {
  const context = await browser.newContext();
  const failures = [];
  const tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) {
    tab.on('requestfailed', (request) => failures.push(`request failed: ${request.url()}`));
    await tab.goto(`${BASE_URL}/health`);
  }
  const login = await tabs[0].evaluate(async ([username, password]) => {
    const response = await fetch('/auth/login', { method: 'POST', credentials: 'same-origin',
                                                 headers: { 'Content-Type': 'application/json' },
                                                 body: JSON.stringify({ username, password }) });
    return response.status;
  }, [USERNAME, PASSWORD]);
  const before = (await context.cookies(`${BASE_URL}/auth/refresh`)).find((cookie) => cookie.name === 'refresh_token');
  const at = Date.now() + 500;
  const refreshes = await Promise.all(tabs.map((tab) => tab.evaluate(refreshAt, at)));
  const after = (await context.cookies(`${BASE_URL}/auth/refresh`)).find((cookie) => cookie.name === 'refresh_token');
  const mes = await Promise.all(tabs.map((tab) => tab.evaluate(me)));
  const again = await tabs[1].evaluate(refreshAt, 0);
  const meAgain = await tabs[0].evaluate(me);
  await tabs[0].screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ login, refreshes, mes, again, me_again: meAgain, failures,
                               rotated: Boolean(before && after && before.value !== after.value) }));
} finally {
  await browser.close();
}
