// The one store of the canvas: shapes, selection, tool, label, view, history,
// and per-shape view flags (hidden, locked: never sent, never undone).
// State objects are replaced, never mutated, so subscribers can compare by
// identity; shapes inside are immutable objects too. Every shape carries an
// internal `uid` that survives edits (copies keep it), so flags and the
// "edited since loaded" marks follow a shape through moves and relabels.

import { round2 } from "./geometry.js";

// Distinct colours for labels that come without one (Kelly / Tableau mix).
export const PALETTE = [
  "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
  "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000",
  "#aaffc3", "#808000", "#ffd8b1", "#000075", "#a9a9a9", "#ffe119",
];
export const UNKNOWN_COLOR = "#9e9e9e";
const HISTORY_LIMIT = 300;

export function isModel(shape) {
  return typeof shape.source === "string" && shape.source.startsWith("model:");
}

let nextUid = 1;
export const newUid = () => nextUid++;

/** Predicate: is the shape listed (model shapes obey the toggle and threshold)? */
export function listed(state) {
  const { modelVisible, threshold } = state;
  return (s) => !isModel(s) ||
    (modelVisible && (s.confidence == null || s.confidence >= threshold));
}

/** Predicate: is the shape drawn and hit-testable (listed and not hidden)? */
export function visibility(state) {
  const isListed = listed(state);
  const { hidden } = state;
  return hidden.size ? (s) => !hidden.has(s.uid) && isListed(s) : isListed;
}

const sameGeometry = (a, b) => a.kind === b.kind && a.label === b.label &&
  JSON.stringify(a.bbox || a.points) === JSON.stringify(b.bbox || b.points);

/** "added", "edited" or "" against the shapes as loaded (store.reset). */
export function editState(state, shape) {
  const cache = state.edits;
  let v = cache.get(shape);
  if (v === undefined) {
    const orig = state.originals.get(shape.uid);
    v = !orig ? "added" : orig === shape || sameGeometry(orig, shape) ? "" : "edited";
    cache.set(shape, v);
  }
  return v;
}

/** Model shape that survives acceptAll (confidence at or above threshold). */
export function aboveThreshold(shape, threshold) {
  return shape.confidence == null || shape.confidence >= threshold;
}

/** The edited copy of a shape: any user edit makes it a human shape. */
export function asHuman(shape, patch = {}) {
  const out = { ...shape, ...patch };
  if (shape.source !== "human") {
    out.source = "human";
    out.confidence = null;
    out.author = null;
  }
  return out;
}

export function normaliseLabels(labels) {
  const seen = new Set();
  const out = [];
  for (const l of labels || []) {
    const name = String(typeof l === "string" ? l : l.name);
    if (seen.has(name)) continue;
    seen.add(name);
    const color = typeof l === "object" && l.color ? String(l.color)
      : PALETTE[out.length % PALETTE.length];
    out.push({ name, color });
  }
  return out;
}

const num = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`not a number: ${v}`);
  return n;
};

/** REST shape -> internal shape (validated, copied). */
export function fromRest(s) {
  const base = {
    kind: s.kind,
    label: String(s.label),
    source: s.source == null ? "human" : String(s.source),
    confidence: s.confidence == null ? null : num(s.confidence),
    id: s.id == null ? null : s.id,
    author: s.author == null ? null : s.author,
    uid: newUid(),
  };
  if (s.kind === "box") {
    if (!Array.isArray(s.bbox) || s.bbox.length !== 4) throw new TypeError("box needs bbox [x,y,w,h]");
    return { ...base, bbox: s.bbox.map(num) };
  }
  if (s.kind === "polygon") {
    if (!Array.isArray(s.points) || s.points.length < 3) throw new TypeError("polygon needs 3+ points");
    return { ...base, points: s.points.map((p) => [num(p[0]), num(p[1])]) };
  }
  throw new TypeError(`unknown shape kind: ${s.kind}`);
}

/** Internal shape -> REST format (kind, label, geometry, id/source/confidence). */
export function toRest(s) {
  const out = { kind: s.kind, label: s.label };
  if (s.kind === "box") out.bbox = s.bbox.map(round2);
  else out.points = s.points.map(([x, y]) => [round2(x), round2(y)]);
  if (s.id != null) out.id = s.id;
  if (s.source != null) out.source = s.source;
  if (s.confidence != null) out.confidence = s.confidence;
  return out;
}

/**
 * createStore(initial) -> {get, update, commit, undo, redo, reset, ...}.
 * update(patch): transient change (view, draft, live drag), no history.
 * commit(shapes, {selected, before, beforeSelected}): an undoable edit; the
 * snapshot pushed is `before` (the shapes at gesture start) or the current
 * shapes. Subscribers get (state, changes:Set of keys, "committed" on edits).
 */
export function createStore(initial) {
  let state = {
    width: 1, height: 1, labels: [], labelColors: new Map(),
    shapes: [], selected: -1, tool: "box", label: null,
    view: { scale: 1, ox: 0, oy: 0 }, viewW: 0, viewH: 0,
    modelVisible: true, threshold: 0, draft: null, hover: -1, readOnly: false,
    hidden: new Set(), locked: new Set(), kbCursor: null, markEdits: false,
    ...initial,
  };
  const originalsOf = (shapes) => ({
    originals: new Map(shapes.map((sh) => [sh.uid, sh])), edits: new WeakMap(),
  });
  Object.assign(state, originalsOf(state.shapes));
  const past = [];
  const future = [];
  let saved = state.shapes;
  const subs = new Set();

  function set(patch, extra) {
    state = { ...state, ...patch };
    if ("labels" in patch) {
      state.labelColors = new Map(state.labels.map((l) => [l.name, l.color]));
    }
    const changes = new Set(Object.keys(patch));
    if (extra) changes.add(extra);
    for (const fn of [...subs]) fn(state, changes);
  }
  if (state.labels.length) set({ labels: state.labels });

  const validSel = (shapes, sel) => (sel >= 0 && sel < shapes.length ? sel : -1);

  return {
    get: () => state,
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    update(patch) {
      set(patch);
    },
    commit(shapes, opts = {}) {
      const before = opts.before || state.shapes;
      if (before === shapes) return false;
      const beforeSel = opts.beforeSelected ?? state.selected;
      past.push({ shapes: before, selected: beforeSel });
      if (past.length > HISTORY_LIMIT) past.shift();
      future.length = 0;
      const selected = validSel(shapes, opts.selected ?? state.selected);
      set({ shapes, selected, hover: -1 }, "committed");
      return true;
    },
    undo() {
      const snap = past.pop();
      if (!snap) return false;
      future.push({ shapes: state.shapes, selected: state.selected });
      set({ shapes: snap.shapes, selected: validSel(snap.shapes, snap.selected), hover: -1, draft: null },
        "committed");
      return true;
    },
    redo() {
      const snap = future.pop();
      if (!snap) return false;
      past.push({ shapes: state.shapes, selected: state.selected });
      set({ shapes: snap.shapes, selected: validSel(snap.shapes, snap.selected), hover: -1, draft: null },
        "committed");
      return true;
    },
    canUndo: () => past.length > 0,
    canRedo: () => future.length > 0,
    /** Replace all shapes as loaded from the server: clears history, not dirty. */
    reset(shapes, patch = {}) {
      past.length = 0;
      future.length = 0;
      saved = shapes;
      set({ shapes, selected: -1, hover: -1, draft: null, kbCursor: null,
        hidden: new Set(), locked: new Set(), ...originalsOf(shapes), ...patch });
    },
    isDirty: () => state.shapes !== saved,
    markSaved() {
      saved = state.shapes;
    },
  };
}
