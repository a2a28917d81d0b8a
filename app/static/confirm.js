// Steps that end a record's way (reject, revoke, close ...) ask before they are sent.
// The question is in the button's data-confirm attribute (translated on the server).
(function () {
  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('[data-confirm]') : null;
    if (!button) { return; }
    if (!window.confirm(button.getAttribute('data-confirm'))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
