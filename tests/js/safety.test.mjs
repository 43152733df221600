// Static checks over frontend/: no HTML parsing sinks, no inline handlers, no
// absolute or remote URLs (TensorBoard serves plugins under a path prefix and its
// Content-Security-Policy allows no CDN).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";

const FRONTEND = fileURLToPath(new URL("../../frontend/", import.meta.url));

/** The files below `dir`, but not npm's node_modules (the dev-only type checker). */
function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    if (n === "node_modules") return [];
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const sources = files(FRONTEND).filter((p) => /\.(js|css|html)$/.test(p));

test("frontend has the expected modules", () => {
  const names = sources.map((p) => p.slice(FRONTEND.length));
  for (const n of ["index.js", "style.css", "api.js", "npy.js", "colormap.js", "state.js", "views/heatmap.js"]) {
    assert.ok(names.includes(n), n);
  }
});

test("no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval", () => {
  const sink = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\s*\(|new Function)\b/;
  for (const p of sources) {
    const text = readFileSync(p, "utf8");
    assert.ok(!sink.test(text), `${p} uses an HTML/JS parsing sink`);
  }
});

test("no remote or root-absolute URLs in imports, fetches or stylesheets", () => {
  let imports = 0;
  for (const p of sources) {
    const text = readFileSync(p, "utf8");
    assert.ok(!/https?:\/\//.test(text), `${p} references a remote URL`);
    const from = /^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"(?:\s+with\s*\{[^}]*\})?;$/gm;
    for (const m of text.matchAll(from)) {
      assert.ok(m[1].startsWith("./") || m[1].startsWith("../"), `${p}: import ${m[1]}`);
      imports++;
    }
    assert.ok(!/fetch\(\s*["'`]\//.test(text), `${p}: root-absolute fetch`);
  }
  assert.ok(imports > 30, `only ${imports} imports checked`);
});
