"""Booking: a member takes a unit of a node's resource (a machine, a room, a desk, a focus booth, a
production line) for a half-open UTC period, and the host decides, is paid and sees it through.

The trustworthy core (docs/decisions/0005-booking.md): a slot is never sold twice (the database
refuses it), every check is made on the server, every state change is a compare-and-swap with its
audit record, and expiry is computed when a booking is read, so nothing waits for a timer.
"""
