import { css, unsafeCSS } from 'lit';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';

/** Styles of `<dmabuf-bench>`, uPlot's own included (its charts live in the shadow root). */
export const benchStyles = [
  unsafeCSS(uplotCss),
  css`
    :host { display: block; font: 14px/1.5 system-ui, sans-serif; color: #1d1d1f; max-width: 72rem; }
    header p { margin: 0.25rem 0; }
    fieldset { border: 1px solid #ccc; border-radius: 6px; display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; padding: 0.5rem 0.75rem; }
    label { white-space: nowrap; }
    .actions { display: flex; align-items: center; gap: 1rem; margin: 0.75rem 0; }
    button { font: inherit; padding: 0.35rem 1rem; }
    progress { width: 20rem; }
    .status { font-family: ui-monospace, monospace; font-size: 13px; }
    .error { color: #b00020; }
    section { margin: 1.5rem 0; }
    h2 { font-size: 1.1rem; margin: 0 0 0.25rem; }
    .measures { margin: 0 0 0.5rem; color: #555; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    th, td { padding: 0.15rem 0.6rem; text-align: right; border-bottom: 1px solid #eee; }
    th:nth-child(-n + 2), td:nth-child(-n + 2) { text-align: left; }
    tr.ours td { font-weight: 600; }
    .extras { font-size: 13px; color: #555; }
    .chart { margin-top: 0.75rem; }
    .stage { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-start; margin: 0.75rem 0; }
    .stage[hidden] { display: none; }
    .stage > * { width: 14rem; font-size: 12px; }
    .stage canvas { height: auto; }
  `,
];
