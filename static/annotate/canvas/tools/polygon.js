// Polygon tool: click to add points; close on the first point, Enter or
// double-click; Backspace removes the last point, Escape cancels.

import { clampPoint, imageToScreen, polygonArea, round2 } from "../geometry.js";

const CLOSE_RADIUS = 8; // CSS px around the first point that closes the polygon
const DOUBLE_CLICK_MS = 600;

export function createPolygonTool(ctx) {
  const { store } = ctx;
  let lastAdd = -Infinity;

  const draft = () => store.get().draft;

  function nearFirst(s, d, sx, sy) {
    if (!d || d.points.length < 3) return false;
    const [fx, fy] = imageToScreen(s.view, d.points[0][0], d.points[0][1]);
    return Math.hypot(sx - fx, sy - fy) <= CLOSE_RADIUS;
  }

  function close() {
    const d = draft();
    if (!d) return;
    const pts = [];
    for (const p of d.points) {
      const q = pts[pts.length - 1];
      if (!q || Math.hypot(p[0] - q[0], p[1] - q[1]) >= 0.5) pts.push([round2(p[0]), round2(p[1])]);
    }
    const f = pts[0], l = pts[pts.length - 1];
    if (pts.length > 3 && Math.hypot(f[0] - l[0], f[1] - l[1]) < 0.5) pts.pop();
    store.update({ draft: null });
    if (pts.length >= 3 && polygonArea(pts) >= 1) ctx.addShape({ kind: "polygon", points: pts });
  }

  function removeLast() {
    const d = draft();
    if (!d) return false;
    const points = d.points.slice(0, -1);
    store.update({ draft: points.length ? { ...d, points, closeHover: false } : null });
    return true;
  }

  return {
    name: "polygon",
    cursor: "crosshair",
    close,
    removeLast,
    down(e, [x, y], [sx, sy]) {
      const s = store.get();
      const d = s.draft;
      if (nearFirst(s, d, sx, sy)) {
        close();
        return;
      }
      if (d && d.points.length) {
        // The second click of a double-click lands on the last point: skip it.
        const last = d.points[d.points.length - 1];
        const [lx, ly] = imageToScreen(s.view, last[0], last[1]);
        if (Math.hypot(sx - lx, sy - ly) < 3 && e.timeStamp - lastAdd < DOUBLE_CLICK_MS) return;
      }
      lastAdd = e.timeStamp;
      const p = clampPoint(x, y, s.width, s.height);
      const points = d ? [...d.points, p] : [p];
      store.update({ draft: { kind: "polygon", points, cursor: p, closeHover: false } });
    },
    move(e, [x, y], [sx, sy]) {
      const s = store.get();
      const d = s.draft;
      if (!d) return;
      const cursor = clampPoint(x, y, s.width, s.height);
      store.update({ draft: { ...d, cursor, closeHover: nearFirst(s, d, sx, sy) } });
    },
    up() {},
    dblclick() {
      close();
    },
    key(e) {
      if (!draft()) return false;
      if (e.key === "Enter") close();
      else if (e.key === "Escape") store.update({ draft: null });
      else if (e.key === "Backspace") removeLast();
      else return false;
      return true;
    },
    cancel() {
      if (draft()) store.update({ draft: null });
    },
    leave() {},
  };
}
