"""The taskiq worker: every plugin's tasks, run with the same resources as the web app."""
