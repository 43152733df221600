// Tests of frontend/theme.js (which theme the tab shows, and its colours).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import {
  DARK_CLASS,
  THEMES,
  chooseTheme,
  colors,
  followTheme,
  hostDarkMode,
  setTheme,
  theme,
  themeCss,
  themesFrom,
} from "../../frontend/theme.js";

const spec = JSON.parse(readFileSync(new URL("../../frontend/palette.json", import.meta.url)));

test("TensorBoard's dark-mode class decides when the page can be read", () => {
  assert.equal(chooseTheme({ hostDark: true, osDark: false }), "dark");
  assert.equal(chooseTheme({ hostDark: false, osDark: true }), "light");
  assert.equal(chooseTheme({ hostDark: true, osDark: true }), "dark");
  assert.equal(chooseTheme({ hostDark: false, osDark: false }), "light");
});

test("the OS preference decides when TensorBoard's page cannot be read", () => {
  assert.equal(chooseTheme({ hostDark: null, osDark: true }), "dark");
  assert.equal(chooseTheme({ hostDark: null, osDark: false }), "light");
});

/** A fake frame: its parent's body with a class list, matchMedia, MutationObserver. */
function fakeWindow({ hostClasses = [], osDark = false, crossOrigin = false, framed = true } = {}) {
  const classes = new Set(hostClasses);
  const observers = [];
  const mediaListeners = new Set();
  const body = { classList: { contains: (c) => classes.has(c) } };
  const parent = {};
  Object.defineProperty(parent, "document", {
    get() {
      if (crossOrigin) throw new Error("SecurityError: cross-origin frame");
      return { body };
    },
  });
  const query = {
    matches: osDark,
    addEventListener: (type, f) => type === "change" && mediaListeners.add(f),
    removeEventListener: (type, f) => mediaListeners.delete(f),
  };
  const win = {
    matchMedia: (q) => {
      assert.equal(q, "(prefers-color-scheme: dark)");
      return query;
    },
    MutationObserver: class {
      constructor(f) {
        this.f = f;
        this.on = false;
      }
      observe(target, opts) {
        assert.equal(target, body);
        assert.deepEqual(opts.attributeFilter, ["class"]);
        this.on = true;
        observers.push(this);
      }
      disconnect() {
        this.on = false;
      }
    },
  };
  win.parent = framed ? parent : win;
  return {
    win,
    setHost(dark) {
      if (dark) classes.add("dark-mode");
      else classes.delete("dark-mode");
      for (const o of observers) if (o.on) o.f([]);
    },
    setOs(dark) {
      query.matches = dark;
      for (const f of [...mediaListeners]) f({ matches: dark });
    },
    listeners: () => mediaListeners.size + observers.filter((o) => o.on).length,
  };
}

test("hostDarkMode reads the parent's body, or says it cannot", () => {
  assert.equal(hostDarkMode(fakeWindow({ hostClasses: ["dark-mode"] }).win), true);
  assert.equal(hostDarkMode(fakeWindow({ hostClasses: ["other"] }).win), false);
  assert.equal(hostDarkMode(fakeWindow({ crossOrigin: true }).win), null);
  assert.equal(hostDarkMode(fakeWindow({ framed: false }).win), null);
});

test("followTheme follows TensorBoard's class as it is toggled", () => {
  const f = fakeWindow({ osDark: true });
  const seen = [];
  const follow = followTheme(f.win, (t) => seen.push(t));
  assert.equal(follow.theme, "light", "TensorBoard in light mode wins over the OS");
  f.setHost(true);
  f.setHost(true); // no change: not reported again
  f.setHost(false);
  assert.deepEqual(seen, ["dark", "light"]);
  follow.stop();
  assert.equal(f.listeners(), 0);
  f.setHost(true);
  assert.deepEqual(seen, ["dark", "light"], "nothing after stop()");
});

test("followTheme follows the OS preference when the parent cannot be read", () => {
  const f = fakeWindow({ crossOrigin: true, osDark: true });
  const seen = [];
  const follow = followTheme(f.win, (t) => seen.push(t));
  assert.equal(follow.theme, "dark");
  f.setOs(false);
  f.setOs(true);
  assert.deepEqual(seen, ["light", "dark"]);
  follow.stop();
});

