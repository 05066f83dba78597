// The canvas API that mountCanvas returns (the page and the tests drive the
// canvas through it). Shapes go in and out in the REST format (state.js
// fromRest / toRest); everything else is plain values.

import { fromRest, listed, toRest } from "./state.js";

export function createApi({
  store, tools, tool, view, edits, help, focus, setImage, getImage, TOOLS, destroy,
}) {
  const get = () => store.get();
  return {
    getShapes: () => get().shapes.map(toRest),
    /** What a submit keeps: every human shape, and the model shapes the
     *  annotator can see (model shapes shown, at or above the threshold);
     *  hidden or low-confidence pre-annotations were never reviewed. */
    getSubmittable: () => get().shapes.filter(listed(get())).map(toRest),
    setShapes(list) {
      tool().cancel();
      store.reset(list.map(fromRest));
    },
    /** Show another item in the same canvas: image (decoded `image` or
     *  `imageUrl`), size and shapes; history, flags and the view start afresh,
     *  while the tool, the drawing label and the model filters stay. */
    load({ image, imageUrl, width, height, shapes = [] }) {
      tool().cancel();
      store.reset(shapes.map(fromRest), { width: width || 1, height: height || 1 });
      view.fit();
      setImage({ image, imageUrl, width, height });
    },
    /** Replace all shapes as an undoable edit (the canvas becomes dirty). */
    replaceShapes(list) {
      tool().cancel();
      return store.commit(list.map(fromRest), { selected: -1 });
    },
    getImage,
    getSelection: () => get().selected,
    select: (i) => edits.select(i),
    getLabel: () => get().label,
    /** With a shape selected: relabel it (unless locked or read-only) and keep
     *  the drawing label; with none: the label of the next shape drawn. */
    setLabel(name) {
      const s = get();
      if (!s.labels.some((l) => l.name === name)) return false;
      if (s.shapes[s.selected] && !s.readOnly) {
        edits.relabelSelected(name);
        return true;
      }
      if (s.label !== name) store.update({ label: name });
      return true;
    },
    getTool: () => get().tool,
    setTool(name) {
      if (!TOOLS.includes(name) || (get().readOnly && name !== "select")) return false;
      if (name === get().tool) return true;
      tool().cancel();
      store.update({ tool: name, draft: null, pointer: null, hover: -1, kbCursor: null });
      return true;
    },
    undo() {
      tool().cancel();
      return !get().readOnly && store.undo();
    },
    redo() {
      tool().cancel();
      return !get().readOnly && store.redo();
    },
    acceptAllModel: () => edits.acceptAll(),
    acceptSelected: () => edits.acceptSelected(),
    deleteShape: (i) => edits.deleteAt(i),
    toggleHidden: (i) => edits.toggleHidden(i),
    toggleLocked: (i) => edits.toggleLocked(i),
    getFlags(i) {
      const s = get();
      const sh = s.shapes[i];
      return sh ? { hidden: s.hidden.has(sh.uid), locked: s.locked.has(sh.uid) } : null;
    },
    /** The polygon being drawn ({kind, points}) or null (for a local draft). */
    getDrawing() {
      const d = get().draft;
      return d && d.kind === "polygon" && d.points.length
        ? { kind: "polygon", points: d.points.map(([x, y]) => [x, y]) } : null;
    },
    /** Resume drawing a polygon (points in image pixels): polygon tool. */
    setDrawing(drawing) {
      const s = get();
      if (s.readOnly || !drawing || drawing.kind !== "polygon" || !Array.isArray(drawing.points)) {
        return false;
      }
      const points = drawing.points
        .map((p) => [Number(p[0]), Number(p[1])])
        .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
        .map(([x, y]) => [Math.min(Math.max(x, 0), s.width), Math.min(Math.max(y, 0), s.height)]);
      if (!points.length) return false;
      this.setTool("polygon");
      store.update({ draft: { kind: "polygon", points, cursor: null, closeHover: false } });
      return true;
    },
    closeDrawing: () => tools.polygon.close(),
    setModelVisible(v) {
      store.update({ modelVisible: !!v });
      edits.dropHiddenSelection();
    },
    isModelVisible: () => get().modelVisible,
    setConfidenceThreshold(t) {
      const v = Math.min(1, Math.max(0, Number(t) || 0));
      store.update({ threshold: v });
      edits.dropHiddenSelection();
    },
    getThreshold: () => get().threshold,
    fit: () => view.fit(),
    zoom: (factor, sx, sy) => {
      const s = get();
      view.zoom(sx ?? s.viewW / 2, sy ?? s.viewH / 2, factor);
    },
    zoomTo: (scale) => view.zoomTo(scale),
    panBy: (dx, dy) => view.panBy(dx, dy),
    getView: () => ({ ...get().view }),
    isDirty: () => store.isDirty(),
    markSaved: () => store.markSaved(),
    focus,
    openHelp: () => help.open(),
    closeHelp: () => help.close(),
    destroy,
  };
}
