import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login } from './helpers';

test('an admin sees the index per modality and rebuilds it with live progress', async ({ page }) => {
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Index', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/index$/);
  await expect(page.locator('tr[data-channel="text"] td').nth(1)).toContainText('minilm-l6-v2-region@');
  await expect(page.locator('tr[data-channel="image"] td').nth(1)).toContainText('medpix-effnet@');
  await expect
    .poll(async () => {
      await page.reload();
      return Number(await page.locator('tr[data-channel="text"] .vectors').textContent());
    }, { timeout: 60_000 })
    .toBeGreaterThan(0);
  // Built when, how much memory; the manifest's models to rebuild with.
  await expect(page.locator('#index-cases')).toContainText(/built \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  await expect(page.locator('#index-cases')).toContainText(/server memory \d+ MB/);
  await expect(page.locator('tr[data-channel="text"] td').nth(5)).toContainText(/MB$/);
  await expect(page.getByLabel('Text model').locator('option')).toContainText(['Keep the current one', /minilm-l6-v2-region@.* \(in use\)/]);
  await expect(page.getByLabel('Image model').locator('option', { hasText: '(in use)' })).toHaveCount(1);
  await hydrated(page);
  await page.getByLabel('Text model').selectOption({ label: (await page.getByLabel('Text model').locator('option', { hasText: '(in use)' }).textContent())! });
  await page.getByRole('button', { name: 'Rebuild index' }).click();
  // Streamed: the outcome appears without a reload.
  await expect(page.locator('#reindex-progress')).toContainText(/built \d+ cases/, { timeout: 30_000 });
});

test('doctors and patients cannot reach the index page', async ({ page }) => {
  for (const who of ['doctor@demo.precedent', 'patient@demo.precedent']) {
    await login(page, who, DEMO_PASSWORD);
    await expect(page.getByRole('link', { name: 'Index', exact: true })).toHaveCount(0);
    await page.goto('/admin/index');
    await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
    expect((await page.request.get('/api/v1/admin/index/progress')).status()).toBe(403);
    await page.locator('#logout').click();
    await expect(page).toHaveURL(/\/login$/);
  }
});
