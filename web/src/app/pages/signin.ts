// Sign-in: an API token (from `tradepulse token create`) and the API's base URL (default: this
// page's own origin), checked with /v1/whoami and kept in localStorage.

import { h } from '../dom';
import { normaliseBase, signIn, save, type Session } from '../session';

export function signin(main: HTMLElement, done: (s: Session) => void, notice?: string): void {
  const token = h('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password', spellcheck: 'false' });
  const base = h('input', { id: 'base', name: 'base', type: 'url', placeholder: location.origin, autocomplete: 'url', spellcheck: 'false', 'aria-describedby': 'base-help' });
  base.value = localStorage.getItem('tradepulse.apiBase') ?? '';
  const error = h('p', { class: 'field-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h' }, 'Sign in'),
    notice ? h('p', { class: 'state' }, notice) : null,
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), token),
    h('div', { class: 'field' }, h('label', { for: 'base' }, 'API base URL'), base, h('small', { id: 'base-help', class: 'muted' }, `Leave empty for this page's origin (${location.origin}).`)),
    error,
    submit,
    h('p', { class: 'muted' }, 'Create a token with `tradepulse token create --name NAME --role viewer|trader|admin`. It is kept in this browser (localStorage) until you sign out.'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const b = normaliseBase(base.value);
    if (b instanceof Error) {
      error.textContent = b.message;
      base.focus();
      return;
    }
    const t = token.value.trim();
    if (!t) {
      error.textContent = 'Enter a token.';
      token.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = '';
    void signIn({ token: t, base: b }).then((s) => {
      submit.disabled = false;
      if ('error' in s) {
        error.textContent = `Not signed in: ${s.error}`;
        token.focus();
        return;
      }
      save({ token: t, base: b });
      done(s);
    });
  });
  main.replaceChildren(form);
  token.focus();
}
