// Drive Debian's chromium through /docs: Authorize with a JWT, call GET /me from the page, expect 200.
// Usage: node docs_authorize.mjs  (env: BASE_URL, TOKEN, SCREENSHOT, CHROMIUM)
import { chromium } from 'playwright-core';

const { BASE_URL, TOKEN, SCREENSHOT } = process.env;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.on('console', (message) => { if (message.type() === 'error') failures.push(`console: ${message.text()}`); });
  page.on('requestfailed', (request) => failures.push(`request failed: ${request.url()}`));
  page.on('request', (request) => {
    if (!request.url().startsWith(BASE_URL) && !request.url().startsWith('data:')) failures.push(`external: ${request.url()}`);
  });
  await page.goto(`${BASE_URL}/docs`, { waitUntil: 'networkidle' });
  await page.click('button.authorize');
  const scheme = page.locator('.auth-container').filter({ hasText: 'JWTAuthentication' }).first();
  await scheme.locator('input').first().fill(TOKEN);
  await scheme.locator('button.authorize').click();
  await page.click('button.btn-done');
  await page.click('#operations-me-get_me .opblock-summary');
  const execute = page.locator('#operations-me-get_me button.execute');
  if (!(await execute.isVisible())) await page.click('#operations-me-get_me button.try-out__btn');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE_URL}/me`),
    page.click('#operations-me-get_me button.execute'),
  ]);
  const status = await page.locator('#operations-me-get_me .live-responses-table tbody .response-col_status').first().innerText();
  const body = await response.json();
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ status: response.status(), shown: status.trim(), body, failures,
                               authorization: response.request().headers()['authorization'] || null }));
} finally {
  await browser.close();
}
