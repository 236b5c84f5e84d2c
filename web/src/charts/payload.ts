// The report payload: one JSON object that `tradepulse backtest` embeds in report.html (and that
// the core API will serve for a stored run). It is a list of panels, each tagged by `kind`; a
// viewer renders the kinds it knows and shows a notice for the others, so a new panel is one new
// kind on both sides and older viewers keep working.
//
// Times are UTC seconds since the Unix epoch. Series are columnar (one array per field, equal
// lengths) to keep large runs small. Field names are snake_case, as the Rust side writes them.

/** The payload version this viewer understands. A payload with a higher major version is refused. */
export const SCHEMA = 1;

export interface ReportPayload {
  schema: number;
  title: string;
  panels: Panel[];
}

export interface PanelBase {
  kind: string;
  /** Unique within the payload; used as the section's element id. */
  id: string;
  title: string;
  /** One sentence under the chart saying what it shows and how it was reduced. */
  note?: string;
}

/** Equity at each (kept) point and its drawdown from the running peak, as a fraction ≤ 0. */
export interface EquityPanel extends PanelBase {
  kind: 'equity';
  /** Quote currency of the amounts, when known. */
  currency?: string;
  initial: number;
  time: number[];
  equity: number[];
  drawdown: number[];
  /** Points before downsampling. */
  source_points: number;
}

/** Fills merged per candle, side and role: one marker, however many fills it stands for. */
export interface Markers {
  time: number[];
  side: Array<'buy' | 'sell'>;
  /** `entry` opens or adds to a position, `exit` reduces or closes it. */
  role: Array<'entry' | 'exit'>;
  count: number[];
  quantity: number[];
  /** Quantity-weighted mean fill price. */
  price: number[];
}

/** One series the strategy computed, drawn exactly as given (null: no value yet). */
export interface Indicator {
  name: string;
  /** `price`: over the candles, on the price scale; `own`: in a pane of its own. */
  pane: 'price' | 'own';
  time: number[];
  value: Array<number | null>;
}

export interface CandlesPanel extends PanelBase {
  kind: 'candles';
  instrument: string;
  time: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
  /** Bars merged into each candle (1: every bar is a candle). */
  bars_per_candle: number;
  source_bars: number;
  markers: Markers;
  indicators: Indicator[];
}

export interface YearRow {
  year: number;
  /** January to December; null where the run has no bar in that month. */
  months: Array<number | null>;
  total: number | null;
}

export interface MonthlyReturnsPanel extends PanelBase {
  kind: 'monthly_returns';
  years: YearRow[];
}

/** Every closed round trip, in exit order. */
export interface TradePnlPanel extends PanelBase {
  kind: 'trade_pnl';
  currency?: string;
  entry_time: number[];
  exit_time: number[];
  direction: Array<'long' | 'short'>;
  /** Net P&L after fees, in the quote currency. */
  pnl: number[];
  /** Net P&L over the entry notional. */
  return: number[];
}

export type KnownPanel = EquityPanel | CandlesPanel | MonthlyReturnsPanel | TradePnlPanel;
export type Panel = KnownPanel | PanelBase;

