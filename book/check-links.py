#!/usr/bin/env python3
"""Checks every internal link of the built book (book/book): the page it points to
exists, and so does the #anchor, if it names one. External links are not fetched.
Exits 1 and lists the broken links, if any. Run by .ci/run after `mdbook build book`."""

import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urlparse

BOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "book")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def parse(path):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    return page


def main():
    if not os.path.isdir(BOOK):
        print("build the book first: mdbook build book", file=sys.stderr)
        return 1
    pages = {}
    for folder, _, files in os.walk(BOOK):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(folder, name)
                pages[os.path.normpath(path)] = parse(path)
    broken = []
    for path, page in pages.items():
        # The theme's own files and the print page repeat every link; skip them.
        if os.path.basename(path) in ("print.html", "toc.html", "404.html"):
            continue
        for link in page.links:
            parsed = urlparse(link)
            if parsed.scheme or link.startswith("//") or link.startswith("mailto:"):
                continue
            target, fragment = urldefrag(link)
            resolved = path if not target else os.path.normpath(
                os.path.join(os.path.dirname(path), unquote(target)))
            if os.path.isdir(resolved):
                resolved = os.path.join(resolved, "index.html")
            if not os.path.exists(resolved):
                broken.append(f"{os.path.relpath(path, BOOK)}: {link} (no such file)")
                continue
            if fragment and resolved.endswith(".html"):
                ids = pages.get(resolved) or parse(resolved)
                if unquote(fragment) not in ids.ids:
                    broken.append(f"{os.path.relpath(path, BOOK)}: {link} (no such anchor)")
    for line in sorted(set(broken)):
        print(f"broken link: {line}")
    print(f"book links: {len(pages)} pages checked, {len(set(broken))} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
