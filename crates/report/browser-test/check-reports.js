// Opens generated photofinish reports in headless Chromium and checks what a person would
// see: no console or page errors, no network, no dialog (markup in values must never run),
// the counterexample highlighted on the timeline and listed in the side panel, values shown
// as text, hover and click details; and saves a screenshot of each page.
//
// Usage: node check-reports.js SPEC.json, where SPEC is a list of
// { file, screenshot, stuck, highlighted, steps, concurrent, partition, texts, charts }
// (stuck/highlighted/steps/concurrent are operation ids; partition the failing key as JSON
// text or null; texts strings that must appear as page text). Prints one line per page and
// exits 1 if any check failed.
'use strict';
const fs = require('fs');
const { launch, fileUrl } = require('./chromium');

const sameSet = (a, b) => JSON.stringify([...a].sort((x, y) => x - y)) === JSON.stringify([...b].sort((x, y) => x - y));

async function checkPage(context, spec) {
  const problems = [];
  const page = await context.newPage();
  const url = fileUrl(spec.file);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => {
    problems.push(`a dialog opened (${d.type()}: ${d.message()}): markup was executed`);
    await d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url() !== url) problems.push(`request to ${r.url()}: the page must load nothing`);
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.photofinish && window.photofinish.ready() !== null, null, { timeout: 20000 });
  const hook = await page.evaluate(() => ({
    highlighted: window.photofinish.highlighted(),
    stuck: window.photofinish.stuck(),
    steps: window.photofinish.steps(),
    partition: window.photofinish.partition(),
    scripts: document.querySelectorAll('script').length,
    injected: document.querySelectorAll('body div img, [onerror], [onload]:not(body)').length,
    pwned: window.__pwned === true,
    text: document.body.innerText,
  }));
  if (spec.stuck !== undefined && hook.stuck !== spec.stuck) problems.push(`stuck: page says ${hook.stuck}, expected ${spec.stuck}`);
  if (spec.highlighted && !sameSet(hook.highlighted, spec.highlighted)) {
    problems.push(`highlighted: page says ${hook.highlighted}, expected ${spec.highlighted}`);
  }
  if (spec.steps && JSON.stringify(hook.steps) !== JSON.stringify(spec.steps)) problems.push('the hook lists other steps');
  if (spec.partition !== undefined && hook.partition !== spec.partition) {
    problems.push(`opened on partition ${hook.partition}, expected the failing ${spec.partition}`);
  }
  if (hook.scripts !== 2) problems.push(`${hook.scripts} script elements: markup was parsed`);
  if (hook.injected || hook.pwned) problems.push('markup from the history became elements');
  for (const text of spec.texts || []) if (!hook.text.includes(text)) problems.push(`the page does not show the text ${JSON.stringify(text)}`);

  if (spec.stuck !== undefined) {
    // The side panel lists the counterexample with the operations' ids.
    const dom = await page.evaluate(() => ({
      stuck: Array.from(document.querySelectorAll('#cx-stuck li.stuck'), (li) => Number(li.dataset.op)),
      steps: Array.from(document.querySelectorAll('#cx-prefix li.step'), (li) => Number(li.dataset.op)),
      concurrent: Array.from(document.querySelectorAll('#cx-concurrent li.concurrent'), (li) => Number(li.dataset.op)),
      visible: !document.getElementById('counterexample').hidden,
    }));
    if (!dom.visible) problems.push('the counterexample panel is hidden');
    if (JSON.stringify(dom.stuck) !== JSON.stringify([spec.stuck])) problems.push(`li.stuck lists ${dom.stuck}`);
    if (JSON.stringify(dom.steps) !== JSON.stringify(spec.steps)) problems.push(`li.step lists ${dom.steps}`);
    if (!sameSet(dom.concurrent, spec.concurrent)) problems.push(`li.concurrent lists ${dom.concurrent}`);

    // Hovering the stuck operation's bar shows its details; clicking it pins them.
    const where = await page.evaluate((id) => window.photofinish.locate(id), spec.stuck);
    if (!where) {
      problems.push('the stuck operation is not in view when the page opens');
    } else {
      await page.mouse.move(where.x, where.y);
      const tip = await page.evaluate(() => {
        const t = document.getElementById('tooltip');
        return t.hidden ? null : t.innerText;
      });
      if (!tip || !tip.includes('could not be placed')) problems.push(`hovering the stuck bar shows ${JSON.stringify(tip)}`);
      await page.mouse.click(where.x, where.y);
      const selected = await page.evaluate(() => window.photofinish.selected());
      if (selected !== spec.stuck) problems.push(`clicking the stuck bar selected ${selected}`);
      await page.mouse.move(5, 5);
    }
  }
  if (spec.charts) {
    const charts = await page.evaluate(() => !document.getElementById('charts').hidden);
    if (!charts) problems.push('the statistics charts are hidden for a timed history');
    // The timeline on a time axis, saved beside the page's screenshot.
    await page.selectOption('#axis', 'time');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    await page.screenshot({ path: spec.screenshot.replace(/\.png$/, '-time.png') });
  }
  await page.screenshot({ path: spec.screenshot, fullPage: true });
  await exercise(page);
  await page.close();
  return problems;
}

const frame = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));

// Uses the controls as a person would (errors surface through the page's error events): other
// partitions, the zoom buttons, dragging, Ctrl+wheel and Shift+wheel over the timeline.
async function exercise(page) {
  const partitions = await page.$$eval('#partition option', (os) => os.map((o) => o.value));
  // The selector is hidden when the history is one partition (it lists only "all").
  for (const value of partitions.length > 1 ? partitions.slice(0, 4) : []) {
    await page.selectOption('#partition', value);
    await frame(page);
  }
  for (const id of ['zoom-in', 'zoom-out', 'pan-left', 'pan-right', 'fit']) await page.click('#' + id);
  const box = await page.locator('#timeline').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x - 120, y - 30, { steps: 4 });
  await page.mouse.up();
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -300);
  await page.keyboard.up('Control');
  await page.keyboard.down('Shift');
  await page.mouse.wheel(0, 200);
  await page.keyboard.up('Shift');
  await frame(page);
}

(async () => {
  const specs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const browser = await launch();
  let failed = 0;
  try {
    for (const spec of specs) {
      const problems = await checkPage(browser.context, spec);
      if (problems.length) failed++;
      console.log(`${problems.length ? 'FAIL' : 'ok'}   ${spec.file} -> ${spec.screenshot}`);
      for (const p of problems) console.log(`       ${p}`);
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
