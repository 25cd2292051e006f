"""Swagger UI at /api/docs/ works offline: every asset it loads comes from this server
(drf-spectacular-sidecar's static files), none from a CDN."""

import re
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


class Assets(HTMLParser):
    """The addresses a page loads: script sources, stylesheets and icons."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_swagger_ui_loads_nothing_from_another_host(live_server):
    status, _, body = fetch(f"{live_server.url}/api/docs/")
    assert status == 200
    html = body.decode()
    server = urlsplit(live_server.url).netloc
    hosts = {urlsplit(url).netloc for url in re.findall(r"""https?://[^\s"'<>)]+""", html)}
    assert hosts <= {server}, f"/api/docs/ names other hosts: {hosts - {server}}"

    parser = Assets()
    parser.feed(html)
    scripts = [url for url in parser.urls if url.endswith(".js")]
    styles = [url for url in parser.urls if url.endswith(".css")]
    assert scripts and styles
    for url in parser.urls:
        absolute = urljoin(f"{live_server.url}/api/docs/", url)
        assert urlsplit(absolute).netloc == server, url
        status, content_type, content = fetch(absolute)
        assert status == 200, url
        assert content, url
        if url.endswith(".js"):
            assert "javascript" in content_type, (url, content_type)
        if url.endswith(".css"):
            assert content_type.startswith("text/css"), (url, content_type)
    bundle = next(url for url in scripts if "swagger-ui-bundle" in url)
    assert "/static/drf_spectacular_sidecar/" in bundle
    # The schema it renders comes from here too.
    status, content_type, _ = fetch(f"{live_server.url}/api/schema/")
    assert status == 200 and "openapi" in content_type
