// mountCanvas(root, options): builds the annotation canvas inside `root`,
// wires store, renderer, tools, view, keyboard, shape list and key sheet, and
// returns the API (api.js). The page hears changes through CustomEvents on
// `root`: shapesChanged {shapes}, selectionChanged {index, shape}, toolChanged
// {tool}, labelChanged {label}, drawingChanged {drawing}, modelFilterChanged
// {threshold, modelVisible}, imageLoaded {width, height}.
//
// options: imageUrl or image (an already decoded <img>), width, height, labels,
// shapes, readOnly, tool, label, threshold, modelVisible, markEdits (mark shapes
// changed since loaded: review), keyScope (an element whose buttons also pass
// keys to the canvas), pageKeys (extra [group, [[key, what]]] for the key
// sheet), onRender(ms, layers) (benchmarks), segment ({enabled, off,
// request(x, y, label) -> points or null}: the Segment tool; without it, or
// not enabled, the tool's button is disabled with `off` as its title).

import { createApi } from "./api.js";
import { createEdits } from "./edits.js";
import { hitTest } from "./geometry.js";
import { createHelp } from "./help.js";
import { createKeyboard, KEYMAP } from "./keyboard.js";
import { createRenderer } from "./render.js";
import { createShapeList } from "./shapelist.js";
import { createStore, fromRest, newUid, normaliseLabels, toRest, visibility } from "./state.js";
import { createToolbar } from "./toolbar.js";
import { createBoxTool } from "./tools/box.js";
import { createPolygonTool } from "./tools/polygon.js";
import { createSegmentTool } from "./tools/segment.js";
import { createSelectTool } from "./tools/select.js";
import { createView } from "./view.js";

export { KEYMAP };
export const TOOLS = ["box", "polygon", "select", "segment"];

