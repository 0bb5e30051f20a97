"""Releases: what each build of a deployment served and how it compares with the build it replaced."""
