/**
 * Light and dark themes: which one the tab shows, and the colours of each. The tab
 * follows TensorBoard's dark mode (the `dark-mode` class on its page's body, read
 * through the same-origin parent), or the OS preference when the parent cannot be
 * read. Colours come from palette.json: "ui" holds the light ones, "dark" what
 * differs in the dark theme ("ui" colours and the flow view's padding
 * "special.background"); the data colour maps and NaN/Inf/masked colours are the
 * same in both. No DOM of its own: followTheme takes the window to watch.
 * @module theme
 */
import spec from "./palette.json" with { type: "json" };

/** Class TensorBoard puts on its page's body in dark mode. */
export const HOST_DARK_CLASS = "dark-mode";
/** Class on the tab's root element (<html>) while the dark theme is shown. */
export const DARK_CLASS = "rg-dark";
/** Media query of the OS preference. */
export const OS_DARK_QUERY = "(prefers-color-scheme: dark)";

/**
 * Colours of one theme, keyed as in palette.json's "ui" but in camelCase, plus
 * `background` (the flow view's padding, "special.background"). Strings are CSS
 * colours; `nonfiniteOutline` is null when NaN/Inf markers need no outline (the
 * index type cannot say that one key differs: test it before use, as scalar0d.js
 * does).
 * @typedef {Record<string, string>} ThemeColors
 */

/** @param {string} key snake_case. @returns {string} camelCase. */
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/**
 * @param {import("./palette.js").PaletteSpec} s A palette in the form of palette.json.
 * @returns {{light: ThemeColors, dark: ThemeColors}}
 */
export function themesFrom(s) {
  /**
   * @param {Record<string, string|null>} ui The theme's "ui" colours.
   * @param {{background?: string}} special Its "special" colours.
   * @returns {ThemeColors}
   */
  const build = (ui, special) => {
    /** @type {Record<string, any>} */
    const out = { background: special.background };
    for (const [k, v] of Object.entries(ui)) out[camel(k)] = v;
    return out;
  };
  /** @type {NonNullable<typeof s.dark>} */
  const dark = s.dark || {};
  return {
    light: build(s.ui, s.special),
    dark: build({ ...s.ui, ...dark.ui }, { ...s.special, ...dark.special }),
  };
}

/** The themes of palette.json. */
export const THEMES = themesFrom(spec);

/**
 * The theme to show.
 * @param {{hostDark: boolean|null, osDark: boolean}} signals hostDark: whether
 *   TensorBoard's page is in dark mode (null: unknown, page not readable); osDark:
 *   the OS preference.
 * @returns {"light"|"dark"} TensorBoard's choice when known (it already follows the
 *   OS when its own setting says so), else the OS preference.
 */
export function chooseTheme({ hostDark, osDark }) {
  if (hostDark === true || hostDark === false) return hostDark ? "dark" : "light";
  return osDark ? "dark" : "light";
}

/**
 * TensorBoard's page body, when this window is its same-origin frame.
 * @param {Window} win This frame's window.
 * @returns {HTMLElement|null}
 */
export function hostBody(win) {
  try {
    if (!win || !win.parent || win.parent === win) return null;
    return win.parent.document.body || null;
  } catch {
    return null; // another origin
  }
}

/**
 * @param {Window} win This frame's window.
 * @returns {boolean|null} Whether TensorBoard's page is in dark mode; null when it
 *   cannot be read (not framed, another origin).
 */
export function hostDarkMode(win) {
  const body = hostBody(win);
  return body ? body.classList.contains(HOST_DARK_CLASS) : null;
}

/**
 * Stylesheet text defining the page colours as custom properties
 * (`--rg-<ui key>`), the light theme on :root and the dark one on
 * `:root.rg-dark`, with the matching `color-scheme` (native controls, scroll bars).
 * @param {{light: ThemeColors, dark: ThemeColors}} [themes] Themes.
 * @returns {string}
 */
export function themeCss(themes = THEMES) {
  /** @type {(selector: string, t: ThemeColors, scheme: string) => string} */
  const block = (selector, t, scheme) => {
    const lines = Object.entries(t)
      .filter(([, v]) => typeof v === "string")
      .map(([k, v]) => `  --rg-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${v};`);
    return `${selector} {\n  color-scheme: ${scheme};\n${lines.join("\n")}\n}`;
  };
  return `${block(":root", themes.light, "light")}\n${block(`:root.${DARK_CLASS}`, themes.dark, "dark")}\n`;
}

/** @type {"light"|"dark"} */
let current = "light";

/**
 * Sets the theme the views draw with (see colors()).
 * @param {"light"|"dark"} name Theme.
 */
export function setTheme(name) {
  if (!(name in THEMES)) throw new Error(`unknown theme "${name}"; use "light" or "dark"`);
  current = name;
}

/** @returns {"light"|"dark"} The theme the views draw with. */
export function theme() {
  return current;
}

/** @returns {ThemeColors} Colours of the current theme, for canvases. */
export function colors() {
  return THEMES[current];
}

/**
 * Watches TensorBoard's dark-mode class (a MutationObserver on its body) and the
 * OS preference (matchMedia), and reports the theme to show whenever it changes.
 * @param {Window} win This frame's window.
 * @param {(name: "light"|"dark") => void} onChange Called with each new theme.
 * @returns {{theme: "light"|"dark", stop: () => void}} The theme now; stop() ends
 *   the watching.
 */
export function followTheme(win, onChange) {
  const query = typeof win.matchMedia === "function" ? win.matchMedia(OS_DARK_QUERY) : null;
  const now = () =>
    chooseTheme({ hostDark: hostDarkMode(win), osDark: Boolean(query && query.matches) });
  let last = now();
  const check = () => {
    const next = now();
    if (next === last) return;
    last = next;
    onChange(next);
  };
  /** @type {Array<() => void>} */
  const stops = [];
  if (query && typeof query.addEventListener === "function") {
    query.addEventListener("change", check);
    stops.push(() => query.removeEventListener("change", check));
  }
  const body = hostBody(win);
  const own = /** @type {{MutationObserver?: typeof MutationObserver}} */ (win).MutationObserver;
  const Observer = body && (own || globalThis.MutationObserver);
  if (Observer) {
    const observer = new Observer(check);
    observer.observe(body, { attributes: true, attributeFilter: ["class"] });
    stops.push(() => observer.disconnect());
  }
  return { theme: last, stop: () => stops.forEach((f) => f()) };
}
