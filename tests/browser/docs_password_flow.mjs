// Drive Debian's chromium through /docs: Authorize with a username and a password (the OAuth2 password flow,
// which posts the form to the account routes' login), then call GET /auth/me from the page, expect 200.
// Usage: node docs_password_flow.mjs  (env: BASE_URL, USERNAME, PASSWORD, SCREENSHOT, CHROMIUM)
import { chromium } from 'playwright-core';

const { BASE_URL, USERNAME, PASSWORD, SCREENSHOT } = process.env;
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
  page.on('request', (request) => {
    if (!request.url().startsWith(BASE_URL) && !request.url().startsWith('data:')) failures.push(`external: ${request.url()}`);
  });
  await page.goto(`${BASE_URL}/docs`, { waitUntil: 'networkidle' });
  await page.click('button.authorize');
  const scheme = page.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' }).first();
  await scheme.locator('#oauth_username').fill(USERNAME);
  await scheme.locator('#oauth_password').fill(PASSWORD);
  const [token] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE_URL}/auth/login`),
    scheme.locator('button.authorize').click(),
  ]);
  await page.locator('.auth-container button.btn-done').first().click();
  const operation = '#operations-auth-get_auth_me';
  await page.click(`${operation} .opblock-summary`);
  if (!(await page.locator(`${operation} button.execute`).isVisible())) await page.click(`${operation} button.try-out__btn`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE_URL}/auth/me`),
    page.click(`${operation} button.execute`),
  ]);
  const body = await response.json();
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ login: token.status(), login_content_type: token.request().headers()['content-type'],
                               status: response.status(), body, failures,
                               authorization: (response.request().headers()['authorization'] || '').split(' ')[0] }));
} finally {
  await browser.close();
}
