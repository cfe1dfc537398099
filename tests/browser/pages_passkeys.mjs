// Passkeys on the account pages in chromium, with the DevTools WebAuthn domain's virtual authenticator:
// register a passkey on the security page, rename it, sign out, sign in with it without typing a username;
// a browser with another authenticator cannot sign in as that user; with an authenticator app set up too,
// the passkey is the second step of a password sign-in; once removed, the passkey no longer signs in.
// Usage: node pages_passkeys.mjs  (env: BASE_URL, USERNAME, PASSWORD, SHOTS, CHROMIUM)
import { shoot, totp, watchedPage, withBrowser } from './pages_browser.mjs';

const { BASE_URL, USERNAME, PASSWORD, SHOTS } = process.env;
const UI = `${BASE_URL}/auth/ui`;
const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
                        isUserVerified: true };
const failures = [];
const requests = [];
const shots = [];
const outcome = { failures, shots };

async function withAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
  return { cdp, authenticatorId };
}

// `button`: its whole name, or a pattern.
async function submit(page, button) {
  const name = typeof button === 'string' ? { name: button, exact: true } : { name: button };
  await Promise.all([page.waitForNavigation(), page.getByRole('button', name).click()]);
}

function where(page) {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

// Click a passkey button: whether the browser reaches `url`, or the error the page shows instead.
async function passkeyButton(page, name, url, done) {
  await page.getByRole('button', { name }).click();
  const reached = page.waitForURL(url, { timeout: 15000 }).then(() => done);
  const refused = page.locator('#passkey-error').waitFor({ state: 'visible', timeout: 15000 }).then(() => 'refused');
  const result = await Promise.any([reached, refused]).catch(() => 'nothing');
  return { result, error: result === 'refused' ? await page.locator('#passkey-error').innerText() : null };
}

function passkeySignIn(page) {
  return passkeyButton(page, 'Sign in with a passkey', `${UI}/security`, 'signed in');
}

async function signedInAs(page) {
  const answer = await page.request.get(`${BASE_URL}/auth/me`);
  return answer.ok() ? (await answer.json()).username : answer.status();
}

await withBrowser(async (browser) => {
  const own = await watchedPage(browser, BASE_URL, failures, requests);
  const { cdp, authenticatorId } = await withAuthenticator(own.context, own.page);
  const page = own.page;

  await page.goto(`${UI}/login`);
  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, 'Sign in');
  await page.getByLabel('Name of the new passkey').fill('Laptop');
  outcome.added = await passkeyButton(page, 'Add a passkey', `${UI}/security?done=passkey-added`, 'added');
  if (outcome.added.result !== 'added') throw new Error(`adding the passkey failed: ${JSON.stringify(outcome)}`);
  outcome.listed = await page.locator('#passkey-list strong').allInnerTexts();
  outcome.held = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length;
  await shoot(page, SHOTS, 'passkeys', shots);

  await page.locator('#passkey-list input[name="name"]').first().fill('Work laptop');
  await submit(page, 'Rename');
  outcome.renamed = await page.locator('#passkey-list strong').allInnerTexts();

  await submit(page, 'Sign out this device');
  await shoot(page, SHOTS, 'login-with-passkey', shots);
  outcome.passkey_sign_in = await passkeySignIn(page);
  outcome.after_passkey = where(page);
  outcome.signed_in_as = await signedInAs(page);

  // Another browser, another authenticator: it holds no passkey of this user, so nobody signs in.
  const other = await watchedPage(browser, BASE_URL, [], []);
  await withAuthenticator(other.context, other.page);
  await other.page.goto(`${UI}/login`);
  outcome.other_authenticator = await passkeySignIn(other.page);
  outcome.other_signed_in_as = await signedInAs(other.page);
  await shoot(other.page, SHOTS, 'passkey-refused', shots);

  // With an authenticator app too, a password sign-in asks for a second step, which the passkey can be.
  await page.goto(`${UI}/security`);
  await submit(page, 'Set up an authenticator app');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await page.getByLabel('The code your app shows now').fill(totp(secret, -1));
  await submit(page, 'Turn two-step sign-in on');
  await page.goto(`${UI}/security`);
  await submit(page, 'Sign out this device');
  await page.getByLabel('Username').fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await submit(page, 'Sign in');
  outcome.second_step_offers_passkey = await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible();
  await shoot(page, SHOTS, 'second-step-passkey', shots);
  outcome.second_step_passkey = await passkeySignIn(page);
  outcome.second_step_signed_in_as = await signedInAs(page);

  // Removed: the authenticator still holds the key, but the site no longer accepts it.
  await page.goto(`${UI}/security`);
  await submit(page, /^Remove passkey/);
  outcome.after_removal = where(page);
  outcome.left = await page.locator('#passkey-list li').count();
  await submit(page, 'Sign out this device');
  const before = failures.length;
  outcome.removed_passkey = await passkeySignIn(page);
  outcome.removed_signed_in_as = await signedInAs(page);
  failures.splice(before); // the refused login's own 4xx answer is the expected outcome here
});
outcome.origins = [...new Set(requests.map((url) => new URL(url).origin))];
console.log(JSON.stringify(outcome));
