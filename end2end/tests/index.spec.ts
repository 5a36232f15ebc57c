import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login } from './helpers';

test('an admin sees the index per modality and rebuilds it with live progress', async ({ page }) => {
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Index', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/index$/);
  await expect(page.locator('tr[data-channel="text"] td').nth(1)).toContainText('minilm-l6-v2@');
  await expect(page.locator('tr[data-channel="image"] td').nth(1)).toContainText('medpix-cnn@');
  await expect
    .poll(async () => {
      await page.reload();
      return Number(await page.locator('tr[data-channel="text"] .vectors').textContent());
    }, { timeout: 60_000 })
    .toBeGreaterThan(0);
  await hydrated(page);
  await page.getByRole('button', { name: 'Rebuild index' }).click();
  // Streamed: the outcome appears without a reload.
  await expect(page.locator('#reindex-progress')).toContainText(/built \d+ cases/, { timeout: 30_000 });
});

test('doctors cannot reach the index page', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await expect(page.getByRole('link', { name: 'Index', exact: true })).toHaveCount(0);
  await page.goto('/admin/index');
  await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
});
