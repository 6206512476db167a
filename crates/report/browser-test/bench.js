// The report benchmark's browser half: for each page, the median over five loads of the time
// from navigation start to the first complete frame (as the page measures it), and the time
// to pan across the whole history once, fully zoomed out.
//
// Usage: node bench.js PAGE.html...
'use strict';
const fs = require('fs');
const path = require('path');
const { launch, fileUrl } = require('./chromium');

const RUNS = 5;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const browser = await launch();
  try {
    for (const file of process.argv.slice(2)) {
      const ready = [];
      const wall = [];
      let frame = 0;
      for (let run = 0; run < RUNS; run++) {
        const page = await browser.context.newPage();
        const started = Date.now();
        await page.goto(fileUrl(file), { waitUntil: 'load' });
        await page.waitForFunction(() => window.photofinish && window.photofinish.ready() !== null);
        wall.push(Date.now() - started);
        ready.push(await page.evaluate(() => window.photofinish.ready()));
        if (run === 0) {
          frame = await page.evaluate(async () => {
            document.getElementById('fit').click();
            await new Promise((r) => requestAnimationFrame(r));
            const start = performance.now();
            for (let i = 0; i < 10; i++) {
              document.getElementById(i % 2 ? 'zoom-out' : 'zoom-in').click();
              await new Promise((r) => requestAnimationFrame(r));
            }
            return (performance.now() - start) / 10;
          });
        }
        await page.close();
      }
      const size = fs.statSync(file).size;
      console.log(
        `${path.basename(file).padEnd(24)} ${(size / 1024).toFixed(1).padStart(8)} KiB  ` +
          `Chromium: first frame ${median(ready).toFixed(0)} ms after navigation ` +
          `(load + ready ${median(wall)} ms wall, median of ${RUNS}); ` +
          `zoom frame ${frame.toFixed(1)} ms`,
      );
    }
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
