/**
 * The "copy link" control: copies TensorBoard's address, which carries the view
 * state (hash.js), and says whether it could. DOM view.
 * @module share
 */
import { el } from "./dom.js";

/** How long the "copied" note stays, ms. */
const NOTE_MS = 2500;

/**
 * @param {() => string} link Puts the state in the address and returns the URL.
 * @returns {HTMLElement} The control.
 */
export function createShare(link) {
  const note = el("span", { class: "rg-share-note", role: "status" });
  const url = el("input", {
    class: "rg-share-url",
    type: "text",
    readOnly: true,
    hidden: true,
    "aria-label": "Link to this view",
  });
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  async function copy() {
    const href = link();
    box.dataset.url = href;
    url.value = href;
    let copied = false;
    try {
      await navigator.clipboard.writeText(href);
      copied = true;
    } catch {
      copied = false; // no clipboard access here: show the link to copy by hand
    }
    url.hidden = copied;
    if (!copied) url.select();
    note.textContent = copied ? "Link copied" : "Copy this link:";
    clearTimeout(timer);
    if (copied) timer = setTimeout(() => (note.textContent = ""), NOTE_MS);
  }
  const button = el("button", {
    type: "button",
    id: "rg-copy-link",
    class: "rg-button",
    text: "Copy link",
    title: "Copy a link to this view (TensorBoard's address, with runs, layer, step and scale)",
    on: { click: copy },
  });
  const box = el("span", { class: "rg-share" }, button, " ", note, url);
  return box;
}
