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

/** The first case on the caller's list (through the JSON API, with the page's session). */
export async function firstCaseId(page: Page): Promise<number> {
  const res = await page.request.get('/api/v1/cases', { headers: { Accept: 'application/json' } });
  expect(res.ok()).toBeTruthy();
  const body = await res.json();
  expect(body.items.length).toBeGreaterThan(0);
  return body.items[body.items.length - 1].id;
}

/** Opens the case and reloads until its similar-cases panel has hits (the demo is embedded
 *  by the background worker right after start-up). */
export async function openWithHits(page: Page, id: number) {
  await expect
    .poll(
      async () => {
        await page.goto(`/cases/${id}`);
        return page.locator('.similar-hit').count();
      },
      { timeout: 60_000, intervals: [500, 1000, 2000] },
    )
    .toBeGreaterThan(0);
}
