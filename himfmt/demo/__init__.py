"""The demo: procedurally generated people, backgrounds and clips (no downloads)."""
