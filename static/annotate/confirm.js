// A modal yes/no question in the page's <dialog id="confirm-dialog"> (native
// focus trap; Escape answers no). Resolves to true or false; focus then goes
// back to the canvas through the caller.

import { $ } from "./task-client.js";

export function confirmDialog({ title, text, yes, no = "Cancel" }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  const ok = $("confirm-yes");
  const cancel = $("confirm-no");
  ok.textContent = yes;
  cancel.textContent = no;
  return new Promise((resolve) => {
    let answer = false;
    const onYes = () => {
      answer = true;
      dialog.close();
    };
    const onNo = () => dialog.close();
    ok.addEventListener("click", onYes, { once: true });
    cancel.addEventListener("click", onNo, { once: true });
    dialog.addEventListener("close", () => {
      ok.removeEventListener("click", onYes);
      cancel.removeEventListener("click", onNo);
      resolve(answer);
    }, { once: true });
    dialog.showModal();
    ok.focus();
  });
}
