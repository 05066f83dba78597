// Draws the image and shapes from the store on three stacked canvases,
// coalesced to one pass per animation frame:
//   bg      the image            (redrawn when the view or size changes)
//   base    every shape but the selected one (redrawn when those change)
//   over    selected shape, handles, hover, drawing in progress (every frame)
// Selecting repaints only `over` (the selected shape is drawn there on top of
// its copy in `base`); editing a shape "lifts" it out of `base` once (one
// repaint), so dragging, resizing or adding vertices repaints only `over`.
// Zoom and pan move the `bg` and `base` bitmaps with a CSS transform at once
// and repaint them sharp when the view has been still for SETTLE_MS.
// Captions are laid out without overlap (captions.js); in review, shapes
// edited since they were loaded get an amber outline and a marked caption.

import { captionOf, createGrid, drawCaption, placeCaption, textWidth } from "./captions.js";
import { shapeBBox } from "./geometry.js";
import { drawCrosshair, drawCursor, drawDraft, drawHandles } from "./overlay.js";
import { editState, isModel, UNKNOWN_COLOR, visibility } from "./state.js";

const FONT = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
const EDIT_COLOR = "#f59e0b";
const SETTLE_MS = 120;
const pathCache = new WeakMap();

function pathOf(shape) {
  let p = pathCache.get(shape);
  if (!p) {
    p = new Path2D();
    if (shape.kind === "box") {
      const [x, y, w, h] = shape.bbox;
      p.rect(x, y, w, h);
    } else {
      shape.points.forEach(([x, y], i) => (i ? p.lineTo(x, y) : p.moveTo(x, y)));
      p.closePath();
    }
    pathCache.set(shape, p);
  }
  return p;
}

export { captionOf };

/** Caption order: edited first (review), then human shapes, then model shapes
 *  by confidence, so the captions that matter most get the free spots. */
function captionRank(s, shape) {
  if (s.markEdits && editState(s, shape)) return 3;
  return isModel(shape) ? (shape.confidence ?? 0) : 2;
}

