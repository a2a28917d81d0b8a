// A character counter under every long text box (textarea with data-counter and maxlength):
// "120 / 50000", turning red near the limit. Same-origin file, no inline handlers (CSP).
(function () {
  var boxes = document.querySelectorAll('textarea[data-counter][maxlength]');
  Array.prototype.forEach.call(boxes, function (box) {
    var limit = parseInt(box.getAttribute('maxlength'), 10);
    if (!limit) { return; }
    var counter = document.createElement('small');
    counter.className = 'help-block char-counter';
    counter.setAttribute('aria-live', 'polite');
    var update = function () {
      var used = box.value.length;
      counter.textContent = used + ' / ' + limit;
      counter.classList.toggle('text-danger', used > limit * 0.9);
    };
    box.parentNode.insertBefore(counter, box.nextSibling);
    box.addEventListener('input', update);
    update();
  });
})();
