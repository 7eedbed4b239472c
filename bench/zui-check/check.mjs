// Opens zui's tag page of an image, clicks "Vulnerabilities", saves a screenshot and prints the tab's text,
// every /v2/ request the page made (with GraphQL "errors", if any) and the browser console.
// node check.mjs <zui origin> <repo> <tag> <screenshot.png>   (needs puppeteer-core; chromium at /usr/bin/chromium)
import puppeteer from 'puppeteer-core';

const [origin, repo, tag, shot] = process.argv.slice(2);
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--window-size=1400,1200'], defaultViewport: { width: 1400, height: 1200 } });
const page = await browser.newPage();
const calls = [];
page.on('console', (m) => console.log(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
page.on('requestfailed', (r) => console.log(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
page.on('response', async (r) => {
  const u = new URL(r.url());
  if (!u.pathname.startsWith('/v2/')) return;
  let errors = '';
  try { const b = await r.json(); if (b?.errors) errors = ' ERRORS ' + JSON.stringify(b.errors); } catch { /* not JSON */ }
  calls.push(`${r.status()} ${r.request().method()} ${decodeURIComponent(u.pathname + u.search).slice(0, 140)}${errors}`);
});

await page.goto(origin + '/', { waitUntil: 'networkidle0' }); // login page asks /v2/_zot/ext/mgmt, finds no auth, goes /home
console.log('after /:', page.url());
await page.goto(`${origin}/image/${encodeURIComponent(repo)}/tag/${encodeURIComponent(tag)}`, { waitUntil: 'networkidle0' });
console.log('tag page:', page.url());
const [tab] = await page.$$("xpath/.//button[@role='tab' and normalize-space()='Vulnerabilities']");
await tab.click();
await page.waitForSelector('[data-testid="vulnerability-container"]', { timeout: 15000 });
await page.waitForNetworkIdle({ idleTime: 1000 });
await new Promise((r) => setTimeout(r, 1000));
await page.screenshot({ path: shot, fullPage: true });
await (await page.$('[data-testid="vulnerability-container"]')).screenshot({ path: shot.replace(/\.png$/, '-tab.png') });
console.log('--- Vulnerabilities tab text ---');
console.log(await page.$eval('[data-testid="vulnerability-container"]', (e) => e.innerText));
console.log('--- header of the tag page ---');
console.log((await page.$eval('body', (e) => e.innerText)).split('\n').slice(0, 12).join(' | '));
await page.click('[data-testid="expand-list-view-toggle"]'); // every card open: packages, "Fixed in" (ImageListWithCVEFixed)
await page.waitForNetworkIdle({ idleTime: 1000 });
await new Promise((r) => setTimeout(r, 1000));
await page.screenshot({ path: shot.replace(/\.png$/, '-expanded.png'), fullPage: true });
console.log('--- expanded view text ---');
console.log(await page.$eval('[data-testid="vulnerability-container"]', (e) => e.innerText.replace(/\n+/g, ' | ')));
console.log('--- /v2/ calls ---');
calls.forEach((c) => console.log(c));
await browser.close();
