// "Near me" on the free-to-book form: the browser's position becomes the `near` field and the form is sent.
(function () {
  const button = document.getElementById("my-location");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      const form = button.form;
      form.elements.near.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
      form.elements.where.value = "";
      form.submit();
    });
  });
})();
