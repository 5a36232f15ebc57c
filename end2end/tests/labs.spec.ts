import { test, expect } from '@playwright/test';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { DEMO_PASSWORD, fixtures, hydrated, login, logout } from './helpers';

let caseUrl = '';
const email = `labs-${Date.now()}@example.org`;
const password = 'river-cobalt-lantern';

test.describe.configure({ mode: 'serial' });

test('a patient uploads two lab reports and sees flagged values, their source lines and trends', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Your name').fill('Lab Patient');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/cases$/);
  await page.goto('/cases/new');
  await hydrated(page);
  await page.getByLabel('Title').fill('Labs over two visits');
  await page.getByLabel('History and symptoms').fill('Fever and cough, bloods taken twice.');
  const first = path.join(fixtures, 'synth-7-000000');
  const png = fs.readdirSync(first).find((f: string) => f.endsWith('.png'))!;
  await page.getByLabel('Scans (JPEG or PNG)').setInputFiles(path.join(first, png));
  await page.getByLabel('Lab reports (PDF)').setInputFiles([path.join(first, 'labs.pdf'), path.join(fixtures, 'synth-7-000001', 'labs.pdf')]);
  await page.getByRole('button', { name: 'Create case' }).click();
  await expect(page).toHaveURL(/\/cases\/\d+$/);
  caseUrl = new URL(page.url()).pathname;
  await page.reload();
  const tables = page.locator('table.labs');
  await expect(tables).toHaveCount(2);
  const hb = tables.first().locator('tr[data-analyte="Haemoglobin"]');
  await expect(hb).toHaveAttribute('title', /^Read from: Haemoglobin \d/);
  await expect(hb.locator('td').nth(2)).toHaveText('g/dL');
  // Pneumonia's raised white cells are flagged high, in colour.
  await expect(tables.first().locator('tr[data-analyte="White cell count"] .flag')).toHaveClass(/flag-high/);
  await expect(tables.first().locator('tr.abnormal').first()).toBeVisible();
  // Measured in both reports: a trend per analyte.
  await expect(page.locator('figure.trend[data-analyte="Haemoglobin"] svg circle')).toHaveCount(2);
  // Patients do not correct values.
  await expect(page.locator('.lab-correct')).toHaveCount(0);
});

test('a doctor corrects a mis-read value; the correction and the reading are both kept', async ({ page }) => {
  expect(caseUrl).not.toBe('');
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto(caseUrl);
  await hydrated(page);
  const hb = page.locator('table.labs').first().locator('tr[data-analyte="Haemoglobin"]');
  const before = (await hb.locator('.lab-value').textContent())!.trim();
  await hb.getByText('Correct', { exact: true }).click();
  await hb.getByLabel('Value').fill('6.2');
  await hb.getByLabel('Note').fill('decimal point misread');
  await hb.getByRole('button', { name: 'Save correction' }).click();
  await expect(hb.locator('.badge', { hasText: 'corrected' })).toBeVisible();
  await page.reload();
  await expect(hb.locator('.lab-value')).toContainText('6.2');
  await expect(hb.locator('.flag')).toHaveText('LL critical');
  await expect(hb.locator('.badge', { hasText: 'corrected' })).toHaveAttribute('title', new RegExp(`Corrected by doctor@demo.precedent .* read as ${before.replace('.', '\\.')}`));
  // A value the form cannot read is refused in place.
  await hydrated(page);
  await hb.getByText('Correct', { exact: true }).click();
  await hb.getByLabel('Value').fill('about seven');
  await hb.getByRole('button', { name: 'Save correction' }).click();
  await expect(page.getByRole('alert')).toContainText('is not a value this form can read');
  await logout(page);
  // The patient sees the corrected value too.
  await login(page, email, password);
  await page.goto(caseUrl);
  await expect(page.locator('table.labs').first().locator('tr[data-analyte="Haemoglobin"] .lab-value')).toContainText('6.2');
});

test('a doctor finds cases with similar labs from values typed on the search page', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.goto('/search');
  await hydrated(page);
  await page.getByLabel(/^Lab values, one per line/).fill('ALT 160 U/L 7 - 56\nAST 190 U/L 8 - 48\nBilirubin 75 umol/L 3 - 21');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  // The values are kept under an opaque id, never in the URL.
  await expect(page).toHaveURL(/\/search\?s=[0-9a-f]{32}$/);
  expect(page.url()).not.toContain('ALT');
  const hits = page.locator('.search-results .similar-hit');
  await expect.poll(() => hits.count(), { timeout: 60_000 }).toBeGreaterThan(0);
  // Only labs were asked: one bar per hit, and the abnormal analytes both share are named.
  await expect(hits.first().locator('.bar-label')).toHaveText(['labs']);
  await expect(hits.first().locator('.shared-labs')).toContainText(/Shared abnormal labs: .*(ALT|AST|Bilirubin)/);
  // The lab weight is part of the saved query.
  const first = page.url();
  await page.getByLabel('Lab weight').fill('40');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL((u) => u.href !== first && /\/search\?s=/.test(u.href));
  await page.reload();
  await expect(page.getByLabel('Lab weight')).toHaveValue('40');
  await expect(page.getByLabel(/^Lab values, one per line/)).toHaveValue(/AST 190 U\/L/);
  await expect(hits.first().locator('.bar-label')).toHaveText(['labs']);
  // Lines that are not lab values are refused with a clear message.
  await hydrated(page);
  await page.getByLabel(/^Lab values, one per line/).fill('feeling tired');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByRole('alert')).toBeVisible();
});
