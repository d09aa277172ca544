-- Host lease rows are created with the pages that need them, by a
-- statement trigger on pages, instead of by each claim: a claim no longer
-- scans the run's queued pages for hosts without a row (docs/scaling.md,
-- "Host leases"). Hosts that have a row already are left out with a read
-- that waits for no lock (a claim may be updating that row), and new rows
-- go in host order, so that two commits adding the same hosts wait for
-- each other in one order.
CREATE FUNCTION trawl_lease_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO host_leases (run_id, host)
	SELECT DISTINCT n.run_id, n.host FROM new_pages n
	WHERE NOT EXISTS (SELECT 1 FROM host_leases l WHERE l.run_id = n.run_id AND l.host = n.host)
	ORDER BY 1, 2
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;

CREATE TRIGGER pages_lease_rows AFTER INSERT ON pages
	REFERENCING NEW TABLE AS new_pages
	FOR EACH STATEMENT EXECUTE FUNCTION trawl_lease_rows();

-- The hosts queued before this migration.
INSERT INTO host_leases (run_id, host)
SELECT DISTINCT run_id, host FROM pages WHERE state = 0
ON CONFLICT DO NOTHING;
