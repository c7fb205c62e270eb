-- A "contains" condition over many values, as one function of one array.
-- depends: contacts_0016_vacuum_after_rewrite
--
-- 1,000 search values of 12 words each were 12,000 ILIKE expressions: building
-- and compiling them took 3-4 s of the API process's CPU, on its event loop
-- (found by a black-box check: /health waited 3.7 s). Past 64 words the
-- condition is this function of the values sent as one array
-- (plugins/contacts/sqltext.py: contains_every_word). Each element holds one
-- value's LIKE patterns joined by chr(31), which no pattern contains.

-- STRICT: a NULL field gives NULL, as ILIKE does (so NOT of it stays NULL too).
CREATE FUNCTION contacts_contains_every(haystack text, groups text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT EXISTS (SELECT 1 FROM unnest(groups) AS g
                         WHERE haystack ILIKE ALL (string_to_array(g, chr(31)))) $$;
