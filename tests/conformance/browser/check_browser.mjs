#!/usr/bin/env node
// Browser checks of Portale's web pages, run by tests/conformance/run.sh against the real
// server:   node check_browser.mjs <base_url> <manifest.json>
//
// A person's browser is the client here: Debian's Chromium (/usr/bin/chromium, headless),
// driven by playwright-core. What is checked, and against what (the oracle):
//
//   every page type (home, search results, error page; the dataset page and the map when
//   they are served), at 1280 px (desktop) and 360 px (mobile):
//     - no console error, no uncaught exception, no failed request, no response >= 400
//       (but the error page's own status), and no request to any host but the server:
//       the site must work with no outside connection (Chromium resolves no other host
//       name, and any such request fails the check);
//     - the site icon (link rel="icon", or /favicon.ico that browsers ask for without one)
//       answers 200 with an image;
//     - axe-core (its own rules, run in the page): no violation of impact serious or
//       critical;
//     - a screenshot of the whole page in target/screenshots/<page>-<desktop|mobile>.png;
//     - desktop: the first Tab reaches the skip link, and following it moves focus to
//       <main> (the next Tab lands inside main);
//     - mobile: no horizontal scroll (the document is no wider than the 360 px viewport);
//     - desktop: weight: HTML + CSS + JS bodies received for the page at most 100,000
//       bytes, MapLibre's own files (/static/vendor/maplibre-gl/) excepted.
//   flows:
//     - search: a word of a dataset's title (from the manifest) typed into #q on the home
//       page and submitted finds that dataset; the result list and the count shown equal
//       those of /datasets.json?q=<word> (the JSON API is the oracle);
//     - facet filter: clicking a facet link gives as many results as the count printed
//       beside it, the same count and the same datasets as /datasets.json with that filter;
//     - language switch: the English link gives <html lang="en">, English labels, and keeps
//       the search (same words in #q, same results);
//     - dataset page: every distribution of the manifest has a download link
//       /datasets/{id}/files/{file} in the page; clicking one downloads the file, and every
//       file fetched has the manifest's size and SHA-256;
//     - map: after the map is idle its canvas has drawn pixels, and pixels that change when
//       the layers of /tiles/ sources are hidden (so a data layer drew them); a click on a
//       rendered feature (found with portaleMap.queryRenderedFeatures and placed with
//       portaleMap.project) opens a .maplibregl-popup showing one of its attribute values.
//   Lighthouse (mobile default settings, simulated throttling) on the home page and a
//   dataset page: performance >= 0.90 and accessibility = 1.00.
//
// Pages still being built (see PENDING) are skipped with a loud "skipped:" line while the
// server does not serve them; as soon as it does they are checked, whatever PENDING says.
// Hostile metadata (third argument, the site of tests/fixtures/hostile): see
// checkHostileMetadata.
// Exit code 1 when any check fails. The last line is "browser: N passed, N failed, N skipped".

import { chromium } from 'playwright-core';
import lighthouse from 'lighthouse';
import { PNG } from 'pngjs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------
// Settings

/** Pages being built in parallel: while `true`, a page the server does not serve yet is
 * skipped; set to `false` when the page lands, and its absence fails the run. */
const PENDING = { dataset: false, map: false };

/** Failures known today in markup and static files this branch may not touch. Each is
 * still detected and printed loudly as "KNOWN FAILURE", but does not fail the run. Delete
 * an entry when the markup is fixed (then the rule fails the run again, as it should).
 * `rule` is an axe-core rule id (Lighthouse's accessibility audits have the same ids), or
 * 'favicon' for checkIcon. */
const KNOWN_FAILURES = [
];

const WEIGHT_LIMIT = 100_000; // bytes of HTML + CSS + JS per page
const WEIGHT_EXEMPT = '/static/vendor/maplibre-gl/';
const LIGHTHOUSE_MIN = { performance: 0.9, accessibility: 1.0 };
const MIN_MAP_PIXELS = 50; // pixels a data layer must draw on the canvas
const TIMEOUT = 30_000;

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// This machine has no Internet: without these, Chromium's background services (component
// updates, sync, safe browsing...) open connections that are refused, many at a time.
// WebGL (the map) runs on SwiftShader, Chromium's CPU renderer, as there is no GPU: Chromium
// 156 still falls back to it by itself, but that fallback is deprecated, so it is asked for.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];
/** Chromium resolves no host name but the server's: an outside request fails at once. */
const hostRules = (base) => `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${base.hostname}`;
const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  mobile: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
};

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const SHOTS = path.join(repo, 'target', 'screenshots');
const REPORTS = path.join(repo, 'target', 'lighthouse');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// ---------------------------------------------------------------------------------------
// Reporting

let passed = 0;
let failed = 0;
const skipped = [];
const known = [];

function check(ok, what, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`  ok    ${what}`);
  } else {
    failed += 1;
    console.log(`  FAIL  ${what}${detail ? `\n        ${detail.replaceAll('\n', '\n        ')}` : ''}`);
  }
  return ok;
}

function skip(what) {
  skipped.push(what);
  console.log(`  skipped: ${what}`);
}

