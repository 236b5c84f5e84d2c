// Small DOM helpers: elements, tables, the loading / empty / error states, buttons, dialogs.

import type { Load } from './api';
import { timeElement } from './format';

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** `h('button', {type: 'button', onclick: f}, 'Go')`. Attributes that are null/false are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') node.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') node.className = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

export type StateKind = 'loading' | 'empty' | 'error';

export function stateBox(kind: StateKind, text: string): HTMLElement {
  const p = h('p', { class: `state ${kind}`, 'data-state': kind }, text);
  if (kind === 'error') p.setAttribute('role', 'alert');
  else p.setAttribute('aria-live', 'polite');
  return p;
}

/** Shows `load` in `host`: loading, the error, the empty text, or what `render` makes of the data. */
export function showLoad<T>(host: HTMLElement, load: Load<T>, render: (data: T) => Node, empty?: { when: (data: T) => boolean; text: string }): void {
  if (load.state === 'loading') host.replaceChildren(stateBox('loading', 'Loading…'));
  else if (load.state === 'error') host.replaceChildren(stateBox('error', load.message));
  else if (empty && empty.when(load.data)) host.replaceChildren(stateBox('empty', empty.text));
  else host.replaceChildren(render(load.data));
}

export interface Column<R> {
  label: string;
  cell: (row: R) => Node | string;
  /** Right-aligned numbers. */
  num?: boolean;
}

/** A table with a caption (for screen readers) inside a horizontally scrolling wrapper. */
export function table<R>(caption: string, columns: Column<R>[], rows: readonly R[], rowAttrs?: (row: R) => Attrs, tall = false): HTMLElement {
  const thead = h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))));
  const tbody = h('tbody');
  for (const r of rows) tbody.append(h('tr', rowAttrs ? rowAttrs(r) : {}, ...columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))));
  return h('div', { class: tall ? 'table-wrap tall' : 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', { class: 'data' }, h('caption', { class: 'sr-only' }, caption), thead, tbody));
}

export const time = (ns: number | null | undefined) => timeElement(document, ns);

export function card(title: string, ...children: Child[]): HTMLElement {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...children);
}

export function button(label: string, onclick: () => void, kind: 'plain' | 'danger' | 'primary' = 'plain', attrs: Attrs = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: `btn ${kind}`, onclick: () => onclick(), ...attrs }, label);
}

/**
 * A modal confirmation (`<dialog>`): resolves with the reason typed, or null when cancelled.
 * `reason` asks for a text of at least 3 characters (the kill switch audits it).
 */
export function confirmDialog(opts: { title: string; text: string; confirm: string; danger?: boolean; reason?: string }): Promise<string | null> {
  return new Promise((resolve) => {
    const input = opts.reason ? h('input', { id: 'confirm-reason', name: 'reason', required: true, minlength: 3, maxlength: 256, autocomplete: 'off', value: opts.reason }) : null;
    const error = h('p', { class: 'field-error', 'aria-live': 'polite' });
    const ok = h('button', { type: 'submit', class: `btn ${opts.danger ? 'danger' : 'primary'}`, value: 'ok' }, opts.confirm);
    const cancel = h('button', { type: 'button', class: 'btn plain' }, 'Cancel');
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, opts.title),
      h('p', { id: 'confirm-text' }, opts.text),
      input ? h('label', { for: 'confirm-reason' }, 'Reason (audited)') : null,
      input,
      error,
      h('div', { class: 'actions' }, cancel, ok),
    );
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' }, form);
    document.body.append(dialog);
    let done = false;
    const finish = (v: string | null) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', () => finish(null));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const reason = input ? input.value.trim() : '';
      if (input && reason.length < 3) {
        error.textContent = 'Give a reason of at least 3 characters.';
        input.focus();
        return;
      }
      finish(reason);
    });
    dialog.showModal();
    (input ?? ok).focus();
  });
}

/** A live-region line under a control, for the outcome of a button press. */
export function outcome(): HTMLElement {
  return h('p', { class: 'outcome', 'aria-live': 'polite' });
}
