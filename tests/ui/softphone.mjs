// The UI's softphone in headless Chromium against a real FreeSWITCH (tests/real_switch.rs
// starts both and drives this script). Arguments: switchboard's address, the switch's
// WebSocket URL, a WAV file the browser's fake microphone plays. It signs in as the demo
// agent (extension 1002), connects the softphone, and then follows commands on stdin, one
// per line, answering each with a line on stdout that starts with `SP `:
//   call <number>   dials from the keypad's number field; `SP in-call` once confirmed
//   answer          waits for a call to ring and answers it; `SP in-call`
//   stats           `SP stats {…}`: what the browser's peer connection received
//   hangup          ends the call; `SP ended`
//   quit            closes the browser
// Any failure prints `SP error …` and exits non-zero.

import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [base, wsUrl, tone] = process.argv.slice(2);
const say = (line) => console.log(`SP ${line}`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${tone}`, '--autoplay-policy=no-user-gesture-required'],
});
try {
  const context = await browser.newContext({ baseURL: base, permissions: ['microphone'] });
  // The softphone keeps its JsSIP session to itself: the peer connections it makes are
  // collected here, so the test can read what arrived.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...a) { super(...a); window.__pcs.push(this); }
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e}`));
  await page.goto('/');
  await page.getByLabel('Email').fill('agent@acme.test');
  await page.getByLabel('Password').fill('Demo-Agent-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav a').first().waitFor();
  await page.getByRole('button', { name: 'Phone' }).click();
  await page.locator('#sp-extension').waitFor();
  if ((await page.locator('#sp-extension').inputValue()) !== '1002') throw new Error('the softphone is not prefilled with 1002');
  await page.locator('#sp-ws').fill(wsUrl);
  await page.getByRole('button', { name: 'Connect' }).click();
  const status = page.locator('#sp-status');
  const until = async (text, timeout = 15000) => {
    try {
      await page.waitForFunction((t) => document.getElementById('sp-status').textContent.startsWith(t), text, { timeout });
    } catch {
      throw new Error(`softphone status "${await status.textContent()}", note "${await page.locator('#sp-note').textContent()}", waiting for "${text}"`);
    }
  };
  await until('Registered');
  say('registered');
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'call') {
      await page.locator('#sp-number').fill(arg);
      await page.getByRole('button', { name: 'Call', exact: true }).click();
      await until('In call');
      say('in-call');
    } else if (cmd === 'answer') {
      await until('Incoming call');
      await page.getByRole('button', { name: 'Answer' }).click();
      await until('In call');
      say('in-call');
    } else if (cmd === 'stats') {
      const stats = await page.evaluate(async () => {
        const pc = window.__pcs[window.__pcs.length - 1];
        const out = { state: pc.connectionState };
        (await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') Object.assign(out, { packetsReceived: r.packetsReceived, totalAudioEnergy: r.totalAudioEnergy });
          if (r.type === 'outbound-rtp' && r.kind === 'audio') out.packetsSent = r.packetsSent;
          if (r.type === 'codec') (out.codecs ||= []).push(r.mimeType);
        });
        return out;
      });
      say(`stats ${JSON.stringify(stats)}`);
    } else if (cmd === 'hangup') {
      await page.getByRole('button', { name: 'Reject' }).click();
      await until('Registered');
      say('ended');
    } else if (cmd === 'quit') {
      break;
    }
  }
} catch (e) {
  say(`error ${String(e.message || e).split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
