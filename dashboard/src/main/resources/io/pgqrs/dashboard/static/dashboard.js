// pgqrs dashboard: live numbers on the overview through server-sent events (GET <base>/events).
// Values are written with textContent and links built with encodeURIComponent, never as HTML.
(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '';
  var queues = document.getElementById('queues');
  if (!queues || typeof EventSource === 'undefined') {
    return;
  }
  var fields = ['pending', 'leased', 'delayed', 'archived', 'dead', 'oldest'];
  var live = document.getElementById('live');

  function rowFor(name) {
    var rows = queues.querySelectorAll('tr[data-queue]');
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute('data-queue') === name) {
        return rows[i];
      }
    }
    var row = document.createElement('tr');
    row.setAttribute('data-queue', name);
    var first = document.createElement('td');
    var link = document.createElement('a');
    link.href = base + '/queues/' + encodeURIComponent(name);
    link.textContent = name;
    first.appendChild(link);
    row.appendChild(first);
    fields.forEach(function (field) {
      var cell = document.createElement('td');
      cell.setAttribute('data-field', field);
      if (field !== 'oldest') {
        cell.className = 'num';
      }
      row.appendChild(cell);
    });
    // The hour's chart of a queue created since the page was drawn comes with the next reload.
    var chart = document.createElement('td');
    chart.className = 'throughput';
    row.appendChild(chart);
    queues.appendChild(row);
    var empty = document.getElementById('no-queues');
    if (empty) {
      empty.remove();
    }
    return row;
  }

  function update(data) {
    Object.keys(data.totals).forEach(function (key) {
      var el = document.querySelector('[data-total="' + key + '"]');
      if (el) {
        el.textContent = String(data.totals[key]);
      }
    });
    var seen = {};
    data.queues.forEach(function (q) {
      seen[q.queue] = true;
      var row = rowFor(q.queue);
      fields.forEach(function (field) {
        var cell = row.querySelector('[data-field="' + field + '"]');
        if (cell && cell.textContent !== String(q[field])) {
          cell.textContent = String(q[field]);
        }
      });
    });
    queues.querySelectorAll('tr[data-queue]').forEach(function (row) {
      if (!seen[row.getAttribute('data-queue')]) {
        row.remove();
      }
    });
  }

  var source = new EventSource(base + '/events');
  source.addEventListener('metrics', function (event) {
    update(JSON.parse(event.data));
    if (live) {
      live.className = 'dot on';
    }
  });
  source.addEventListener('failure', function () {
    if (live) {
      live.className = 'dot failed';
    }
  });
  source.onerror = function () {
    if (live) {
      live.className = 'dot failed';
    }
  };
})();
