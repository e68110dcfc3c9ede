// TypeDoc plugin: the reference works when opened from files (file://). TypeDoc's pages draw
// their icons with `<use href="../assets/icons.svg#icon-…">`, a file a page opened from
// file:// may not load (Chromium logs an error for each icon). The same icons are in
// assets/icons.js, which every page loads as a script and which adds them to the page: each
// `<use>` names the icon in the page itself (`#icon-…`), served or not.
import { PageEvent } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.on(PageEvent.END, (page) => {
    if (page.contents !== undefined) page.contents = page.contents.replace(/href="(?:\.\.\/)*assets\/icons\.svg#/g, 'href="#');
  });
}
