"""The platform about itself: where its data came from and under which licence, its health, its API docs."""
