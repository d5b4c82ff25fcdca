// The exhibition kiosk: suggested questions in the visitor's language, an
// on-screen keyboard, a streamed answer shown large above its quote, source
// cards, feedback and a QR code, and a conversation that forgets itself
// (and returns to French) after the configured idle time.
(function () {
  'use strict';
  const body = document.body;
  const idleMs = (Number(body.dataset.idleSeconds) || 90) * 1000;
  const $ = (id) => document.getElementById(id);
  const log = $('log');
  const input = $('question');
  const attract = $('attract');
  const keyboardHolder = $('keyboard');
  const keyboardToggle = $('keyboard-toggle');
  let sessionId = null;
  let busy = false;
  let idleTimer = null;

  const keyboard = onScreenKeyboard(input, () => ask(input.value));
  keyboardHolder.append(keyboard.element);
  $('language').prepend(icon('language'));
  $('restart').prepend(icon('restart'));
  document.querySelector('[data-testid="chat-send"]').prepend(icon('send'));
  keyboardToggle.append(icon('keyboard'));

  function showStrings() {
    applyStrings(document);
    document.documentElement.lang = STRINGS.lang;
    document.title = t('kioskTitle');
    // The button names the other language, in that language.
    $('language').lang = STRINGS.lang === 'fr' ? 'en' : 'fr';
    $('language').setAttribute('aria-label', t('switchLanguageLabel'));
    keyboard.render();
    showKeyboard(!keyboardHolder.hidden);
  }

  function switchTo(lang) {
    if (setLanguage(lang, document)) {
      showStrings();
      loadSuggestions();
    }
  }

  function showKeyboard(shown) {
    keyboardHolder.hidden = !shown;
    keyboardToggle.setAttribute('aria-expanded', String(shown));
    keyboardToggle.setAttribute('aria-label', t(shown ? 'keyboardHide' : 'keyboardShow'));
  }

  function showAttract(shown) {
    attract.hidden = !shown;
  }

  function announce(text) {
    $('announcer').textContent = text;
  }

  function reset() {
    log.replaceChildren();
    sessionId = null;
    input.value = '';
    announce('');
    switchTo('fr');
    $('suggestions').hidden = false;
    showKeyboard(false);
    showAttract(true);
  }

  function poke() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (busy) poke();
      else reset();
    }, idleMs);
  }

  function ask(question) {
    question = question.trim();
    if (!question || busy) return;
    busy = true;
    showAttract(false);
    input.value = '';
    // The answer needs the room: the keyboard comes back when the visitor
    // touches the field, and the starting ideas give way to the replies'.
    showKeyboard(false);
    $('suggestions').hidden = true;
    const view = exchangeView(log, question, { qr: true, showQuote: true, onSuggestion: ask, announce });
    streamChat('', { message: question, session_id: sessionId, audience: 'kiosk' }, {
      sources: view.sources,
      token: view.token,
      done: (reply) => {
        sessionId = reply.session_id;
        // A visitor who asks in English gets the screen in English too.
        if (reply.language && reply.language !== STRINGS.lang) switchTo(reply.language);
        view.done(reply);
      },
      error: (data) => view.error(data.error && data.error.message),
    }).catch((error) => view.error(error.message))
      .finally(() => { busy = false; poke(); });
  }

  async function loadSuggestions() {
    const lang = STRINGS.lang;
    try {
      const response = await fetch('/api/suggestions?count=6&lang=' + lang);
      if (!response.ok) throw new Error(String(response.status));
      const { suggestions } = await response.json();
      if (lang !== STRINGS.lang) return;
      // Each chip says its language: between a switch and this answer the
      // screen still shows the previous language's chips.
      for (const target of [$('chips'), $('attract-chips')]) {
        target.replaceChildren(...suggestions.map((question) =>
          h('button', { type: 'button', class: 'chip', testid: 'suggestion', lang, text: question, onclick: (e) => { e.stopPropagation(); ask(question); } })));
      }
    } catch (_) {
      // The service is still starting: try again shortly.
      setTimeout(loadSuggestions, 3000);
    }
  }

  function start() {
    showAttract(false);
    input.focus();
    poke();
  }

  $('ask').addEventListener('submit', (event) => { event.preventDefault(); ask(input.value); });
  $('restart').addEventListener('click', reset);
  $('language').addEventListener('click', () => switchTo(STRINGS.lang === 'fr' ? 'en' : 'fr'));
  keyboardToggle.addEventListener('click', () => showKeyboard(keyboardHolder.hidden));
  // A touch on the field brings the keyboard back, focused or not.
  for (const type of ['focus', 'click']) input.addEventListener(type, () => showKeyboard(true));
  $('start').addEventListener('click', (event) => { event.stopPropagation(); start(); });
  // Anywhere on the welcome screen starts: visitors touch, they do not aim.
  attract.addEventListener('click', start);
  for (const type of ['pointerdown', 'keydown', 'input']) document.addEventListener(type, poke, { passive: true });
  showStrings();
  showKeyboard(false);
  showAttract(true);
  loadSuggestions();
  poke();
}());
