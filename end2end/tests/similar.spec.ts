import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, firstCaseId, hydrated, login, logout, openWithHits } from './helpers';

test('a doctor sees similar cases with % match and per-modality bars, rendered on the server', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  await hydrated(page);
  const panel = page.locator('section.similar');
  await expect(panel.getByRole('heading', { name: 'Similar cases' })).toBeVisible();
  const first = panel.locator('.similar-hit').first();
  await expect(first.locator('.match')).toHaveText(/^\d+%$/);
  await expect(first.locator('.bar-label')).toHaveText(['text', 'image', 'labs']);
  await expect(first.locator('.similar-dx')).not.toBeEmpty();
  await expect(first.locator('.badge')).toHaveText(/validated|corrected|unreviewed/);
  // The query case is never its own hit, and a hit opens its case.
  await expect(panel.locator(`[data-case="${id}"]`)).toHaveCount(0);
  expect(await first.locator('a').first().getAttribute('href')).toMatch(/^\/cases\/\d+$/);
  // A doctor marks a hit relevant; the mark is stored and shown after a reload.
  const hitCase = await first.getAttribute('data-case');
  await first.getByRole('button', { name: 'Relevant', exact: true }).click();
  const judged = panel.locator(`[data-case="${hitCase}"]`).getByRole('button', { name: 'Relevant', exact: true });
  await expect(judged).toHaveAttribute('aria-pressed', 'true');
  await page.reload();
  await expect(panel.locator(`[data-case="${hitCase}"]`).getByRole('button', { name: 'Relevant', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await hydrated(page);

  // Weights and filters apply in place, without a page reload.
  const setRange = (label: string, value: string) =>
    panel.getByLabel(label).evaluate((el: HTMLInputElement, v: string) => {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, value);
  const url = page.url();
  await setRange('Lab weight', '0');
  await setRange('Text weight', '0');
  await expect(panel.locator('.similar-hit').first().locator('.bar')).toHaveCount(1);
  await expect(panel.locator('.similar-hit').first().locator('.bar-label')).toHaveText('image');
  await setRange('Text weight', '50');
  await expect(panel.locator('.similar-hit').first().locator('.bar')).toHaveCount(2);
  await panel.getByLabel('Validated only').check();
  await expect(panel.locator('.similar-hit .badge', { hasText: 'unreviewed' })).toHaveCount(0);
  await expect(panel.locator('.similar-hit').first().locator('.badge')).toHaveText(/validated|corrected/);
  await panel.getByLabel('Validated only').uncheck();
  await panel.getByLabel('Show').selectOption('5');
  await expect(panel.locator('.similar-hit')).toHaveCount(5);
  expect(page.url()).toBe(url);

  // Server-rendered: the HTML before any script runs already holds the hits.
  const html = await (await page.request.get(`/cases/${id}`)).text();
  expect(html).toContain('class="similar-hit"');
  // Take the link the panel shows now (the weights above changed the order of the hits).
  const now = panel.locator('.similar-hit a').first();
  const dest = await now.getAttribute('href');
  expect(dest).toMatch(/^\/cases\/\d+$/);
  await now.click();
  await expect(page).toHaveURL(new RegExp(`${dest}$`));
  await expect(page.locator('#case-title')).toBeVisible();
});

test("a patient meets teaching cases, de-identified, and never another patient's case", async ({ page }) => {
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  const teaching = page.locator('.similar-hit', { has: page.locator('.badge-teaching') });
  await expect(teaching.first()).toBeVisible();
  await expect(teaching.first().locator('.badge-teaching')).toHaveText('teaching case');
  // A title but no link to the case, no demographics; only a thumbnail, by a signed link that
  // loads for this viewer, and the explanation of the match.
  await expect(teaching.first().locator('.similar-title')).not.toBeEmpty();
  await expect(teaching.first().locator('a:not(.explain-link)')).toHaveCount(0);
  await expect(teaching.first().locator('a.explain-link')).toHaveCount(1);
  const thumb = teaching.first().locator('img.thumb');
  await expect(thumb).toHaveAttribute('src', /^\/media\/hits\/\d+\/thumb\?exp=\d+&sig=[0-9a-f]+$/);
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await expect(teaching.first().locator('.matched img')).toHaveCount(0);
  await expect(teaching.first().locator('.similar-dx')).not.toBeEmpty();
  // Every other hit is one of the patient's own cases, which they may open.
  for (const hit of await page.locator('.similar-hit:not(:has(.badge-teaching))').all()) {
    const res = await page.request.get(`/api/v1/cases/${await hit.getAttribute('data-case')}`);
    expect(res.status()).toBe(200);
  }
  // The filters that would probe other patients' cases are refused.
  const res = await page.request.get(`/api/v1/cases/${id}/similar?diagnosis=a`);
  expect(res.status()).toBe(422);
  // Patients do not judge hits.
  await expect(page.getByRole('button', { name: 'Relevant', exact: true })).toHaveCount(0);
});

test('a doctor sees which images matched and compares a hit side by side', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  await hydrated(page);
  const first = page.locator('section.similar .similar-hit').first();
  await expect(first.locator('.matched img')).toHaveCount(2);
  const hit = await first.getAttribute('data-case');
  await first.getByRole('link', { name: 'Compare side by side' }).click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?a=${id}&b=${hit}$`));
  await expect(page.locator('.compare-col')).toHaveCount(2);
  await expect(page.locator(`.compare-col[data-case="${id}"] h2`)).not.toBeEmpty();
  await expect(page.locator(`.compare-col[data-case="${hit}"] .diagnosis-line`)).toContainText('Diagnosis');
});

test("a patient cannot open a teaching case's page or compare with it", async ({ page }) => {
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  const own = await firstCaseId(page);
  const res = await page.request.get(`/api/v1/cases/${own}/similar?k=10`);
  const hits = (await res.json()).hits as { case: number; deidentified: boolean }[];
  const other = hits.find((h) => h.deidentified)!;
  await page.goto(`/compare?a=${own}&b=${other.case}`);
  await expect(page.locator('.compare-col')).toHaveCount(2);
  await expect(page.locator(`.compare-col[data-case="${own}"]`)).toHaveCount(1);
  await expect(page.getByText('This case does not exist or you do not have access to it.')).toBeVisible();
});

test('a doctor sees suggestions on a case, each linked to its evidence; a patient sees none', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  const panel = page.locator('section.suggestions');
  await expect(panel.getByRole('heading', { name: 'Suggestions' })).toBeVisible();
  const first = panel.locator('.differential .suggestion').first();
  await expect(first.locator('.confidence')).toHaveText(/^\d+%$/);
  await expect(first.locator('.suggestion-name')).not.toBeEmpty();
  const link = first.locator('a.evidence-link').first();
  const href = await link.getAttribute('href');
  expect(href).toMatch(/^\/cases\/\d+$/);
  expect(href).not.toBe(`/cases/${id}`);
  await expect(panel.locator('.categories [data-kind="body_region"]')).toHaveCount(1);
  // The evidence table lists the same case, with its basis.
  await panel.locator('details.evidence summary').click();
  await expect(panel.locator(`details.evidence tr[data-case="${href!.split('/').pop()}"]`)).toHaveCount(1);
  await logout(page);
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  await page.goto(`/cases/${await firstCaseId(page)}`);
  await expect(page.locator('#case-title')).toBeVisible();
  await expect(page.locator('section.suggestions')).toHaveCount(0);
});

test('a doctor edits and releases the case report; the patient then reads it', async ({ page }) => {
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await page.goto(`/cases/${id}`);
  await expect(page.locator('section.case-report')).toContainText('Awaiting review by a doctor');
  await logout(page);
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  await openWithHits(page, id);
  await hydrated(page);
  const panel = page.locator('section.case-report');
  const dx = panel.getByLabel('Likely diagnoses (one per line, most likely first)');
  // Prefilled from the suggestions.
  await expect(dx).not.toHaveValue('');
  await dx.fill('Community-acquired pneumonia');
  await panel.getByLabel('For the patient, in plain words').fill('A chest infection; antibiotics and a check in a week.');
  await panel.getByLabel('Release to the patient now').check();
  await panel.getByRole('button', { name: 'Save report' }).click();
  await expect(panel.locator('.report-state')).toContainText('Released by Dr Demo');
  await page.reload();
  await expect(page.locator('section.case-report').getByLabel('Likely diagnoses (one per line, most likely first)')).toHaveValue('Community-acquired pneumonia');
  await logout(page);
  await login(page, 'patient@demo.precedent', DEMO_PASSWORD);
  await page.goto(`/cases/${id}`);
  const mine = page.locator('section.case-report');
  await expect(mine).toContainText('Community-acquired pneumonia');
  await expect(mine).toContainText('A chest infection');
  await expect(mine.locator('textarea')).toHaveCount(0);
});

test('a doctor opens "Why this match?" for a hit: shared terms marked in both texts, scores, the matched images', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  const first = page.locator('section.similar .similar-hit').first();
  const hit = await first.getAttribute('data-case');
  await first.getByRole('link', { name: 'Why this match?' }).click();
  await expect(page).toHaveURL(new RegExp(`/cases/${id}/explain/${hit}$`));
  await expect(page.getByRole('heading', { name: 'Why this match?' })).toBeVisible();
  await expect(page.locator('.bar-label').first()).toHaveText(/text|image|labs/);
  await expect(page.locator('.explain-col[data-side="query"] .explain-text')).not.toBeEmpty();
  await expect(page.locator('.explain-col[data-side="hit"] img.explain-image')).toHaveCount(1);
});

test('a doctor refines the similar cases by example in one click, without a reload', async ({ page }) => {
  await login(page, 'doctor@demo.precedent', DEMO_PASSWORD);
  const id = await firstCaseId(page);
  await openWithHits(page, id);
  await hydrated(page);
  const panel = page.locator('section.similar');
  const hits = panel.locator('.similar-hit');
  const last = hits.last();
  const marked = await last.getAttribute('data-case');
  await last.getByRole('button', { name: 'Relevant', exact: true }).click();
  await expect(panel.locator(`[data-case="${marked}"]`).getByRole('button', { name: 'Relevant', exact: true })).toHaveAttribute('aria-pressed', 'true');
  const url = page.url();
  const before = await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-case')));
  await panel.getByLabel(/Refine by my marks/).check();
  // The marked case moves up (it was last); the page did not reload.
  await expect
    .poll(async () => (await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-case')))).indexOf(marked))
    .toBeLessThan(before.indexOf(marked));
  expect(page.url()).toBe(url);
});
