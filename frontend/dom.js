/**
 * Tiny DOM builder. Text goes in only through textContent / text nodes, never
 * HTML parsing, so run names, tag names and server messages cannot inject markup.
 * @module dom
 */

/**
 * A child for el() / append(): a node, a string added as text, or nothing (null,
 * undefined, false are skipped); arrays are flattened one level.
 * @typedef {Node|string|null|undefined|false} Child
 */

/**
 * Creates an element.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag Tag name.
 * @param {Record<string, any>} [props] `class`, `text` (textContent), `on`
 *   ({event: handler}), `dataset`, `style` (object), any other key set as a property
 *   (e.g. type, value, checked, title) or, for aria-* / role / for, as an attribute.
 * @param {...(Child|Child[])} children Nodes, or strings added as text.
 * @returns {HTMLElementTagNameMap[K]} The element, typed by its tag (`el("canvas")`
 *   is an HTMLCanvasElement).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = String(v);
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("aria-") || k === "role" || k === "for") node.setAttribute(k, v);
    else /** @type {Record<string, any>} */ (/** @type {unknown} */ (node))[k] = v;
  }
  append(node, children);
  return node;
}

/**
 * Appends children; strings become text nodes.
 * @param {ParentNode} node Parent.
 * @param {Array<Child|Child[]>} children Children.
 */
export function append(node, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/**
 * Removes all children and appends new ones.
 * @param {ParentNode} node Parent.
 * @param {...(Child|Child[])} children New children.
 */
export function replaceChildren(node, ...children) {
  while (node.firstChild) node.removeChild(node.firstChild);
  append(node, children);
}