function knownFailure(page, rule, detail) {
  const k = KNOWN_FAILURES.find((f) => f.rule === rule && f.pages.includes(page));
  if (!k) return false;
  const first = !known.some((x) => x.rule === rule);
  known.push({ rule, text: `${page}: ${rule}: ${detail.slice(0, 160)}` });
  console.log(`  !!!!! KNOWN FAILURE (listed in KNOWN_FAILURES, to be fixed): ${page}: ${rule}: ${detail}`
    + `${first ? `\n        why: ${k.why}` : ' (why: see above)'}`);
  return true;
}

// ---------------------------------------------------------------------------------------
// Helpers

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  return r.json();
}

/** Whether the server serves `url` itself as an HTML page (not a redirect, not an error). */
async function servesHtml(url) {
  const r = await fetch(url, { redirect: 'manual' });
  await r.arrayBuffer();
  return r.status === 200 && (r.headers.get('content-type') || '').startsWith('text/html');
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const digits = (text) => {
  const m = /\d[\d.\u202f\u00a0]*/.exec(text || '');
  return m ? Number(m[0].replace(/[^\d]/g, '')) : null;
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Opens a page and records what goes wrong on it: console errors, uncaught exceptions,
 * failed requests, responses >= 400 (except `allowStatus` for the document itself) and
 * requests to other hosts (listed by the context, see `newContext`). Also keeps
 * the responses, for the page weight.
 */
async function openPage(ctx, { allowStatus = null } = {}) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  const responses = [];
  const downloads = new Set();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs the error page's own status as a console error: that one is expected.
    const own = allowStatus !== null && m.location().url === page.url()
      && m.text().startsWith(`Failed to load resource: the server responded with a status of ${allowStatus} `);
    if (!own) problems.push({ text: `console error: ${m.text()} (${m.location().url || 'page'})`, url: m.location().url });
  });
  page.on('pageerror', (e) => problems.push({ text: `uncaught exception: ${e.message}` }));
  page.on('download', (d) => downloads.add(d.url()));
  page.on('requestfailed', (r) => {
    // A navigation that turns into a download is aborted by the browser: that is not an error.
    if (downloads.has(r.url()) || (r.failure()?.errorText === 'net::ERR_ABORTED' && r.isNavigationRequest())) return;
    problems.push({ text: `request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`, url: r.url() });
  });
  page.on('response', (r) => {
    responses.push(r);
    const docOk = allowStatus !== null && r.request().isNavigationRequest() && r.status() === allowStatus;
    if (r.status() >= 400 && !docOk) problems.push({ text: `HTTP ${r.status()} for ${r.request().method()} ${r.url()}`, url: r.url() });
  });
  return { page, problems, responses };
}

/**
 * A browser context that lists every request to an origin but the server's. Nothing is
 * intercepted (Playwright's request routing would hide what a plain browser does, such as
 * fetching /favicon.ico, and turn off the HTTP cache); Chromium resolves no host name
 * but the server's anyway (--host-resolver-rules), so no such request leaves the machine.
 */
async function newContext(browser, base, kind, outside) {
  const ctx = await browser.newContext({ ...VIEWPORTS[kind], acceptDownloads: true, locale: 'it-IT' });
  ctx.on('request', (r) => {
    const u = new URL(r.url());
    if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.origin !== base.origin) outside.push(r.url());
  });
  return ctx;
}

/**
 * Reports what went wrong on a page. The browser's own request for the site icon is
 * checked apart (checkIcon), so a missing icon is reported once, not on every page.
 */
function checkProblems(what, problems, outside, icon = null) {
  const list = problems.filter((p) => !icon || p.url !== icon).map((p) => p.text);
  check(list.length === 0 && outside.length === 0, `${what}: no console error, failed request or outside request`,
    [...list, ...outside.map((u) => `request to another host: ${u}`)].join('\n'));
}

// ---------------------------------------------------------------------------------------
// Checks common to every page type

/** The icon a browser loads for the page: its link rel="icon", or /favicon.ico. */
function iconUrl(page) {
  return page.evaluate(() => document.querySelector('link[rel~="icon"]')?.href || new URL('/favicon.ico', location.href).href);
}

async function checkIcon(page, name, label) {
  const url = await iconUrl(page);
  const r = await fetch(url);
  await r.arrayBuffer();
  const type = r.headers.get('content-type') || '';
  const ok = r.status === 200 && type.startsWith('image/');
  const detail = `${url}: ${r.status} ${type}`;
  if (!ok && knownFailure(name, 'favicon', `${label}: ${detail}`)) return;
  check(ok, `${label}: the site icon ${new URL(url).pathname} answers 200 with an image`, detail);
}

