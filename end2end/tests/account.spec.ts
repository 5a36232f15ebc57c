import { test, expect, Page } from '@playwright/test';
import * as crypto from 'node:crypto';
import { DEMO_PASSWORD, hydrated, login, logout } from './helpers';

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
function totp(secretBase32: string, atSeconds = Date.now() / 1000): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const key: number[] = [];
  for (const c of secretBase32.replace(/=+$/, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      key.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atSeconds / 30)));
  const h = crypto.createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

async function passwordStep(page: Page, email: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('a patient changes their password on the account page; the old one stops working', async ({ page }) => {
  const email = `acct-${Date.now()}@example.org`;
  const first = 'river-cobalt-lantern';
  const second = 'amber-quartz-meadow-41';
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Your name').fill('Account Patient');
  await page.getByLabel('Password', { exact: true }).fill(first);
  await page.getByLabel('Repeat password').fill(first);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/cases$/);

  await page.locator('#whoami').click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  // Patients are not offered two-factor sign-in.
  await expect(page.getByRole('heading', { name: 'Two-factor sign-in' })).toHaveCount(0);
  await page.getByLabel('Current password').fill(first);
  await page.getByLabel('New password', { exact: true }).fill('qwertyuiop123');
  await page.getByLabel('Repeat new password').fill('qwertyuiop123');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toContainText('too common');
  await page.getByLabel('New password', { exact: true }).fill(second);
  await page.getByLabel('Repeat new password').fill(second);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.locator('#password-changed')).toBeVisible();
  await logout(page);

  await passwordStep(page, email, first);
  await expect(page.getByRole('alert')).toContainText('Wrong email or password');
  await login(page, email, second);
});

test('a doctor turns on two-factor sign-in, logs in with a code, and an admin reset forces a new password', async ({ page }) => {
  const email = `tf-${Date.now()}@example.org`;
  const password = 'lantern-harbour-cobalt';
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill('Dr Two Factor');
  await page.getByLabel('Role').selectOption('doctor');
  await page.getByLabel('Initial password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('status')).toContainText('Account created');
  await logout(page);

  await login(page, email, password);
  await page.goto('/account');
  await hydrated(page);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await expect(page.locator('.qr svg')).toBeVisible();
  const secret = (await page.locator('#totp-secret').textContent())!.trim();
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.locator('#recovery-codes li')).toHaveCount(10);
  await expect(page.locator('#two-factor-on')).toContainText('10 recovery code');
  await logout(page);

  // The password alone leads to the code page; the next step's code signs in.
  await passwordStep(page, email, password);
  await expect(page).toHaveURL(/\/login\/code$/);
  await hydrated(page);
  await page.getByLabel('Code').fill('000000');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('alert')).toContainText('not right');
  await page.getByLabel('Code').fill(totp(secret, Date.now() / 1000 + 30));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/cases$/);
  await expect(page.locator('#whoami')).toContainText(email);
  await logout(page);

  // An admin resets the password: a temporary one, shown once.
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/users');
  await hydrated(page);
  const row = page.locator(`tr[data-user="${email}"]`);
  await expect(row).toContainText('two-factor');
  await row.getByRole('button', { name: 'Reset password' }).click();
  const temporary = (await page.locator('#temporary-password').textContent())!.trim();
  expect(temporary.length).toBeGreaterThanOrEqual(20);
  await expect(row).toContainText('must change password');
  await logout(page);

  await passwordStep(page, email, temporary);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator('#must-change')).toBeVisible();
  await page.goto('/cases');
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  const fresh = 'harbour-violet-sparrow-7';
  await page.getByLabel('Current password').fill(temporary);
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('Repeat new password').fill(fresh);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.locator('#password-changed')).toBeVisible();
  await page.goto('/cases');
  await expect(page).toHaveURL(/\/cases$/);
});
