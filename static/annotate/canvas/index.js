// mountCanvas(root, options): builds the annotation canvas inside `root`,
// wires store, renderer, tools, view, keyboard and shape list, and returns
// the API. The page hears changes through CustomEvents on `root`:
// shapesChanged {shapes}, selectionChanged {index, shape}, toolChanged
// {tool}, labelChanged {label}, imageLoaded {width, height}.

import { createRenderer } from "./render.js";
import { createShapeList } from "./shapelist.js";
import {
  aboveThreshold, asHuman, createStore, fromRest, isModel, normaliseLabels, toRest, visibility,
} from "./state.js";
import { createToolbar } from "./toolbar.js";
import { createBoxTool } from "./tools/box.js";
import { createPolygonTool } from "./tools/polygon.js";
import { createSelectTool } from "./tools/select.js";
import { createKeyboard, KEYMAP } from "./keyboard.js";
import { hitTest } from "./geometry.js";
import { createView } from "./view.js";

export { KEYMAP };
export const TOOLS = ["box", "polygon", "select"];

export function mountCanvas(root, options = {}) {
  const {
    imageUrl, width = 0, height = 0, labels = [], shapes = [], readOnly = false, onRender,
  } = options;
  const labelList = normaliseLabels(labels);
  const store = createStore({
    width: width || 1, height: height || 1, labels: labelList,
    label: labelList.length ? labelList[0].name : null,
    shapes: shapes.map(fromRest), tool: readOnly ? "select" : "box", readOnly,
  });

  // DOM ------------------------------------------------------------------
  root.replaceChildren();
  root.classList.add("alc-root");
  const api = {};
  const chrome = createToolbar(labelList, readOnly, {
    setTool: (t) => api.setTool(t), undo: () => api.undo(), redo: () => api.redo(),
    fit: () => api.fit(), acceptAll: () => api.acceptAllModel(),
    setModelVisible: (v) => api.setModelVisible(v),
    setThreshold: (t) => api.setConfidenceThreshold(t), setLabel: (n) => api.setLabel(n),
  });
  const body = document.createElement("div");
  body.className = "alc-body";
  const stage = document.createElement("div");
  stage.className = "alc-stage";
  stage.tabIndex = 0;
  stage.dataset.testid = "stage";
  stage.setAttribute("aria-label", "Annotation canvas");
  const layers = {};
  for (const name of ["bg", "base", "over"]) {
    layers[name] = document.createElement("canvas");
    layers[name].dataset.layer = name;
    stage.append(layers[name]);
  }
  layers.over.dataset.testid = "canvas";
  const side = document.createElement("aside");
  side.className = "alc-side";
  side.append(chrome.labelPicker);
  body.append(stage, side);
  root.append(chrome.toolbar, body);

  const setCursor = (c) => {
    stage.style.cursor = c || tools[store.get().tool].cursor;
  };
  const emit = (type, detail) =>
    root.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));

  // Tools ----------------------------------------------------------------
  const toolCtx = {
    store,
    tol: (px) => px / store.get().view.scale,
    setCursor,
    addShape(geom) {
      const s = store.get();
      const label = s.label ?? "object";
      const shape = { ...geom, label, source: "human", confidence: null, id: null, author: null };
      store.commit([...s.shapes, shape], { selected: s.shapes.length });
    },
    selectAt(x, y) {
      const s = store.get();
      store.update({ selected: hitTest(s.shapes, x, y, toolCtx.tol(4), visibility(s), s.selected) });
    },
  };
  const tools = {
    box: createBoxTool(toolCtx),
    polygon: createPolygonTool(toolCtx),
    select: createSelectTool(toolCtx),
  };
  const tool = () => tools[store.get().tool];

  const view = createView(stage, store, { setCursor });
  const renderer = createRenderer(layers, store, { onRender });
  const list = createShapeList(side, store, { onSelect: (i) => select(i) });

  function coords(e) {
    const r = stage.getBoundingClientRect();
    const sx = e.clientX - r.left, sy = e.clientY - r.top;
    const v = store.get().view;
    return [[(sx - v.ox) / v.scale, (sy - v.oy) / v.scale], [sx, sy]];
  }
  let pressed = false;
  const onDown = (e) => {
    stage.focus({ preventScroll: true });
    if (e.button !== 0) return;
    pressed = true;
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
  if (imageUrl) {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => {
      if (destroyed) return;
      if (!width || !height) {
        store.update({ width: img.naturalWidth, height: img.naturalHeight });
        if (view.autoFit) view.fit();
      }
      renderer.setImage(img);
      emit("imageLoaded", { width: store.get().width, height: store.get().height });
    };
    img.src = imageUrl;
  }

  // Edits ----------------------------------------------------------------
  function select(i) {
    const s = store.get();
    const idx = i >= 0 && i < s.shapes.length && visibility(s)(s.shapes[i]) ? i : -1;
    if (idx !== s.selected) store.update({ selected: idx });
  }

  function deleteSelected() {
    const s = store.get();
    if (s.readOnly || s.selected < 0) return;
    store.commit(s.shapes.filter((_, i) => i !== s.selected), { selected: -1 });
  }

  function cycle(dir) {
    const s = store.get();
    const visible = visibility(s);
    const idx = s.shapes.map((_, i) => i).filter((i) => visible(s.shapes[i]));
    if (!idx.length) return;
    const at = idx.indexOf(s.selected);
    const next = at < 0 ? (dir > 0 ? 0 : idx.length - 1) : (at + dir + idx.length) % idx.length;
    select(idx[next]);
  }

  function dropHiddenSelection() {
    const s = store.get();
    const sel = s.shapes[s.selected];
    if (sel && !visibility(s)(sel)) store.update({ selected: -1 });
  }

  // Events to the page ------------------------------------------------------
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
    if (["tool", "label", "shapes", "modelVisible", "threshold"].some((k) => changes.has(k))) {
      chrome.sync(s, store.canUndo(), store.canRedo());
    }
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
    deleteSelected,
    cycle,
    toggleModel: () => api.setModelVisible(!store.get().modelVisible),
    acceptAll: () => api.acceptAllModel(),
    fit: () => api.fit(),
    escape: () => {
      tool().cancel();
      select(-1);
    },
    space: (down) => view.setSpace(down),
  });

  // API ----------------------------------------------------------------------
  Object.assign(api, {
    getShapes: () => store.get().shapes.map(toRest),
    setShapes(list) {
      tool().cancel();
      store.reset(list.map(fromRest));
    },
    getSelection: () => store.get().selected,
    select,
    getLabel: () => store.get().label,
    setLabel(name) {
      const s = store.get();
      if (!s.labels.some((l) => l.name === name)) return false;
      if (s.label !== name) store.update({ label: name });
      const sel = s.shapes[s.selected];
      if (sel && !s.readOnly && sel.label !== name) {
        const shapes = s.shapes.slice();
        shapes[s.selected] = asHuman(sel, { label: name });
        store.commit(shapes);
      }
      return true;
    },
    getTool: () => store.get().tool,
    setTool(name) {
      if (!TOOLS.includes(name) || (store.get().readOnly && name !== "select")) return false;
      if (name === store.get().tool) return true;
      tool().cancel();
      store.update({ tool: name, draft: null, pointer: null, hover: -1 });
      return true;
    },
    undo() {
      tool().cancel();
      return !store.get().readOnly && store.undo();
    },
    redo() {
      tool().cancel();
      return !store.get().readOnly && store.redo();
    },
    acceptAllModel() {
      const s = store.get();
      if (s.readOnly || !s.shapes.some(isModel)) return false;
      const out = [];
      let selected = -1;
      s.shapes.forEach((shape, i) => {
        if (isModel(shape) && !aboveThreshold(shape, s.threshold)) return;
        if (i === s.selected) selected = out.length;
        out.push(isModel(shape) ? asHuman(shape) : shape);
      });
      return store.commit(out, { selected });
    },
    setModelVisible(v) {
      store.update({ modelVisible: !!v });
      dropHiddenSelection();
    },
    setConfidenceThreshold(t) {
      const v = Math.min(1, Math.max(0, Number(t) || 0));
      store.update({ threshold: v });
      dropHiddenSelection();
    },
    fit: () => view.fit(),
    zoom: (factor, sx, sy) => {
      const s = store.get();
      view.zoom(sx ?? s.viewW / 2, sy ?? s.viewH / 2, factor);
    },
    getView: () => ({ ...store.get().view }),
    isDirty: () => store.isDirty(),
    markSaved: () => store.markSaved(),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      keyboard.destroy();
      view.destroy();
      renderer.destroy();
      list.destroy();
      resizeObserver.disconnect();
      for (const [type, fn] of listeners) stage.removeEventListener(type, fn);
      root.replaceChildren();
      root.classList.remove("alc-root");
    },
  });
  return api;
}
