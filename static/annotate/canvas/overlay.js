// The overlay's pieces, drawn in CSS-px screen space on the `over` layer:
// resize handles and vertices of the selected shape, the shape being drawn,
// the crosshair of the box tool and the keyboard drawing cross.

import { boxHandles, imageToScreen } from "./geometry.js";
import { UNKNOWN_COLOR } from "./state.js";

const HANDLE = 8; // handle size, CSS px

export function drawHandles(c, s, shape, color) {
  c.fillStyle = "#fff";
  c.strokeStyle = color;
  c.lineWidth = 1.5;
  c.setLineDash([]);
  const pts = shape.kind === "box"
    ? boxHandles(shape.bbox).map((h) => [h.x, h.y]) : shape.points;
  for (const [x, y] of pts) {
    const [sx, sy] = imageToScreen(s.view, x, y);
    c.beginPath();
    if (shape.kind === "box") c.rect(sx - HANDLE / 2, sy - HANDLE / 2, HANDLE, HANDLE);
    else c.arc(sx, sy, HANDLE / 2, 0, Math.PI * 2);
    c.fill();
    c.stroke();
  }
}

export function drawDraft(c, s) {
  const d = s.draft;
  const color = s.labelColors.get(s.label) || UNKNOWN_COLOR;
  c.strokeStyle = color;
  c.lineWidth = 1.5;
  c.setLineDash([4, 3]);
  if (d.kind === "box") {
    const [x, y] = imageToScreen(s.view, d.bbox[0], d.bbox[1]);
    c.strokeRect(x, y, d.bbox[2] * s.view.scale, d.bbox[3] * s.view.scale);
    return;
  }
  const pts = d.points.map(([x, y]) => imageToScreen(s.view, x, y));
  if (d.cursor) pts.push(imageToScreen(s.view, d.cursor[0], d.cursor[1]));
  c.beginPath();
  pts.forEach(([x, y], i) => (i ? c.lineTo(x, y) : c.moveTo(x, y)));
  c.stroke();
  c.setLineDash([]);
  c.fillStyle = "#fff";
  d.points.forEach(([x, y], i) => {
    const [sx, sy] = imageToScreen(s.view, x, y);
    const r = i === 0 && d.closeHover ? 7 : 3.5;
    c.beginPath();
    c.arc(sx, sy, r, 0, Math.PI * 2);
    c.fill();
    c.stroke();
  });
}

export function drawCrosshair(c, s, at) {
  const [x, y] = imageToScreen(s.view, at[0], at[1]);
  const [x0, y0] = imageToScreen(s.view, 0, 0);
  const [x1, y1] = imageToScreen(s.view, s.width, s.height);
  c.strokeStyle = "rgba(255,255,255,0.6)";
  c.lineWidth = 1;
  c.setLineDash([3, 3]);
  c.beginPath();
  c.moveTo(x0, y); c.lineTo(x1, y);
  c.moveTo(x, y0); c.lineTo(x, y1);
  c.stroke();
}

export function drawCursor(c, s, at) {
  const [x, y] = imageToScreen(s.view, at[0], at[1]);
  c.strokeStyle = "#fff";
  c.lineWidth = 1.5;
  c.setLineDash([]);
  c.beginPath();
  c.arc(x, y, 6, 0, Math.PI * 2);
  c.moveTo(x - 12, y); c.lineTo(x + 12, y);
  c.moveTo(x, y - 12); c.lineTo(x, y + 12);
  c.stroke();
}
