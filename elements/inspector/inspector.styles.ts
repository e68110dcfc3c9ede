import { css } from 'lit';
import { cardStyles } from '../module/card.styles.js';

export const inspectorStyles = [
  cardStyles,
  css`
    h3 { font-size: 0.85rem; margin: 0.9rem 0 0.35rem; color: var(--dmabuf-muted, #aab3c5); font-weight: 600; }
    .scroll { overflow-x: auto; border-radius: 0.5rem; border: 1px solid #2c3344; }
    .scroll:focus-visible { outline: 2px solid #7aa2ff; outline-offset: 2px; }
    table { border-collapse: collapse; width: 100%; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
    caption { text-align: left; }
    th, td { padding: 0.3rem 0.55rem; text-align: right; white-space: nowrap; border-bottom: 1px solid #262c3b; }
    th { position: sticky; top: 0; background: #232938; color: #c7cfdf; font-weight: 600; }
    th:first-child, td:first-child, .left { text-align: left; }
    tbody tr:last-child td { border-bottom: none; }
    tbody tr:hover { background: #20263a; }
    .zero { color: #5be3a7; }
    .nonzero { color: #ffd479; }
    .mapped { color: #7aa2ff; }
    .summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); gap: 0.5rem; margin-top: 0.3rem; }
    .stat { background: #151924; border: 1px solid #2c3344; border-radius: 0.5rem; padding: 0.45rem 0.6rem; }
    .stat b { display: block; font: 600 1.05rem/1.3 ui-monospace, monospace; }
    .stat span { font-size: 0.72rem; color: #8f99ad; }
    .empty { color: #6d7890; text-align: left; }
  `,
];
