// Edits on the store that the keyboard, the toolbar, the shape list and the
// tools share: select, cycle, delete, relabel, nudge, accept pre-annotations,
// hide and lock. Locked shapes are never changed; read-only canvases only
// select. Each edit is one undo step (store.commit).

import { clampDelta, shapeBBox, translateShape } from "./geometry.js";
import { aboveThreshold, asHuman, isModel, listed, visibility } from "./state.js";

export function createEdits(store) {
  const get = () => store.get();
  const editable = (s, i) => !s.readOnly && i >= 0 && i < s.shapes.length &&
    !s.locked.has(s.shapes[i].uid);

  function replaceAt(s, i, shape, opts) {
    const shapes = s.shapes.slice();
    shapes[i] = shape;
    return store.commit(shapes, opts);
  }

  /** Select shape i if it is listed (user-hidden shapes can be selected from the
   *  list, to show them again); anything else deselects. */
  function select(i) {
    const s = get();
    const idx = i >= 0 && i < s.shapes.length && listed(s)(s.shapes[i]) ? i : -1;
    if (idx !== s.selected) store.update({ selected: idx });
    return idx;
  }

  function listedIndices(s, pred = () => true) {
    const isListed = listed(s);
    const out = [];
    s.shapes.forEach((sh, i) => {
      if (isListed(sh) && pred(sh)) out.push(i);
    });
    return out;
  }

  function cycle(dir) {
    const s = get();
    const idx = listedIndices(s);
    if (!idx.length) return;
    const at = idx.indexOf(s.selected);
    const next = at < 0 ? (dir > 0 ? 0 : idx.length - 1) : (at + dir + idx.length) % idx.length;
    select(idx[next]);
  }

  function deleteAt(i) {
    const s = get();
    if (!editable(s, i)) return false;
    const selected = s.selected === i ? -1 : s.selected > i ? s.selected - 1 : s.selected;
    return store.commit(s.shapes.filter((_, k) => k !== i), { selected });
  }

  function relabelSelected(name) {
    const s = get();
    const sel = s.shapes[s.selected];
    if (!sel || !editable(s, s.selected) || sel.label === name) return false;
    return replaceAt(s, s.selected, asHuman(sel, { label: name }));
  }

  function nudge(dx, dy) {
    const s = get();
    const sel = s.shapes[s.selected];
    if (!sel || !editable(s, s.selected) || !visibility(s)(sel)) return false;
    const [cx, cy] = clampDelta(shapeBBox(sel), dx, dy, s.width, s.height);
    if (!cx && !cy) return false;
    return replaceAt(s, s.selected, asHuman(translateShape(sel, cx, cy)));
  }

  /** Accept model shape i as it is (it becomes a human shape). */
  function acceptAt(i, { selectNext = false } = {}) {
    const s = get();
    const shape = s.shapes[i];
    if (!shape || !isModel(shape) || !editable(s, i) || !visibility(s)(shape)) return false;
    let selected = s.selected;
    if (selectNext) {
      const models = listedIndices(s, (sh) => isModel(sh) && !s.hidden.has(sh.uid) &&
        !s.locked.has(sh.uid)).filter((k) => k !== i);
      selected = models.find((k) => k > i) ?? models[0] ?? -1;
    }
    return replaceAt(s, i, asHuman(shape), { selected });
  }

  /** Enter: accept the selected pre-annotation, then select the next one. */
  function acceptSelected() {
    const s = get();
    return acceptAt(s.selected, { selectNext: true });
  }

  /** A: keep every model shape at or above the threshold (as human shapes) and
   *  drop those below it; locked shapes stay as they are. */
  function acceptAll() {
    const s = get();
    if (s.readOnly || !s.shapes.some(isModel)) return false;
    const out = [];
    let selected = -1;
    s.shapes.forEach((shape, i) => {
      const locked = s.locked.has(shape.uid);
      if (!locked && isModel(shape) && !aboveThreshold(shape, s.threshold)) return;
      if (i === s.selected) selected = out.length;
      out.push(isModel(shape) && !locked ? asHuman(shape) : shape);
    });
    return store.commit(out, { selected });
  }

  function toggleFlag(key, i) {
    const s = get();
    const shape = s.shapes[i];
    if (!shape) return false;
    const set = new Set(s[key]);
    if (set.has(shape.uid)) set.delete(shape.uid);
    else set.add(shape.uid);
    store.update({ [key]: set });
    return true;
  }

  function dropHiddenSelection() {
    const s = get();
    const sel = s.shapes[s.selected];
    if (sel && !listed(s)(sel)) store.update({ selected: -1 });
  }

  return {
    select, cycle, deleteAt, relabelSelected, nudge, acceptAt, acceptSelected, acceptAll,
    deleteSelected: () => deleteAt(get().selected),
    toggleHidden: (i = get().selected) => toggleFlag("hidden", i),
    toggleLocked: (i = get().selected) => toggleFlag("locked", i),
    dropHiddenSelection,
  };
}
