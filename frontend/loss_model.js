/**
 * Each run's latest loss (the `losses` route) as the compare view's column shows
 * it: the validation loss where there is one, else the training loss. Pure.
 * @module loss_model
 */
import { formatValue } from "./layout.js";

/** Splits in the order the column prefers them. */
const SPLITS = ["named", "validation", "train"];

/**
 * @param {Record<string, {run: string, tag: string, step: number, value: number}>|null|undefined} entry
 *   One run's answer: {split: {run, tag, step, value}} (null: none logged).
 * @returns {{text: string, title: string, value: number|null}} The cell: "–" when
 *   the run has no loss (unknown: ""); its title says where it was read.
 */
export function lossCell(entry) {
  if (!entry || typeof entry !== "object") return { text: entry === undefined ? "" : "–", title: "", value: null };
  for (const split of SPLITS) {
    const e = entry[split];
    if (e && typeof e.value === "number" && Number.isFinite(e.value)) {
      const which = split === "named" ? "" : split === "validation" ? " (val)" : " (train)";
      return {
        text: `${formatValue(e.value)}${which}`,
        title: `${e.tag} of run ${e.run} at step ${e.step}`,
        value: e.value,
      };
    }
  }
  return { text: "–", title: "no loss scalar found (epoch_loss, epoch_val_loss, loss)", value: null };
}
