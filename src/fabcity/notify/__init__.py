"""Notifications by e-mail: every message is written to the outbox in the transaction of the act it
tells about, then delivered over SMTP when a mail server is configured, by the web server after a
write and by `fabcity worker`, each message once (outbox.py says how). Without a mail server the
messages stay readable in the outbox (`fabcity outbox`, `/notifications`). Core: it imports no
capability; the worker is handed the capabilities' time-driven chores (booking reminders)."""