async function checkAxe(page, name, label) {
  // Evaluated through DevTools, not added as an inline <script>: the pages' CSP blocks those.
  await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    // target-size (WCAG 2.2, 2.5.8) is off in axe's defaults; Lighthouse turns it on.
    const r = await axe.run(document, { resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary })),
    }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const unknown = [];
  for (const v of bad) {
    const detail = `${v.impact}: ${v.help}; ${v.nodes.length} element(s): ${v.nodes.slice(0, 4).map((n) => `${n.target} ${n.html}`).join(' | ')}`;
    if (!knownFailure(name, v.id, `${label}: ${detail}`)) unknown.push(`${v.id} (${detail})`);
  }
  const minor = result.filter((v) => !bad.includes(v)).map((v) => `${v.id} (${v.impact})`);
  if (minor.length) console.log(`        axe, minor or moderate (not failing): ${minor.join(', ')}`);
  const aside = bad.length > unknown.length ? ' (known failures aside)' : '';
  check(unknown.length === 0, `${label}: axe-core finds no serious or critical violation${aside}`, unknown.join('\n'));
}

async function checkSkipLink(page, name) {
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => {
    const a = document.activeElement;
    const r = a?.getBoundingClientRect();
    return a && {
      tag: a.tagName, href: a.getAttribute('href'), text: a.textContent.trim(),
      visible: !!r && r.width >= 1 && r.height >= 1 && r.bottom > 0 && r.top < window.innerHeight,
      mainId: document.querySelector('main')?.id || null,
    };
  });
  const target = first?.mainId ? `#${first.mainId}` : null;
  if (!check(first && first.tag === 'A' && target && first.href === target && first.visible,
    `${name}: the first Tab reaches a visible skip link to <main>`, JSON.stringify(first))) return;
  await page.keyboard.press('Enter');
  const after = await page.evaluate(async () => {
    const main = document.querySelector('main');
    const inMain = () => main.contains(document.activeElement);
    if (inMain()) return { ok: true, how: 'focus on main' };
    const focusable = main.querySelector('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])');
    return { ok: false, focusable: !!focusable, hash: location.hash };
  });
  if (!after.ok && after.focusable) {
    await page.keyboard.press('Tab');
    after.ok = await page.evaluate(() => document.querySelector('main').contains(document.activeElement));
    after.how = 'the next Tab lands inside main';
  } else if (!after.ok) {
    // Nothing focusable in main (an error page): following the link must at least target it.
    after.ok = after.hash === target;
    after.how = 'main has nothing focusable; the link targets it';
  }
  check(after.ok, `${name}: following the skip link moves focus to <main> (${after.how || 'no'})`, JSON.stringify(after));
}

async function checkNoHorizontalScroll(page, name) {
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
  }));
  check(w.scroll <= w.viewport, `${name}: no horizontal scroll at ${w.viewport} px`, `document is ${w.scroll} px wide`);
}

async function checkWeight(responses, name) {
  let total = 0;
  const parts = [];
  for (const r of responses) {
    const type = r.request().resourceType();
    if (!['document', 'stylesheet', 'script'].includes(type)) continue;
    if (new URL(r.url()).pathname.startsWith(WEIGHT_EXEMPT)) continue;
    if (r.status() >= 300 && r.status() < 400) continue;
    let size = 0;
    try {
      size = (await r.body()).length;
    } catch {
      // A body the browser did not keep (a navigation left before it was read): count the
      // declared length instead.
      size = Number((await r.allHeaders())['content-length'] || 0);
    }
    total += size;
    parts.push(`${type} ${new URL(r.url()).pathname} ${size}`);
  }
  check(total <= WEIGHT_LIMIT, `${name}: HTML + CSS + JS ${total} bytes <= ${WEIGHT_LIMIT}`, parts.join('\n'));
}

/**
 * Visits one page type at one viewport: loads it, runs `extra(page)` (the page type's own
 * checks), then the common checks, and reports every problem recorded meanwhile.
 */
