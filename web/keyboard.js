// The kiosk's on-screen keyboard: French AZERTY with the accented letters
// a French question needs, and a page of digits and signs. The kiosk has
// no physical keyboard; the question field asks the system for none
// (inputmode="none") so this one is the only one shown.
//
// Keys are buttons that never take the focus (pointerdown is cancelled),
// so the caret stays in the field and each key lands where it points.
function onScreenKeyboard(input, onEnter) {
  const LETTERS = [
    ['a', 'z', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p'],
    ['q', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm'],
    ['shift', 'w', 'x', 'c', 'v', 'b', 'n', '\u2019', 'backspace'],
    ['é', 'è', 'ê', 'à', 'â', 'ç', 'ù', 'î', 'ô', '?'],
    ['numbers', 'space', 'enter'],
  ];
  const SIGNS = [
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'],
    ['-', '/', ':', ';', '(', ')', '€', '%', '«', '»'],
    ['@', '.', ',', '!', '\'', '"', '+', '&', 'backspace'],
    ['ë', 'ï', 'û', 'œ', 'æ', '#', '*', '=', '_', '?'],
    ['letters', 'space', 'enter'],
  ];
  const SPECIAL = {
    shift: { label: () => t('keyShift'), icon: 'shift', wide: 1.5 },
    backspace: { label: () => t('keyBackspace'), icon: 'backspace', wide: 1.5 },
    numbers: { label: () => '123, ' + t('keyNumbers'), text: '123', wide: 2 },
    letters: { label: () => 'abc, ' + t('keyLetters'), text: 'abc', wide: 2 },
    space: { label: () => t('keySpace'), text: () => t('keySpace'), wide: 6 },
    enter: { label: () => t('keyEnter'), icon: 'send', wide: 2, primary: true },
  };
  let page = LETTERS;
  let capital = false;
  const pad = h('div', { class: 'keyboard', testid: 'keyboard', role: 'group' });

  function type(text) {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    if (input.value.length - (end - start) + text.length > Number(input.maxLength > 0 ? input.maxLength : 500)) return;
    input.setRangeText(text, start, end, 'end');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function erase() {
    let start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    if (start === end && start > 0) start -= 1;
    input.setRangeText('', start, end, 'end');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function press(key) {
    if (key === 'shift') { capital = !capital; render(); return; }
    if (key === 'backspace') { erase(); return; }
    if (key === 'numbers') { page = SIGNS; render(); return; }
    if (key === 'letters') { page = LETTERS; render(); return; }
    if (key === 'space') { type(' '); return; }
    if (key === 'enter') { onEnter(); return; }
    type(capital ? key.toUpperCase() : key);
    if (capital) { capital = false; render(); }
  }

  function render() {
    pad.setAttribute('aria-label', t('keyboardLabel'));
    pad.replaceChildren(...page.map((row) => h('div', { class: 'keyboard-row' }, ...row.map((key) => {
      const special = SPECIAL[key];
      const shown = special ? null : (capital ? key.toUpperCase() : key);
      const button = h('button', {
        type: 'button',
        class: 'key' + (special && special.primary ? ' primary' : '') + (key === 'shift' && capital ? ' on' : ''),
        'data-key': key,
        'aria-label': special ? special.label() : null,
        'aria-pressed': key === 'shift' ? String(capital) : null,
      });
      // Through the CSSOM: the page's CSP refuses style attributes.
      if (special) button.style.setProperty('--wide', String(special.wide));
      if (special && special.icon) button.append(icon(special.icon));
      else button.textContent = special ? (typeof special.text === 'function' ? special.text() : special.text) : shown;
      button.addEventListener('pointerdown', (event) => event.preventDefault());
      button.addEventListener('click', () => { press(key); input.focus({ preventScroll: true }); });
      return button;
    }))));
  }

  render();
  return { element: pad, render };
}
