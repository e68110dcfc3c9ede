import { css } from 'lit';
import { cardStyles } from '../module/card.styles.js';

export const viewStyles = [
  cardStyles,
  css`
    figure { margin: 0; }
    .stage {
      display: grid; place-items: center; background: #0b0d12; border-radius: 0.5rem; overflow: hidden;
      min-height: 6rem;
    }
    canvas { display: block; width: 100%; height: auto; max-height: var(--dmabuf-view-max-height, 70vh); object-fit: contain; }
    .waiting { color: #6d7890; font-size: 0.85rem; padding: 2rem 1rem; }
    figcaption { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.25rem 1rem; margin-top: 0.4rem; }
  `,
];