async function visitPage(browser, base, { name, url, kind, allowStatus = null, extra = null, beforeShot = null }) {
  const outside = [];
  const ctx = await newContext(browser, base, kind, outside);
  const { page, problems, responses } = await openPage(ctx, { allowStatus });
  const label = `${name} (${kind})`;
  try {
    const resp = await page.goto(url, { waitUntil: 'networkidle' });
    const status = resp?.status();
    check(status === (allowStatus ?? 200), `${label}: GET ${new URL(url).pathname}${new URL(url).search} answers ${allowStatus ?? 200}`, `got ${status}`);
    if (kind === 'desktop') await checkWeight(responses, label);
    if (beforeShot) await beforeShot(page);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${kind}.png`), fullPage: true });
    await checkAxe(page, name, label);
    if (kind === 'mobile') await checkNoHorizontalScroll(page, label);
    if (kind === 'desktop') await checkSkipLink(page, label);
    if (kind === 'desktop') await checkIcon(page, name, label);
    if (extra) await extra(page, label);
  } catch (e) {
    check(false, `${label}: ran to the end`, e.stack || String(e));
  } finally {
    checkProblems(label, problems, outside, await iconUrl(page).catch(() => null));
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------
// Flows on the pages that exist today: search, facet filter, language switch

/** Dataset ids of the results shown, in order: the links in <main> to /datasets/{id}. */
async function resultIds(page) {
  return page.evaluate(() => {
    const ids = [];
    for (const a of document.querySelectorAll('main a[href]')) {
      const m = /^\/datasets\/([^/.?#]+)$/.exec(new URL(a.href, location.href).pathname);
      if (m && !ids.includes(m[1])) ids.push(decodeURIComponent(m[1]));
    }
    return ids;
  });
}

/** The number of results the page says it found (the first number of its role=status). */
async function shownTotal(page) {
  return digits(await page.locator('main [role=status]').first().textContent());
}

/**
 * A word of a dataset title (from the manifest) that finds that dataset and some others,
 * but not every dataset: the first such word in manifest order, or failing that the
 * first that finds its dataset alone.
 */
async function pickSearchWord(base, manifest) {
  const all = (await getJson(`${base.origin}/datasets.json?facets=false`)).total;
  let single = null;
  for (const ds of manifest.datasets) {
    for (const word of ds.meta.title.split(/[^\p{L}]+/u).filter((w) => w.length >= 6)) {
      const res = await getJson(`${base.origin}/datasets.json?q=${encodeURIComponent(word)}&facets=false`);
      if (!res.results.some((r) => r.id === ds.id) || res.total >= all) continue;
      if (res.total >= 2) return { word, ds, res };
      single ??= { word, ds, res };
    }
  }
  if (single) return single;
  throw new Error('no word of any title finds its dataset and not every dataset');
}

async function searchFlows(browser, base, manifest) {
  const { word, ds, res: oracle } = await pickSearchWord(base, manifest);
  const outside = [];
  const ctx = await newContext(browser, base, 'desktop', outside);
  const { page, problems } = await openPage(ctx);
  try {
    console.log(`  search for "${word}" (a word of the title of ${ds.id})`);
    await page.goto(`${base.origin}/`, { waitUntil: 'networkidle' });
    await page.locator('#q').fill(word);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/datasets'),
      page.locator('form:has(#q) [type=submit]').first().click(),
    ]);
    await page.waitForLoadState('networkidle');
    const ids = await resultIds(page);
    check(ids.includes(ds.id), `search: "${word}" typed on the home page finds ${ds.id}`, `results: ${ids.join(', ')}`);
    const expected = oracle.results.map((r) => r.id);
    check(JSON.stringify(ids) === JSON.stringify(expected), 'search: the results are those of /datasets.json, in its order',
      `page: ${ids.join(', ')}\njson: ${expected.join(', ')}`);
    const total = await shownTotal(page);
    check(total === oracle.total, `search: the count shown (${total}) is /datasets.json's total (${oracle.total})`);

    // Language switch, on the results of that search.
    const itLabel = (await page.locator('label[for=q]').textContent()).trim();
    const itButton = (await page.locator('form:has(#q) [type=submit]').first().textContent()).trim();
    await Promise.all([page.waitForURL(/[?&]lang=en\b/), page.locator('a[hreflang=en]').first().click()]);
    await page.waitForLoadState('networkidle');
    const en = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      q: document.querySelector('#q')?.value,
      label: document.querySelector('label[for=q]')?.textContent.trim(),
      button: document.querySelector('form:has(#q) [type=submit]')?.textContent.trim(),
      status: document.querySelector('main [role=status]')?.textContent.trim(),
      back: !!document.querySelector('a[hreflang=it]'),
    }));
    check(en.lang === 'en', 'language: the English link gives <html lang="en">', `lang="${en.lang}"`);
    check(en.label !== itLabel && /search/i.test(en.label) && /search/i.test(en.button) && /\bfound\b/.test(en.status),
      'language: the labels are in English', JSON.stringify({ ...en, itLabel, itButton }));
    check(en.q === word, `language: the search is kept (#q holds "${en.q}")`);
    const enIds = await resultIds(page);
    check(JSON.stringify(enIds) === JSON.stringify(expected), 'language: the same results in English', enIds.join(', '));
    check(en.back, 'language: the English page links back to Italian (hreflang="it")');

    // Facet filter, on the whole catalogue.
    await page.goto(`${base.origin}/datasets`, { waitUntil: 'networkidle' });
    const all = await shownTotal(page);
    const facets = await page.evaluate(() => {
      const names = ['theme', 'publisher', 'format', 'license', 'keyword', 'frequency', 'origin'];
      const out = [];
      for (const a of document.querySelectorAll('main a[href]')) {
        const u = new URL(a.href, location.href);
        if (u.pathname !== '/datasets' || a.getAttribute('aria-current')) continue;
        const params = [...u.searchParams].filter(([k]) => names.includes(k));
        if (params.length !== 1) continue;
        const li = a.closest('li');
        const rest = li ? li.textContent.replace(a.textContent, '') : '';
        out.push({ href: a.getAttribute('href'), name: params[0][0], value: params[0][1], text: a.textContent.trim(), rest });
      }
      return out;
    });
    const candidates = facets.map((f) => ({ ...f, count: digits(f.rest) })).filter((f) => f.count > 0 && f.count < all);
    if (!check(candidates.length > 0, `facets: the search page shows facet links with counts (${facets.length} links)`)) return;
    const f = candidates[0];
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get(f.name) === f.value),
      page.locator(`main a[href="${f.href.replaceAll('"', '\\"')}"]`).first().click(),
    ]);
    await page.waitForLoadState('networkidle');
    // The oracle: /datasets.json with the parameters of the page reached (but lang).
    const params = new URL(page.url()).searchParams;
    params.delete('lang');
    const fOracle = await getJson(`${base.origin}/datasets.json?${params}`);
    const fTotal = await shownTotal(page);
    check(fTotal === f.count, `facets: "${f.text}" (${f.name}=${f.value}) gives as many results as its count ${f.count}`, `shown: ${fTotal}`);
    check(fTotal === fOracle.total, `facets: and as /datasets.json?${params} (${fOracle.total})`, `shown: ${fTotal}`);
    const fIds = await resultIds(page);
    const fExpected = fOracle.results.map((r) => r.id);
    check(JSON.stringify(fIds) === JSON.stringify(fExpected), 'facets: the datasets listed are those of /datasets.json, in its order',
      `page: ${fIds.join(', ')}\njson: ${fExpected.join(', ')}`);
    const selected = await page.evaluate(({ name, value }) => [...document.querySelectorAll('main a[aria-current]')]
      .some((a) => new URL(a.href, location.href).searchParams.getAll(name).length === 0
        && new URL(location.href).searchParams.get(name) === value), f);
    check(selected, 'facets: the filter applied is marked as selected (aria-current) and its link removes it');
  } catch (e) {
    check(false, 'search flows ran to the end', e.stack || String(e));
  } finally {
    checkProblems('search flows', problems, outside, await iconUrl(page).catch(() => null));
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------
// The dataset page (checked as soon as /datasets/{id} serves HTML)

function pickDataset(manifest) {
  // A dataset with a map layer, for the richest page; the first one otherwise.
  return manifest.datasets.find((d) => d.layer && d.distributions.length > 1) || manifest.datasets[0];
}

async function datasetPageChecks(page, label, base, ds) {
  const h1 = (await page.locator('h1').first().textContent()).trim();
  check(h1.includes(ds.meta.title), `${label}: the <h1> is the dataset's title`, `h1: ${h1}`);
  const links = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => new URL(a.href, location.href).pathname));
  let first = true;
  for (const dist of ds.distributions) {
    const want = `/datasets/${ds.id}/files/${dist.file}`;
    if (!check(links.includes(want), `${label}: a download link to ${want}`)) continue;
    let body;
    let how;
    if (first) {
      // One file through a real click: the browser downloads it (Content-Disposition).
      first = false;
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator(`a[href$="/datasets/${ds.id}/files/${dist.file}"]`).first().click(),
      ]);
      body = fs.readFileSync(await download.path());
      how = 'clicked and downloaded';
    } else {
      const r = await page.request.get(`${base.origin}${want}`);
      check(r.status() === 200, `${label}: GET ${want} answers 200`, `got ${r.status()}`);
      body = await r.body();
      how = 'fetched';
    }
    check(body.length === dist.byte_size && sha256(body) === dist.sha256,
      `${label}: ${dist.file} ${how}: ${body.length} bytes, SHA-256 as in the manifest`,
      `manifest: ${dist.byte_size} bytes ${dist.sha256}\ngot:      ${body.length} bytes ${sha256(body)}`);
  }
}

