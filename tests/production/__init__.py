"""The app as production runs it: several web processes and workers on one database."""
