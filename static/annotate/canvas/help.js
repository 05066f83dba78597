// The hint sheet: every key of the canvas (and the page's own keys) in a modal
// <dialog>. `?` or the toolbar's "?" opens it; Escape or the Close button
// closes it and focus goes back where it was (the canvas).

export function createHelp(root, groups, { onClose } = {}) {
  const dialog = document.createElement("dialog");
  dialog.className = "alc-help";
  dialog.dataset.testid = "key-help";
  dialog.setAttribute("aria-labelledby", "alc-help-title");
  const head = document.createElement("div");
  head.className = "alc-help-head";
  const title = document.createElement("h2");
  title.id = "alc-help-title";
  title.textContent = "Keys";
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close (Esc)";
  close.dataset.testid = "key-help-close";
  close.addEventListener("click", () => dialog.close());
  head.append(title, close);
  const body = document.createElement("div");
  body.className = "alc-help-body";
  for (const [name, rows] of groups) {
    const section = document.createElement("section");
    const h = document.createElement("h3");
    h.textContent = name;
    const dl = document.createElement("dl");
    for (const [key, what] of rows) {
      const dt = document.createElement("dt");
      for (const [i, part] of key.split(" / ").entries()) {
        if (i) dt.append(" / ");
        const kbd = document.createElement("kbd");
        kbd.textContent = part;
        dt.append(kbd);
      }
      const dd = document.createElement("dd");
      dd.textContent = what;
      dl.append(dt, dd);
    }
    section.append(h, dl);
    body.append(section);
  }
  dialog.append(head, body);
  dialog.addEventListener("close", () => onClose && onClose());
  root.append(dialog);
  return {
    open() {
      if (!dialog.open) dialog.showModal();
      close.focus();
    },
    close: () => dialog.open && dialog.close(),
    get isOpen() {
      return dialog.open;
    },
    element: dialog,
  };
}
