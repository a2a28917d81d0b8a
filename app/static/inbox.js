// The number of records waiting for the user, shown beside the 待我处理 menu item.
(function () {
  var link = document.querySelector('a[href="/inbox/"]');
  if (!link || !window.fetch) { return; }
  fetch('/inbox/count', {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      var badge = document.createElement('span');
      badge.className = 'badge inbox-count';
      badge.textContent = data.count;
      link.appendChild(document.createTextNode(' '));
      link.appendChild(badge);
    });
})();
