import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login, logout } from './helpers';

test('an admin reads the audit log, filtered in the URL', async ({ page }) => {
  // Something to find: a doctor opens a case (a read) and is logged in (a login).
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/cases');
  const first = page.locator('a[href^="/cases/"]:not([href="/cases/new"])').first();
  const href = await first.getAttribute('href');
  await page.goto(href!);
  await logout(page);

  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.locator('table.audit tbody tr').first()).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Action').fill('case.read');
  await page.getByLabel('Account').fill('doctor@demo');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=case\.read/);
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toContainText('doctor@demo.precedent (doctor)');
  await expect(rows.first()).toContainText(`case ${href!.split('/').pop()}`);
  expect(await rows.evaluateAll((trs) => trs.every((tr) => tr.getAttribute('data-action') === 'case.read'))).toBeTruthy();
  // Bookmarkable: a reload gives the same view, rendered on the server.
  await page.reload();
  await expect(page.getByLabel('Action')).toHaveValue('case.read');
  await expect(rows.first()).toContainText('doctor@demo.precedent (doctor)');
  // A bad filter is refused with a clear message.
  await page.goto('/admin/audit?from=yesterday');
  await expect(page.getByRole('alert')).toContainText('is not a date');
});

test('doctors and patients cannot read the audit log', async ({ page }) => {
  for (const who of ['doctor@demo.precedent', 'patient@demo.precedent']) {
    await login(page, who, DEMO_PASSWORD);
    await expect(page.getByRole('link', { name: 'Audit', exact: true })).toHaveCount(0);
    const res = await page.goto('/admin/audit');
    expect(res!.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
    await logout(page);
  }
});