export function createRenderer(layers, store, { onRender } = {}) {
  const ctx = {
    bg: layers.bg.getContext("2d"),
    base: layers.base.getContext("2d"),
    over: layers.over.getContext("2d"),
  };
  let image = null;
  let prev = null;
  let raf = 0;
  let forceAll = true;
  let dpr = 1;
  let captions = []; // caption rectangles on `base` (CSS px), for onRender
  let lifted = -1; // the shape being edited: drawn on `over` only
  let drawnView = null; // the view `bg` and `base` were painted at
  let settleTimer = 0;
  let settleDue = false;

  const unsubscribe = store.subscribe(schedule);
  schedule();

  function schedule() {
    if (!raf) raf = requestAnimationFrame(frame);
  }

  /** The shape to keep out of `base`: the selected one once it is edited (the
   *  only shape that changed), until the selection moves elsewhere. */
  function nextLifted(s, p) {
    let l = lifted >= 0 && s.selected === lifted && lifted < s.shapes.length ? lifted : -1;
    const sel = s.selected;
    if (p && sel >= 0 && s.shapes !== p.shapes && s.shapes.length === p.shapes.length &&
        s.shapes[sel] !== p.shapes[sel]) {
      let others = false;
      for (let i = 0; i < s.shapes.length && !others; i++) {
        others = i !== sel && s.shapes[i] !== p.shapes[i];
      }
      if (!others) l = sel;
    }
    return l;
  }

  function baseChanged(s, p, keep) {
    if (s.labels !== p.labels || s.modelVisible !== p.modelVisible ||
        s.threshold !== p.threshold || s.hidden !== p.hidden || s.locked !== p.locked ||
        s.originals !== p.originals || s.markEdits !== p.markEdits) return true;
    if (s.shapes === p.shapes) return false;
    if (s.shapes.length !== p.shapes.length) return true;
    for (let i = 0; i < s.shapes.length; i++) {
      if (i !== keep && s.shapes[i] !== p.shapes[i]) return true;
    }
    return false;
  }

  function transformLayers(v) {
    const d = drawnView;
    const k = v.scale / d.scale;
    const css = `matrix(${k},0,0,${k},${v.ox - d.ox * k},${v.oy - d.oy * k})`;
    layers.bg.style.transform = layers.base.style.transform = css;
  }

  function settleLater() {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(() => {
      settleDue = true;
      schedule();
    }, SETTLE_MS);
  }

  function frame() {
    raf = 0;
    const t0 = performance.now();
    const s = store.get();
    const p = prev;
    const sized = !p || s.viewW !== p.viewW || s.viewH !== p.viewH ||
      dpr !== (window.devicePixelRatio || 1);
    if (sized) resize(s);
    const keep = nextLifted(s, p);
    const settle = settleDue;
    settleDue = false;
    let all = forceAll || sized || s.width !== p.width || s.height !== p.height ||
      (settle && drawnView !== s.view);
    let base = all || keep !== lifted || baseChanged(s, p, keep);
    lifted = keep;
    if (!all && drawnView !== s.view) {
      if (base) all = true; // repaint both at the new view
      else {
        transformLayers(s.view);
        settleLater();
      }
    }
    if (all) {
      clearTimeout(settleTimer);
      drawnView = s.view;
      layers.bg.style.transform = layers.base.style.transform = "";
      drawImageLayer(s);
      base = true;
    }
    if (base) drawBase(s);
    drawOverlay(s);
    forceAll = false;
    prev = s;
    if (onRender) onRender(performance.now() - t0, { all, base, captions, settle: settle && all });
  }

  function resize(s) {
    dpr = window.devicePixelRatio || 1;
    for (const c of Object.values(layers)) {
      c.width = Math.max(1, Math.round(s.viewW * dpr));
      c.height = Math.max(1, Math.round(s.viewH * dpr));
    }
  }

  function toImageSpace(c, s) {
    const { scale, ox, oy } = s.view;
    c.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * ox, dpr * oy);
  }

  function clear(c, s) {
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, s.viewW, s.viewH);
  }

  function drawImageLayer(s) {
    const c = ctx.bg;
    clear(c, s);
    toImageSpace(c, s);
    if (image) {
      c.imageSmoothingEnabled = s.view.scale < 2;
      c.drawImage(image, 0, 0, s.width, s.height);
    } else {
      c.fillStyle = "#555";
      c.fillRect(0, 0, s.width, s.height);
    }
  }

  const colorOf = (s, shape) => s.labelColors.get(shape.label) || UNKNOWN_COLOR;

  function strokeShape(c, s, shape, { width, fillAlpha }) {
    const scale = s.view.scale;
    const color = colorOf(s, shape);
    const path = pathOf(shape);
    if (fillAlpha) {
      c.globalAlpha = fillAlpha;
      c.fillStyle = color;
      c.fill(path);
      c.globalAlpha = 1;
    }
    c.setLineDash(isModel(shape) ? [6 / scale, 4 / scale] : []);
    c.lineWidth = width / scale;
    c.strokeStyle = color;
    c.stroke(path);
  }

  function captionText(s, shape, locked) {
    const mark = s.markEdits ? editState(s, shape) : "";
    return [captionOf(shape, mark) + (locked ? " · locked" : ""), mark];
  }

  function caption(c, s, shape, grid, opts = {}) {
    const [text, mark] = captionText(s, shape, opts.locked);
    const r = placeCaption(s.view, shape, textWidth(c, text), s.viewW, s.viewH, grid);
    if (r) {
      drawCaption(c, r, text, colorOf(s, shape),
        { alpha: opts.alpha ?? (isModel(shape) ? 0.7 : 0.9), mark });
    }
    return r;
  }

  function drawBase(s) {
    const c = ctx.base;
    clear(c, s);
    const { scale, ox, oy } = s.view;
    const vx0 = -ox / scale, vy0 = -oy / scale;
    const vx1 = vx0 + s.viewW / scale, vy1 = vy0 + s.viewH / scale;
    const visible = visibility(s);
    const drawn = [];
    // One path per colour and style: a few large draw calls instead of
    // hundreds of small ones (per-call overhead dominates in software 2D).
    const groups = new Map();
    for (let i = 0; i < s.shapes.length; i++) {
      const shape = s.shapes[i];
      if (i === lifted || !visible(shape)) continue;
      const b = shapeBBox(shape);
      if (b[0] > vx1 || b[1] > vy1 || b[0] + b[2] < vx0 || b[1] + b[3] < vy0) continue;
      const model = isModel(shape);
      const key = (model ? "m" : "h") + colorOf(s, shape);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { color: colorOf(s, shape), model, path: new Path2D() }));
      g.path.addPath(pathOf(shape));
      drawn.push(shape);
    }
    toImageSpace(c, s);
    c.lineJoin = "round";
    if (s.markEdits) {
      const edited = new Path2D();
      let any = false;
      for (const shape of drawn) {
        if (editState(s, shape)) {
          edited.addPath(pathOf(shape));
          any = true;
        }
      }
      if (any) {
        c.strokeStyle = EDIT_COLOR;
        c.lineWidth = 5 / scale;
        c.stroke(edited);
      }
    }
    c.lineWidth = 1.5 / scale;
    for (const g of groups.values()) {
      c.strokeStyle = c.fillStyle = g.color;
      if (!g.model) {
        c.globalAlpha = 0.1;
        c.fill(g.path);
        c.globalAlpha = 1;
      }
      c.setLineDash(g.model ? [6 / scale, 4 / scale] : []);
      c.stroke(g.path);
    }
    c.setLineDash([]);
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.font = FONT;
    const grid = createGrid();
    const ranked = drawn.map((shape) => [captionRank(s, shape), shape]);
    ranked.sort((x, y) => y[0] - x[0]);
    captions = [];
    for (const [, shape] of ranked) {
      const r = caption(c, s, shape, grid);
      if (r) captions.push(r);
    }
  }

  function drawOverlay(s) {
    const c = ctx.over;
    clear(c, s);
    const visible = visibility(s);
    const hover = s.shapes[s.hover];
    const sel = s.shapes[s.selected];
    const showHover = hover && s.hover !== s.selected && visible(hover);
    const showSel = sel && visible(sel);
    toImageSpace(c, s);
    c.lineJoin = "round";
    if (showHover) strokeShape(c, s, hover, { width: 3, fillAlpha: 0.15 });
    if (showSel) strokeShape(c, s, sel, { width: 3, fillAlpha: 0.28 });
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.setLineDash([]);
    c.font = FONT;
    if (showHover) caption(c, s, hover, null, { alpha: 1 });
    if (showSel) {
      const locked = s.locked.has(sel.uid);
      caption(c, s, sel, null, { alpha: 1, locked });
      if (!s.readOnly && !locked) drawHandles(c, s, sel, colorOf(s, sel));
    }
    if (s.draft) drawDraft(c, s);
    if (s.pointer && s.tool === "box" && !s.readOnly) drawCrosshair(c, s, s.pointer);
    if (s.kbCursor) {
      drawCrosshair(c, s, s.kbCursor);
      drawCursor(c, s, s.kbCursor);
    }
  }

  return {
    setImage(img) {
      image = img;
      forceAll = true;
      schedule();
    },
    redraw() {
      forceAll = true;
      schedule();
    },
    destroy() {
      clearTimeout(settleTimer);
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
    },
  };
}
