// Launches the headless Chromium that the report tests and the benchmark drive: Debian's
// /usr/bin/chromium through playwright-core, with a fresh profile and nothing that reaches
// the network.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'photofinish-chromium-'));
  // A persistent context is how Playwright takes a --user-data-dir: here a fresh one.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.PHOTOFINISH_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

const fileUrl = (file) => require('url').pathToFileURL(path.resolve(file)).href;

module.exports = { launch, fileUrl };
