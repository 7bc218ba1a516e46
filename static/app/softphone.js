// The floating softphone: JsSIP over WSS to FreeSWITCH's internal profile, loaded only when
// the panel is first opened. Settings are prefilled from My Account (the user's first
// extension) and kept in this browser.

import { get } from './api.js';
import { h } from './ui.js';

const KEY = 'switchboard.softphone';
let JsSIP = null;
let ua = null;
let session = null;
let built = false;

function saved() {
  try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; }
}

export async function toggle(ctx, button) {
  const panel = document.getElementById('softphone');
  show(panel, button, panel.hidden);
  if (!panel.hidden && !built) { built = true; await build(ctx, panel, button); }
}

/// Opens or closes the panel; the page narrows beside it (the header's height measured, so
/// the panel starts under it whatever wraps there). Closed, focus returns to the Phone
/// button; a call in progress goes on.
function show(panel, button, open) {
  document.documentElement.style.setProperty('--top-h', `${document.getElementById('top').offsetHeight}px`);
  panel.hidden = !open;
  document.body.classList.toggle('phone-open', open);
  button.setAttribute('aria-expanded', String(open));
  if (!open) button.focus();
}

async function build(ctx, panel, button) {
  const s = saved();
  if (!s.extension) {
    try {
      const x = (await get('/me/extensions')).items[0];
      if (x) Object.assign(s, { extension: x.number, password: x.sip_password, domain: x.sip_domain, ws: `wss://${x.sip_domain}:7443` });
    } catch { /* no extension: the user types them */ }
  }
  const field = (name, labelText, type = 'text') => h('div', { class: 'field' }, h('label', { for: `sp-${name}` }, labelText), h('input', { id: `sp-${name}`, name, type, value: s[name] || '', autocomplete: 'off' }));
  const status = h('p', { class: 'status', role: 'status', id: 'sp-status' }, 'Not registered');
  const note = h('p', { role: 'alert', id: 'sp-note' });
  const settings = h('form', { 'aria-label': 'Softphone settings' }, field('extension', 'Extension'), field('password', 'SIP password', 'password'), field('domain', 'Domain'), field('ws', 'WebSocket URL'),
    h('button', { type: 'submit', class: 'primary' }, 'Connect'));
  const number = h('input', { id: 'sp-number', 'aria-label': 'Number', inputmode: 'tel', placeholder: 'Number' });
  const btn = (label, on, attrs = {}) => h('button', { type: 'button', onclick: on, ...attrs }, label);
  const keys = h('div', { class: 'keys', 'aria-label': 'Keypad' }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d) => btn(d, () => {
    if (session) session.sendDTMF(d); else number.value += d;
  })));
  const controls = h('div', { class: 'row' },
    btn('Call', () => call(number.value)), btn('Answer', () => answer()), btn('Reject', () => { if (session) session.terminate(); }),
    btn('Hold', (e) => { if (!session) return; if (session.isOnHold().local) { session.unhold(); e.target.textContent = 'Hold'; } else { session.hold(); e.target.textContent = 'Unhold'; } }),
    btn('Mute', (e) => { if (!session) return; if (session.isMuted().audio) { session.unmute(); e.target.textContent = 'Mute'; } else { session.mute(); e.target.textContent = 'Unmute'; } }),
    btn('Transfer', () => { if (session && number.value) session.refer(`sip:${number.value}@${s.domain}`); }));
  const audio = h('audio', { autoplay: true });
  const close = h('button', { type: 'button', 'aria-label': 'Close the phone', title: 'Close (Esc)', onclick: () => show(panel, button, false) }, '×');
  panel.replaceChildren(h('div', { class: 'head' }, h('h2', {}, 'Phone'), close), status, note, settings, number, keys, controls, audio);
  // Esc closes it from anywhere on the page.
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); show(panel, button, false); } });

  const say = (t) => { note.textContent = t; };
  const setStatus = (t, on) => { status.textContent = t; status.classList.toggle('on', !!on); };

  async function microphone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say('This browser cannot use a microphone here (it needs HTTPS).'); return false; }
    try {
      const m = await navigator.mediaDevices.getUserMedia({ audio: true });
      m.getTracks().forEach((t) => t.stop());
      return true;
    } catch (e) {
      say(e.name === 'NotAllowedError' ? 'Microphone access was refused: allow it in the browser\'s site settings to make calls.' : `No microphone: ${e.message}`);
      return false;
    }
  }

  function attach(sess) {
    session = sess;
    sess.on('ended', () => { session = null; setStatus('Registered', true); });
    sess.on('failed', (e) => { session = null; say(`Call failed: ${e.cause}`); setStatus('Registered', true); });
    sess.on('confirmed', () => setStatus('In call', true));
    sess.connection && sess.connection.addEventListener('track', (e) => { audio.srcObject = e.streams[0]; });
  }

  function call(target) {
    if (!ua || !target) return;
    microphone().then((ok) => {
      if (!ok) return;
      const sess = ua.call(`sip:${target}@${s.domain}`, { mediaConstraints: { audio: true, video: false } });
      attach(sess);
      sess.connection.addEventListener('track', (e) => { audio.srcObject = e.streams[0]; });
    });
  }

  function answer() {
    if (!session || session.direction !== 'incoming') return;
    microphone().then((ok) => { if (ok) session.answer({ mediaConstraints: { audio: true, video: false } }); });
  }

  settings.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const k of ['extension', 'password', 'domain', 'ws']) s[k] = settings.elements[k].value.trim();
    localStorage.setItem(KEY, JSON.stringify({ extension: s.extension, domain: s.domain, ws: s.ws }));
    try {
      JsSIP ||= (await import('/vendor/jssip.mjs')).default;
    } catch {
      say('The softphone library is not installed on this server (run npm ci in switchboard\'s directory).');
      return;
    }
    if (ua) ua.stop();
    try {
      ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(s.ws)], uri: `sip:${s.extension}@${s.domain}`, password: s.password, register: true });
    } catch (x) { say(`Settings refused: ${x.message}`); return; }
    ua.on('connecting', () => setStatus('Connecting…'));
    ua.on('registered', () => { setStatus('Registered', true); say(''); });
    ua.on('unregistered', () => setStatus('Not registered'));
    ua.on('registrationFailed', (x) => { setStatus('Registration failed'); say(String(x.cause)); });
    ua.on('disconnected', () => setStatus('Disconnected'));
    ua.on('newRTCSession', (x) => { if (x.originator === 'remote') { attach(x.session); setStatus(`Incoming call from ${x.request.from.uri.user}`, true); } });
    ua.start();
  });
}