// ---------------------------------------------------------------------------------------
// The map (checked as soon as /map serves HTML)

/** Waits until window.portaleMap exists and has nothing left to load or draw. */
async function mapIdle(page) {
  await page.waitForFunction(() => !!window.portaleMap, null, { timeout: TIMEOUT });
  await page.evaluate((timeout) => new Promise((resolve, reject) => {
    const map = window.portaleMap;
    const t = setTimeout(() => reject(new Error(`the map was not idle after ${timeout} ms`)), timeout);
    const done = () => { clearTimeout(t); resolve(); };
    if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) done();
    else map.once('idle', done);
  }), TIMEOUT);
}

/** Layers drawing from our tile sources (/tiles/...), with their source ids. */
async function dataLayers(page) {
  return page.evaluate(() => {
    const style = window.portaleMap.getStyle();
    const sources = Object.entries(style.sources || {})
      .filter(([, s]) => JSON.stringify(s).includes('/tiles/')).map(([id]) => id);
    return (style.layers || []).filter((l) => sources.includes(l.source)).map((l) => l.id);
  });
}

/**
 * What the map's canvas shows, as a decoded PNG. The HTML drawn over it (controls, the
 * attribution, popups, markers) is hidden meanwhile: only WebGL's pixels are counted.
 */
async function canvasPng(page) {
  const overlays = (show) => page.evaluate((visible) => {
    const map = window.portaleMap;
    for (const el of map.getContainer().children) {
      if (el !== map.getCanvasContainer()) el.style.opacity = visible ? '' : '0';
    }
  }, show);
  await overlays(false);
  await page.evaluate(() => document.activeElement?.blur());
  try {
    return PNG.sync.read(await page.locator('canvas.maplibregl-canvas').first().screenshot());
  } finally {
    await overlays(true);
  }
}

