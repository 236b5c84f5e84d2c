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

export interface RenderedReport extends Disposable {
  /** Section element of each panel, by panel id. */
  sections: Map<string, HTMLElement>;
}

/** Renders one panel into a new `<section>` appended to `root`. */
export function renderPanel(root: HTMLElement, panel: Panel, ctx: Context): { section: HTMLElement; handle: Disposable } {
  const doc = ctx.document;
  const section = el(doc, 'section', { id: panel.id, class: 'tp-panel', 'data-kind': panel.kind, 'aria-labelledby': `${panel.id}-title` });
  section.append(el(doc, 'h2', { id: `${panel.id}-title` }, panel.title));
  root.append(section);
  const render = RENDERERS[panel.kind];
  let handle: Disposable = { dispose() {} };
  if (!render) {
    section.append(el(doc, 'p', { class: 'tp-empty' }, `This viewer cannot show "${panel.kind}" panels yet.`));
  } else {
    try {
      handle = render(section, panel as never, ctx);
    } catch (e) {
      section.append(el(doc, 'p', { class: 'tp-error', role: 'alert' }, `This chart could not be drawn: ${(e as Error).message}`));
    }
  }
  if (panel.note) section.append(el(doc, 'p', { class: 'tp-note' }, panel.note));
  return { section, handle };
}

/** Validates `payload` and renders all its panels into `root`. */
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
    return { sections: new Map(), dispose() {} };
  }
  const sections = new Map<string, HTMLElement>();
  const handles: Disposable[] = [];
  for (const panel of valid.panels) {
    const { section, handle } = renderPanel(root, panel, ctx);
    sections.set(panel.id, section);
    handles.push(handle);
  }
  root.setAttribute('data-rendered', 'true');
  return {
    sections,
    dispose() {
      for (const h of handles) h.dispose();
    },
  };
}
