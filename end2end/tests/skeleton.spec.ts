import { test, expect } from '@playwright/test';
import * as path from 'node:path';
import { DEMO_PASSWORD, fixtures, hydrated, login, logout } from './helpers';

const password = 'river-cobalt-lantern';
const email = `pat-${Date.now()}@example.org`;

test.describe.configure({ mode: 'serial' });

let caseUrl = '';

test('a patient signs up and lands on their (empty) case list', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Your name').fill('Pat Playwright');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/cases$/);
  await expect(page.locator('#whoami')).toContainText(email);
  await expect(page.getByText('No cases yet')).toBeVisible();
});

test('sign-up errors are shown in place', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(`weak-${Date.now()}@example.org`);
  await page.getByLabel('Password', { exact: true }).fill('password123');
  await page.getByLabel('Repeat password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('too common');
});

test('a wrong password is refused with a clear message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not-my-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong email or password');
});

test('the patient creates a case with a scan and a lab PDF; it survives a reload', async ({ page }) => {
  await login(page, email, password);
  await page.getByRole('link', { name: 'New case' }).click();
  await expect(page).toHaveURL(/\/cases\/new$/);
  await hydrated(page);
  await page.getByLabel('Title').fill('Cough and fever for a week');
  await page.getByLabel('History and symptoms').fill('Productive cough, fever 38.9 °C, right-sided chest pain.');
  await page.getByLabel('Age').fill('54');
  await page.getByLabel('Scan type').selectOption('xray');
  const first = path.join(fixtures, 'synth-7-000000');
  const fs = await import('node:fs');
  const png = fs.readdirSync(first).find((f: string) => f.endsWith('.png'))!;
  await page.getByLabel('Scans (JPEG or PNG)').setInputFiles(path.join(first, png));
  await page.getByLabel('Lab reports (PDF)').setInputFiles(path.join(first, 'labs.pdf'));
  await page.getByRole('button', { name: 'Create case' }).click();
  await expect(page).toHaveURL(/\/cases\/\d+$/);
  caseUrl = new URL(page.url()).pathname;
  await expect(page.locator('#case-title')).toHaveText('Cough and fever for a week');

  await page.reload();
  await hydrated(page);
  await expect(page.locator('#case-title')).toHaveText('Cough and fever for a week');
  await expect(page.locator('#case-history')).toContainText('Productive cough');
  await expect(page.locator('img.scan-thumb')).toHaveCount(1);
  const natural = await page.locator('img.scan-thumb').evaluate((img: HTMLImageElement) => img.naturalWidth);
  expect(natural).toBeGreaterThan(0);
  await expect(page.locator('.report-text')).toContainText('Haemoglobin');

  // And it is on the list.
  await page.goto('/cases');
  await expect(page.getByText('Cough and fever for a week')).toBeVisible();
});

test('a bad upload shows a clear error and keeps what was typed', async ({ page }) => {
  await login(page, email, password);
  await page.goto('/cases/new');
  await hydrated(page);
  await page.getByLabel('Title').fill('Renamed executable');
  await page.getByLabel('History and symptoms').fill('This text must survive the error.');
  await page.getByLabel('Scans (JPEG or PNG)').setInputFiles({
    name: 'scan.png',
    mimeType: 'image/png',
    buffer: Buffer.from('MZ\x90\x00 this is not an image'),
  });
  await page.getByRole('button', { name: 'Create case' }).click();
  await expect(page.getByRole('alert')).toContainText('not a JPEG or PNG');
  await expect(page.getByLabel('History and symptoms')).toHaveValue('This text must survive the error.');
});

test("another patient cannot open the case", async ({ page }) => {
  expect(caseUrl).not.toBe('');
  await login(page, 'patient2@demo.precedent', DEMO_PASSWORD);
  await page.goto(caseUrl);
  await expect(page.getByRole('heading', { name: 'Case not found' })).toBeVisible();
  await expect(page.getByText('Cough and fever for a week')).toHaveCount(0);
});

test('a doctor sees every case, the demo included; logout ends the session', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await expect(page.getByText(/\d+ cases/)).toBeVisible();
  await page.goto(caseUrl);
  await expect(page.locator('#case-title')).toHaveText('Cough and fever for a week');
  await logout(page);
  await page.goto('/cases');
  await expect(page).toHaveURL(/\/login$/);
});

test('anonymous visitors are sent to the login page', async ({ page }) => {
  await page.goto(caseUrl || '/cases/1');
  await expect(page).toHaveURL(/\/login$/);
});
