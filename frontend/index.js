/**
 * Entry point of the tb-rnngrad TensorBoard plugin. TensorBoard loads this module
 * in the plugin's iframe and calls render().
 * @module index
 */
import { createApi } from "./api.js";
import { createApp } from "./app.js";
import { el } from "./dom.js";

/**
 * Builds the whole plugin UI into document.body.
 * @returns {Promise<object>} The app (see app.js), once the first view is drawn.
 */
export async function render() {
  const link = el("link", { rel: "stylesheet", href: "./style.css" });
  document.head.append(link);
  const root = el("div", { class: "rg-app", id: "rg-app" });
  document.body.append(root);
  const app = createApp(root, createApi());
  window.rnngrad = app; // for benchmarks and debugging
  await app.start();
  return app;
}
