// The canvas chrome: stylesheet link, toolbar (tools, undo/redo, fit, model
// toggle, confidence slider, accept) and the label picker. Every string
// reaches the DOM through textContent or a property, never as HTML.

function ensureStyle() {
  if (document.getElementById("alc-style")) return;
  const link = document.createElement("link");
  link.id = "alc-style";
  link.rel = "stylesheet";
  link.href = new URL("./canvas.css", import.meta.url).href;
  document.head.append(link);
}

function button(testid, text, title, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.testid = testid;
  b.textContent = text;
  b.title = title;
  // Keep focus where it was so Enter/Space never re-press the button.
  b.addEventListener("mousedown", (e) => e.preventDefault());
  b.addEventListener("click", onClick);
  return b;
}

const sep = () => Object.assign(document.createElement("span"), { className: "alc-sep" });

/**
 * h: {setTool, undo, redo, fit, setModelVisible, setThreshold, acceptAll, setLabel}
 * Returns {toolbar, labelPicker, sync(state, canUndo, canRedo)}.
 */
export function createToolbar(labels, readOnly, h) {
  ensureStyle();
  const toolbar = document.createElement("div");
  toolbar.className = "alc-toolbar";
  toolbar.dataset.testid = "toolbar";
  const tools = {
    box: button("tool-box", "▭ Box", "Draw boxes (B)", () => h.setTool("box")),
    polygon: button("tool-polygon", "⬠ Polygon", "Draw polygons (P)", () => h.setTool("polygon")),
    select: button("tool-select", "➚ Select", "Select and edit (V)", () => h.setTool("select")),
  };
  const undo = button("undo", "↶", "Undo (Ctrl+Z)", () => h.undo());
  const redo = button("redo", "↷", "Redo (Ctrl+Shift+Z)", () => h.redo());
  const fit = button("fit", "Fit", "Fit image (F)", () => h.fit());
  const accept = button("accept-model", "Accept model", "Accept all model shapes (A)", () => h.acceptAll());

  const toggleWrap = document.createElement("label");
  toggleWrap.title = "Show model shapes (H)";
  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.checked = true;
  toggle.dataset.testid = "model-toggle";
  toggle.addEventListener("change", () => h.setModelVisible(toggle.checked));
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
  sliderWrap.append(document.createTextNode("conf ≥"), slider, value);

  if (readOnly) toolbar.append(tools.select, sep(), fit, sep(), toggleWrap, sliderWrap);
  else {
    toolbar.append(tools.box, tools.polygon, tools.select, sep(), undo, redo, fit, sep(),
      toggleWrap, sliderWrap, accept);
  }

  const labelPicker = document.createElement("div");
  labelPicker.className = "alc-labels";
  labelPicker.dataset.testid = "label-picker";
  const options = labels.map((l, i) => {
    const b = button("label-option", "", i < 9 ? `Label (${i + 1})` : "Label", () => h.setLabel(l.name));
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
  labelPicker.append(...options);

  const pressed = (b, on) => {
    if (b.getAttribute("aria-pressed") !== String(on)) b.setAttribute("aria-pressed", String(on));
  };

  function sync(s, canUndo, canRedo) {
    for (const [name, b] of Object.entries(tools)) pressed(b, s.tool === name);
    options.forEach((b, i) => pressed(b, labels[i].name === s.label));
    if (undo.disabled === canUndo) undo.disabled = !canUndo;
    if (redo.disabled === canRedo) redo.disabled = !canRedo;
    if (toggle.checked !== s.modelVisible) toggle.checked = s.modelVisible;
    if (Number(slider.value) !== s.threshold) slider.value = String(s.threshold);
    const text = s.threshold.toFixed(2);
    if (value.textContent !== text) value.textContent = text;
  }

  return { toolbar, labelPicker, sync };
}
