// Segment tool (click-to-segment): a click asks the page's segmenter for the
// polygon of the object under the point (image pixels) and adds it as a human
// shape with the drawing label, undoable like any drawn shape. While the
// answer is on its way the canvas shows it is busy (data-segmenting, a wait
// cursor) and further clicks are ignored; an answer for an image no longer
// shown is dropped. `request(x, y, label)` resolves to the points or null
// (the page says why).

import { clampPoint } from "../geometry.js";

export function createSegmentTool(ctx, request, { root, imageToken }) {
  const { store } = ctx;
  let busy = false;

  function setBusy(on) {
    busy = on;
    if (on) root.dataset.segmenting = "1";
    else delete root.dataset.segmenting;
    ctx.setCursor(on ? "progress" : null);
  }

  return {
    name: "segment",
    cursor: "crosshair",
    down() {},
    move(e, [x, y]) {
      const s = store.get();
      store.update({ pointer: clampPoint(x, y, s.width, s.height) });
    },
    up(e, [x, y]) {
      const s = store.get();
      if (busy || s.readOnly || !request) return;
      if (x < 0 || y < 0 || x > s.width || y > s.height) return;
      const token = imageToken();
      const label = s.label;
      setBusy(true);
      Promise.resolve(request(Math.round(x * 100) / 100, Math.round(y * 100) / 100, label))
        .then((points) => {
          if (token !== imageToken() || !Array.isArray(points) || points.length < 3) return;
          ctx.addShape({ kind: "polygon", points: points.map(([px, py]) => [px, py]) }, label);
        })
        .finally(() => setBusy(false));
    },
    dblclick() {},
    key: () => false,
    cancel() {},
    leave() {
      if (store.get().pointer) store.update({ pointer: null });
    },
  };
}
