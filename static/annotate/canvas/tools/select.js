// Select tool: click selects the topmost shape, drag moves it, the 8 handles
// resize a box, polygon vertices drag, a click on a polygon edge inserts a
// vertex there, Alt-click on a vertex deletes it (never below 3 points).
// A drag is one undo step: live moves are transient store updates and the
// gesture commits once on release with the shapes it started from. Locked
// shapes select but never move.

import {
  boxHandles, clampDelta, clampPoint, hitTest, imageToScreen, nearestEdge,
  resizeRect, round2, shapeBBox, translateShape,
} from "../geometry.js";
import { asHuman, visibility } from "../state.js";

const HANDLE_HIT = 7; // CSS px
const EDGE_HIT = 5; // CSS px
const DRAG_START = 3; // CSS px of movement before a press becomes a drag

const RESIZE_CURSORS = { nw: "nwse-resize", se: "nwse-resize", ne: "nesw-resize",
  sw: "nesw-resize", n: "ns-resize", s: "ns-resize", e: "ew-resize", w: "ew-resize" };

/** What the pointer is over on the selected shape: handle, vertex, edge, or null. */
function pickOnSelected(s, shape, sx, sy, x, y) {
  if (shape.kind === "box") {
    for (const h of boxHandles(shape.bbox)) {
      const [hx, hy] = imageToScreen(s.view, h.x, h.y);
      if (Math.abs(sx - hx) <= HANDLE_HIT && Math.abs(sy - hy) <= HANDLE_HIT) {
        return { mode: "resize", handle: h.name };
      }
    }
    return null;
  }
  let best = null;
  shape.points.forEach(([px, py], i) => {
    const [vx, vy] = imageToScreen(s.view, px, py);
    const d = Math.hypot(sx - vx, sy - vy);
    if (d <= HANDLE_HIT && (!best || d < best.d)) best = { mode: "vertex", vertex: i, d };
  });
  if (best) return best;
  const edge = nearestEdge(shape.points, x, y);
  if (edge.d * s.view.scale <= EDGE_HIT) return { mode: "edge", edge };
  return null;
}

export function createSelectTool(ctx) {
  const { store } = ctx;
  let g = null; // the gesture in progress

  function replace(s, index, shape) {
    const shapes = s.shapes.slice();
    shapes[index] = shape;
    return shapes;
  }

  function hoverCursor(s, x, y, sx, sy) {
    const sel = s.shapes[s.selected];
    const visible = visibility(s);
    if (sel && visible(sel) && !s.readOnly && !s.locked.has(sel.uid)) {
      const h = pickOnSelected(s, sel, sx, sy, x, y);
      if (h) return h.mode === "resize" ? RESIZE_CURSORS[h.handle]
        : h.mode === "vertex" ? "pointer" : "copy";
    }
    const i = hitTest(s.shapes, x, y, ctx.tol(4), visible, s.selected);
    if (i !== s.hover) store.update({ hover: i });
    const fixed = s.readOnly || (i >= 0 && s.locked.has(s.shapes[i].uid));
    return i >= 0 ? (fixed ? "pointer" : "move") : "default";
  }

  return {
    name: "select",
    cursor: "default",
    down(e, [x, y], [sx, sy]) {
      const s = store.get();
      const sel = s.shapes[s.selected];
      const visible = visibility(s);
      const base = { index: s.selected, start: [x, y], startS: [sx, sy], before: s.shapes,
        beforeSel: s.selected, moved: false, changed: false };
      if (sel && visible(sel) && !s.readOnly && !s.locked.has(sel.uid)) {
        const h = pickOnSelected(s, sel, sx, sy, x, y);
        if (h && h.mode === "vertex" && e.altKey) {
          if (sel.points.length > 3) {
            const points = sel.points.filter((_, i) => i !== h.vertex);
            store.commit(replace(s, s.selected, asHuman(sel, { points })));
          }
          return;
        }
        if (h && h.mode === "edge") {
          const { index, x: ex, y: ey } = h.edge;
          const points = sel.points.slice();
          points.splice(index + 1, 0, [round2(ex), round2(ey)]);
          const orig = asHuman(sel, { points });
          store.update({ shapes: replace(s, s.selected, orig) });
          g = { ...base, mode: "vertex", vertex: index + 1, orig, changed: true };
          return;
        }
        if (h) {
          g = { ...base, ...h, orig: sel };
          return;
        }
      }
      const i = hitTest(s.shapes, x, y, ctx.tol(4), visible, s.selected);
      if (i !== s.selected) store.update({ selected: i });
      if (i >= 0 && !s.readOnly && !s.locked.has(s.shapes[i].uid)) {
        g = { ...base, index: i, mode: "move", orig: s.shapes[i] };
      }
    },
    move(e, [x, y], [sx, sy]) {
      const s = store.get();
      if (!g) {
        ctx.setCursor(hoverCursor(s, x, y, sx, sy));
        return;
      }
      if (!g.moved && Math.hypot(sx - g.startS[0], sy - g.startS[1]) < DRAG_START) return;
      g.moved = true;
      const W = s.width, H = s.height;
      let shape;
      if (g.mode === "move") {
        const [dx, dy] = clampDelta(shapeBBox(g.orig), x - g.start[0], y - g.start[1], W, H);
        shape = translateShape(g.orig, dx, dy);
      } else if (g.mode === "resize") {
        const [px, py] = clampPoint(x, y, W, H);
        const r = resizeRect(g.orig.bbox, g.handle, px, py).map(round2);
        if (r[2] < 2 || r[3] < 2) return;
        shape = { ...g.orig, bbox: r };
      } else {
        const [px, py] = clampPoint(x, y, W, H);
        const points = g.orig.points.slice();
        points[g.vertex] = [round2(px), round2(py)];
        shape = { ...g.orig, points };
      }
      g.changed = true;
      store.update({ shapes: replace(s, g.index, asHuman(shape)) });
    },
    up() {
      if (!g) return;
      const gesture = g;
      g = null;
      if (gesture.changed) {
        store.commit(store.get().shapes, { before: gesture.before, beforeSelected: gesture.beforeSel,
          selected: gesture.index });
      }
    },
    dblclick() {},
    key(e) {
      if (g && e.key === "Escape") {
        this.cancel();
        return true;
      }
      return false;
    },
    cancel() {
      if (g && g.changed) store.update({ shapes: g.before });
      g = null;
    },
    leave() {
      if (!g && store.get().hover !== -1) store.update({ hover: -1 });
    },
  };
}
