"""The browser test: a real Chromium against a real Home Assistant."""
