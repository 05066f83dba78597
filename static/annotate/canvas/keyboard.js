// Keyboard shortcuts. Active when focus is on the page body, inside the canvas
// root or inside the page's `scope` (its buttons), never while typing in a
// text field or while a modal dialog is open; the active tool sees each key
// first (Enter / Escape / Backspace while drawing a polygon, arrows and Enter
// for keyboard box drawing). Tab is left to the browser: it moves focus.

export const KEYMAP = [
  ["Tools", [
    ["B", "box tool"], ["P", "polygon tool"], ["V", "select tool"],
    ["G", "segment tool: a click on an object adds its polygon (needs segmentation weights)"],
  ]],
  ["Labels", [
    ["1–9", "label of the selected shape, or of the next shape drawn"],
  ]],
  ["Shapes", [
    ["N / Shift+N", "select the next / previous shape"],
    ["Arrows", "move the selected shape 1 px (Shift: 10 px)"],
    ["Delete / Backspace", "delete the selected shape"],
    ["Shift+H", "hide / show the selected shape"], ["L", "lock / unlock the selected shape"],
    ["Escape", "cancel drawing, deselect"], ["Ctrl+Z", "undo"],
    ["Ctrl+Shift+Z / Ctrl+Y", "redo"],
  ]],
  ["Drawing", [
    ["drag (box tool)", "draw a box; a click inside a model shape takes it (Shift+drag draws anyway)"],
    ["click (polygon tool)", "add a point; Enter, double-click or the first point closes"],
    ["Backspace", "remove the last polygon point"],
    ["Arrows, Enter (box tool)", "keyboard box: move the cross (Shift: 1 px), Enter sets each corner"],
  ]],
  ["Model pre-annotations", [
    ["Enter", "accept the selected pre-annotation and select the next one"],
    ["A", "accept all pre-annotations at or above the confidence threshold"],
    ["H", "hide / show pre-annotations"],
  ]],
  ["View", [
    ["+ / −", "zoom in / out"], ["0", "zoom to 100 %"], ["F", "fit the image"],
    ["Arrows (nothing selected, select tool)", "pan"], ["Space+drag, middle drag", "pan"],
    ["wheel", "zoom at the pointer"], ["?", "this sheet (Escape closes it)"],
  ]],
];

const TEXT_INPUTS = new Set(["text", "search", "number", "email", "password", "url", "tel",
  "date", "datetime-local", "month", "time", "week"]);

const CONTROL_KEYS = new Set(["Enter", " ", "Tab", "ArrowLeft", "ArrowRight", "ArrowUp",
  "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export function isTyping(el) {
  if (!el || !el.tagName) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && TEXT_INPUTS.has((el.type || "text").toLowerCase());
}

export const arrowOf = (key) => ARROWS[key] || null;

/** handlers: {toolKey(e), setTool, pickLabel(i), undo, redo, deleteSelected,
 *  cycle(dir), toggleModel, acceptAll, acceptSelected, fit, zoom(f), zoomTo(s),
 *  arrow(dx, dy, big), toggleHidden, toggleLocked, help, escape, space(down)} */
export function createKeyboard(root, handlers, { scope = null } = {}) {
  function ours(e) {
    const t = e.target;
    if (isTyping(t)) return false;
    if (document.querySelector("dialog[open]")) return false;
    return t === document.body || t === document.documentElement || t === document ||
      root.contains(t) || (scope && scope.contains(t));
  }

  function plain(e, lower) {
    const key = e.key;
    if (key === "?") return handlers.help();
    if (key === "+" || key === "=") return handlers.zoom(1.25);
    if (key === "-" || key === "_" || key === "−") return handlers.zoom(0.8);
    if (lower === "n") return handlers.cycle(e.shiftKey ? -1 : 1);
    if (lower === "h") return e.shiftKey ? handlers.toggleHidden() : handlers.toggleModel();
    if (e.shiftKey) return false;
    if (key === "0") return handlers.zoomTo(1);
    const letters = {
      b: () => handlers.setTool("box"), p: () => handlers.setTool("polygon"),
      v: () => handlers.setTool("select"), g: () => handlers.setTool("segment"),
      a: handlers.acceptAll, f: handlers.fit,
      l: handlers.toggleLocked,
    };
    if (letters[lower]) return letters[lower]() ?? true;
    return false;
  }

  function onKeyDown(e) {
    if (e.defaultPrevented || e.isComposing || !ours(e)) return;
    const key = e.key;
    const t = e.target;
    // Buttons, checkboxes and sliders keep their own Enter/Space/Tab/arrows.
    if ((t.tagName === "BUTTON" || t.tagName === "INPUT") && CONTROL_KEYS.has(key)) return;
    if (key === "Tab") return;
    const lower = key.length === 1 ? key.toLowerCase() : key;
    const ctrl = e.ctrlKey || e.metaKey;
    let done = true;
    if (ctrl && !e.altKey) {
      if (lower === "z") (e.shiftKey ? handlers.redo : handlers.undo)();
      else if (lower === "y") handlers.redo();
      else done = false;
    } else if (e.altKey) {
      done = false;
    } else if (key === " ") {
      handlers.space(true);
    } else if (handlers.toolKey(e)) {
      // handled by the active tool
    } else if (/^[1-9]$/.test(key)) {
      handlers.pickLabel(Number(key) - 1);
    } else if (key === "Delete" || key === "Backspace") {
      handlers.deleteSelected();
    } else if (key === "Escape") {
      handlers.escape();
    } else if (key === "Enter") {
      done = handlers.acceptSelected() !== false;
    } else if (ARROWS[key]) {
      handlers.arrow(...ARROWS[key], e.shiftKey);
    } else {
      done = plain(e, lower) !== false;
    }
    if (done) e.preventDefault();
  }

  function onKeyUp(e) {
    if (e.key === " ") handlers.space(false);
  }

  const onBlur = () => handlers.space(false);

  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  window.addEventListener("blur", onBlur);
  return {
    destroy() {
      document.removeEventListener("keydown", onKeyDown);
      document.removeEventListener("keyup", onKeyUp);
      window.removeEventListener("blur", onBlur);
    },
  };
}
