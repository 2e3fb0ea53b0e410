"""Alembic environment: always run against the connection handed over by storage.db.migrate."""

from alembic import context

from fabcity.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
