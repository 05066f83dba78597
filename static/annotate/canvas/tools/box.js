// Box tool: drag to draw a rectangle; a click without a drag selects instead.
// A press inside a model pre-annotation takes it (accepts it as it is) instead
// of starting a box; Shift+drag draws a new box anyway. Keyboard drawing: the
// arrows move a cross (10 px, Shift 1 px), Enter sets the first corner, the
// arrows size the box, Enter adds it; Escape cancels.

import { clampPoint, hitTest, normRect, round2 } from "../geometry.js";
import { isModel, visibility } from "../state.js";
import { arrowOf } from "../keyboard.js";

const MIN_SIZE = 2; // image px; smaller boxes are discarded

export function createBoxTool(ctx) {
  const { store } = ctx;
  let start = null;
  let corner = null; // keyboard drawing: the first corner

  function clamped(x, y) {
    const s = store.get();
    return clampPoint(x, y, s.width, s.height);
  }

  function modelAt(s, x, y) {
    const visible = visibility(s);
    return hitTest(s.shapes, x, y, ctx.tol(2),
      (sh) => isModel(sh) && visible(sh) && !s.locked.has(sh.uid));
  }

  function finish(a, b) {
    const r = normRect(a[0], a[1], b[0], b[1]).map(round2);
    if (r[2] >= MIN_SIZE && r[3] >= MIN_SIZE) {
      ctx.addShape({ kind: "box", bbox: r });
      return true;
    }
    return false;
  }

  function moveCursor(dx, dy, fine) {
    const s = store.get();
    const step = (fine ? 1 : 10) / s.view.scale;
    const from = s.kbCursor ||
      clamped((s.viewW / 2 - s.view.ox) / s.view.scale, (s.viewH / 2 - s.view.oy) / s.view.scale);
    const p = s.kbCursor ? clamped(from[0] + dx * step, from[1] + dy * step) : from;
    const patch = { kbCursor: p };
    if (corner) patch.draft = { kind: "box", bbox: normRect(corner[0], corner[1], p[0], p[1]) };
    store.update(patch);
  }

  return {
    name: "box",
    cursor: "crosshair",
    down(e, [x, y]) {
      const s = store.get();
      if (!e.shiftKey && !s.readOnly) {
        const i = modelAt(s, x, y);
        if (i >= 0) {
          ctx.take(i);
          return;
        }
      }
      start = clamped(x, y);
      store.update({ draft: { kind: "box", bbox: [start[0], start[1], 0, 0] }, pointer: start });
    },
    move(e, [x, y]) {
      const p = clamped(x, y);
      if (!start) {
        store.update({ pointer: p });
        return;
      }
      store.update({ pointer: p, draft: { kind: "box", bbox: normRect(start[0], start[1], p[0], p[1]) } });
    },
    up(e, [x, y]) {
      if (!start) return;
      const p = clamped(x, y);
      const from = start;
      start = null;
      store.update({ draft: null });
      if (!finish(from, p)) ctx.selectAt(x, y);
    },
    dblclick() {},
    key(e) {
      const s = store.get();
      const arrow = arrowOf(e.key);
      if (arrow && !e.ctrlKey && !e.metaKey && !e.altKey && s.selected < 0) {
        moveCursor(arrow[0], arrow[1], e.shiftKey);
        return true;
      }
      if (e.key === "Enter" && s.kbCursor && !e.shiftKey) {
        if (!corner) {
          corner = s.kbCursor;
          store.update({ draft: { kind: "box", bbox: [corner[0], corner[1], 0, 0] } });
        } else {
          const from = corner;
          corner = null;
          store.update({ draft: null });
          finish(from, s.kbCursor);
        }
        return true;
      }
      if (e.key === "Escape" && (corner || s.kbCursor)) {
        this.cancel();
        return true;
      }
      return false;
    },
    cancel() {
      start = null;
      corner = null;
      const s = store.get();
      if (s.draft || s.kbCursor) store.update({ draft: null, kbCursor: null });
    },
    leave() {
      if (!start && store.get().pointer) store.update({ pointer: null });
    },
  };
}
