// The chart module's styles, injected once per document so the one script file is all a page
// needs (report.html inlines it; the dashboard imports it).

export const CSS = `
.tp-report{color:#333;font-family:'DejaVu Sans',Helvetica,Arial,sans-serif}
.tp-panel{background:#fff;border:1px solid #e3e3e0;border-radius:6px;padding:12px 14px;margin:0 0 16px;min-width:0}
.tp-panel>h2{font-size:17px;margin:0 0 6px}
.tp-note{color:#666;font-size:13px;margin:8px 0 0}
.tp-empty{color:#666;font-style:italic;margin:12px 0}
.tp-error{color:#a4161a;background:#fff1f0;border:1px solid #f3c3c0;border-radius:6px;padding:10px 14px}
.tp-frame{margin:6px 0 0}
.tp-hint{color:#666;font-size:12px;margin:4px 0 0;min-height:1.2em}
.tp-frame-head{display:flex;flex-wrap:wrap;align-items:flex-start;justify-content:space-between;gap:4px 12px;margin:0 0 6px}
.tp-legend{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:13px;min-height:1.5em;font-variant-numeric:tabular-nums;flex:1 1 420px}
.tp-legend .tp-label{color:#666}
.tp-legend b{font-weight:600}
.tp-swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 0;vertical-align:-1px}
.tp-toolbar{display:flex;gap:4px}
.tp-toolbar button{font:inherit;font-size:13px;min-width:36px;min-height:32px;padding:2px 10px;border:1px solid #c9c9c4;border-radius:4px;background:#fafaf8;color:#333;cursor:pointer}
.tp-toolbar button:hover{background:#f0f0ec}
.tp-toolbar button:focus-visible,.tp-chart:focus-visible,.tp-heat:focus-visible{outline:2px solid #1f5fbf;outline-offset:2px}
.tp-chart{position:relative;height:320px;touch-action:pan-y}
.tp-chart.tp-tall{height:460px}
.tp-short .tp-chart{height:240px}
.tp-stats{display:flex;flex-wrap:wrap;gap:4px 22px;font-size:13px;margin:4px 0 6px}
.tp-stats div{display:flex;gap:6px}.tp-stats dt{color:#666}.tp-stats dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
.tp-heat{overflow-x:auto}
.tp-heatmap{border-collapse:separate;border-spacing:2px;font-size:12px;font-variant-numeric:tabular-nums}
.tp-heatmap th{font-weight:normal;color:#666;padding:2px 6px}
.tp-heatmap tbody th{text-align:right;color:#333}
.tp-heatmap td{min-width:54px;height:24px;text-align:center;padding:0 4px;border-radius:2px}
.tp-heatmap .tp-total{font-weight:600}
.tp-heatmap td.tp-total{border-left:6px solid #fff}
.tp-heatmap .tp-missing{background:#f2f2f2}
.tp-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:640px){
.tp-panel{padding:10px 8px}
.tp-chart{height:260px}.tp-chart.tp-tall{height:360px}.tp-short .tp-chart{height:200px}
.tp-legend{font-size:12px;gap:0 10px}
}
`;

export function ensureStyles(doc: Document): void {
  if (doc.getElementById('tradepulse-charts-style')) return;
  const style = doc.createElement('style');
  style.id = 'tradepulse-charts-style';
  style.textContent = CSS;
  doc.head.append(style);
}
