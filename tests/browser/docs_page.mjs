// What both browser scripts share: Debian's chromium, headless, on /docs, with every console error and
// every request that fails or leaves BASE_URL collected as a failure (the page must need nothing from a CDN).
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync'];

// Run `steps(page, failures)` on BASE_URL/docs and close the browser whatever happens.
export async function onDocsPage(baseUrl, steps) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
  const failures = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.on('console', (message) => { if (message.type() === 'error') failures.push(`console: ${message.text()}`); });
    page.on('requestfailed', (request) => failures.push(`request failed: ${request.url()}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:')) failures.push(`external: ${request.url()}`);
    });
    await page.goto(`${baseUrl}/docs`, { waitUntil: 'networkidle' });
    return await steps(page, failures);
  } finally {
    await browser.close();
  }
}
