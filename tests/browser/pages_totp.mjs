// Every account page in chromium, as a person uses them: sign up, sign in, set up TOTP from the secret the
// page shows, sign out, sign in with password and code; a screenshot of each page along the way, and an
// accessibility check (axe-core) of the pages before a login.
// Usage: node pages_totp.mjs  (env: BASE_URL, USERNAME, PASSWORD, SHOTS, CHROMIUM)
import { createRequire } from 'node:module';
import { shoot, totp, watchedPage, withBrowser } from './pages_browser.mjs';

const { BASE_URL, USERNAME, PASSWORD, SHOTS } = process.env;
const UI = `${BASE_URL}/auth/ui`;
const failures = [];
const requests = [];
const shots = [];
const outcome = { failures, shots };

// `button`: its whole name, or a pattern.
async function submit(page, button) {
  const name = typeof button === 'string' ? { name: button, exact: true } : { name: button };
  await Promise.all([page.waitForNavigation(), page.getByRole('button', name).click()]);
}

await withBrowser(async (browser) => {
  const { page } = await watchedPage(browser, BASE_URL, failures, requests);

  await page.goto(`${UI}/signup`);
  await shoot(page, SHOTS, 'signup', shots);
  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill('short');
  await submit(page, 'Create the account');
  outcome.weak_password_error = await page.getByRole('alert').innerText();
  await shoot(page, SHOTS, 'signup-error', shots);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, 'Create the account');
  outcome.after_signup = new URL(page.url()).pathname + new URL(page.url()).search;
  await shoot(page, SHOTS, 'login-after-signup', shots);

  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill('not the password');
  await submit(page, 'Sign in');
  outcome.wrong_password_error = await page.getByRole('alert').innerText();
  await shoot(page, SHOTS, 'login-error', shots);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, 'Sign in');
  outcome.after_login = new URL(page.url()).pathname;
  await shoot(page, SHOTS, 'security', shots);

  // TOTP, keyboard only: Tab to the button and press Enter, as someone without a mouse would.
  await page.getByRole('button', { name: 'Set up an authenticator app' }).focus();
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  outcome.qr_loaded = await page.locator('.qr img').evaluate((img) => img.complete && img.naturalWidth > 0);
  await shoot(page, SHOTS, 'totp-setup', shots);
  await page.getByLabel('The code your app shows now').fill(totp(secret, -1)); // the current code stays for the sign-in
  await submit(page, 'Turn two-step sign-in on');
  outcome.recovery_codes = await page.locator('#recovery-codes li').count();
  await shoot(page, SHOTS, 'recovery-codes', shots);

  await page.goto(`${UI}/security`);
  outcome.totp_on = await page.getByText('Two-step sign-in is on').isVisible();
  await page.goto(`${UI}/security?confirm=1`);
  await shoot(page, SHOTS, 'step-up', shots);
  await page.goto(`${UI}/security`);
  await submit(page, 'Sign out this device');
  outcome.after_sign_out = new URL(page.url()).pathname + new URL(page.url()).search;
  await shoot(page, SHOTS, 'signed-out', shots);

  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, 'Sign in');
  await shoot(page, SHOTS, 'second-step', shots);
  await page.getByLabel('Code from your authenticator app, or a recovery code').fill(totp(secret));
  await submit(page, 'Continue');
  outcome.after_second_step = new URL(page.url()).pathname;
  outcome.signed_in_as = await page.locator('main p strong').first().innerText();

  await page.goto(`${UI}/password/forgot`);
  await shoot(page, SHOTS, 'forgot-password', shots);
  await page.goto(`${UI}/password/reset?token=from-the-mail`);
  await shoot(page, SHOTS, 'reset-password', shots);

  // axe-core is a script of another origin to these pages, which their Content-Security-Policy rightly
  // refuses: only this context, used for nothing else, bypasses the CSP so the checker can be injected.
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  const audit = await watchedPage(browser, BASE_URL, [], [], { bypassCSP: true });
  outcome.accessibility = {};
  for (const path of ['login', 'signup', 'password/forgot']) {
    await audit.page.goto(`${UI}/${path}`);
    await audit.page.addScriptTag({ path: axePath });
    const violations = await audit.page.evaluate(async () => (await window.axe.run(document)).violations);
    outcome.accessibility[path] = violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${violation.help}`);
  }
});
outcome.origins = [...new Set(requests.map((url) => new URL(url).origin))];
console.log(JSON.stringify(outcome));
