import { cardStyles } from '../module/card.styles.js';

export const filterStyles = [cardStyles];
