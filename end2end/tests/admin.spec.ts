import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login, logout } from './helpers';

test('an admin creates a doctor account, the doctor logs in, the admin disables it', async ({ page }) => {
  const email = `dr-${Date.now()}@example.org`;
  const password = 'lantern-harbour-cobalt';
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Accounts' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill('Dr Playwright');
  await page.getByLabel('Role').selectOption('doctor');
  await page.getByLabel('Initial password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('status')).toContainText('Account created');
  const row = page.locator(`tr[data-user="${email}"]`);
  await expect(row).toContainText('doctor');
  await expect(row).toContainText('active');
  // A weak password is refused in place.
  await page.getByLabel('Email').fill(`weak-${Date.now()}@example.org`);
  await page.getByLabel('Initial password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('too common');
  await logout(page);

  await login(page, email, password);
  await expect(page.getByRole('link', { name: 'Review queue' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Accounts' })).toHaveCount(0);
  await logout(page);

  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/users');
  await hydrated(page);
  await page.locator(`tr[data-user="${email}"]`).getByRole('button', { name: 'Disable' }).click();
  await expect(page.locator(`tr[data-user="${email}"]`)).toContainText('disabled');
  await page.reload();
  await expect(page.locator(`tr[data-user="${email}"]`)).toContainText('disabled');
});

test('doctors and patients cannot reach the accounts page', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/users');
  await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
  await logout(page);
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/users');
  await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
});