/**
 * Pixels of `a` differing from `b` (or, without `b`, from a's most frequent colour). A
 * border of 3 pixels is left out: the screenshot's rounding to whole pixels and a focus
 * ring around the canvas fall there.
 */
function differingPixels(a, b = null) {
  const border = 3;
  let ref = null;
  if (!b) {
    const freq = new Map();
    for (let i = 0; i < a.data.length; i += 4) {
      const k = a.data.readUInt32BE(i);
      freq.set(k, (freq.get(k) || 0) + 1);
    }
    const mode = [...freq.entries()].sort((x, y) => y[1] - x[1])[0][0];
    ref = [(mode >>> 24) & 255, (mode >>> 16) & 255, (mode >>> 8) & 255];
  }
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    const x = (i / 4) % a.width;
    const y = Math.floor(i / 4 / a.width);
    if (x < border || y < border || x >= a.width - border || y >= a.height - border) continue;
    const r = b ? [b.data[i], b.data[i + 1], b.data[i + 2]] : ref;
    if (Math.abs(a.data[i] - r[0]) + Math.abs(a.data[i + 1] - r[1]) + Math.abs(a.data[i + 2] - r[2]) > 24) n += 1;
  }
  return n;
}

async function mapChecks(page, label) {
  await mapIdle(page);
  const layers = await dataLayers(page);
  if (!check(layers.length > 0, `${label}: the map has layers from /tiles/ sources`, 'no style source names /tiles/')) return;

  // The canvas draws, and the data layers are what draws.
  const shown = await canvasPng(page);
  const drawn = differingPixels(shown);
  check(drawn >= MIN_MAP_PIXELS, `${label}: the canvas is not blank (${drawn} pixels off the background colour)`);
  await page.evaluate((ids) => ids.forEach((id) => window.portaleMap.setLayoutProperty(id, 'visibility', 'none')), layers);
  await mapIdle(page);
  const hidden = await canvasPng(page);
  const byLayers = shown.width === hidden.width && shown.height === hidden.height ? differingPixels(shown, hidden) : -1;
  check(byLayers >= MIN_MAP_PIXELS, `${label}: the layers ${layers.join(', ')} draw ${byLayers} pixels`);
  await page.evaluate((ids) => ids.forEach((id) => window.portaleMap.setLayoutProperty(id, 'visibility', 'visible')), layers);
  await mapIdle(page);

  // A click on a rendered feature opens a popup with its attributes.
  const spot = await page.evaluate((ids) => {
    const map = window.portaleMap;
    const canvas = map.getCanvas();
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const inside = (p) => p.x > 20 && p.y > 20 && p.x < w - 20 && p.y < h - 60;
    const values = (fs) => fs.flatMap((f) => Object.values(f.properties || {}))
      .filter((v) => v !== null && v !== '' && typeof v !== 'object').map(String).filter((v) => v.trim().length >= 2);
    const at = (p) => map.queryRenderedFeatures([p.x, p.y], { layers: ids });
    const anchor = (g) => {
      switch (g.type) {
        case 'Point': return g.coordinates;
        case 'MultiPoint': case 'LineString': return g.coordinates[Math.floor(g.coordinates.length / 2)];
        case 'MultiLineString': return g.coordinates[0][Math.floor(g.coordinates[0].length / 2)];
        default: return null;
      }
    };
    // First the features' own positions (points are too small for a grid to find)...
    for (const f of map.queryRenderedFeatures({ layers: ids })) {
      const c = anchor(f.geometry);
      if (!c) continue;
      const p = map.project(c);
      const hit = inside(p) && at(p);
      if (hit && hit.length && values(hit).length) return { x: p.x, y: p.y, values: values(hit), layer: hit[0].layer.id };
    }
    // ...then a grid over the canvas (polygons).
    for (let gy = 1; gy < 10; gy += 1) {
      for (let gx = 1; gx < 10; gx += 1) {
        const p = { x: (w * gx) / 10, y: (h * gy) / 10 };
        const hit = inside(p) && at(p);
        if (hit && hit.length && values(hit).length) return { x: p.x, y: p.y, values: values(hit), layer: hit[0].layer.id };
      }
    }
    return null;
  }, layers);
  if (!check(spot !== null, `${label}: queryRenderedFeatures finds a feature with attributes on screen`)) return;
  const box = await page.locator('canvas.maplibregl-canvas').first().boundingBox();
  await page.mouse.click(box.x + spot.x, box.y + spot.y);
  const popup = page.locator('.maplibregl-popup').first();
  try {
    await popup.waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    check(false, `${label}: a click on a feature of ${spot.layer} opens a .maplibregl-popup`, `clicked at ${Math.round(spot.x)},${Math.round(spot.y)}`);
    return;
  }
  const text = (await popup.textContent()).replace(/\s+/g, ' ');
  const formatted = (v) => [v, Number.isFinite(Number(v)) ? Number(v).toLocaleString('it-IT') : v, Number.isFinite(Number(v)) ? Number(v).toLocaleString('en') : v];
  const shownValue = spot.values.find((v) => formatted(v).some((s) => text.includes(s)));
  check(shownValue !== undefined, `${label}: a click on a feature of ${spot.layer} opens a popup showing its attributes ("${shownValue}")`,
    `popup: ${text.slice(0, 300)}\nattributes: ${spot.values.slice(0, 10).join(' | ')}`);
}

