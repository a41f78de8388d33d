// Small behaviours, from a static file because the CSP allows no inline script or on* handler.
// <select data-autosubmit> submits its form when changed (filters); <noscript> keeps a button.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.requestSubmit();
  }
});
