// Drive Debian's chromium through /docs: Authorize with a JWT, call GET /me from the page, expect 200.
// Usage: node docs_authorize.mjs  (env: BASE_URL, TOKEN, SCREENSHOT, CHROMIUM)
import { onDocsPage } from './docs_page.mjs';

const { BASE_URL, TOKEN, SCREENSHOT } = process.env;
await onDocsPage(BASE_URL, async (page, failures) => {
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
});
