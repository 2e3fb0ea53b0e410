// A resource's week of free slots (FullCalendar, from GET /api/v1/resources/{id}/slots); choosing a
// slot fills the booking form, which the server checks like any other. Without this script the page
// still lists the next free slots, each with its own "book" button.
(function () {
  "use strict";
  const element = document.getElementById("calendar");
  if (!element || !window.FullCalendar) return;
  const resource = element.dataset.resource;
  const minutes = Number(element.dataset.granularity);
  // FullCalendar needs a plugin for named zones; the slots are turned into wall-clock times of the
  // resource's zone here (Intl knows every zone) and shown on a calendar that converts nothing (UTC).
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: element.dataset.zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  function wall(instant) {
    const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
  }
  const day = 24 * 3600 * 1000;
  function slots(info, success, failure) {
    // the view's dates are wall-clock times; a day more on each side covers any zone's offset
    const from = new Date(info.start.getTime() - day).toISOString();
    const to = new Date(info.end.getTime() + day).toISOString();
    const query = new URLSearchParams({ from, to });
    fetch(`/api/v1/resources/${resource}/slots?${query}`)
      .then((answer) => (answer.ok ? answer.json() : Promise.reject(new Error(String(answer.status)))))
      .then((data) => success(data.slots.map((slot) => ({
        start: wall(slot.starts_at), end: wall(slot.ends_at), title: element.dataset.free,
      }))))
      .catch(failure);
  }
  function choose(info) {
    info.jsEvent.preventDefault();
    const start = document.getElementById("start");
    if (!start) return;
    start.value = info.event.startStr.slice(0, 16);
    start.focus();
    start.scrollIntoView({ block: "center" });
  }
  function hideIcons() {
    // the arrows are drawn by an icon font inside buttons that are named already (their title)
    element.querySelectorAll(".fc-icon").forEach((icon) => icon.setAttribute("aria-hidden", "true"));
  }
  const phone = window.matchMedia("(max-width: 40rem)").matches;
  const calendar = new FullCalendar.Calendar(element, {
    locale: element.dataset.lang === "ko" ? "ko" : "en",
    timeZone: "UTC",
    initialView: phone ? "listWeek" : "timeGridWeek",
    headerToolbar: phone
      ? { left: "prev,next", center: "title", right: "listWeek,timeGridDay" }
      : { left: "prev,next today", center: "title", right: "timeGridWeek,listWeek" },
    now: wall(Date.now()), // "today" is the resource's, not the browser's nor UTC's
    slotMinTime: element.dataset.dayStart,
    slotMaxTime: element.dataset.dayEnd,
    // the buttons' words from the page's catalog (the library's English ones are lower-case)
    buttonText: { today: element.dataset.today, week: element.dataset.week, day: element.dataset.oneDay, list: element.dataset.list },
    displayEventEnd: false,
    allDaySlot: false,
    height: "auto",
    slotDuration: { minutes },
    eventInteractive: true,
    eventColor: "#1a5c9e", // white text on it reads at 6.6:1 (FullCalendar's own blue is below 4.5:1)
    datesSet: hideIcons,
    events: slots,
    eventClick: choose,
  });
  calendar.render();
})();
