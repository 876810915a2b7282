"""Unit tests of the PDF renderer: template, fonts, URL fetcher, formatting."""
