// The website widget: a bubble that opens a chat panel, inside a Shadow DOM
// so the host page's styles cannot reach it and its own cannot leak out.
// It talks to the server it was loaded from; the conversation is kept in
// sessionStorage, so it survives navigation within the host site.
const script = document.currentScript;
const origin = new URL(script.src, document.baseURI).origin;
// The host page's language, when it is one of ours.
setLanguage(String(document.documentElement.lang || '').slice(0, 2).toLowerCase(), document.createElement('div'));
const title = (script.dataset.title || '').trim() || t('widgetTitle');
const accent = /^#[0-9a-f]{3,8}$/i.test(script.dataset.accent || '') ? script.dataset.accent : null;
const storageKey = 'eulcat-widget:' + origin;

function loadSaved() {
  try { return JSON.parse(sessionStorage.getItem(storageKey)) || {}; } catch (_) { return {}; }
}
const saved = loadSaved();
const memory = { sessionId: saved.sessionId || null, open: !!saved.open, history: Array.isArray(saved.history) ? saved.history : [] };
function save() {
  try { sessionStorage.setItem(storageKey, JSON.stringify(memory)); } catch (_) { /* storage full or off */ }
}

const host = h('div', { id: 'eulcat-widget' });
if (accent) host.style.setProperty('--eulcat-accent', accent);
const root = host.attachShadow({ mode: 'open' });
const log = h('div', { class: 'log' });
const announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
const announce = (text) => { announcer.textContent = text; };
const input = h('input', { testid: 'chat-input', maxlength: '500', placeholder: t('inputPlaceholder'), 'aria-label': t('inputLabel') });
const form = h('form', { class: 'ask', autocomplete: 'off' }, input,
  h('button', { type: 'submit', testid: 'chat-send', text: t('send') }));
const panel = h('section', { class: 'panel', role: 'dialog', 'aria-label': title, hidden: !memory.open },
  h('header', {},
    h('h2', { text: title }),
    h('button', { type: 'button', class: 'secondary', testid: 'new-conversation', text: t('newConversation'), onclick: reset }),
    h('button', { type: 'button', class: 'close', testid: 'widget-close', 'aria-label': t('widgetClose'), onclick: () => setOpen(false) }, icon('close'))),
  log, form, announcer);
const bubble = h('button', { type: 'button', class: 'bubble', testid: 'widget-open', 'aria-label': t('widgetOpen'), 'aria-expanded': String(memory.open), onclick: () => setOpen(panel.hidden) }, icon('chat'));
panel.id = 'eulcat-panel';
bubble.setAttribute('aria-controls', panel.id);
// Escape closes the panel and gives the focus back to the bubble.
panel.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') { setOpen(false); bubble.focus(); }
});
root.append(h('link', { rel: 'stylesheet', href: origin + '/widget.css' }), panel, bubble);
let busy = false;

function setOpen(open) {
  panel.hidden = !open;
  bubble.setAttribute('aria-expanded', String(open));
  memory.open = open;
  save();
  if (open) input.focus();
}

function reset() {
  log.replaceChildren();
  memory.sessionId = null;
  memory.history = [];
  save();
}

function ask(question) {
  question = question.trim();
  if (!question || busy) return;
  busy = true;
  input.value = '';
  const view = exchangeView(log, question, { base: origin, onSuggestion: ask, announce });
  streamChat(origin, { message: question, session_id: memory.sessionId, audience: 'web' }, {
    sources: view.sources,
    token: view.token,
    done: (reply) => {
      memory.sessionId = reply.session_id;
      memory.history = memory.history.concat([{ question, reply }]).slice(-20);
      save();
      view.done(reply);
    },
    error: (data) => view.error(data.error && data.error.message),
  }).catch((error) => view.error(error.message))
    .finally(() => { busy = false; });
}

form.addEventListener('submit', (event) => { event.preventDefault(); ask(input.value); });
for (const item of memory.history) {
  exchangeView(log, item.question, { base: origin }).done(item.reply);
}
document.body.append(host);
