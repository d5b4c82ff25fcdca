// The chat shared by the kiosk, the staff console and the widget: the
// streaming request, and an answer with its sources and feedback built as
// DOM nodes. Text from the server is only ever set as text, never parsed
// as HTML, so a document holding <script> or <img onerror> stays inert.

function t(key, values) {
  let text = Object.prototype.hasOwnProperty.call(STRINGS, key) ? STRINGS[key] : key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.split('{' + name + '}').join(String(value));
  }
  return text;
}

// Builds an element; strings among the children become text nodes.
function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key === 'testid') node.setAttribute('data-testid', value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Fills the elements marked data-i18n (text), data-i18n-placeholder and
// data-i18n-label (aria-label) from STRINGS.
function applyStrings(root) {
  root.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((n) => {
    n.setAttribute('placeholder', t(n.dataset.i18nPlaceholder));
  });
  root.querySelectorAll('[data-i18n-label]').forEach((n) => {
    n.setAttribute('aria-label', t(n.dataset.i18nLabel));
  });
}

// Appends search-snippet HTML (escaped text with <mark>) keeping only text
// and <mark>: the snippet is parsed in an inert document and rebuilt.
function appendMarked(container, html) {
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  for (const node of parsed.body.childNodes) {
    if (node.nodeName === 'MARK') container.append(h('mark', { text: node.textContent }));
    else container.append(document.createTextNode(node.textContent));
  }
}

function isWebLink(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url.trim());
}

// POSTs a question and calls handlers.sources / token / done / error as
// the Server-Sent Events arrive.
async function streamChat(base, payload, handlers) {
  const response = await fetch(base + '/api/chat', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(Object.assign({}, payload, { stream: true })),
  });
  if (!response.ok || !response.body) {
    let message = t('errorGeneric');
    try { message = (await response.json()).error.message || message; } catch (_) { /* keep */ }
    throw new Error(message);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatchSse(buffer.slice(0, end), handlers);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatchSse(block, handlers) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length && handlers[name]) handlers[name](JSON.parse(data.join('\n')));
}

function sourceCard(source, detailed) {
  const summary = h('summary', {},
    h('span', { class: 'source-title', text: source.title }),
    source.date ? h('span', { class: 'source-date', text: ' · ' + source.date }) : null,
    detailed ? h('span', { class: 'source-score', text: ' · ' + t('score', { score: Number(source.score).toFixed(2) }) }) : null);
  const card = h('details', { class: 'source', testid: 'chat-source', open: detailed },
    summary,
    h('p', { class: 'source-section', text: source.section }),
    h('blockquote', { class: 'source-text', text: source.text }));
  if (isWebLink(source.url)) {
    card.append(h('p', {}, h('a', { href: source.url, rel: 'noopener noreferrer', target: '_blank', text: source.url })));
  }
  return card;
}

function feedbackBar(base, answerId) {
  const bar = h('div', { class: 'feedback', role: 'group' });
  const vote = async (helpful) => {
    bar.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch(base + '/api/feedback', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ answer_id: answerId, helpful }),
      });
      if (!response.ok) throw new Error(String(response.status));
      bar.replaceChildren(h('span', { class: 'feedback-thanks', text: t('feedbackThanks') }));
    } catch (_) {
      bar.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  };
  bar.append(
    h('span', { text: t('feedbackQuestion') }),
    h('button', { type: 'button', class: 'vote', testid: 'feedback-up', 'aria-label': t('feedbackUp'), onclick: () => vote(true) }, t('feedbackUp')),
    h('button', { type: 'button', class: 'vote', testid: 'feedback-down', 'aria-label': t('feedbackDown'), onclick: () => vote(false) }, t('feedbackDown')));
  return bar;
}

// Adds one question and its (streaming) answer to `log`; returns the
// handlers that fill it in. options: base, detailed (staff), qr (kiosk),
// onSuggestion(topic).
function exchangeView(log, question, options) {
  const base = options.base || '';
  const answerText = h('p', { class: 'answer-text', text: t('thinking') });
  const answer = h('div', { class: 'answer pending', testid: 'chat-answer', 'aria-live': 'polite' }, answerText);
  const sources = h('div', { class: 'sources' });
  const after = h('div', { class: 'after' });
  log.append(h('article', { class: 'exchange' },
    h('p', { class: 'question', text: question }), answer, sources, after));
  answer.scrollIntoView({ block: 'nearest' });
  let streamed = '';
  return {
    sources(list) {
      sources.replaceChildren(...list.map((s) => sourceCard(s, options.detailed)));
    },
    token(data) {
      streamed += data.text;
      answerText.textContent = streamed;
    },
    done(reply) {
      answer.classList.remove('pending');
      answer.dataset.kind = reply.kind;
      answerText.textContent = reply.answer;
      sources.replaceChildren(...reply.sources.map((s) => sourceCard(s, options.detailed)));
      if (reply.suggestions && reply.suggestions.length && options.onSuggestion) {
        after.append(h('div', { class: 'chips' }, ...reply.suggestions.map((topic) =>
          h('button', { type: 'button', class: 'chip', text: topic, onclick: () => options.onSuggestion(topic) }))));
      }
      if (reply.kind !== 'smalltalk') after.append(feedbackBar(base, reply.answer_id));
      if (options.qr && reply.kind !== 'smalltalk' && reply.kind !== 'no_answer') {
        after.append(h('figure', { class: 'qr' },
          h('img', { src: base + '/api/answers/' + encodeURIComponent(reply.answer_id) + '/qr.svg', alt: t('qrAlt'), width: 160, height: 160 }),
          h('figcaption', { text: t('qrCaption') })));
      }
      answer.scrollIntoView({ block: 'nearest' });
    },
    error(message) {
      answer.classList.remove('pending');
      answer.classList.add('failed');
      answerText.textContent = message || t('errorGeneric');
    },
  };
}
