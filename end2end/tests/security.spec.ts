import { test, expect, Page } from '@playwright/test';
import { DEMO_PASSWORD, firstCaseId, hydrated, login, openWithHits } from './helpers';

/** Records Content-Security-Policy violations on every page the test opens. */
async function watchCsp(page: Page) {
  await page.addInitScript(() => {
    (window as any).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as any).__csp ?? []);
}

test('pages hydrate under the Content-Security-Policy and foreign inline scripts are blocked', async ({ page }) => {
  await watchCsp(page);
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  expect(await violations(page)).toEqual([]);

  // A case page with its similar-cases panel, the search page and its results.
  await openWithHits(page, await firstCaseId(page));
  await hydrated(page);
  expect(await violations(page)).toEqual([]);
  await page.goto('/search?text=cough');
  await hydrated(page);
  expect(await violations(page)).toEqual([]);

  // An inline script the server did not write (no nonce) does not run.
  const ran = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true;';
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    return (window as any).__injected === true;
  });
  expect(ran).toBe(false);
  expect((await violations(page)).some((v) => v.startsWith('script-src'))).toBe(true);
  expect(cspErrors.filter((e) => !/inline script/i.test(e))).toEqual([]);
});

test('an admin page streaming server-sent events works under the policy', async ({ page }) => {
  await watchCsp(page);
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/index');
  await hydrated(page);
  await expect(page.getByRole('button', { name: /Rebuild/ })).toBeVisible();
  expect(await violations(page)).toEqual([]);
});
