// Sign in with the test OpenID provider in Debian's chromium: the app's button link, the provider's login form
// and consent page, back to the app (cookie mode), which lands on /auth/me; then the page calls /auth/me itself.
// Usage: node social_login.mjs  (env: BASE_URL, PROVIDER, USERNAME, PASSWORD, SCREENSHOT, CHROMIUM)
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync'];
const { BASE_URL, PROVIDER, USERNAME, PASSWORD, SCREENSHOT } = process.env;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const failures = [];
  // Every answer of 400 or more is a failure, but the favicon neither server has; console errors likewise.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failures.push(`${response.status()}: ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) failures.push(`console: ${message.text()}`);
  });
  await page.goto(`${BASE_URL}/auth/providers/${PROVIDER}/login`);
  const providerPage = new URL(page.url()).origin;
  await page.fill('input[name="login"]', USERNAME);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForSelector('text=Allow');
  const consentTitle = await page.locator('h1').innerText();
  await Promise.all([page.waitForURL(`${BASE_URL}/**`), page.click('button[type="submit"]')]);
  const landed = page.url();
  const shown = JSON.parse(await page.locator('body').innerText());
  const again = await page.evaluate(async () => {
    const response = await fetch('/auth/me');
    return { status: response.status, body: await response.json() };
  });
  const cookies = (await context.cookies(BASE_URL)).map(({ name, httpOnly }) => ({ name, httpOnly }));
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ providerPage, consentTitle, landed, shown, again, cookies, failures }));
} finally {
  await browser.close();
}
