// A node's bookable resources, listed on its page from booking's own fragment: the directory links to them
// without importing booking. Nothing to book, and the section goes away; without this script it stays a link.
(function () {
  "use strict";
  const section = document.querySelector("[data-bookable]");
  if (!section) return;
  fetch(section.dataset.bookable)
    .then((answer) => (answer.status === 200 ? answer.text() : ""))
    .then((list) => {
      if (list) section.insertAdjacentHTML("beforeend", list);
      else section.hidden = true;
    });
})();
