import { cardStyles } from '../frame/card.styles.js';

export const filterStyles = [cardStyles];
