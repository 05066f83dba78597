// Box tool: drag to draw a rectangle; a click without a drag selects instead.

import { clampPoint, normRect, round2 } from "../geometry.js";

const MIN_SIZE = 2; // image px; smaller boxes are discarded

export function createBoxTool(ctx) {
  const { store } = ctx;
  let start = null;

  function clamped(x, y) {
    const s = store.get();
    return clampPoint(x, y, s.width, s.height);
  }

  return {
    name: "box",
    cursor: "crosshair",
    down(e, [x, y]) {
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
      const r = normRect(start[0], start[1], p[0], p[1]).map(round2);
      start = null;
      store.update({ draft: null });
      if (r[2] >= MIN_SIZE && r[3] >= MIN_SIZE) ctx.addShape({ kind: "box", bbox: r });
      else ctx.selectAt(x, y);
    },
    dblclick() {},
    key() {
      return false;
    },
    cancel() {
      start = null;
      if (store.get().draft) store.update({ draft: null });
    },
    leave() {
      if (!start && store.get().pointer) store.update({ pointer: null });
    },
  };
}
