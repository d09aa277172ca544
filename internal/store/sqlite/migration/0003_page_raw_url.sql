-- pages.url is the dedup key (the normalized URL). raw_url is the URL to
-- fetch, as the site wrote it, which robots.txt rules are matched against;
-- NULL when it equals url, which is most pages, to save space.
ALTER TABLE pages ADD COLUMN raw_url TEXT;