// ---------------------------------------------------------------------------------------
// Lighthouse

async function runLighthouse(url, name) {
  const port = await freePort();
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: [...CHROMIUM_ARGS, hostRules(new URL(url)), `--remote-debugging-port=${port}`],
  });
  try {
    const started = Date.now();
    // The default settings: a mobile device, simulated slow 4G and 4x slower CPU.
    const result = await lighthouse(url, {
      port, output: 'json', logLevel: 'error', onlyCategories: ['performance', 'accessibility'],
    });
    const lhr = result?.lhr;
    if (!check(lhr && !lhr.runtimeError, `${name}: Lighthouse ran`, JSON.stringify(lhr?.runtimeError || 'no result'))) return;
    const score = (c) => lhr.categories[c].score;
    const metric = (id) => lhr.audits[id]?.displayValue;
    console.log(`        Lighthouse ${lhr.lighthouseVersion} (${lhr.configSettings.formFactor}, ${((Date.now() - started) / 1000).toFixed(1)} s): `
      + `performance ${score('performance')}, accessibility ${score('accessibility')}; FCP ${metric('first-contentful-paint')}, `
      + `LCP ${metric('largest-contentful-paint')}, TBT ${metric('total-blocking-time')}, CLS ${metric('cumulative-layout-shift')}`);
    fs.mkdirSync(REPORTS, { recursive: true });
    fs.writeFileSync(path.join(REPORTS, `lighthouse-${name}.json`), JSON.stringify(lhr));
    check(score('performance') >= LIGHTHOUSE_MIN.performance, `${name}: Lighthouse performance ${score('performance')} >= ${LIGHTHOUSE_MIN.performance}`);
    const failing = lhr.categories.accessibility.auditRefs
      .filter((r) => r.weight > 0 && lhr.audits[r.id].score !== null && lhr.audits[r.id].score < 1)
      .map((r) => r.id);
    const unknown = failing.filter((id) => !knownFailure(name, id, `Lighthouse audit ${id}: ${lhr.audits[id].title}`));
    const aside = failing.length > unknown.length ? ' (known failures aside)' : '';
    check(score('accessibility') >= LIGHTHOUSE_MIN.accessibility || (unknown.length === 0 && failing.length > 0),
      `${name}: Lighthouse accessibility ${score('accessibility')} >= ${LIGHTHOUSE_MIN.accessibility}${aside}`,
      `failing audits: ${unknown.map((id) => `${id} (${lhr.audits[id].title})`).join(', ')}`);
  } finally {
    await browser.close();
  }
}


// ---------------------------------------------------------------------------------------
// Hostile metadata (issue 7, HTTP hardening): a site built from tests/fixtures/hostile,
// whose catalogue, dataset title, description, keywords, contact point and CSV cells carry
// `<script>`, `<img onerror>`, `"><svg onload>` and `javascript:` payloads that all set
// window.__pwned. Oracle: the payload itself, i.e. window.__pwned stays undefined, no dialog
// opens, no securitypolicyviolation event at all, no element of the
// page carries an on* attribute or a javascript: href, and the payload text is visible.

async function checkHostileMetadata(browser, hostile) {
  const pages = [
    { name: 'hostile home', url: `${hostile.origin}/` },
    { name: 'hostile search', url: `${hostile.origin}/datasets?q=scuole` },
    { name: 'hostile dataset', url: `${hostile.origin}/datasets/ostile` },
    { name: 'hostile map', url: `${hostile.origin}/map` },
    { name: 'hostile OGC items', url: `${hostile.origin}/ogc/collections/ostile/items?f=html` },
  ];
  for (const p of pages) {
    console.log(`--- ${p.name} ${p.url}`);
    const outside = [];
    const ctx = await newContext(browser, hostile, 'desktop', outside);
    // Recorded before any script of the page runs.
    await ctx.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, sample: e.sample });
      });
    });
    try {
      const { page, problems } = await openPage(ctx);
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
      const res = await page.goto(p.url, { waitUntil: 'load' });
      check(res && res.status() === 200, `${p.name}: answers 200`, `status ${res?.status()}`);
      if (p.name === 'hostile map') await mapIdle(page).catch(() => {});
      // Hover and click what a visitor would: every link and cell of the page's main part.
      for (const a of await page.$$('main a[href^="javascript:" i]')) await a.click({ timeout: 2000 }).catch(() => {});
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => ({
        pwned: typeof window.__pwned,
        violations: window.__violations,
        handlers: Array.from(document.querySelectorAll('*')).flatMap((el) => Array.from(el.attributes)
          .filter((a) => /^on/i.test(a.name)).map((a) => `<${el.tagName.toLowerCase()} ${a.name}>`)),
        jsLinks: Array.from(document.querySelectorAll('[href],[src],[action]'))
          .map((el) => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action'))
          .filter((u) => /^\s*javascript:/i.test(u)),
        text: document.body.innerText,
      }));
      check(state.pwned === 'undefined', `${p.name}: no payload ran (window.__pwned is ${state.pwned})`);
      check(dialogs.length === 0, `${p.name}: no dialog opened`, dialogs.join('\n'));
      check(state.handlers.length === 0, `${p.name}: no element has an on* attribute`, state.handlers.join('\n'));
      check(state.jsLinks.length === 0, `${p.name}: no javascript: link`, state.jsLinks.join('\n'));
      // The payloads are escaped text, so nothing at all reaches the CSP: any violation is
      // either one of our own scripts or styles broken by the policy, or a payload that got
      // into the markup.
      check(state.violations.length === 0, `${p.name}: no Content-Security-Policy violation`, JSON.stringify(state.violations));
      if (p.name !== 'hostile map') {
        check(state.text.includes('window.__pwned=1'), `${p.name}: the payload is shown as text`);
      }
      // The site icon is checked on the main site (checkIcon); the OGC pages link none.
      checkProblems(p.name, problems, outside, `${hostile.origin}/favicon.ico`);
    } catch (e) {
      check(false, `${p.name}: ran to the end`, String(e.stack || e));
    } finally {
      await ctx.close();
    }
  }
}

