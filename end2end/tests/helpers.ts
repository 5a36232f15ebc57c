import { expect, Page } from '@playwright/test';
import * as path from 'node:path';

export const DEMO_PASSWORD = process.env.PRECEDENT_DEMO_PASSWORD ?? 'precedent-demo-2026';
export const fixtures = path.join(__dirname, '..', 'fixtures');

/** Waits until the page has hydrated (the app marks <body data-hydrated>). */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export async function login(page: Page, email: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/cases$/);
  await expect(page.locator('#whoami')).toContainText(email);
}

export async function logout(page: Page) {
  await page.locator('#logout').click();
  await expect(page).toHaveURL(/\/login$/);
}
