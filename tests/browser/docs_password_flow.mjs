// Drive Debian's chromium through /docs: Authorize with a username and a password (the OAuth2 password flow,
// which posts the form to the account routes' login), then call GET /auth/me from the page, expect 200.
// Usage: node docs_password_flow.mjs  (env: BASE_URL, USERNAME, PASSWORD, SCREENSHOT, CHROMIUM)
import { onDocsPage } from './docs_page.mjs';

const { BASE_URL, USERNAME, PASSWORD, SCREENSHOT } = process.env;
await onDocsPage(BASE_URL, async (page, failures) => {
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
});
