import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login } from './helpers';
import type { Page } from '@playwright/test';

/** Submits the search form and waits for the page of the new saved query (`/search?s=<id>`). */
async function submit(page: Page) {
  const before = page.url();
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL((u) => u.href !== before && /\/search\?s=[0-9a-f]{32}$/.test(u.href));
}

test('a doctor searches by text with filters; the URL holds an opaque id, never the text, and survives a reload', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/search$/);
  await expect(page.getByText('Enter a case number, some text, images and/or lab values')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Symptoms, findings (free text)').fill('productive cough and fever with chest pain');
  await submit(page);
  expect(page.url()).not.toContain('cough');
  const hits = page.locator('.search-results .similar-hit');
  await expect.poll(() => hits.count(), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(hits.first().locator('.bar-label')).toHaveText(['text']);
  await expect(hits.first().locator('.similar-dx')).not.toBeEmpty();
  const firstCase = await hits.first().getAttribute('data-case');

  // Bookmarkable: the same URL gives the same results, rendered on the server.
  const url = page.url();
  await page.goto(url);
  await expect(hits.first()).toHaveAttribute('data-case', firstCase!);
  const html = await (await page.request.get(url)).text();
  expect(html).toContain('class="similar-hit"');
  await expect(page.getByLabel('Symptoms, findings (free text)')).toHaveValue('productive cough and fever with chest pain');

  // Filters: validated cases only.
  await hydrated(page);
  await page.getByLabel('Validated only').check();
  await submit(page);
  await expect(page.getByLabel('Validated only')).toBeChecked();
  await expect(hits.first()).toBeVisible();
  await expect(page.locator('.search-results .badge', { hasText: 'unreviewed' })).toHaveCount(0);

  // Diagnosis text: every hit's diagnosis contains it.
  await hydrated(page);
  await page.getByLabel('Validated only').uncheck();
  const dx = (await hits.first().locator('.similar-dx').textContent())!.trim().split(/\s+/)[0];
  await page.getByLabel('Diagnosis contains').fill(dx);
  await submit(page);
  await expect(page.getByLabel('Diagnosis contains')).toHaveValue(dx);
  await expect(hits.first()).toBeVisible();
  for (const t of await page.locator('.search-results .similar-dx').allTextContents()) {
    expect(t.toLowerCase()).toContain(dx.toLowerCase());
  }

  // By case number: that case is not among its own results.
  await page.goto(`/search?case=${firstCase}`);
  await expect(hits.first()).toBeVisible();
  await expect(page.locator(`.search-results [data-case="${firstCase}"]`)).toHaveCount(0);
});

test('a bad search gets a clear message', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/search?text=cough&tw=0&iw=0&lw=0');
  await expect(page.getByRole('alert')).toContainText('At least one weight must be above zero');
  await page.goto('/search?case=999999');
  await expect(page.getByRole('alert')).toContainText('Not found');
});

test('search results can be sorted, and the order is part of the URL', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/search?text=cough+and+fever&k=10&sort=reviewed');
  const badges = page.locator('.search-results .similar-hit .badge');
  await expect(badges.first()).toBeVisible();
  const texts = await badges.allTextContents();
  const firstUnreviewed = texts.findIndex((t) => t.trim() === 'unreviewed');
  if (firstUnreviewed >= 0) {
    expect(texts.slice(firstUnreviewed).every((t) => t.trim() === 'unreviewed')).toBeTruthy();
  }
  await expect(page.getByLabel('Sort by')).toHaveValue('reviewed');
});

/** A scan of one of the demo cases, as bytes (doctors may fetch any case's images). */
async function demoScan(page: import('@playwright/test').Page): Promise<Buffer> {
  await page.goto('/cases');
  const href = await page.locator('a[href^="/cases/"]').filter({ hasNotText: 'New case' }).first().getAttribute('href');
  await page.goto(href!);
  const src = await page.locator('img[src^="/media/images/"]').first().getAttribute('src');
  const res = await page.request.get(src!.replace('/thumb', ''));
  expect(res.status()).toBe(200);
  return Buffer.from(await res.body());
}

test('a doctor searches by uploaded scans: file picker and drag-and-drop, previews, a shareable URL', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const png = await demoScan(page);
  await page.goto('/search');
  await hydrated(page);
  // The file picker: a preview appears at once.
  await page.getByLabel(/Images \(PNG or JPEG\)/).setInputFiles({ name: 'picked.png', mimeType: 'image/png', buffer: png });
  const previews = page.locator('.query-images .query-image img');
  await expect(previews).toHaveCount(1);
  await expect.poll(() => previews.first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  // Drag and drop a second one onto the zone.
  const dt = await page.evaluateHandle((b64: string) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return t;
  }, png.toString('base64'));
  await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
  await expect(previews).toHaveCount(2);
  // Remove one, search with the other.
  await page.locator('.query-image').nth(1).getByRole('button', { name: 'Remove' }).click();
  await expect(previews).toHaveCount(1);
  await submit(page);
  const hits = page.locator('.search-results .similar-hit');
  await expect(hits.first()).toBeVisible({ timeout: 30_000 });
  await expect(hits.first().locator('.bar-label')).toHaveText(['image']);
  await expect(hits.first().locator('.match')).toHaveText(/^(9\d|100)%$/);
  // The URL is the search: after a reload the preview and the results are back.
  const first = await hits.first().getAttribute('data-case');
  await page.reload();
  await expect(previews).toHaveCount(1);
  await expect(hits.first()).toHaveAttribute('data-case', first!);

  // A file that is no image gets a clear message; nothing is added.
  await hydrated(page);
  await page.getByLabel(/Images \(PNG or JPEG\)/).setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some text') });
  await expect(page.locator('.dropzone [role="alert"]')).toContainText('notes.png');
  await expect(previews).toHaveCount(1);
});

test("another user cannot search with someone's uploaded image", async ({ page, browser }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const png = await demoScan(page);
  await page.goto('/search');
  await hydrated(page);
  await page.getByLabel(/Images \(PNG or JPEG\)/).setInputFiles({ name: 'mine.png', mimeType: 'image/png', buffer: png });
  await expect(page.locator('.query-images img')).toHaveCount(1);
  const thumb = (await page.locator('.query-images img').first().getAttribute('src'))!;
  const token = thumb.split('/')[5];
  await submit(page);
  const shared = new URL(page.url()).pathname + new URL(page.url()).search;
  const other = await browser.newPage();
  await login(other, 'patient@demo.precedent', DEMO_PASSWORD);
  // Neither the saved search…
  await other.goto(shared);
  await expect(other.getByRole('alert')).toContainText('not available');
  // …nor the image's token opens for anyone else.
  await other.goto(`/search?img=${token}`);
  await expect(other.getByRole('alert')).toContainText('no longer available');
  await other.close();
});

test("a patient's search page has no clinician-only filters", async ({ page }) => {
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  await page.goto('/search');
  await hydrated(page);
  await expect(page.getByLabel('Body region')).toBeVisible();
  await expect(page.getByLabel('Diagnosis contains')).toHaveCount(0);
  await expect(page.getByLabel('From')).toHaveCount(0);
});
