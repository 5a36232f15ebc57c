import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, hydrated, login } from './helpers';

test('a doctor takes a case from the review queue, corrects its diagnosis, and the history keeps it', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Review queue' }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole('heading', { name: 'Review queue' })).toBeVisible();
  const first = page.locator('.queue-item a').first();
  const title = (await first.textContent())!.trim();
  await first.click();
  await expect(page).toHaveURL(/\/cases\/\d+$/);
  const caseUrl = new URL(page.url()).pathname;
  await hydrated(page);
  await expect(page.locator('#case-title')).toHaveText(title);

  const form = page.locator('section.review');
  await form.getByLabel('Correct it:').check();
  await form.getByLabel('Corrected diagnosis').fill('Atypical presentation, reviewed by Playwright');
  await form.getByLabel('Certainty').selectOption('possible');
  await form.getByLabel('Notes').fill('Imaging equivocal; repeat in two weeks.');
  await form.getByLabel('Recommended next tests').fill('Repeat CT');
  await form.getByLabel('Refer to specialist').fill('Radiology');
  await form.getByRole('button', { name: 'Save review' }).click();
  await expect(page.locator('.diagnosis-line')).toContainText('Atypical presentation, reviewed by Playwright');

  // After a reload (persisted), with who, when and what.
  await page.reload();
  await expect(page.locator('.diagnosis-line')).toContainText('Atypical presentation, reviewed by Playwright');
  const entry = page.locator('.history-entry').first();
  await expect(entry).toContainText('corrected (possible) by doctor@demo.precedent');
  await expect(entry).toContainText('Imaging equivocal');
  await expect(entry).toContainText('Recommended tests: Repeat CT');
  await expect(entry).toContainText('Refer to: Radiology');

  // A bad review is refused in place and nothing typed is lost.
  await hydrated(page);
  await form.getByLabel('Correct it:').check();
  await form.getByLabel('Corrected diagnosis').fill('');
  await form.getByLabel('Notes').fill('Kept after the error');
  await form.getByRole('button', { name: 'Save review' }).click();
  await expect(form.getByRole('alert')).toContainText('Enter the corrected diagnosis');
  await expect(form.getByLabel('Notes')).toHaveValue('Kept after the error');

  // The case has left the queue.
  await page.goto('/review');
  await expect(page.locator(`.queue-item a[href="${caseUrl}"]`)).toHaveCount(0);
});

test('a patient cannot reach the review queue nor review', async ({ page }) => {
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  await expect(page.getByRole('link', { name: 'Review queue' })).toHaveCount(0);
  await page.goto('/review');
  await expect(page.getByRole('heading', { name: 'Doctors only' })).toBeVisible();
  const res = await page.request.get('/api/v1/cases', { headers: { Accept: 'application/json' } });
  const id = (await res.json()).items[0].id;
  await page.goto(`/cases/${id}`);
  await expect(page.locator('#case-title')).toBeVisible();
  await expect(page.locator('section.review')).toHaveCount(0);
});
