// The chat shared by the kiosk, the staff console and the widget: the
// streaming request, and an answer with its sources and feedback built as
// DOM nodes. Text from the server is only ever set as text, never parsed
// as HTML, so a document holding <script> or <img onerror> stays inert.
// Icons are drawn here as SVG: an emoji needs a font a kiosk may lack.

// Switches every string to `lang` (`fr` or `en`) under `root`; returns
// whether the language changed.
function setLanguage(lang, root) {
  const strings = STRINGS_BY_LANGUAGE[lang];
  if (!strings || strings === STRINGS) return false;
  STRINGS = strings;
  applyStrings(root);
  return true;
}

// `2025-12-31` → « 31 décembre 2025 » or « 31 December 2025 ».
function dateInWords(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ''));
  if (!match) return iso;
  const [, year, month, day] = match;
  const name = STRINGS.months[Number(month) - 1];
  if (!name) return iso;
  const dayNumber = Number(day);
  return (dayNumber === 1 ? STRINGS.firstOfMonth : String(dayNumber)) + '\u00a0' + name + ' ' + year;
}

// Stroke paths on a 24×24 grid, drawn in the text colour.
const ICON_PATHS = {
  helpful: ['M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20', 'M8 14.5c1 1.6 2.4 2.4 4 2.4s3-.8 4-2.4', 'M9 9.5v1', 'M15 9.5v1'],
  unhelpful: ['M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20', 'M8 17c1-1.6 2.4-2.4 4-2.4s3 .8 4 2.4', 'M9 9.5v1', 'M15 9.5v1'],
  restart: ['M4 12a8 8 0 1 0 2.4-5.7', 'M4 4v4h4'],
  language: ['M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20', 'M2 12h20', 'M12 2c3 3 3 17 0 20', 'M12 2c-3 3-3 17 0 20'],
  keyboard: ['M3 6h18v12H3z', 'M6 10h1', 'M10 10h1', 'M14 10h1', 'M18 10h1', 'M7 14h10'],
  send: ['M4 12h15', 'M13 6l6 6-6 6'],
  backspace: ['M9 5h12v14H9l-6-7z', 'M12 9l5 6', 'M17 9l-5 6'],
  shift: ['M12 4l8 8h-4v7H8v-7H4z'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  chat: ['M4 5h16v11H9l-5 4z', 'M8 9h8', 'M8 12h5'],
};

// An icon, hidden from screen readers: the button carrying it has the name.
function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [key, value] of Object.entries({ viewBox: '0 0 24 24', width: '1.4em', height: '1.4em', 'aria-hidden': 'true', focusable: 'false', class: 'icon' })) {
    svg.setAttribute(key, value);
  }
  for (const d of ICON_PATHS[name] || []) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

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

// Fills the elements marked data-i18n (text), data-i18n-placeholder,
// data-i18n-label (aria-label and title), data-i18n-alt and data-date (an
// ISO date, written in words) from STRINGS; answers already shown follow
// a language switch too.
function applyStrings(root) {
  root.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((n) => {
    n.setAttribute('placeholder', t(n.dataset.i18nPlaceholder));
  });
  root.querySelectorAll('[data-i18n-label]').forEach((n) => {
    n.setAttribute('aria-label', t(n.dataset.i18nLabel));
    if (n.hasAttribute('title')) n.setAttribute('title', t(n.dataset.i18nLabel));
  });
  root.querySelectorAll('[data-i18n-alt]').forEach((n) => { n.setAttribute('alt', t(n.dataset.i18nAlt)); });
  root.querySelectorAll('[data-date]').forEach((n) => { n.textContent = dateInWords(n.dataset.date); });
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
    source.date ? h('span', { class: 'source-date' }, ' · ', h('span', { 'data-date': source.date, text: dateInWords(source.date) })) : null,
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
      bar.replaceChildren(h('span', { class: 'feedback-thanks', 'data-i18n': 'feedbackThanks', text: t('feedbackThanks') }));
    } catch (_) {
      bar.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  };
  const label = h('span', { 'data-i18n': 'feedbackQuestion', text: t('feedbackQuestion') });
  label.id = 'feedback-' + answerId;
  bar.setAttribute('aria-labelledby', label.id);
  bar.append(
    label,
    h('button', { type: 'button', class: 'vote', testid: 'feedback-up', 'aria-label': t('feedbackUp'), 'data-i18n-label': 'feedbackUp', title: t('feedbackUp'), onclick: () => vote(true) }, icon('helpful')),
    h('button', { type: 'button', class: 'vote', testid: 'feedback-down', 'aria-label': t('feedbackDown'), 'data-i18n-label': 'feedbackDown', title: t('feedbackDown'), onclick: () => vote(false) }, icon('unhelpful')));
  return bar;
}

// The quoted sentences with the short answer marked, built as text nodes.
function quoteWithAnswer(source) {
  const quote = h('blockquote', { class: 'answer-quote-text', lang: 'fr' });
  const text = source.quote || '';
  const at = source.highlight ? text.indexOf(source.highlight) : -1;
  if (at < 0) {
    quote.textContent = text;
  } else {
    quote.append(text.slice(0, at), h('mark', { text: source.highlight }), text.slice(at + source.highlight.length));
  }
  return h('figure', { class: 'answer-quote' },
    h('figcaption', {}, h('span', { 'data-i18n': 'quoteLabel', text: t('quoteLabel') }), ' · ' + source.title), quote);
}

// Adds one question and its (streaming) answer to `log`; returns the
// handlers that fill it in. options: base, detailed (staff), qr and
// showQuote (kiosk: the short answer large, its quote under it),
// onSuggestion(question), announce(text) (for the screen reader's live
// region: the finished answer once, not every streamed word).
function exchangeView(log, question, options) {
  const base = options.base || '';
  const answerText = h('p', { class: 'answer-text', text: t('thinking') });
  const answer = h('div', { class: 'answer pending', testid: 'chat-answer' }, answerText);
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
      answer.lang = reply.language || STRINGS.lang;
      answerText.textContent = reply.answer;
      const first = reply.sources[0];
      // Only a short answer needs its quote under it: without one, the
      // answer is the quote.
      if (options.showQuote && reply.kind === 'extractive' && first && first.highlight) {
        answerText.classList.add('short-answer');
        answer.append(quoteWithAnswer(first));
      }
      sources.replaceChildren(...reply.sources.map((s) => sourceCard(s, options.detailed)));
      if (reply.suggestions && reply.suggestions.length && options.onSuggestion) {
        after.append(h('div', { class: 'chips' }, ...reply.suggestions.map((suggestion) =>
          h('button', { type: 'button', class: 'chip', text: suggestion, onclick: () => options.onSuggestion(suggestion) }))));
      }
      if (options.announce) options.announce(reply.answer);
      if (reply.kind !== 'smalltalk') after.append(feedbackBar(base, reply.answer_id));
      if (options.qr && reply.kind !== 'smalltalk' && reply.kind !== 'no_answer') {
        after.append(h('figure', { class: 'qr' },
          h('img', { src: base + '/api/answers/' + encodeURIComponent(reply.answer_id) + '/qr.svg', alt: t('qrAlt'), 'data-i18n-alt': 'qrAlt', width: 160, height: 160 }),
          h('figcaption', { 'data-i18n': 'qrCaption', text: t('qrCaption') })));
      }
      answer.scrollIntoView({ block: 'nearest' });
    },
    error(message) {
      answer.classList.remove('pending');
      answer.classList.add('failed');
      answerText.textContent = message || t('errorGeneric');
      if (options.announce) options.announce(answerText.textContent);
    },
  };
}
