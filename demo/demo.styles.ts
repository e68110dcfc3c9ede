import { css } from 'lit';

export const demoStyles = css`
  :host {
    display: block;
    color: #e8eaf0;
    font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif;
  }
  header { display: grid; gap: 0.75rem; margin-bottom: 1rem; }
  h1 { margin: 0; font-size: clamp(1.35rem, 4vw, 1.9rem); letter-spacing: -0.01em; }
  h1 span { color: #7aa2ff; }
  .lede { margin: 0; color: #aab3c5; max-width: 52rem; }
  .lede code { color: #e8eaf0; }
  .pipeline { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; margin: 0; padding: 0; list-style: none; font-size: 0.82rem; }
  .pipeline li { padding: 0.2rem 0.65rem; border-radius: 999px; background: #1b1f2a; border: 1px solid #2c3344; }
  .pipeline li.arrow { background: none; border: none; color: #6d7890; padding: 0; }
  fieldset {
    display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0 0 1rem; padding: 0.6rem 0.8rem;
    border: 1px solid #2c3344; border-radius: 0.75rem; background: #151924;
  }
  legend { padding: 0 0.35rem; font-size: 0.82rem; color: #aab3c5; }
  .choice { position: relative; display: flex; }
  .choice input { position: absolute; opacity: 0; inset: 0; margin: 0; cursor: pointer; }
  .choice label {
    padding: 0.4rem 0.8rem; border-radius: 0.5rem; border: 1px solid #3b4458; background: #1b1f2a; cursor: pointer;
    font-size: 0.88rem;
  }
  .choice label small { display: block; color: #8f99ad; font-size: 0.74rem; }
  .choice input:checked + label { border-color: #7aa2ff; background: #1d2a4a; }
  .choice input:focus-visible + label { outline: 2px solid #7aa2ff; outline-offset: 2px; }
  .busy { align-self: center; font-size: 0.8rem; color: #ffd479; }
  .transport { align-self: center; font-size: 0.8rem; color: #aab3c5; }
  .transport code { color: #e8eaf0; }
  .grid { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
  .side { display: grid; gap: 1rem; align-content: start; }
  @media (min-width: 56rem) {
    .grid { grid-template-columns: minmax(0, 2fr) minmax(17rem, 1fr); }
    dmabuf-inspector { grid-column: 1 / -1; }
  }
  .nogpu { padding: 1rem 1.2rem; border-radius: 0.75rem; background: #4a1620; color: #ffd9e0; }
  .nogpu h2 { margin: 0 0 0.4rem; font-size: 1.1rem; }
  .nogpu code { color: #fff; }
  .nogpu ul { margin: 0.4rem 0 0; padding-left: 1.2rem; }
`;
