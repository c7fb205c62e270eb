-- A coarser histogram for search_key: the same plans, planned in a quarter of the time.
-- depends: contacts_0012_stored_terms
--
-- contacts_0003 gave search_key a 1,000-entry histogram so that "contains"
-- estimates are near the truth. The planner estimates ILIKE '%word%' by testing
-- the pattern against every histogram entry, and search_key entries are long (a
-- contact's names, email, title and places): planning "search=garcia sales" took
-- 3.8-4.1 ms of a 9-14 ms query at 1M contacts, one word about 2 ms. With 250
-- entries it took 1.1 ms (one word 0.5 ms), and the plans of the searches
-- benchmarks/list_queries.py and the plan tests run were unchanged: rare words
-- still read the trigram bitmap, common ones ("a", "engineer", "manager") walk
-- the ordering's index. title and company_name keep 1,000: shorter values, and
-- their estimates choose between those two plans more often.

ALTER TABLE contacts ALTER COLUMN search_key SET STATISTICS 250;
ANALYZE contacts (search_key);