test("the light theme keeps the colours the tab always drew with", () => {
  const light = THEMES.light;
  assert.equal(light.axis, "#555555");
  assert.equal(light.plotBackground, "#fafafa");
  assert.equal(light.ink, "#333333");
  assert.equal(light.background, spec.special.background);
  assert.equal(light.nonfiniteOutline, null);
});

test("the dark theme: dark backgrounds, light text and axes with good contrast", () => {
  const dark = THEMES.dark;
  for (const key of Object.keys(THEMES.light)) assert.ok(key in dark, key);
  assert.ok(luminance(dark.pageBackground) < 0.05, "dark page");
  assert.ok(luminance(dark.plotBackground) < 0.06, "dark plots");
  assert.ok(luminance(dark.axis) > 0.5, "light axis text");
  // WCAG AA (4.5:1) for text on its background, in both themes.
  // (The light accent, TensorBoard's orange, stays as it was: 2.9:1 on white.)
  for (const fg of [dark.accent, dark.bad]) {
    assert.ok(contrast(fg, dark.pageBackground) >= 4.5, `${fg} on ${dark.pageBackground}`);
  }
  for (const t of [THEMES.light, dark]) {
    for (const fg of [t.text, t.muted, t.axis]) {
      assert.ok(contrast(fg, t.pageBackground) >= 4.5, `${fg} on ${t.pageBackground}`);
    }
    assert.ok(contrast(t.axis, t.plotBackground) >= 4.5, `${t.axis} on ${t.plotBackground}`);
    assert.ok(contrast(t.tooltipText, t.tooltipBackground.replace(/rgba\((\d+), (\d+), (\d+).*/, (_, r, g, b) => "#" + [r, g, b].map((x) => Number(x).toString(16).padStart(2, "0")).join(""))) >= 7);
  }
  assert.equal(dark.background, dark.pageBackground, "the flow view pads with the page");
});

test("data colours are the same in both themes (palette.json's maps untouched)", () => {
  assert.deepEqual(Object.keys(spec.dark).sort(), ["special", "ui"]);
  assert.deepEqual(Object.keys(spec.dark.special), ["background"]);
  assert.equal(spec.special.background, "#ffffff");
  assert.equal(spec.diverging[4], "#ffffff");
});

test("themesFrom overlays the dark section on the light colours", () => {
  const s = { ui: { axis: "#111111", page_background: "#fff" }, special: { background: "#fff" }, dark: { ui: { axis: "#eeeeee" } } };
  const t = themesFrom(s);
  assert.deepEqual(t.light, { background: "#fff", axis: "#111111", pageBackground: "#fff" });
  assert.deepEqual(t.dark, { background: "#fff", axis: "#eeeeee", pageBackground: "#fff" });
});

test("themeCss: custom properties on :root and :root.rg-dark", () => {
  const css = themeCss();
  assert.match(css, /^:root \{\n  color-scheme: light;\n/);
  assert.ok(css.includes(`:root.${DARK_CLASS} {\n  color-scheme: dark;`));
  assert.ok(css.includes("  --rg-page-background: #ffffff;"));
  assert.ok(css.includes("  --rg-page-background: #303030;"));
  assert.ok(css.includes("  --rg-tooltip-text: #212121;"));
  assert.ok(!css.includes("nonfinite-outline: null"), "null colours are left out");
  // every custom property style.css uses is defined
  const style = readFileSync(new URL("../../frontend/style.css", import.meta.url), "utf8");
  for (const [, name] of style.matchAll(/var\((--rg-[a-z-]+)\)/g)) {
    assert.ok(css.includes(`  ${name}: `), name);
  }
});

test("setTheme switches the colours canvases draw with", () => {
  assert.equal(theme(), "light");
  setTheme("dark");
  assert.equal(colors(), THEMES.dark);
  setTheme("light");
  assert.equal(colors(), THEMES.light);
  assert.throws(() => setTheme("blue"), /unknown theme "blue"/);
});

function channel(c) {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

function luminance(hex) {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(channel);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
