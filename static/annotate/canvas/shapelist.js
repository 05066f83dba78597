// The list of shapes beside the image: kind, label, source, confidence;
// a click selects. Rows are reused and only rewritten when their shape,
// index or selection changed, once per animation frame.

import { isModel, UNKNOWN_COLOR, visibility } from "./state.js";

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

const WATCHED = ["shapes", "selected", "labels", "modelVisible", "threshold"];

export function createShapeList(container, store, { onSelect }) {
  const head = el("div", "alc-list-head");
  const title = el("span", null, "Shapes");
  const count = el("span", "alc-count", "0");
  count.dataset.testid = "shape-count";
  head.append(title, count);
  const list = el("ol", "alc-list");
  list.dataset.testid = "shape-list";
  list.setAttribute("role", "listbox");
  container.append(head, list);

  const rows = [];
  let raf = 0;
  let lastSelected = -2;

  function makeRow() {
    const li = el("li", "alc-item");
    li.dataset.testid = "shape-item";
    li.setAttribute("role", "option");
    const parts = {
      swatch: el("span", "alc-swatch"),
      kind: el("span", "alc-kind"),
      label: el("span", "alc-label"),
      source: el("span", "alc-source"),
      conf: el("span", "alc-conf"),
    };
    parts.label.dataset.testid = "shape-item-label";
    li.append(parts.swatch, parts.kind, parts.label, parts.source, parts.conf);
    return { li, parts, shape: null, index: -1, selected: false, colors: null };
  }

  function fill(row, s, shape, index, selected) {
    const { li, parts } = row;
    const model = isModel(shape);
    setData(li, "index", String(index));
    setData(li, "kind", shape.kind);
    setData(li, "source", model ? "model" : "human");
    if (li.title !== (shape.source || "human")) li.title = shape.source || "human";
    if (row.selected !== selected || row.shape === null) {
      li.classList.toggle("alc-selected", selected);
      li.setAttribute("aria-selected", selected ? "true" : "false");
    }
    li.classList.toggle("alc-model", model);
    const color = s.labelColors.get(shape.label) || UNKNOWN_COLOR;
    if (parts.swatch.dataset.color !== color) {
      parts.swatch.dataset.color = color;
      parts.swatch.style.background = color;
    }
    setText(parts.kind, shape.kind === "box" ? "▭ box" : "⬠ polygon");
    setText(parts.label, shape.label);
    setText(parts.source, model ? "model" : "human");
    setText(parts.conf, shape.confidence == null ? "—" : shape.confidence.toFixed(2));
    Object.assign(row, { shape, index, selected, colors: s.labelColors });
  }

  function update() {
    raf = 0;
    const s = store.get();
    const visible = visibility(s);
    let k = 0;
    let selRow = null;
    for (let i = 0; i < s.shapes.length; i++) {
      const shape = s.shapes[i];
      if (!visible(shape)) continue;
      if (k === rows.length) {
        rows.push(makeRow());
        list.append(rows[k].li);
      }
      const row = rows[k++];
      const selected = i === s.selected;
      if (row.shape !== shape || row.index !== i || row.selected !== selected ||
          row.colors !== s.labelColors) fill(row, s, shape, i, selected);
      if (selected) selRow = row;
    }
    while (rows.length > k) rows.pop().li.remove();
    count.textContent = String(k);
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
    if (li && list.contains(li)) onSelect(Number(li.dataset.index));
  }

  list.addEventListener("click", onClick);
  const unsubscribe = store.subscribe(schedule);
  update();

  return {
    flush: update,
    destroy() {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
      list.removeEventListener("click", onClick);
    },
  };
}
