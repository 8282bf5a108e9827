"""Everything that drives Chromium lives in this package."""
