"""The exact posteriors' tests (a package, so that their file names may repeat those above)."""
