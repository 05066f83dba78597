// Re-review queue keys: j/k move between flags, c confirms the current one's
// label, f reopens it for a fix. Keys typed into a text field are left alone.
const cards = () => [...document.querySelectorAll('[data-testid="label-error-card"]')];

function current() {
  return cards().findIndex((c) => c.classList.contains('current'));
}

function select(index) {
  const all = cards();
  if (!all.length) return;
  const i = Math.max(0, Math.min(all.length - 1, index));
  all.forEach((c, n) => c.classList.toggle('current', n === i));
  all[i].scrollIntoView({ block: 'nearest' });
}

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
  const i = current();
  if (event.key === 'j') select(i + 1);
  else if (event.key === 'k') select(i - 1);
  else if (event.key === 'c' || event.key === 'f') {
    const card = cards()[i];
    const button = card && card.querySelector(`button[data-key="${event.key}"]`);
    if (button) {
      event.preventDefault();
      button.closest('form').requestSubmit(button);
    }
  } else return;
});
