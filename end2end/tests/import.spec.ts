import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_PASSWORD, hydrated, login } from './helpers';

/** A .tar.gz of a synthetic library (written by `precedent synth`) with one row that must be refused. */
function libraryArchive(name: string, cases: number): string {
  const bin = process.env.PRECEDENT_BIN!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'precedent-import-'));
  const lib = path.join(tmp, name);
  execFileSync(bin, ['synth', '--out', lib, '--cases', String(cases), '--seed', '77']);
  fs.appendFileSync(path.join(lib, 'cases.jsonl'), '{"key":"broken-row","title":"No scans at all"}\n');
  const archive = path.join(tmp, `${name}.tar.gz`);
  execFileSync('tar', ['czf', archive, '-C', tmp, name]);
  return archive;
}

test('an admin imports a case-library archive and watches its progress and refused rows', async ({ page }) => {
  const archive = libraryArchive('e2e-teaching-set', 3);
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Import', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/import$/);
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles(archive);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  // Streamed into the page without a reload.
  const live = page.locator('#import-live .import');
  await expect(live.locator('.import-line')).toContainText('Finished: 4 rows — 3 imported, 0 already present, 1 refused', { timeout: 60_000 });
  await expect(live.locator('table.refused')).toContainText('broken-row');
  await expect(live.locator('table.refused')).toContainText('no images');
  // Recorded: after a reload it is listed with its outcome.
  await page.reload();
  const listed = page.locator('.imports .import').first();
  await expect(listed).toHaveAttribute('data-status', 'finished');
  await expect(listed.locator('h3')).toContainText('e2e-teaching-set.tar.gz');

  // The same archive again: nothing is imported twice.
  await page.goto('/admin/import');
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles(archive);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('#import-live .import-line')).toContainText('0 imported, 3 already present', { timeout: 60_000 });
});

test('a file that is no archive fails with a reason', async ({ page }) => {
  await login(page, 'admin@demo.precedent', DEMO_PASSWORD);
  await page.goto('/admin/import');
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not really a zip') });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('#import-live .import-line')).toContainText('Failed: The archive cannot be imported: the file is not a .zip, .tar.gz or .tar archive');
});

test('doctors and patients cannot reach the import page', async ({ page }) => {
  for (const who of ['doctor@demo.precedent', 'patient@demo.precedent']) {
    await login(page, who, DEMO_PASSWORD);
    await expect(page.getByRole('link', { name: 'Import', exact: true })).toHaveCount(0);
    await page.goto('/admin/import');
    await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
    const res = await page.request.post('/api/v1/admin/imports', { multipart: { archive: { name: 'x.zip', mimeType: 'application/zip', buffer: Buffer.from('x') } }, headers: { Accept: 'application/json' } });
    expect(res.status()).toBe(403);
    await page.locator('#logout').click();
    await expect(page).toHaveURL(/\/login$/);
  }
});
