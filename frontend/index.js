/**
 * Entry point of the tb-rnngrad TensorBoard plugin. TensorBoard loads this module
 * in the plugin's iframe and calls render().
 * @module index
 */
import { createApi } from "./api.js";
import { createApp } from "./app.js";
import { el } from "./dom.js";
import { DARK_CLASS, followTheme, setTheme, themeCss } from "./theme.js";

/**
 * Builds the whole plugin UI into document.body.
 * @returns {Promise<ReturnType<typeof createApp>>} The app (see app.js), once the
 *   first view is drawn.
 */
export async function render() {
  const colours = el("style", { id: "rg-theme", text: themeCss() });
  const link = el("link", { rel: "stylesheet", href: "./style.css" });
  document.head.append(colours, link);
  /** @type {ReturnType<typeof createApp>|null} */
  let app = null;
  const follow = followTheme(window, (name) => {
    showTheme(name);
    if (app) app.refresh(); // canvases take their colours when drawn
  });
  showTheme(follow.theme);
  const root = el("div", { class: "rg-app", id: "rg-app" });
  document.body.append(root);
  app = createApp(root, createApi());
  /** @type {any} */ (window).rnngrad = app; // for benchmarks and debugging
  await app.start();
  return app;
}

/**
 * Shows theme `name`: page colours (the root's class) and canvases' (theme.js).
 * @param {"light"|"dark"} name Theme.
 */
function showTheme(name) {
  setTheme(name);
  document.documentElement.classList.toggle(DARK_CLASS, name === "dark");
  document.documentElement.dataset.theme = name;
}
