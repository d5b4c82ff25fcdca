// The exhibition kiosk: suggested questions from the corpus, a streamed
// answer with source cards, feedback and a QR code, and a conversation that
// forgets itself after the configured idle time.
(function () {
  'use strict';
  const body = document.body;
  const idleMs = (Number(body.dataset.idleSeconds) || 90) * 1000;
  const log = document.getElementById('log');
  const form = document.getElementById('ask');
  const input = document.getElementById('question');
  const attract = document.getElementById('attract');
  let sessionId = null;
  let busy = false;
  let idleTimer = null;

  applyStrings(document);
  document.title = t('kioskTitle');

  function showAttract(shown) {
    attract.hidden = !shown;
  }

  function reset() {
    log.replaceChildren();
    sessionId = null;
    input.value = '';
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
    const view = exchangeView(log, question, { qr: true, onSuggestion: askTopic });
    streamChat('', { message: question, session_id: sessionId, audience: 'kiosk' }, {
      sources: view.sources,
      token: view.token,
      done: (reply) => { sessionId = reply.session_id; view.done(reply); },
      error: (data) => view.error(data.error && data.error.message),
    }).catch((error) => view.error(error.message))
      .finally(() => { busy = false; poke(); });
  }

  function askTopic(topic) {
    ask(t('topicQuestion', { topic }));
  }

  async function loadSuggestions() {
    try {
      const response = await fetch('/api/suggestions?count=6');
      if (!response.ok) throw new Error(String(response.status));
      const { suggestions } = await response.json();
      for (const target of [document.getElementById('chips'), document.getElementById('attract-chips')]) {
        target.replaceChildren(...suggestions.map((topic) =>
          h('button', { type: 'button', class: 'chip', testid: 'suggestion', text: topic, onclick: (e) => { e.stopPropagation(); askTopic(topic); } })));
      }
    } catch (_) {
      // The service is still starting: try again shortly.
      setTimeout(loadSuggestions, 3000);
    }
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); ask(input.value); });
  document.querySelector('[data-testid="new-conversation"]').addEventListener('click', reset);
  attract.addEventListener('click', () => { showAttract(false); input.focus(); poke(); });
  attract.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') { showAttract(false); input.focus(); }
  });
  for (const type of ['pointerdown', 'keydown', 'input']) document.addEventListener(type, poke, { passive: true });
  loadSuggestions();
  poke();
}());
