import { css } from 'lit';
import { cardStyles } from '../module/card.styles.js';

export const cameraStyles = [
  cardStyles,
  css`
    button[aria-pressed='true'] { background: #3a3012; border-color: #8a6d1e; }
  `,
];