/** Why a payload cannot be shown. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numbers(panel: Record<string, unknown>, field: string, nullable = false): number {
  const v = panel[field];
  if (!Array.isArray(v)) {
    throw new PayloadError(`panel ${String(panel.id)}: ${field} must be an array`);
  }
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (!(typeof x === 'number' && Number.isFinite(x)) && !(nullable && x === null)) {
      throw new PayloadError(`panel ${String(panel.id)}: ${field}[${i}] is not a number`);
    }
  }
  return v.length;
}

function sameLength(panel: Record<string, unknown>, fields: string[], nullable: string[] = []): void {
  const lengths = fields.map((f) => numbers(panel, f, nullable.includes(f)));
  if (lengths.some((n) => n !== lengths[0])) {
    throw new PayloadError(
      `panel ${String(panel.id)}: ${fields.join(', ')} must have equal lengths (got ${lengths.join(', ')})`,
    );
  }
}

function strings(panel: Record<string, unknown>, field: string, allowed: string[], length: number): void {
  const v = panel[field];
  if (!Array.isArray(v) || v.length !== length || v.some((x) => !allowed.includes(x as string))) {
    throw new PayloadError(
      `panel ${String(panel.id)}: ${field} must be ${length} values of ${allowed.join('/')}`,
    );
  }
}

/** Checks the shape of a parsed payload, with a message naming the panel and field at fault. */
export function validatePayload(value: unknown): ReportPayload {
  if (!isObject(value)) throw new PayloadError('the report payload is not a JSON object');
  const schema = value.schema;
  if (typeof schema !== 'number' || Math.floor(schema) > SCHEMA || schema < 1) {
    throw new PayloadError(
      `report payload schema ${String(schema)} is not supported (this viewer reads schema ${SCHEMA})`,
    );
  }
  if (typeof value.title !== 'string') throw new PayloadError('the report payload has no title');
  if (!Array.isArray(value.panels)) throw new PayloadError('the report payload has no panels list');
  const ids = new Set<string>();
  for (const p of value.panels as unknown[]) {
    if (!isObject(p) || typeof p.kind !== 'string' || typeof p.id !== 'string' || typeof p.title !== 'string') {
      throw new PayloadError('every panel needs a kind, an id and a title');
    }
    if (ids.has(p.id)) throw new PayloadError(`two panels have the id ${p.id}`);
    ids.add(p.id);
    switch (p.kind) {
      case 'equity':
        sameLength(p, ['time', 'equity', 'drawdown']);
        break;
      case 'candles': {
        sameLength(p, ['time', 'open', 'high', 'low', 'close', 'volume']);
        const m = p.markers;
        if (!isObject(m)) throw new PayloadError(`panel ${p.id}: markers must be an object`);
        const withId = { ...m, id: `${p.id}.markers` };
        sameLength(withId, ['time', 'count', 'quantity', 'price']);
        const n = (m.time as unknown[]).length;
        strings(withId, 'side', ['buy', 'sell'], n);
        strings(withId, 'role', ['entry', 'exit'], n);
        if (!Array.isArray(p.indicators)) throw new PayloadError(`panel ${p.id}: indicators must be an array`);
        for (const ind of p.indicators as unknown[]) {
          if (!isObject(ind) || typeof ind.name !== 'string' || (ind.pane !== 'price' && ind.pane !== 'own')) {
            throw new PayloadError(`panel ${p.id}: every indicator needs a name and a pane (price or own)`);
          }
          sameLength({ ...ind, id: `${p.id}.${ind.name}` }, ['time', 'value'], ['value']);
        }
        break;
      }
      case 'monthly_returns':
        if (!Array.isArray(p.years)) throw new PayloadError(`panel ${p.id}: years must be an array`);
        for (const row of p.years as unknown[]) {
          if (!isObject(row) || typeof row.year !== 'number' || !Array.isArray(row.months) || row.months.length !== 12) {
            throw new PayloadError(`panel ${p.id}: every year needs a year and 12 months`);
          }
        }
        break;
      case 'trade_pnl': {
        sameLength(p, ['entry_time', 'exit_time', 'pnl', 'return']);
        strings(p, 'direction', ['long', 'short'], (p.pnl as unknown[]).length);
        break;
      }
      default:
        // Unknown kinds are shown as a notice, not refused: a newer writer may add panels.
        break;
    }
  }
  return value as unknown as ReportPayload;
}

/** Reads the payload from the `<script type="application/json">` element with `id`. */
export function readEmbeddedPayload(doc: Document, id: string): ReportPayload {
  const el = doc.getElementById(id);
  if (!el || !el.textContent) throw new PayloadError(`no element #${id} with a report payload`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(el.textContent);
  } catch (e) {
    throw new PayloadError(`the report payload is not valid JSON: ${(e as Error).message}`);
  }
  return validatePayload(parsed);
}
