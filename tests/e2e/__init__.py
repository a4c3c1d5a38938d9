"""Browser tests: a live server and Debian's Chromium driven by Playwright."""
