// Shape captions (label, confidence, review marks) laid out without overlap:
// each caption takes the first of a few spots around its shape that is on
// screen and free; one with no free spot is left out (hover or select the
// shape to read it). A coarse grid keeps the collision test cheap with
// thousands of shapes. Screen (CSS px) coordinates throughout.

import { imageToScreen, shapeBBox } from "./geometry.js";
import { isModel } from "./state.js";

export const CAPTION_H = 16;
const CELL = 64;
export const EDIT_MARK = { edited: " ✎", added: " +" };

export function captionOf(shape, mark = "") {
  const text = isModel(shape) && shape.confidence != null
    ? `${shape.label} ${shape.confidence.toFixed(2)}` : shape.label;
  return mark ? text + EDIT_MARK[mark] : text;
}

const widths = new Map();

export function textWidth(ctx, text) {
  let w = widths.get(text);
  if (w === undefined) {
    w = ctx.measureText(text).width;
    if (widths.size > 5000) widths.clear();
    widths.set(text, w);
  }
  return w + 6;
}

/** Occupied caption rectangles, bucketed by CELL-sized grid squares. */
export function createGrid() {
  const cells = new Map();
  const each = (r, fn) => {
    const cx0 = Math.floor(r[0] / CELL), cx1 = Math.floor((r[0] + r[2]) / CELL);
    const cy0 = Math.floor(r[1] / CELL), cy1 = Math.floor((r[1] + r[3]) / CELL);
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let cx = cx0; cx <= cx1; cx++) {
        if (fn(cx * 100003 + cy) === false) return false;
      }
    }
    return true;
  };
  const hit = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] &&
    a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
  return {
    free: (r) => each(r, (k) => !(cells.get(k) || []).some((o) => hit(o, r))),
    add(r) {
      each(r, (k) => {
        const list = cells.get(k);
        if (list) list.push(r);
        else cells.set(k, [r]);
      });
    },
  };
}

/** Candidate spots: above the top-left corner, inside it, below the bottom-left
 *  corner, above the top-right corner, inside the bottom-left corner. */
function spots(view, shape, w) {
  const b = shapeBBox(shape);
  const [x0, y0] = imageToScreen(view, b[0], b[1]);
  const x1 = x0 + b[2] * view.scale, y1 = y0 + b[3] * view.scale;
  return [[x0, y0 - CAPTION_H], [x0, y0], [x0, y1], [x1 - w, y0 - CAPTION_H],
    [x0, y1 - CAPTION_H]];
}

/** The caption's rectangle, or null when every spot is off screen or taken.
 *  Without a grid: the first on-screen spot, else the first spot clamped in. */
export function placeCaption(view, shape, w, viewW, viewH, grid = null) {
  const all = spots(view, shape, w);
  for (const [x, y] of all) {
    if (x < 0 || y < 0 || x + w > viewW || y + CAPTION_H > viewH) continue;
    const r = [x, y, w, CAPTION_H];
    if (!grid) return r;
    if (grid.free(r)) {
      grid.add(r);
      return r;
    }
  }
  if (grid) return null;
  const [x, y] = all[0];
  return [Math.max(0, Math.min(x, viewW - w)), Math.max(0, Math.min(y, viewH - CAPTION_H)),
    w, CAPTION_H];
}

function readableOn(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex || "");
  if (!m) return "#fff";
  const n = parseInt(m[1], 16);
  const lum = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 150 ? "#111" : "#fff";
}

/** Draw a caption box at r (ctx in CSS-px screen space, font set). */
export function drawCaption(c, r, text, color, { alpha = 0.9, mark = "" } = {}) {
  c.globalAlpha = alpha;
  c.fillStyle = color;
  c.fillRect(r[0], r[1], r[2], r[3]);
  c.globalAlpha = 1;
  if (mark) {
    c.strokeStyle = "#f59e0b";
    c.lineWidth = 2;
    c.strokeRect(r[0] - 1, r[1] - 1, r[2] + 2, r[3] + 2);
  }
  c.fillStyle = readableOn(color);
  c.fillText(text, r[0] + 3, r[1] + 12);
}
