// Drive Debian's chromium through /docs with a session held in cookies (no Authorize): log in from the
// page's own context (the server sets access_token and csrftoken), then POST /auth/logout from the page.
// The page must echo the csrftoken cookie in X-CSRFToken, or the cookie-authenticated POST is a 403.
// Usage: node docs_csrf.mjs  (env: BASE_URL, USERNAME, PASSWORD, SCREENSHOT, CHROMIUM)
import { onDocsPage } from './docs_page.mjs';

const { BASE_URL, USERNAME, PASSWORD, SCREENSHOT } = process.env;
await onDocsPage(BASE_URL, async (page, failures) => {
  const login = await page.request.post(`${BASE_URL}/auth/login`, { data: { username: USERNAME, password: PASSWORD } });
  const cookies = await page.context().cookies(BASE_URL);
  const csrf = (cookies.find((cookie) => cookie.name === 'csrftoken') || {}).value || null;
  const operation = '#operations-auth-post_auth_logout';
  await page.click(`${operation} .opblock-summary`);
  if (!(await page.locator(`${operation} button.execute`).isVisible())) await page.click(`${operation} button.try-out__btn`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE_URL}/auth/logout`),
    page.click(`${operation} button.execute`),
  ]);
  const headers = response.request().headers();
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(JSON.stringify({ login: login.status(), csrf, status: response.status(), body: await response.json(),
                               sent_csrf: headers['x-csrftoken'] || null, authorization: headers['authorization'] || null,
                               failures }));
});
