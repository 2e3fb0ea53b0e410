"""Notifications by e-mail: every message is written to the outbox in the transaction of the act it
tells about, then delivered over SMTP when a mail server is configured. Without one, the messages
stay readable in the outbox (`fabcity outbox`). Core: it imports no capability."""
