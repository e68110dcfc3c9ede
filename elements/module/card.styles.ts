import { css } from 'lit';

/** The look the pipeline modules share: a card with a title row, a status line and controls. */
export const cardStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
    color: var(--dmabuf-fg, #e8eaf0);
    background: var(--dmabuf-card, #1b1f2a);
    border: 1px solid var(--dmabuf-border, #2c3344);
    border-radius: 0.75rem;
    padding: 0.75rem 1rem;
    font: 14px/1.45 system-ui, sans-serif;
  }
  .title { display: flex; align-items: baseline; justify-content: space-between; gap: 0.5rem; margin: 0 0 0.35rem; }
  h2 { font-size: 0.95rem; margin: 0; letter-spacing: 0.02em; }
  .badge {
    font: 600 0.7rem/1.6 ui-monospace, monospace; text-transform: uppercase; letter-spacing: 0.05em;
    padding: 0 0.45rem; border-radius: 999px; background: #2c3344; color: #aab3c5; white-space: nowrap;
  }
  :host([status='running']) .badge { background: #0f3d2e; color: #5be3a7; }
  :host([status='failed']) .badge { background: #4a1620; color: #ff8da1; }
  .meta { margin: 0; color: var(--dmabuf-muted, #aab3c5); font-size: 0.8rem; }
  .meta code { color: var(--dmabuf-fg, #e8eaf0); }
  .notice { margin: 0.4rem 0 0; padding: 0.4rem 0.6rem; border-radius: 0.5rem; background: #3a3012; color: #ffd479; font-size: 0.8rem; }
  .error { margin: 0.4rem 0 0; padding: 0.4rem 0.6rem; border-radius: 0.5rem; background: #4a1620; color: #ffc2cd; font-size: 0.8rem; overflow-wrap: anywhere; }
  button, select {
    font: inherit; color: inherit; background: #262c3b; border: 1px solid #3b4458; border-radius: 0.45rem;
    padding: 0.3rem 0.7rem; cursor: pointer;
  }
  button:hover, select:hover { border-color: #6d7aa0; }
  button:focus-visible, select:focus-visible { outline: 2px solid #7aa2ff; outline-offset: 2px; }
  .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-top: 0.5rem; }
  label { font-size: 0.85rem; }
`;
