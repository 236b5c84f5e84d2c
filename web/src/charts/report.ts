// A whole report from its payload: one section per panel, each drawn by the renderer of its
// kind. A panel of a kind this viewer does not know gets a notice; a renderer that fails shows
// its error in its own section and the others still draw.

import { renderCandles } from './candles';
import { renderEquity } from './equity';
import { el, type Context, type Disposable } from './frame';
import { renderMonthly } from './monthly';
import type { CandlesPanel, EquityPanel, MonthlyReturnsPanel, Panel, ReportPayload, TradePnlPanel } from './payload';
import { validatePayload } from './payload';
import { ensureStyles } from './style';
import { userTimeZone } from './time';
import { renderTrades } from './trades';

type Renderer = (host: HTMLElement, panel: never, ctx: Context) => Disposable;

/** The renderer of each panel kind. Adding a panel: a payload kind here and on the Rust side. */
export const RENDERERS: Record<string, Renderer> = {
  equity: renderEquity as (h: HTMLElement, p: EquityPanel, c: Context) => Disposable,
  candles: renderCandles as (h: HTMLElement, p: CandlesPanel, c: Context) => Disposable,
  monthly_returns: renderMonthly as (h: HTMLElement, p: MonthlyReturnsPanel, c: Context) => Disposable,
  trade_pnl: renderTrades as (h: HTMLElement, p: TradePnlPanel, c: Context) => Disposable,
};

export interface RenderOptions {
  /** IANA zone for every time shown; the browser's own zone by default. */
  timeZone?: string;
}

/** A panel's section with its heading and note; the chart goes in before the note. */
function section(root: HTMLElement, panel: Panel, doc: Document): { section: HTMLElement; body: HTMLElement } {
  const sec = el(doc, 'section', { id: panel.id, class: 'tp-panel', 'data-kind': panel.kind, 'aria-labelledby': `${panel.id}-title` });
  sec.append(el(doc, 'h2', { id: `${panel.id}-title` }, panel.title));
  const body = el(doc, 'div', { class: 'tp-body' });
  sec.append(body);
  if (panel.note) sec.append(el(doc, 'p', { class: 'tp-note' }, panel.note));
  root.append(sec);
  return { section: sec, body };
}

/** Draws `panel` into `body`; a failure shows in that panel only. */
function draw(body: HTMLElement, panel: Panel, ctx: Context): Disposable {
  const doc = ctx.document;
  const render = RENDERERS[panel.kind];
  if (!render) {
    body.append(el(doc, 'p', { class: 'tp-empty' }, `This viewer cannot show "${panel.kind}" panels yet.`));
    return { dispose() {} };
  }
  try {
    return render(body, panel as never, ctx);
  } catch (e) {
    body.append(el(doc, 'p', { class: 'tp-error', role: 'alert' }, `This chart could not be drawn: ${(e as Error).message}`));
    return { dispose() {} };
  }
}

/** Renders one panel into a new `<section>` appended to `root`, at once. */
export function renderPanel(root: HTMLElement, panel: Panel, ctx: Context): { section: HTMLElement; handle: Disposable } {
  const { section: sec, body } = section(root, panel, ctx.document);
  return { section: sec, handle: draw(body, panel, ctx) };
}

export interface RenderedReport extends Disposable {
  /** Section element of each panel, by panel id. */
  sections: Map<string, HTMLElement>;
  /** Settles when every panel is drawn (`data-rendered="true"` on the root then). */
  ready: Promise<void>;
}

const mark = (name: string) => {
  if (typeof performance !== 'undefined' && typeof performance.mark === 'function') performance.mark(name);
};

/**
 * Validates `payload` and renders its panels into `root`: every section at once, the first
 * panel's chart right away and each other one in a task of its own, so the first chart shows
 * before a long run's later panels are drawn. Marks `tradepulse:first-chart` and
 * `tradepulse:charts-done` on the performance timeline.
 */
export function renderReport(root: HTMLElement, payload: unknown, options: RenderOptions = {}): RenderedReport {
  const doc = root.ownerDocument;
  ensureStyles(doc);
  root.classList.add('tp-report');
  const ctx: Context = { timeZone: options.timeZone ?? userTimeZone(), document: doc };
  let valid: ReportPayload;
  try {
    valid = validatePayload(payload);
  } catch (e) {
    root.append(el(doc, 'p', { class: 'tp-error', role: 'alert' }, `This report cannot be shown: ${(e as Error).message}`));
    return { sections: new Map(), ready: Promise.resolve(), dispose() {} };
  }
  const sections = new Map<string, HTMLElement>();
  const pending = valid.panels.map((panel) => {
    const { section: sec, body } = section(root, panel, doc);
    sections.set(panel.id, sec);
    return { panel, sec, body };
  });
  const handles: Disposable[] = [];
  let disposed = false;
  const drawOne = (k: number) => {
    const p = pending[k];
    if (!p || disposed) return;
    handles.push(draw(p.body, p.panel, ctx));
    p.sec.removeAttribute('aria-busy');
    if (k === 0) mark('tradepulse:first-chart');
  };
  for (const p of pending.slice(1)) p.sec.setAttribute('aria-busy', 'true');
  drawOne(0);
  const ready = new Promise<void>((resolve) => {
    const next = (k: number) => {
      if (k >= pending.length || disposed) {
        root.setAttribute('data-rendered', 'true');
        mark('tradepulse:charts-done');
        resolve();
        return;
      }
      drawOne(k);
      setTimeout(() => next(k + 1), 0);
    };
    setTimeout(() => next(1), 0);
  });
  return {
    sections,
    ready,
    dispose() {
      disposed = true;
      for (const h of handles) h.dispose();
    },
  };
}
