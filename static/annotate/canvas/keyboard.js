// Keyboard shortcuts. Active when focus is on the page body or inside the
// canvas root, never while typing in a text field; the active tool sees
// each key first (Enter / Escape / Backspace while drawing a polygon).

export const KEYMAP = [
  ["B", "box tool"], ["P", "polygon tool"], ["V", "select tool"],
  ["1-9", "pick label (relabels the selected shape)"], ["Tab / Shift+Tab", "cycle selection"],
  ["Delete / Backspace", "delete selected shape"], ["Ctrl+Z", "undo"],
  ["Ctrl+Shift+Z / Ctrl+Y", "redo"], ["H", "hide/show model shapes"],
  ["A", "accept all model shapes"], ["F", "fit image"], ["Space+drag", "pan"],
  ["Enter / dbl-click", "close polygon"], ["Escape", "cancel drawing / deselect"],
];

const TEXT_INPUTS = new Set(["text", "search", "number", "email", "password", "url", "tel",
  "date", "datetime-local", "month", "time", "week"]);

const CONTROL_KEYS = new Set(["Enter", " ", "Tab", "ArrowLeft", "ArrowRight", "ArrowUp",
  "ArrowDown", "Home", "End", "PageUp", "PageDown"]);

function isTyping(el) {
  if (!el || !el.tagName) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && TEXT_INPUTS.has((el.type || "text").toLowerCase());
}

/** handlers: {toolKey(e), setTool, pickLabel(i), undo, redo, deleteSelected,
 *  cycle(dir), toggleModel, acceptAll, fit, escape, space(down)} */
export function createKeyboard(root, handlers) {
  function ours(e) {
    const t = e.target;
    if (isTyping(t)) return false;
    return t === document.body || t === document.documentElement || t === document || root.contains(t);
  }

  function onKeyDown(e) {
    if (e.defaultPrevented || e.isComposing || !ours(e)) return;
    const key = e.key;
    const t = e.target;
    // Buttons, checkboxes and sliders keep their own Enter/Space/Tab/arrows.
    if ((t.tagName === "BUTTON" || t.tagName === "INPUT") && CONTROL_KEYS.has(key)) return;
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
    } else if (key === "Tab") {
      handlers.cycle(e.shiftKey ? -1 : 1);
    } else if (key === "Delete" || key === "Backspace") {
      handlers.deleteSelected();
    } else if (key === "Escape") {
      handlers.escape();
    } else if (!e.shiftKey && lower === "b") handlers.setTool("box");
    else if (!e.shiftKey && lower === "p") handlers.setTool("polygon");
    else if (!e.shiftKey && lower === "v") handlers.setTool("select");
    else if (!e.shiftKey && lower === "h") handlers.toggleModel();
    else if (!e.shiftKey && lower === "a") handlers.acceptAll();
    else if (!e.shiftKey && lower === "f") handlers.fit();
    else done = false;
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
