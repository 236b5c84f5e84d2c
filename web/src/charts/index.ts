// TradePulse chart module: the charts of a backtest report (equity and drawdown, candlesticks
// with fills and the strategy's indicators, monthly returns, round-trip P&L), drawn with
// TradingView Lightweight Charts from one report payload (see payload.ts).
//
// The dashboard imports this module; `npm run build:charts` bundles it into one self-contained
// script (global `TradePulseCharts`) that `tradepulse backtest` inlines into report.html:
//
//   TradePulseCharts.renderEmbedded('charts', 'tradepulse-report');

import { readEmbeddedPayload } from './payload';
import { renderReport, type RenderOptions, type RenderedReport } from './report';
import { el } from './frame';
import { ensureStyles } from './style';

export { SCHEMA, PayloadError, validatePayload, readEmbeddedPayload } from './payload';
export type * from './payload';
export { renderReport, renderPanel, RENDERERS } from './report';
export type { RenderOptions, RenderedReport } from './report';
export { formatTime, userTimeZone } from './time';

/**
 * Renders the payload held in the `<script type="application/json" id=payloadId>` element into
 * the element `rootId`; an unreadable payload shows an error there instead of throwing.
 */
export function renderEmbedded(rootId: string, payloadId: string, options: RenderOptions = {}): RenderedReport | null {
  const root = document.getElementById(rootId);
  if (!root) return null;
  try {
    return renderReport(root, readEmbeddedPayload(document, payloadId), options);
  } catch (e) {
    ensureStyles(document);
    root.append(el(document, 'p', { class: 'tp-error', role: 'alert' }, `This report cannot be shown: ${(e as Error).message}`));
    return null;
  }
}
