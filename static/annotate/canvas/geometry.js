// Pure geometry in original-image pixels: hit testing, clamping, transforms.
// Shapes are treated as immutable: an edit makes a new object, which is what
// lets the bbox cache below (and the Path2D cache in render.js) key on identity.

export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

export function round2(v) {
  return Math.round(v * 100) / 100;
}

export function clampPoint(x, y, W, H) {
  return [clamp(x, 0, W), clamp(y, 0, H)];
}

/** [x, y, w, h] from two corners in any order. */
export function normRect(x0, y0, x1, y1) {
  return [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)];
}

/** Intersect a rect with the image. */
export function clampRect(r, W, H) {
  const x0 = clamp(r[0], 0, W), y0 = clamp(r[1], 0, H);
  const x1 = clamp(r[0] + r[2], 0, W), y1 = clamp(r[1] + r[3], 0, H);
  return normRect(x0, y0, x1, y1);
}

export function polygonBBox(points) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  if (minX === Infinity) return [0, 0, 0, 0];
  return [minX, minY, maxX - minX, maxY - minY];
}

export function polygonArea(points) {
  let a = 0;
  for (let i = 0, n = points.length; i < n; i++) {
    const [x1, y1] = points[i];
    const [x2, y2] = points[(i + 1) % n];
    a += x1 * y2 - x2 * y1;
  }
  return Math.abs(a) / 2;
}

const bboxCache = new WeakMap();

/** Axis-aligned bbox of a box or polygon shape, memoised per shape object. */
export function shapeBBox(shape) {
  let b = bboxCache.get(shape);
  if (!b) {
    b = shape.kind === "box" ? shape.bbox : polygonBBox(shape.points);
    bboxCache.set(shape, b);
  }
  return b;
}

export function pointInRect(px, py, r, tol = 0) {
  return px >= r[0] - tol && px <= r[0] + r[2] + tol &&
    py >= r[1] - tol && py <= r[1] + r[3] + tol;
}

/** Even-odd ray casting. */
export function pointInPolygon(px, py, points) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

/** Distance from P to segment AB, with t in [0,1] the projection parameter. */
export function distToSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / len2;
  t = clamp(t, 0, 1);
  const x = ax + t * dx, y = ay + t * dy;
  return { d: Math.hypot(px - x, py - y), t, x, y };
}

export function nearestVertex(points, px, py) {
  let best = { index: -1, d: Infinity };
  points.forEach(([x, y], i) => {
    const d = Math.hypot(px - x, py - y);
    if (d < best.d) best = { index: i, d };
  });
  return best;
}

/** Nearest edge of a closed polygon: edge i joins point i and point i+1. */
export function nearestEdge(points, px, py) {
  let best = { index: -1, d: Infinity, t: 0, x: 0, y: 0 };
  for (let i = 0, n = points.length; i < n; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[(i + 1) % n];
    const r = distToSegment(px, py, ax, ay, bx, by);
    if (r.d < best.d) best = { index: i, ...r };
  }
  return best;
}

/** Does (px, py) hit the shape? tol is in image pixels. Bbox test first. */
export function hitShape(shape, px, py, tol) {
  const b = shapeBBox(shape);
  if (!pointInRect(px, py, b, tol)) return false;
  if (shape.kind === "box") return true;
  return pointInPolygon(px, py, shape.points) || nearestEdge(shape.points, px, py).d <= tol;
}

/**
 * Index of the topmost shape under the point, or -1. Later shapes are drawn
 * on top; `preferred` (the selected shape, drawn above all) wins when hit.
 */
export function hitTest(shapes, px, py, tol, isVisible = () => true, preferred = -1) {
  if (preferred >= 0 && preferred < shapes.length && isVisible(shapes[preferred]) &&
      hitShape(shapes[preferred], px, py, tol)) {
    return preferred;
  }
  for (let i = shapes.length - 1; i >= 0; i--) {
    const s = shapes[i];
    if (isVisible(s) && hitShape(s, px, py, tol)) return i;
  }
  return -1;
}

/** The 8 resize handles of a rect, as {name, x, y}. */
export function boxHandles(r) {
  const [x, y, w, h] = r;
  const cx = x + w / 2, cy = y + h / 2, x1 = x + w, y1 = y + h;
  const pos = { nw: [x, y], n: [cx, y], ne: [x1, y], e: [x1, cy],
    se: [x1, y1], s: [cx, y1], sw: [x, y1], w: [x, cy] };
  return HANDLES.map((name) => ({ name, x: pos[name][0], y: pos[name][1] }));
}

/** The rect after dragging `handle` of r to (px, py); flips normalise. */
export function resizeRect(r, handle, px, py) {
  let x0 = r[0], y0 = r[1], x1 = r[0] + r[2], y1 = r[1] + r[3];
  if (handle.includes("w")) x0 = px;
  if (handle.includes("e")) x1 = px;
  if (handle.includes("n")) y0 = py;
  if (handle.includes("s")) y1 = py;
  return normRect(x0, y0, x1, y1);
}

/** Clamp a translation so the whole bbox stays inside the image. */
export function clampDelta(b, dx, dy, W, H) {
  return [clamp(dx, -b[0], W - b[0] - b[2]), clamp(dy, -b[1], H - b[1] - b[3])];
}

export function translateShape(shape, dx, dy) {
  if (shape.kind === "box") {
    const [x, y, w, h] = shape.bbox;
    return { ...shape, bbox: [round2(x + dx), round2(y + dy), w, h] };
  }
  return { ...shape, points: shape.points.map(([x, y]) => [round2(x + dx), round2(y + dy)]) };
}

// View transform: screen = image * scale + offset (CSS pixels of the stage).
export function imageToScreen(view, x, y) {
  return [x * view.scale + view.ox, y * view.scale + view.oy];
}

export function screenToImage(view, sx, sy) {
  return [(sx - view.ox) / view.scale, (sy - view.oy) / view.scale];
}

/** Zoom by `factor` keeping the image point under (sx, sy) fixed. */
export function zoomAt(view, sx, sy, factor, minScale = 0.01, maxScale = 64) {
  const scale = clamp(view.scale * factor, minScale, maxScale);
  const [ix, iy] = screenToImage(view, sx, sy);
  return { scale, ox: sx - ix * scale, oy: sy - iy * scale };
}

/** The view that shows the whole image centred in a viewW x viewH stage. */
export function fitView(W, H, viewW, viewH, margin = 16) {
  const scale = Math.max(0.01, Math.min((viewW - 2 * margin) / W, (viewH - 2 * margin) / H));
  return { scale, ox: (viewW - W * scale) / 2, oy: (viewH - H * scale) / 2 };
}
