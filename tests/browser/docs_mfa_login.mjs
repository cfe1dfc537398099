// Drive Debian's chromium through /docs as a user with TOTP: Authorize with the password flow, which answers
// mfa_required; the page asks for the code (a prompt, answered with CODE) and finishes at /auth/login/mfa.
// Then call GET /auth/me from the page, expect 200.
// Usage: node docs_mfa_login.mjs  (env: BASE_URL, USERNAME, PASSWORD, CODE, SCREENSHOT, CHROMIUM)
import { onDocsPage } from './docs_page.mjs';

const { BASE_URL, USERNAME, PASSWORD, CODE, SCREENSHOT } = process.env;
await onDocsPage(BASE_URL, async (page, failures) => {
  const prompts = [];
  page.on('dialog', async (dialog) => {
    prompts.push(dialog.type());
    await dialog.accept(CODE);
  });
  await page.click('button.authorize');
  const scheme = page.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' }).first();
  await scheme.locator('#oauth_username').fill(USERNAME);
  await scheme.locator('#oauth_password').fill(PASSWORD);
  const [login, second] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE_URL}/auth/login`),
    page.waitForResponse((r) => r.url() === `${BASE_URL}/auth/login/mfa`),
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
  // A 401 the page itself handled is expected; any other console error is a failure.
  const unexpected = failures.filter((failure) => !failure.includes('401'));
  console.log(JSON.stringify({ login: login.status(), mfa: second.status(), mfa_body: second.request().postDataJSON(),
                               prompts, status: response.status(), body, failures: unexpected,
                               authorization: (response.request().headers()['authorization'] || '').split(' ')[0] }));
});
