import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login } from './helpers';

test('a doctor searches by text with filters; the query lives in the URL and survives a reload', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/search$/);
  await expect(page.getByText('Enter a case number and/or some text')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Symptoms, findings (free text)').fill('productive cough and fever with chest pain');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/text=productive\+cough/);
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
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/validated=1/);
  await expect(hits.first()).toBeVisible();
  await expect(page.locator('.search-results .badge', { hasText: 'unreviewed' })).toHaveCount(0);

  // By case number: that case is not among its own results.
  await page.goto(`/search?case=${firstCase}`);
  await expect(hits.first()).toBeVisible();
  await expect(page.locator(`.search-results [data-case="${firstCase}"]`)).toHaveCount(0);
});

test('a bad search gets a clear message', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/search?text=cough&tw=0&iw=0');
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
