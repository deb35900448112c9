// Notebook pages: a plot wider than the text column is shown shrunk to fit; click it to see it
// at full size (scroll sideways), click again to shrink it back.
(function () {
  "use strict";
  function setUp(img) {
    if (img.naturalWidth <= img.clientWidth + 1) return;
    img.classList.add("lsm-zoomable");
    img.title = "Click to show at full size";
    img.addEventListener("click", function () {
      var zoomed = img.classList.toggle("lsm-zoomed");
      img.title = zoomed ? "Click to fit the column" : "Click to show at full size";
    });
  }
  window.addEventListener("load", function () {
    document.querySelectorAll(".jupyter-wrapper .jp-OutputArea-output img").forEach(setUp);
  });
})();
