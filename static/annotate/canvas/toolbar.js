// The canvas chrome: stylesheet, toolbar (tools, undo/redo, fit, model
// toggle, confidence slider, accept) and the label picker. Every string
// reaches the DOM through textContent or a property, never as HTML.

const CSS = `
.alc-root{display:flex;flex-direction:column;min-height:420px;height:100%;font:13px system-ui,sans-serif;color:#222;background:#fafafa;box-sizing:border-box}
.alc-root *{box-sizing:border-box}
.alc-toolbar{display:flex;flex-wrap:wrap;gap:4px;align-items:center;padding:4px 6px;border-bottom:1px solid #ddd;background:#f0f0f0}
.alc-toolbar button,.alc-labels button{font:inherit;padding:3px 8px;border:1px solid #bbb;border-radius:4px;background:#fff;cursor:pointer}
.alc-toolbar button[aria-pressed=true],.alc-labels button[aria-pressed=true]{background:#2d6cdf;color:#fff;border-color:#2d6cdf}
.alc-toolbar button:disabled{opacity:.45;cursor:default}
.alc-sep{width:1px;height:20px;background:#ccc;margin:0 4px}
.alc-toolbar label{display:inline-flex;align-items:center;gap:4px}
.alc-toolbar input[type=range]{width:110px}
.alc-body{display:flex;flex:1;min-height:0}
.alc-stage{position:relative;flex:1;min-width:0;overflow:hidden;background:#2b2b2b;outline:none;touch-action:none;user-select:none}
.alc-stage canvas{position:absolute;inset:0;width:100%;height:100%;display:block}
.alc-side{width:260px;display:flex;flex-direction:column;border-left:1px solid #ddd;min-height:0}
.alc-labels{display:flex;flex-wrap:wrap;gap:4px;padding:6px;border-bottom:1px solid #ddd}
.alc-labels button{display:inline-flex;align-items:center;gap:4px;max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.alc-labels kbd{font:11px monospace;opacity:.7}
.alc-swatch{display:inline-block;width:10px;height:10px;border-radius:2px;flex:none}
.alc-list-head{display:flex;justify-content:space-between;padding:4px 6px;font-weight:600}
.alc-list{list-style:none;margin:0;padding:0;overflow:auto;flex:1}
.alc-item{display:grid;grid-template-columns:12px 84px 1fr 46px 34px;gap:4px;align-items:center;padding:2px 6px;cursor:pointer;border-bottom:1px solid #eee;white-space:nowrap}
.alc-item>span{overflow:hidden;text-overflow:ellipsis}
.alc-item:hover{background:#eef3ff}
.alc-item.alc-selected{background:#d6e4ff;font-weight:600}
.alc-item.alc-model .alc-source{font-style:italic;color:#666}
.alc-conf{text-align:right;color:#555}
`;

function ensureStyle() {
  if (document.getElementById("alc-style")) return;
  const style = document.createElement("style");
  style.id = "alc-style";
  style.textContent = CSS;
  document.head.append(style);
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
