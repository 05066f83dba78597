// The list of shapes beside the image: label in full (it wraps), kind, source,
// confidence, review marks, and per-shape hide / lock / delete buttons. A click
// selects. The list is one Tab stop (a listbox): Up / Down / Home / End move the
// selection inside it. Rows are reused and only rewritten when their shape,
// index, flags or selection changed, once per animation frame.

import { editState, isModel, listed, UNKNOWN_COLOR } from "./state.js";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setData(node, key, value) {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

const WATCHED = ["shapes", "selected", "labels", "modelVisible", "threshold", "hidden",
  "locked", "originals", "markEdits"];
const EDIT_TEXT = { edited: "edited in review", added: "added in review" };

/** h: {onSelect(i), onToggleHidden(i), onToggleLocked(i), onDelete(i), refocus()} */
export function createShapeList(container, store, h) {
  const head = el("div", "alc-list-head");
  const title = el("span", null, "Shapes");
  const removed = el("span", "alc-removed");
  removed.dataset.testid = "shape-removed";
  const count = el("span", "alc-count", "0");
  count.dataset.testid = "shape-count";
  head.append(title, removed, count);
  const list = el("ol", "alc-list");
  list.dataset.testid = "shape-list";
  list.id = `alc-list-${Math.random().toString(36).slice(2, 8)}`;
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Shapes");
  list.tabIndex = 0;
  container.append(head, list);

  const rows = [];
  let raf = 0;
  let lastSelected = -2;

  function rowButton(cls, testid) {
    const b = el("button", `alc-row-btn ${cls}`);
    b.type = "button";
    b.tabIndex = -1; // the row's keys (Shift+H, L, Delete) serve keyboard users
    b.dataset.testid = testid;
    b.addEventListener("mousedown", (e) => e.preventDefault());
    return b;
  }

  function makeRow() {
    const li = el("li", "alc-item");
    li.dataset.testid = "shape-item";
    li.setAttribute("role", "option");
    const parts = {
      swatch: el("span", "alc-swatch"),
      label: el("span", "alc-label"),
      meta: el("span", "alc-meta"),
      kind: el("span", "alc-kind"),
      source: el("span", "alc-source"),
      conf: el("span", "alc-conf"),
      edit: el("span", "alc-edit"),
      hide: rowButton("alc-hide", "shape-hide"),
      lock: rowButton("alc-lock", "shape-lock"),
      del: rowButton("alc-del", "shape-delete"),
    };
    parts.label.dataset.testid = "shape-item-label";
    parts.edit.dataset.testid = "shape-item-edit";
    parts.del.textContent = "×";
    parts.meta.append(parts.kind, parts.source, parts.conf, parts.edit);
    const text = el("span", "alc-text");
    text.append(parts.label, parts.meta);
    const actions = el("span", "alc-actions");
    actions.append(parts.hide, parts.lock, parts.del);
    li.append(parts.swatch, text, actions);
    return { li, parts, shape: null, index: -1, selected: false, colors: null, flags: "" };
  }

  function flagsOf(s, shape) {
    const mark = s.markEdits ? editState(s, shape) : "";
    return `${s.hidden.has(shape.uid) ? "h" : ""}${s.locked.has(shape.uid) ? "l" : ""}` +
      `${s.readOnly ? "r" : ""}:${mark}`;
  }

  function fill(row, s, shape, index, selected, flags) {
    const { li, parts } = row;
    const model = isModel(shape);
    const hidden = s.hidden.has(shape.uid);
    const locked = s.locked.has(shape.uid);
    const mark = s.markEdits ? editState(s, shape) : "";
    setData(li, "index", String(index));
    setData(li, "kind", shape.kind);
    setData(li, "source", model ? "model" : "human");
    setData(li, "hidden", String(hidden));
    setData(li, "locked", String(locked));
    setData(li, "edited", mark || "no");
    if (li.id !== `${list.id}-${index}`) li.id = `${list.id}-${index}`;
    li.title = `${shape.label} — ${shape.kind}, ${shape.source || "human"}`;
    li.classList.toggle("alc-selected", selected);
    li.setAttribute("aria-selected", selected ? "true" : "false");
    li.classList.toggle("alc-model", model);
    li.classList.toggle("alc-hidden", hidden);
    const color = s.labelColors.get(shape.label) || UNKNOWN_COLOR;
    if (parts.swatch.dataset.color !== color) {
      parts.swatch.dataset.color = color;
      parts.swatch.style.background = color;
    }
    setText(parts.label, shape.label);
    setText(parts.kind, shape.kind === "box" ? "▭ box" : "⬠ polygon");
    setText(parts.source, model ? "model" : "human");
    setText(parts.conf, shape.confidence == null ? "" : shape.confidence.toFixed(2));
    setText(parts.edit, mark ? EDIT_TEXT[mark] : "");
    setText(parts.hide, hidden ? "show" : "hide");
    parts.hide.title = `${hidden ? "Show" : "Hide"} this shape (Shift+H)`;
    setText(parts.lock, locked ? "unlock" : "lock");
    parts.lock.title = `${locked ? "Unlock" : "Lock"} this shape (L)`;
    parts.lock.setAttribute("aria-pressed", String(locked));
    parts.del.title = locked ? "Locked: unlock to delete" : "Delete this shape (Delete)";
    parts.del.disabled = locked || s.readOnly;
    parts.lock.hidden = parts.del.hidden = s.readOnly;
    for (const b of [parts.hide, parts.lock, parts.del]) b.setAttribute("aria-label", b.title);
    Object.assign(row, { shape, index, selected, colors: s.labelColors, flags });
  }

  function update() {
    raf = 0;
    const s = store.get();
    const isListed = listed(s);
    let k = 0;
    let selRow = null;
    for (let i = 0; i < s.shapes.length; i++) {
      const shape = s.shapes[i];
      if (!isListed(shape)) continue;
      if (k === rows.length) {
        rows.push(makeRow());
        list.append(rows[k].li);
      }
      const row = rows[k++];
      const selected = i === s.selected;
      const flags = flagsOf(s, shape);
      if (row.shape !== shape || row.index !== i || row.selected !== selected ||
          row.colors !== s.labelColors || row.flags !== flags) {
        fill(row, s, shape, i, selected, flags);
      }
      if (selected) selRow = row;
    }
    while (rows.length > k) rows.pop().li.remove();
    setText(count, String(k));
    let gone = 0;
    if (s.markEdits) {
      const present = new Set(s.shapes.map((sh) => sh.uid));
      for (const uid of s.originals.keys()) if (!present.has(uid)) gone += 1;
    }
    setText(removed, gone ? `${gone} removed in review` : "");
    if (selRow) list.setAttribute("aria-activedescendant", selRow.li.id);
    else list.removeAttribute("aria-activedescendant");
    if (s.selected !== lastSelected) {
      lastSelected = s.selected;
      if (selRow) selRow.li.scrollIntoView({ block: "nearest" });
    }
  }

  function schedule(s, changes) {
    if (raf || (changes && !WATCHED.some((k) => changes.has(k)))) return;
    raf = requestAnimationFrame(update);
  }

  function onClick(e) {
    const li = e.target.closest("[data-testid=shape-item]");
    if (!li || !list.contains(li)) return;
    const i = Number(li.dataset.index);
    const b = e.target.closest("button");
    if (b && b.disabled) return;
    if (b && b.classList.contains("alc-hide")) h.onToggleHidden(i);
    else if (b && b.classList.contains("alc-lock")) h.onToggleLocked(i);
    else if (b && b.classList.contains("alc-del")) h.onDelete(i);
    else h.onSelect(i);
    h.refocus();
  }

  function onKey(e) {
    const moves = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
    if (!(e.key in moves) || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    update();
    const indices = rows.slice(0, rows.length).map((r) => r.index);
    if (!indices.length) return;
    const at = indices.indexOf(store.get().selected);
    const step = moves[e.key];
    const next = Number.isFinite(step)
      ? indices[Math.max(0, Math.min(indices.length - 1, at < 0 ? (step > 0 ? 0 : indices.length - 1)
        : at + step))]
      : indices[step > 0 ? indices.length - 1 : 0];
    h.onSelect(next);
  }

  list.addEventListener("click", onClick);
  list.addEventListener("keydown", onKey);
  const unsubscribe = store.subscribe(schedule);
  update();

  return {
    flush: update,
    destroy() {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
      list.removeEventListener("click", onClick);
      list.removeEventListener("keydown", onKey);
    },
  };
}
