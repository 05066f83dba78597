// The canvas chrome: stylesheet link, toolbar (tools, undo/redo, zoom with its
// level, fit, model toggle, confidence slider, accept, key sheet) and the label
// picker. After a button is used, focus goes back to the canvas (h.refocus) so
// that keys keep working. Every string reaches the DOM through textContent or a
// property, never as HTML.

function ensureStyle() {
  if (document.getElementById("alc-style")) return;
  const link = document.createElement("link");
  link.id = "alc-style";
  link.rel = "stylesheet";
  link.href = new URL("./canvas.css", import.meta.url).href;
  document.head.append(link);
}

function button(testid, text, title, onClick, refocus) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.testid = testid;
  b.textContent = text;
  b.title = title;
  b.setAttribute("aria-label", title);
  // Keep focus where it was so Enter/Space never re-press the button.
  b.addEventListener("mousedown", (e) => e.preventDefault());
  b.addEventListener("click", (e) => {
    onClick(e);
    refocus();
  });
  return b;
}

const sep = () => Object.assign(document.createElement("span"), { className: "alc-sep" });

/**
 * h: {setTool, undo, redo, fit, zoom(f), zoomTo(s), setModelVisible, setThreshold,
 *     acceptAll, acceptSelected, setLabel, help, refocus,
 *     segment: {enabled, off (the disabled button's title)}}
 * Returns {toolbar, labelPicker, sync(state, canUndo, canRedo)}.
 */
export function createToolbar(labels, readOnly, h) {
  ensureStyle();
  const ownRefocus = h.refocus;
  const btn = (testid, text, title, onClick) => button(testid, text, title, onClick, ownRefocus);
  const toolbar = document.createElement("div");
  toolbar.className = "alc-toolbar";
  toolbar.dataset.testid = "toolbar";
  const tools = {
    box: btn("tool-box", "▭ Box", "Draw boxes (B)", () => h.setTool("box")),
    polygon: btn("tool-polygon", "⬠ Polygon", "Draw polygons (P)", () => h.setTool("polygon")),
    select: btn("tool-select", "➚ Select", "Select and edit (V)", () => h.setTool("select")),
    segment: btn("tool-segment", "✦ Segment",
      "Segment (G): click an object for its polygon", () => h.setTool("segment")),
  };
  if (!h.segment.enabled) {
    tools.segment.disabled = true;
    tools.segment.title = h.segment.off;
    tools.segment.setAttribute("aria-label", h.segment.off);
  }
  const undo = btn("undo", "↶", "Undo (Ctrl+Z)", () => h.undo());
  const redo = btn("redo", "↷", "Redo (Ctrl+Shift+Z)", () => h.redo());
  const fit = btn("fit", "Fit", "Fit image (F)", () => h.fit());
  const zoomOut = btn("zoom-out", "−", "Zoom out (−)", () => h.zoom(0.8));
  const zoomIn = btn("zoom-in", "+", "Zoom in (+)", () => h.zoom(1.25));
  const level = btn("zoom-level", "100%", "Zoom level; click for 100 % (0)", () => h.zoomTo(1));
  level.classList.add("alc-zoom-level");
  const accept = btn("accept-model", "Accept all", "Accept all model shapes at or above the threshold (A)",
    () => h.acceptAll());
  const acceptOne = btn("accept-selected", "Accept", "Accept the selected model shape (Enter)",
    () => h.acceptSelected());
  const help = btn("key-help-open", "?", "Keys (?)", () => h.help());

  const toggleWrap = document.createElement("label");
  toggleWrap.title = "Show model shapes (H)";
  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.checked = true;
  toggle.dataset.testid = "model-toggle";
  toggle.addEventListener("change", () => {
    h.setModelVisible(toggle.checked);
    ownRefocus();
  });
  toggleWrap.append(toggle, document.createTextNode("Model"));

  const sliderWrap = document.createElement("label");
  sliderWrap.title = "Hide model shapes below this confidence";
  const slider = document.createElement("input");
  Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.01", value: "0" });
  slider.dataset.testid = "confidence-slider";
  const value = document.createElement("output");
  value.dataset.testid = "confidence-value";
  value.textContent = "0.00";
  slider.addEventListener("input", () => h.setThreshold(Number(slider.value)));
  slider.addEventListener("pointerup", () => ownRefocus());
  sliderWrap.append(document.createTextNode("conf ≥"), slider, value);

  const zoom = [zoomOut, level, zoomIn, fit];
  if (readOnly) toolbar.append(tools.select, sep(), ...zoom, sep(), toggleWrap, sliderWrap, sep(), help);
  else {
    toolbar.append(tools.box, tools.polygon, tools.select, tools.segment, sep(), undo, redo, sep(), ...zoom,
      sep(), toggleWrap, sliderWrap, acceptOne, accept, sep(), help);
  }

  const labelPicker = document.createElement("div");
  labelPicker.className = "alc-labels";
  labelPicker.dataset.testid = "label-picker";
  labelPicker.setAttribute("role", "group");
  const pickerTitle = document.createElement("div");
  pickerTitle.className = "alc-picker-title";
  pickerTitle.dataset.testid = "label-picker-title";
  const options = labels.map((l, i) => {
    const b = btn("label-option", "", i < 9 ? `${l.name} (${i + 1})` : l.name,
      () => h.setLabel(l.name));
    const sw = document.createElement("span");
    sw.className = "alc-swatch";
    sw.style.background = l.color;
    const name = document.createElement("span");
    name.className = "alc-label-name";
    name.textContent = l.name;
    if (i < 9) {
      const kbd = document.createElement("kbd");
      kbd.textContent = String(i + 1);
      b.append(kbd);
    }
    b.append(sw, name);
    b.dataset.label = l.name;
    return b;
  });
  labelPicker.append(pickerTitle, ...options);

  const pressed = (b, on) => {
    if (b.getAttribute("aria-pressed") !== String(on)) b.setAttribute("aria-pressed", String(on));
  };

  function sync(s, canUndo, canRedo) {
    for (const [name, b] of Object.entries(tools)) pressed(b, s.tool === name);
    // The selected shape's label while a shape is selected, else the label the
    // next drawn shape gets.
    const sel = s.shapes[s.selected];
    const shown = sel ? sel.label : s.label;
    const heading = readOnly ? "Labels" : sel ? "Label of the selected shape" : "Label for new shapes";
    if (pickerTitle.textContent !== heading) pickerTitle.textContent = heading;
    if (labelPicker.dataset.mode !== (sel ? "selected" : "drawing")) {
      labelPicker.dataset.mode = sel ? "selected" : "drawing";
    }
    options.forEach((b, i) => pressed(b, labels[i].name === shown));
    const pct = `${Math.round(s.view.scale * 100)}%`;
    if (level.textContent !== pct) level.textContent = pct;
    const canAccept = !!sel && typeof sel.source === "string" && sel.source.startsWith("model:");
    if (acceptOne.disabled === canAccept) acceptOne.disabled = !canAccept;
    if (undo.disabled === canUndo) undo.disabled = !canUndo;
    if (redo.disabled === canRedo) redo.disabled = !canRedo;
    if (toggle.checked !== s.modelVisible) toggle.checked = s.modelVisible;
    if (Number(slider.value) !== s.threshold) slider.value = String(s.threshold);
    const text = s.threshold.toFixed(2);
    if (value.textContent !== text) value.textContent = text;
  }

  return { toolbar, labelPicker, sync };
}
