/**
 * What the plugin shows when no run has gradient data yet.
 * @module empty
 */
import { el } from "./dom.js";

export const QUICKSTART = [
  "import tb_rnngrad",
  'logger = tb_rnngrad.GradientLogger("logs/run1", data=(x_val, y_val))',
  "model.fit(x, y, callbacks=[logger])",
  "# then: tensorboard --logdir logs",
].join("\n");

/** @returns {HTMLElement} The empty state with the lines of Python to start logging. */
export function emptyState() {
  return el(
    "div",
    { class: "rg-empty" },
    el("h2", { text: "No RNN gradient data was found." }),
    el("p", {
      text:
        "Log the gradients of your recurrent layers with the GradientLogger callback, " +
        "then reload this page:",
    }),
    el("pre", { class: "rg-code" }, el("code", { text: QUICKSTART })),
  );
}
