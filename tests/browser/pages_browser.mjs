// What the account-page scripts share: Debian's chromium, headless, each page's console errors (a CSP
// violation is one) and every request that fails or leaves BASE_URL collected as a failure, a TOTP code
// computed as an authenticator app would (RFC 6238, with node's crypto), and screenshots by name.
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync'];

export async function withBrowser(steps) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  try {
    return await steps(browser);
  } finally {
    await browser.close();
  }
}

// A page of a fresh context (a browser profile of its own) that records what goes wrong on it.
export async function watchedPage(browser, baseUrl, failures, requests, options = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 1100 }, ...options });
  const page = await context.newPage();
  // A page answering a refused form comes with its 4xx status, which chromium logs as a failed load: those
  // are checked by their own request (below), so only the other console errors count here.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      failures.push(`console: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) {
      failures.push(`${response.status()}: ${response.url()}`);
    }
  });
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => failures.push(`request failed: ${request.url()}`));
  page.on('request', (request) => {
    requests.push(request.url());
    if (!request.url().startsWith(baseUrl + '/') && !request.url().startsWith('data:')) {
      failures.push(`another origin: ${request.url()}`);
    }
  });
  return { context, page };
}

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// The 6-digit code of `secret` for the 30-second step `offset` steps from now.
export function totp(secret, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', base32(secret)).update(counter).digest();
  const at = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(at) & 0x7fffffff) % 1000000;
  return value.toString().padStart(6, '0');
}

export async function shoot(page, directory, name, shots) {
  await page.screenshot({ path: `${directory}/${name}.png`, fullPage: true });
  shots.push(name);
}
