"""Scrapy baseline of trawl's benchmark: crawls the simulated web and writes one item per div.item.

Run by the bench runner as:

    /usr/bin/python3 -m scrapy runspider simspider.py \
        -a start=http://127.0.0.2:PORT/,... -a hosts=127.0.0.2,... \
        -s CONCURRENT_REQUESTS=100 -s CONCURRENT_REQUESTS_PER_DOMAIN=2 -O items.jsonl

The concurrency settings come from -s because custom_settings is read before the spider's
arguments; command-line settings take precedence over custom_settings.
"""

import scrapy


def collapse(texts):
    """Join text nodes and collapse runs of white space, as trawl and the Colly baseline do."""
    return " ".join(" ".join(texts).split())


class SimSpider(scrapy.Spider):
    name = "bench"
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_TIMEOUT": 20,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "FEED_EXPORT_ENCODING": "utf-8",
    }

    def __init__(self, start="", hosts="", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_urls = [u for u in start.split(",") if u]
        # allowed_domains takes host names without ports; every simulated host has its own address.
        self.allowed_domains = [h for h in hosts.split(",") if h]
        if not self.start_urls or not self.allowed_domains:
            raise ValueError("pass -a start=URL,... and -a hosts=HOST,...")

    def parse(self, response):
        for item in response.css("div.item"):
            yield {
                "_url": response.url,
                "title": collapse(item.css("h1.title ::text").getall()),
                "price": collapse(item.css("span.price ::text").getall()),
                "tags": [collapse(t.css("::text").getall()) for t in item.css("a.tag")],
            }
        for href in response.css("a[href]::attr(href)").getall():
            yield response.follow(href, callback=self.parse)
