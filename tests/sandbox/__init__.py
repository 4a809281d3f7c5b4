"""Tests of the local Bot API sandbox."""