export function mountCanvas(root, options = {}) {
  const {
    width = 0, height = 0, labels = [], shapes = [], readOnly = false, onRender,
    markEdits = false, keyScope = null, pageKeys = [], segment = null,
  } = options;
  const canSegment = !readOnly && !!(segment && segment.enabled && segment.request);
  const tools_ = canSegment ? TOOLS : TOOLS.filter((t) => t !== "segment");
  const labelList = normaliseLabels(labels);
  const initialLabel = labelList.some((l) => l.name === options.label) ? options.label
    : labelList.length ? labelList[0].name : null;
  const initialTool = readOnly ? "select" : tools_.includes(options.tool) ? options.tool : "box";
  const store = createStore({
    width: width || 1, height: height || 1, labels: labelList, label: initialLabel,
    shapes: shapes.map(fromRest), tool: initialTool, readOnly, markEdits,
    threshold: Math.min(1, Math.max(0, Number(options.threshold) || 0)),
    modelVisible: options.modelVisible !== false,
  });

  // DOM ------------------------------------------------------------------
  root.replaceChildren();
  root.classList.add("alc-root");
  const api = {};
  const focus = () => stage.focus({ preventScroll: true });
  const chrome = createToolbar(labelList, readOnly, {
    setTool: (t) => api.setTool(t), undo: () => api.undo(), redo: () => api.redo(),
    fit: () => api.fit(), zoom: (f) => api.zoom(f), zoomTo: (v) => api.zoomTo(v),
    acceptAll: () => api.acceptAllModel(), acceptSelected: () => api.acceptSelected(),
    setModelVisible: (v) => api.setModelVisible(v),
    setThreshold: (t) => api.setConfidenceThreshold(t), setLabel: (n) => api.setLabel(n),
    help: () => help.open(), refocus: focus,
    segment: { enabled: canSegment, off: (segment && segment.off) || "Segment: not available" },
  });
  const body = document.createElement("div");
  body.className = "alc-body";
  const stage = document.createElement("div");
  stage.className = "alc-stage";
  // The layout the canvas needs is inline too: canvas.css may load late or
  // not at all, and without it the canvases size the stage, which sizes the
  // canvases, and the stage grows without bound (33,554,432 px measured).
  Object.assign(stage.style, {
    position: "relative", overflow: "hidden", minWidth: "0", minHeight: "240px",
  });
  stage.tabIndex = 0;
  stage.dataset.testid = "stage";
  stage.setAttribute("role", "application");
  stage.setAttribute("aria-label", "Annotation canvas. Press ? for the keys.");
  const layers = {};
  for (const name of ["bg", "base", "over"]) {
    layers[name] = document.createElement("canvas");
    layers[name].dataset.layer = name;
    Object.assign(layers[name].style, {
      position: "absolute", inset: "0", width: "100%", height: "100%", display: "block",
      transformOrigin: "0 0",
    });
    stage.append(layers[name]);
  }
  layers.over.dataset.testid = "canvas";
  const side = document.createElement("aside");
  side.className = "alc-side";
  side.append(chrome.labelPicker);
  body.append(stage, side);
  root.append(chrome.toolbar, body);
  const help = createHelp(root, [...KEYMAP, ...pageKeys], { onClose: focus });

  const setCursor = (c) => {
    stage.style.cursor = c || tools[store.get().tool].cursor;
  };
  const emit = (type, detail) =>
    root.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));

  // Tools ----------------------------------------------------------------
  const edits = createEdits(store);
  const toolCtx = {
    store,
    tol: (px) => px / store.get().view.scale,
    setCursor,
    /** A drawn shape is added unselected: the next label key sets the label
     *  of the next shape, as in Label Studio, instead of relabelling this one. */
    addShape(geom, asLabel) {
      const s = store.get();
      const label = asLabel ?? s.label ?? "object";
      const shape = {
        ...geom, label, source: "human", confidence: null, id: null, author: null, uid: newUid(),
      };
      store.commit([...s.shapes, shape], { selected: -1 });
    },
    take: (i) => edits.acceptAt(i),
    selectAt(x, y) {
      const s = store.get();
      store.update({ selected: hitTest(s.shapes, x, y, toolCtx.tol(4), visibility(s), s.selected) });
    },
  };
  const tools = {
    box: createBoxTool(toolCtx),
    polygon: createPolygonTool(toolCtx),
    select: createSelectTool(toolCtx),
    segment: createSegmentTool(toolCtx, canSegment ? segment.request : null, {
      root, imageToken: () => imageToken,
    }),
  };
  const tool = () => tools[store.get().tool];

  const view = createView(stage, store, { setCursor });
  const renderer = createRenderer(layers, store, { onRender });
  const list = createShapeList(side, store, {
    onSelect: (i) => edits.select(i), onToggleHidden: (i) => edits.toggleHidden(i),
    onToggleLocked: (i) => edits.toggleLocked(i), onDelete: (i) => edits.deleteAt(i),
    refocus: focus,
  });

  function coords(e) {
    const r = stage.getBoundingClientRect();
    const sx = e.clientX - r.left, sy = e.clientY - r.top;
    const v = store.get().view;
    return [[(sx - v.ox) / v.scale, (sy - v.oy) / v.scale], [sx, sy]];
  }
  let pressed = false;
  const onDown = (e) => {
    focus();
    if (e.button !== 0) return;
    pressed = true;
    if (store.get().kbCursor) store.update({ kbCursor: null });
    stage.setPointerCapture(e.pointerId);
    tool().down(e, ...coords(e));
  };
  const onMove = (e) => tool().move(e, ...coords(e));
  const onUp = (e) => {
    if (!pressed || e.button !== 0) return;
    pressed = false;
    if (stage.hasPointerCapture(e.pointerId)) stage.releasePointerCapture(e.pointerId);
    tool().up(e, ...coords(e));
  };
  const onCancel = () => {
    pressed = false;
    tool().cancel();
  };
  const onDbl = (e) => tool().dblclick(e, ...coords(e));
  const onLeave = () => tool().leave();
  const noMenu = (e) => e.preventDefault();
  const listeners = [["pointerdown", onDown], ["pointermove", onMove], ["pointerup", onUp],
    ["pointercancel", onCancel], ["dblclick", onDbl], ["pointerleave", onLeave],
    ["contextmenu", noMenu]];
  for (const [type, fn] of listeners) stage.addEventListener(type, fn);

  // Size -----------------------------------------------------------------
  function measure() {
    const r = stage.getBoundingClientRect();
    const s = store.get();
    if (r.width === s.viewW && r.height === s.viewH) return;
    store.update({ viewW: r.width, viewH: r.height });
    if (view.autoFit) view.fit();
  }
  const resizeObserver = new ResizeObserver(measure);
  resizeObserver.observe(stage);
  measure();

  // Image ----------------------------------------------------------------
  let destroyed = false;
  let imageToken = 0;
  let currentImage = null;
  /** Show `img` (decoded) or load `url`; sizes from the image when not given. */
  function setImage({ image, imageUrl, width: w, height: h }) {
    const token = ++imageToken;
    const done = (img) => {
      if (destroyed || token !== imageToken) return;
      if (!w || !h) {
        store.update({ width: img.naturalWidth, height: img.naturalHeight });
        if (view.autoFit) view.fit();
      }
      currentImage = img;
      renderer.setImage(img);
      emit("imageLoaded", { width: store.get().width, height: store.get().height });
    };
    currentImage = null;
    renderer.setImage(null);
    if (image && image.complete && image.naturalWidth) {
      done(image);
      return;
    }
    if (!image && !imageUrl) return;
    const img = image || new Image();
    img.decoding = "async";
    img.addEventListener("load", () => done(img), { once: true });
    if (!image) img.src = imageUrl;
  }
  setImage(options);

  // Events to the page ------------------------------------------------------
  const SYNC = ["tool", "label", "shapes", "modelVisible", "threshold", "selected", "view"];
  let last = store.get();
  store.subscribe((s, changes) => {
    const prev = last;
    last = s;
    if (changes.has("committed")) emit("shapesChanged", { shapes: api.getShapes() });
    if (s.selected !== prev.selected ||
        (changes.has("committed") && s.shapes[s.selected] !== prev.shapes[prev.selected])) {
      const shape = s.shapes[s.selected];
      emit("selectionChanged", { index: s.selected, shape: shape ? toRest(shape) : null });
    }
    if (s.tool !== prev.tool) {
      setCursor(null);
      emit("toolChanged", { tool: s.tool });
    }
    if (s.label !== prev.label) emit("labelChanged", { label: s.label });
    const pts = (d) => (d && d.kind === "polygon" ? d.points : null);
    if (pts(s.draft) !== pts(prev.draft)) emit("drawingChanged", { drawing: api.getDrawing() });
    if (s.threshold !== prev.threshold || s.modelVisible !== prev.modelVisible) {
      emit("modelFilterChanged", { threshold: s.threshold, modelVisible: s.modelVisible });
    }
    if (SYNC.some((k) => changes.has(k))) chrome.sync(s, store.canUndo(), store.canRedo());
  });
  chrome.sync(store.get(), false, false);
  setCursor(null);

  // Keyboard -----------------------------------------------------------------
  const keyboard = createKeyboard(root, {
    toolKey: (e) => !store.get().readOnly && tool().key(e),
    setTool: (t) => api.setTool(t),
    pickLabel: (i) => {
      const l = store.get().labels[i];
      if (l) api.setLabel(l.name);
    },
    undo: () => {
      const s = store.get();
      if (s.draft && s.tool === "polygon") tools.polygon.removeLast();
      else api.undo();
    },
    redo: () => api.redo(),
    deleteSelected: () => edits.deleteSelected(),
    cycle: (dir) => edits.cycle(dir),
    toggleModel: () => api.setModelVisible(!store.get().modelVisible),
    acceptAll: () => api.acceptAllModel(),
    acceptSelected: () => api.acceptSelected(),
    fit: () => api.fit(),
    zoom: (f) => api.zoom(f),
    zoomTo: (v) => api.zoomTo(v),
    arrow: (dx, dy, big) => {
      if (store.get().selected >= 0) edits.nudge(dx * (big ? 10 : 1), dy * (big ? 10 : 1));
      else view.panBy(-dx * (big ? 200 : 50), -dy * (big ? 200 : 50));
    },
    toggleHidden: () => edits.toggleHidden(),
    toggleLocked: () => edits.toggleLocked(),
    help: () => help.open(),
    escape: () => {
      tool().cancel();
      if (store.get().kbCursor) store.update({ kbCursor: null });
      edits.select(-1);
    },
    space: (down) => view.setSpace(down),
  }, { scope: keyScope });

  Object.assign(api, createApi({
    store, tools, tool, view, edits, help, focus, setImage, TOOLS: tools_,
    getImage: () => currentImage,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      keyboard.destroy();
      view.destroy();
      renderer.destroy();
      list.destroy();
      help.close();
      resizeObserver.disconnect();
      for (const [type, fn] of listeners) stage.removeEventListener(type, fn);
      root.replaceChildren();
      root.classList.remove("alc-root");
    },
  }));
  return api;
}
