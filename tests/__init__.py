"""Tests of netzwerkbot."""