// ---------------------------------------------------------------------------------------

async function main() {
  const [baseArg, manifestPath, hostileArg] = process.argv.slice(2);
  if (!baseArg || !manifestPath) {
    console.error('usage: node check_browser.mjs <base_url> <manifest.json> [<hostile_site_url>]');
    process.exit(2);
  }
  const base = new URL(baseArg);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const started = Date.now();
  fs.rmSync(SHOTS, { recursive: true, force: true });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, hostRules(base)] });
  console.log(`browser: ${browser.version()}; screenshots in ${path.relative(process.cwd(), SHOTS) || SHOTS}`);
  try {
    const word = (await pickSearchWord(base, manifest)).word;
    const pages = [
      { name: 'home', url: `${base.origin}/` },
      { name: 'search', url: `${base.origin}/datasets?q=${encodeURIComponent(word)}` },
      { name: 'error', url: `${base.origin}/datasets?sort=no-such-order`, allowStatus: 400 },
    ];

    const ds = pickDataset(manifest);
    const dsUrl = `${base.origin}/datasets/${encodeURIComponent(ds.id)}`;
    const hasDataset = await servesHtml(dsUrl);
    const mapUrl = `${base.origin}/map`;
    const hasMap = await servesHtml(mapUrl);

    if (hasDataset) {
      pages.push({ name: 'dataset', url: dsUrl, extra: (page, label) => (label.endsWith('(desktop)') ? datasetPageChecks(page, label, base, ds) : null) });
    } else if (PENDING.dataset) {
      skip(`/datasets/{id} not served as HTML yet (${dsUrl}): dataset page, its downloads, axe and screenshots`);
    } else {
      check(false, `the dataset page ${dsUrl} is served as HTML`);
    }
    if (hasMap) {
      pages.push({
        name: 'map', url: mapUrl,
        beforeShot: (page) => mapIdle(page),
        extra: (page, label) => (label.endsWith('(desktop)') ? mapChecks(page, label) : null),
      });
    } else if (PENDING.map) {
      skip('/map not served yet: map canvas, popup, axe and screenshots');
    } else {
      check(false, `the map ${mapUrl} is served as HTML`);
    }

    for (const p of pages) {
      for (const kind of ['desktop', 'mobile']) {
        console.log(`--- ${p.name} (${kind}) ${p.url}`);
        await visitPage(browser, base, { ...p, kind });
      }
    }
    console.log('--- search, facet filter, language switch');
    await searchFlows(browser, base, manifest);
  } finally {
    await browser.close();
  }
  if (hostileArg) {
    const hostile = new URL(hostileArg);
    const hb = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, hostRules(hostile)] });
    try {
      await checkHostileMetadata(hb, hostile);
    } finally {
      await hb.close();
    }
  } else {
    skip('hostile metadata: no <hostile_site_url> given (tests/conformance/run.sh gives one)');
  }

  console.log('--- Lighthouse');
  await runLighthouse(`${base.origin}/`, 'home');
  if (await servesHtml(`${base.origin}/datasets/${encodeURIComponent(pickDataset(manifest).id)}`)) {
    await runLighthouse(`${base.origin}/datasets/${encodeURIComponent(pickDataset(manifest).id)}`, 'dataset');
  } else {
    skip('Lighthouse on a dataset page: /datasets/{id} not served as HTML yet');
  }

  console.log(`--- browser checks took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (skipped.length) console.log(`skipped (${skipped.length}):\n  ${skipped.join('\n  ')}`);
  if (known.length) console.log(`!!!!! KNOWN FAILURES (${known.length}), see KNOWN_FAILURES in check_browser.mjs:\n  ${known.map((k) => k.text).join('\n  ')}`);
  console.log(`browser: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
