// Tests of frontend/layout.js.
import assert from "node:assert/strict";
import test from "node:test";

import {
  cellGeometry,
  chartGrid,
  formatValue,
  hitCell,
  hitTile,
  indexTicks,
  readoutValue,
  tileGrid,
} from "../../frontend/layout.js";

const M = { left: 40, top: 4, right: 4, bottom: 16 };

test("cellGeometry fits integer cells into the width and height", () => {
  const g = cellGeometry({ cols: 200, rows: 64, availWidth: 844, maxPlotHeight: 360, margin: M });
  assert.equal(g.cellW, 4); // floor(800 / 200)
  assert.equal(g.cellH, 5); // floor(360 / 64)
  assert.equal(g.width, 40 + 800 + 4);
  assert.equal(g.height, 4 + 320 + 16);
  assert.deepEqual([g.x, g.y], [40, 4]);
});

test("cellGeometry never drops below 1 px and caps large cells", () => {
  const wide = cellGeometry({ cols: 5000, rows: 2000, availWidth: 600, maxPlotHeight: 300, margin: M });
  assert.deepEqual([wide.cellW, wide.cellH], [1, 1]);
  assert.equal(wide.width, 40 + 5000 + 4, "wide data scrolls instead of losing cells");
  const small = cellGeometry({ cols: 3, rows: 2, availWidth: 600, maxPlotHeight: 300, maxCell: 16, margin: M });
  assert.deepEqual([small.cellW, small.cellH], [16, 16]);
});

test("tileGrid wraps tiles into rows", () => {
  const t = tileGrid(5, 100, 50, 330, 10);
  assert.equal(t.cols, 3);
  assert.equal(t.rows, 2);
  assert.deepEqual(t.origins, [
    [0, 0],
    [110, 0],
    [220, 0],
    [0, 60],
    [110, 60],
  ]);
  assert.equal(t.width, 320);
  assert.equal(t.height, 110);
  assert.equal(tileGrid(3, 500, 50, 100).cols, 1, "at least one column");
});

test("chartGrid widens charts to fill the row", () => {
  const c = chartGrid(64, 1000, 120, 60, 6);
  assert.equal(c.grid.cols, 7);
  assert.equal(c.chartW, Math.floor((1000 - 6 * 6) / 7));
  assert.equal(c.grid.rows, 10);
});

test("hitCell finds tile, column and row; misses outside plots", () => {
  const g = cellGeometry({ cols: 10, rows: 4, availWidth: 144, maxPlotHeight: 40, margin: M });
  assert.deepEqual([g.cellW, g.cellH], [10, 10]);
  const origins = [
    [0, 0],
    [200, 0],
  ];
  assert.deepEqual(hitCell(g, origins, 40, 4), { tile: 0, col: 0, row: 0 });
  assert.deepEqual(hitCell(g, origins, 40 + 35, 4 + 39), { tile: 0, col: 3, row: 3 });
  assert.deepEqual(hitCell(g, origins, 200 + 40 + 99, 4), { tile: 1, col: 9, row: 0 });
  assert.equal(hitCell(g, origins, 39, 10), null, "in the margin");
  assert.equal(hitCell(g, origins, 40 + 100, 10), null, "right of the plot");
  assert.deepEqual(hitTile(origins, 50, 50, 210, 20), { tile: 1, x: 10, y: 20 });
  assert.equal(hitTile(origins, 50, 50, 100, 20), null);
});

test("indexTicks picks 1-2-5 steps at least minSpacing apart", () => {
  assert.deepEqual(indexTicks(5, 40, 36), [0, 1, 2, 3, 4]);
  assert.deepEqual(indexTicks(10, 20, 36), [0, 2, 4, 6, 8]);
  assert.deepEqual(indexTicks(200, 4, 36), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190]);
  assert.deepEqual(indexTicks(1000, 1, 36), [0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600, 650, 700, 750, 800, 850, 900, 950]);
});

test("formatValue", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(0.012345), "0.0123");
  assert.equal(formatValue(-2.5), "-2.5");
  assert.equal(formatValue(1.5e-7), "1.50e-7");
  assert.equal(formatValue(123456), "1.23e5");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(-Infinity), "-Inf");
});

test("readoutValue keeps integers whole and trims decimals", () => {
  assert.equal(readoutValue(-1), "-1");
  assert.equal(readoutValue(0.25), "0.25");
  assert.equal(readoutValue(12000), "12000");
  assert.equal(readoutValue(100), "100");
  assert.equal(readoutValue(1.5e-7), "1.5e-7");
  assert.equal(readoutValue(1e21), "1e+21");
  assert.equal(readoutValue(0.123456789), "0.12346");
  assert.equal(readoutValue(0), "0");
  assert.equal(readoutValue(NaN), "NaN");
  assert.equal(readoutValue(Infinity), "+Inf");
  assert.equal(readoutValue(-Infinity), "-Inf");
});
