// A form with data-confirm asks before it is sent (member removal); without
// JavaScript the form still posts, and the server's checks are the same.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
