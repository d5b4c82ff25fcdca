// The staff console: passage search with highlighted matches, a chat that
// shows the full passages and their scores, the feedback received and the
// questions the documents could not answer. The token stays in this tab's
// sessionStorage and goes out as a Bearer header.
(function () {
  'use strict';
  const tokenKey = 'eulcat-staff-token';
  const $ = (id) => document.getElementById(id);
  let sessionId = null;
  let busy = false;
  applyStrings(document);
  document.title = t('staffTitle');

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: 'Bearer ' + (sessionStorage.getItem(tokenKey) || '') } });
    if (response.status === 401 || response.status === 404) {
      sessionStorage.removeItem(tokenKey);
      showConsole(false);
      $('login-error').textContent = t('staffTokenRefused');
      throw new Error('refused');
    }
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  function showConsole(shown) {
    $('console').hidden = !shown;
    $('login').hidden = shown;
  }

  function list(target, items, render) {
    target.replaceChildren(...(items.length ? items.map(render) : [h('li', { text: t('staffNothing') })]));
  }

  async function refresh() {
    const [feedback, unanswered] = await Promise.all([api('/api/staff/feedback'), api('/api/staff/unanswered')]);
    showConsole(true);
    $('feedback-counts').textContent = t('staffFeedbackCounts', feedback);
    list($('unhelpful'), feedback.unhelpful_answers, (a) =>
      h('li', {}, h('strong', { text: a.question }), h('p', { class: 'answer-text', text: a.answer })));
    list($('unanswered'), unanswered.questions, (q) =>
      h('li', { testid: 'unanswered-question' }, h('span', { class: 'count', text: t('staffAskedTimes', q) + ' ' }), q.question));
  }

  async function search(query) {
    const params = new URLSearchParams({ q: query, limit: '10' });
    const { hits } = await api('/api/search?' + params);
    list($('hits'), hits, (hit) => {
      const snippet = h('p', { class: 'snippet' });
      appendMarked(snippet, hit.snippet_html);
      return h('li', { testid: 'search-result' },
        h('p', { class: 'meta' }, h('strong', { text: hit.title }), ' — ' + hit.section + ' · ' + hit.document + ' · ' + t('score', { score: hit.score.toFixed(2) })),
        snippet,
        h('details', {}, h('summary', { text: t('showPassage') }), h('blockquote', { text: hit.text })));
    });
  }

  function ask(question) {
    question = question.trim();
    if (!question || busy) return;
    busy = true;
    $('question').value = '';
    const view = exchangeView($('log'), question, { detailed: true, onSuggestion: ask, announce: (text) => { $('announcer').textContent = text; } });
    streamChat('', { message: question, session_id: sessionId, audience: 'staff' }, {
      sources: view.sources,
      token: view.token,
      done: (reply) => { sessionId = reply.session_id; view.done(reply); },
      error: (data) => view.error(data.error && data.error.message),
    }).catch((error) => view.error(error.message)).finally(() => { busy = false; });
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(tokenKey, $('token').value.trim());
    $('login-error').textContent = '';
    refresh().catch(() => {});
  });
  $('search').addEventListener('submit', (event) => { event.preventDefault(); search($('search-q').value).catch(() => {}); });
  $('ask').addEventListener('submit', (event) => { event.preventDefault(); ask($('question').value); });
  $('refresh').addEventListener('click', () => refresh().catch(() => {}));
  document.querySelector('[data-testid="new-conversation"]').addEventListener('click', () => { $('log').replaceChildren(); sessionId = null; });
  if (sessionStorage.getItem(tokenKey)) refresh().catch(() => {});
}());
